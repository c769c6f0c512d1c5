/*
 * Supervision of davit-frontend (unless --no-frontend): started with
 * proc_start next to davit-backend (installed side by side, or in the build
 * tree's frontend/ directory), as root with a minimal environment; it drops
 * to DAVIT_USER itself before it reads any network input.  When it dies it
 * is started again after a backoff (SUPERVISE_BACKOFF_MIN doubling to
 * SUPERVISE_BACKOFF_MAX, back to the minimum once it ran for
 * SUPERVISE_STABLE seconds).  At shutdown it gets SIGTERM, then SIGKILL.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend/backend.h"
#include "common/log.h"

#define SUPERVISE_BACKOFF_MIN	1	/* seconds */
#define SUPERVISE_BACKOFF_MAX	30
#define SUPERVISE_STABLE	60	/* seconds of uptime that reset the backoff */
#define SUPERVISE_STOP_WAIT	5	/* seconds between SIGTERM and SIGKILL */

static struct {
	struct proc	*proc;
	pid_t		 pid;
	char		*exe;
	char		*www;
	time_t		 started;
	int		 backoff;
	struct event	*restart;
} sv;

static time_t
mono_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static char *
first_existing(const char *dir, const char *const *suffixes, size_t n,
    int want_dir)
{
	char		 cand[PATH_MAX], real[PATH_MAX];
	struct stat	 st;
	size_t		 i;
	char		*p;

	for (i = 0; i < n; i++) {
		if ((size_t)snprintf(cand, sizeof(cand), "%s%s", dir, suffixes[i]) >=
		    sizeof(cand))
			continue;
		if (realpath(cand, real) == NULL || stat(real, &st) == -1)
			continue;
		if (want_dir ? !S_ISDIR(st.st_mode) :
		    (!S_ISREG(st.st_mode) || access(real, X_OK) == -1))
			continue;
		if ((p = strdup(real)) == NULL)
			fatal("%s", __func__);
		return p;
	}
	return NULL;
}

static void	supervise_start(evutil_socket_t, short, void *);

static void
supervise_exited(void *arg, int status, int timed_out)
{
	struct timeval	tv;
	time_t		ran = mono_now() - sv.started;

	sv.proc = NULL;
	sv.pid = -1;
	if (benv->shutting_down)
		return;
	if (WIFEXITED(status))
		log_warnx("davit-frontend exited with status %d after %lld s",
		    WEXITSTATUS(status), (long long)ran);
	else if (WIFSIGNALED(status))
		log_warnx("davit-frontend killed by signal %d after %lld s",
		    WTERMSIG(status), (long long)ran);
	if (ran >= SUPERVISE_STABLE)
		sv.backoff = SUPERVISE_BACKOFF_MIN;
	log_info("restarting davit-frontend in %d s", sv.backoff);
	tv.tv_sec = sv.backoff;
	tv.tv_usec = 0;
	evtimer_add(sv.restart, &tv);
	sv.backoff *= 2;
	if (sv.backoff > SUPERVISE_BACKOFF_MAX)
		sv.backoff = SUPERVISE_BACKOFF_MAX;
}

static void
supervise_start(evutil_socket_t fd, short ev, void *arg)
{
	const char		*argv[12];
	struct proc_spec	 spec;
	struct timeval		 tv;
	char			 err[256];
	int			 n = 0;

	if (benv->shutting_down || sv.proc != NULL)
		return;
	argv[n++] = sv.exe;
	argv[n++] = "--socket";
	argv[n++] = benv->cfg.socket_path;
	argv[n++] = "--user";
	argv[n++] = benv->cfg.user;
	if (sv.www != NULL) {
		argv[n++] = "--www";
		argv[n++] = sv.www;
	}
	if (log_getverbose() > 0)
		argv[n++] = "-v";
	argv[n] = NULL;
	memset(&spec, 0, sizeof(spec));
	spec.argv = argv;
	spec.inherit_output = 1;
	spec.on_exit = supervise_exited;
	sv.started = mono_now();
	if ((sv.proc = proc_start(&spec, err, sizeof(err))) == NULL) {
		log_warnx("%s: %s; trying again in %d s", __func__, err, sv.backoff);
		tv.tv_sec = sv.backoff;
		tv.tv_usec = 0;
		evtimer_add(sv.restart, &tv);
		if ((sv.backoff *= 2) > SUPERVISE_BACKOFF_MAX)
			sv.backoff = SUPERVISE_BACKOFF_MAX;
		return;
	}
	sv.pid = proc_pid(sv.proc);
	log_info("started davit-frontend (pid %d)", (int)sv.pid);
}

void
supervise_init(void)
{
	static const char *const	exes[] = {
		"/davit-frontend",			/* installed */
		"/../frontend/davit-frontend",		/* the build tree */
	};
	static const char *const	wwws[] = {
		"/../../www",				/* the build tree */
		"/../share/davit/www",			/* installed */
	};
	char	*copy, *dir;

	sv.pid = -1;
	sv.backoff = SUPERVISE_BACKOFF_MIN;
	if ((copy = strdup(benv->self_exe)) == NULL)
		fatal("%s", __func__);
	dir = dirname(copy);
	sv.exe = first_existing(dir, exes, sizeof(exes) / sizeof(exes[0]), 0);
	if (benv->cfg.www_dir != NULL) {
		if ((sv.www = strdup(benv->cfg.www_dir)) == NULL)
			fatal("%s", __func__);
	} else
		sv.www = first_existing(dir, wwws, sizeof(wwws) / sizeof(wwws[0]), 1);
	free(copy);
	if (sv.exe == NULL)
		fatalx("davit-frontend not found next to %s (use --no-frontend "
		    "to run it as a separate service)", benv->self_exe);
	if (sv.www == NULL)
		log_warnx("no www directory next to %s and no DAVIT_WWW_DIR: "
		    "the dashboard will have no files", benv->self_exe);
	if ((sv.restart = evtimer_new(benv->base, supervise_start, NULL)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	supervise_start(-1, 0, NULL);
}

void
supervise_shutdown(void)
{
	pid_t	pid = sv.pid;
	int	status, i;

	if (sv.restart != NULL)
		event_free(sv.restart);
	sv.restart = NULL;
	if (sv.proc != NULL && pid > 0) {
		/* the loop is over: wait here, and reap it ourselves */
		proc_forget(sv.proc);
		sv.proc = NULL;
		if (kill(pid, SIGTERM) == -1 && errno != ESRCH)
			log_warn("%s: kill %d", __func__, (int)pid);
		for (i = 0; i < SUPERVISE_STOP_WAIT * 10; i++) {
			if (waitpid(pid, &status, WNOHANG) != 0)
				break;
			usleep(100000);
		}
		if (i == SUPERVISE_STOP_WAIT * 10) {
			log_warnx("davit-frontend ignored SIGTERM; killing it");
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
		}
	}
	free(sv.exe);
	free(sv.www);
	sv.exe = sv.www = NULL;
}
