/*
 * The spare git child: davit-git exec'd ahead ("--git-child UID GID", as
 * any run's), for the owner of the checkout the last git run used.  It
 * hardens itself and drops to UID and GID as every git child does, then
 * blocks on its stdin; the next run for that owner gives it its request
 * (git_spare_take) instead of forking and exec'ing a child of its own, so
 * that a webhook's deploy does not wait for the exec and the 20 shared
 * libraries davit-git maps (bench/webhook.sh).
 *
 * Rules: one spare at most, for one owner; it has read nothing before its
 * request is written, the same line a fresh child gets, so it holds no
 * secret while it waits; a new one is made GIT_SPARE_DELAY_MS after a run
 * started, off the deploy's first compose commands; one for another owner
 * replaces it.  A spare that exits is logged and forgotten: the next run
 * execs its own child, as it would without spares.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <event2/event.h>

#include "backend/backend.h"
#include "backend/git_run.h"
#include "common/log.h"

#define GIT_SPARE_DELAY_MS	1000	/* from a run's start to the next spare */

static struct {
	struct proc	*proc;		/* waiting for its request, or NULL */
	uid_t		 uid;
	gid_t		 gid;
	struct event	*ev;		/* the next spare's start */
	uid_t		 next_uid;
	gid_t		 next_gid;
} spare;

/* a spare writes only when it fails before its request (a drop refused) */
static void
spare_line(void *arg, const char *line, size_t len)
{
	(void)arg;
	log_warnx("spare git child: %.*s", (int)len, line);
}

static void
spare_exit(void *arg, int status, int timed_out)
{
	struct proc	*p = arg;

	(void)timed_out;
	if (spare.proc == p)
		spare.proc = NULL;
	if (benv->shutting_down)
		return;
	if (WIFSIGNALED(status))
		log_warnx("the spare git child was killed by signal %d before it "
		    "was used: the next git run starts its own", WTERMSIG(status));
	else
		log_warnx("the spare git child exited with status %d before it "
		    "was used: the next git run starts its own",
		    WEXITSTATUS(status));
}

static void
spare_start(evutil_socket_t fd, short ev, void *arg)
{
	struct proc_spec	 spec;
	const char		*argv[GIT_CHILD_ARGC + 1];
	char			 ids[2][GIT_CHILD_ID_LEN], err[PROTO_MAX_MESSAGE];

	(void)fd;
	(void)ev;
	(void)arg;
	if (benv->shutting_down || git_child_exe == NULL)
		return;
	if (spare.proc != NULL) {
		if (spare.uid == spare.next_uid && spare.gid == spare.next_gid)
			return;
		proc_forget(spare.proc);	/* another owner's */
		spare.proc = NULL;
	}
	git_child_argv(argv, ids, spare.next_uid, spare.next_gid);
	memset(&spec, 0, sizeof(spec));
	spec.argv = argv;
	spec.hold_input = 1;
	spec.on_line = spare_line;
	spec.on_exit = spare_exit;
	if ((spare.proc = proc_start(&spec, err, sizeof(err))) == NULL) {
		log_warnx("spare git child: %s", err);
		return;
	}
	proc_adopt(spare.proc, spare_line, spare_exit, spare.proc, 0);
	spare.uid = spare.next_uid;
	spare.gid = spare.next_gid;
	log_debug("spare git child %d for uid %u", (int)proc_pid(spare.proc),
	    (unsigned)spare.uid);
}

/* a spare for uid and gid, GIT_SPARE_DELAY_MS from now */
void
git_spare_want(uid_t uid, gid_t gid)
{
	struct timeval	tv = { GIT_SPARE_DELAY_MS / 1000,
			    (GIT_SPARE_DELAY_MS % 1000) * 1000 };

	if (benv->shutting_down)
		return;
	if (spare.ev == NULL &&
	    (spare.ev = evtimer_new(benv->base, spare_start, NULL)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	spare.next_uid = uid;
	spare.next_gid = gid;
	evtimer_add(spare.ev, &tv);
}

/*
 * The spare, if it waits for uid and gid: given its request (input), the
 * run's callbacks and timeout.  NULL: none (the caller starts a child).
 */
struct proc *
git_spare_take(uid_t uid, gid_t gid, const void *input, size_t len,
    void (*on_line)(void *, const char *, size_t),
    void (*on_exit)(void *, int, int), void *arg, int timeout)
{
	struct proc	*p = spare.proc;

	if (p == NULL || spare.uid != uid || spare.gid != gid)
		return NULL;
	spare.proc = NULL;
	if (proc_input(p, input, len) == -1) {
		log_warnx("the spare git child %d took no request: the run starts "
		    "its own", (int)proc_pid(p));
		proc_forget(p);
		return NULL;
	}
	proc_adopt(p, on_line, on_exit, arg, timeout);
	return p;
}

void
git_spare_shutdown(void)
{
	if (spare.ev != NULL) {
		event_free(spare.ev);
		spare.ev = NULL;
	}
	if (spare.proc != NULL) {
		proc_forget(spare.proc);
		spare.proc = NULL;
	}
}
