/*
 * One run of davit-git, the backend's side: the checkout's owner (never
 * root), the request on the child's stdin, every line it writes decoded
 * and validated (gitchild/wire_decode.c), retries with backoff for
 * transient failures, and the result applied to its project's state in
 * memory (r->gp, p->git) and to the job (git_result.c does the applying
 * and turns the child's lines into the run's view).  git.c starts runs
 * and answers from the state.  A run reads its own project's keys (r->p->cfg) only:
 * its workdir's owner, its origin, its token.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <limits.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "backend/backend.h"
#include "backend/project.h"
#include "backend/git.h"
#include "backend/git_run.h"
#include "backend/github_api.h"
#include "gitchild/url.h"
#include "gitchild/wire.h"
#include "common/json.h"
#include "common/log.h"
#include "common/text.h"

static void	run_finish(struct git_run *);

/* ------------------------------------------------------------ the owner -- */

/*
 * The owner of DAVIT_WORKDIR, or of its parent when it does not exist yet;
 * never root (uid or gid 0): git would run as root.
 */
static int
git_owner(const struct project *p, uid_t *uid, gid_t *gid, char *err,
    size_t errlen)
{
	const char	*path = p->cfg->workdir;
	struct stat	 st;
	char		*copy;

	if (stat(path, &st) == 0) {
		if (st.st_uid == 0 || st.st_gid == 0) {
			snprintf(err, errlen, "DAVIT_WORKDIR %s belongs to root: "
			    "davit never runs git as root. Give it to the user "
			    "who deploys: chown -R deploy: %s", path, path);
			return -1;
		}
		*uid = st.st_uid;
		*gid = st.st_gid;
		return 0;
	}
	if (errno != ENOENT) {
		snprintf(err, errlen, "DAVIT_WORKDIR %s: %s", path, strerror(errno));
		return -1;
	}
	copy = xstrdup(path);
	if (stat(dirname(copy), &st) == -1) {
		snprintf(err, errlen, "DAVIT_WORKDIR %s: neither it nor its parent "
		    "exists", path);
		free(copy);
		return -1;
	}
	free(copy);
	if (st.st_uid == 0 || st.st_gid == 0) {
		snprintf(err, errlen, "DAVIT_WORKDIR %s does not exist and its "
		    "parent belongs to root: davit never runs git as root. Create "
		    "it for the user who deploys: mkdir %s && chown deploy: %s",
		    path, path, path);
		return -1;
	}
	*uid = st.st_uid;
	*gid = st.st_gid;
	return 0;
}

/* 1 if p's DAVIT_WORKDIR is missing or an empty directory: a clone is due */
int
git_needs_clone(const struct project *p)
{
	return gc_dir_empty(p->cfg->workdir);
}

/*
 * davit-git: next to davit-backend (an installation that keeps them
 * together), in the build tree (backend/../gitchild), or in libexecdir.
 * NULL when none is an executable file.
 */
char *
git_child_find(void)
{
	static const char *const	 rel[] = {
		"/davit-git",			/* next to it */
		"/../gitchild/davit-git",	/* the build tree */
	};
	char		*copy, *dir, path[PATH_MAX];
	struct stat	 st;
	size_t		 i;

	copy = xstrdup(benv->self_exe);
	dir = dirname(copy);
	for (i = 0; i <= sizeof(rel) / sizeof(rel[0]); i++) {
		if (i < sizeof(rel) / sizeof(rel[0])) {
			if ((size_t)snprintf(path, sizeof(path), "%s%s", dir,
			    rel[i]) >= sizeof(path))
				continue;
		} else
			snprintf(path, sizeof(path), "%s", DAVIT_LIBEXECDIR
			    "/davit-git");
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		    access(path, X_OK) == 0) {
			free(copy);
			return realpath(path, NULL);
		}
	}
	free(copy);
	return NULL;
}

/* ------------------------------------------------------------- the runs -- */

static const char *
run_what(const struct git_run *r)
{
	switch (r->op) {
	case GC_FETCH:
	case GC_FETCH_PULL:
		return "fetch";
	case GC_CLONE:
		return "clone";
	case GC_PULL:
		return "pull";
	case GC_RESET:
		return "reset";
	case GC_LSREMOTE:
		return "poll";
	default:
		return "status";
	}
}

static void
run_log(struct git_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* to the job's log, or the debug log for background runs */
static void
run_log(struct git_run *r, const char *fmt, ...)
{
	char	buf[JOB_LOG_LINE_MAX];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (r->job != NULL)
		job_log(r->job, "git: %s", buf);
	else
		log_debug("git %s: %s", run_what(r), buf);
}

struct git_run *
git_run_new(struct project *p, enum gc_op op, enum git_run_kind kind,
    struct job *j)
{
	struct git_run	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		fatal("%s", __func__);
	r->p = p;
	r->gp = p->git;
	r->op = op;
	r->kind = kind;
	r->job = j;
	r->tries = (op == GC_FETCH || op == GC_FETCH_PULL || op == GC_CLONE) ?
	    GIT_TRIES : 1;
	LIST_INSERT_HEAD(&r->gp->runs, r, entry);
	return r;
}

/* what one try collected, forgotten before the next */
static void
run_reset(struct git_run *r)
{
	git_view_clear(&r->view);
	git_files_free(r->files, r->nfiles);
	r->files = NULL;
	r->nfiles = 0;
	r->nlines = 0;
	r->final = r->ok = r->retry = 0;
	r->code[0] = r->message[0] = '\0';
	r->has_fetched = r->has_origin = r->has_pull = 0;
	r->up_to_date = 0;
	r->commits = r->files_total = 0;
	r->from[0] = r->to[0] = '\0';
}

void
git_run_free(struct git_run *r)
{
	LIST_REMOVE(r, entry);
	if (r->timer != NULL)
		event_free(r->timer);
	if (r->job != NULL && r->cancel_set)
		r->job->cancel = r->prev_cancel;
	git_view_clear(&r->view);
	git_files_free(r->files, r->nfiles);
	free(r);
}

static void
run_fail(struct git_run *r, const char *code, int retry, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
run_fail(struct git_run *r, const char *code, int retry, const char *fmt, ...)
{
	va_list	ap;

	r->final = 1;
	r->ok = 0;
	r->retry = retry;
	snprintf(r->code, sizeof(r->code), "%s", code);
	va_start(ap, fmt);
	vsnprintf(r->message, sizeof(r->message), fmt, ap);
	va_end(ap);
}

/*
 * fetch_pull's step line: the fetch step ends here as a fetch run would
 * (its result applied, its callback called), and the rest of the run is a
 * pull's: one try, its own sequence, and the callback that git_pull_step
 * gives it (git_run_adopt_pull), called from inside the fetch's.
 */
static void
run_step_fetched(struct git_run *r, const struct gc_line *l)
{
	git_step_done		 done = r->done;
	struct git_step_result	 res;

	view_from_status(&r->view, &l->status);
	if ((r->has_fetched = l->has_fetched) && l->fetched != NULL)
		snprintf(r->fetched, sizeof(r->fetched), "%s", l->fetched);
	if ((r->has_origin = l->has_origin) && l->origin != NULL)
		snprintf(r->origin, sizeof(r->origin), "%s", l->origin);
	run_apply(r);
	if (r->seq >= r->gp->error_seq) {
		r->gp->error_seq = r->seq;
		git_set_error(r->gp, NULL);
	}
	run_reset(r);
	r->op = GC_PULL;
	r->kind = RUN_PULL;
	r->tries = r->attempt = 1;
	r->done = NULL;
	r->adoptable = 1;
	r->seq = ++r->gp->seq;
	git_publish(r->p);
	memset(&res, 0, sizeof(res));
	res.ok = 1;
	res.message = "";
	if (done != NULL)
		done(r->job, &res);
	r->adoptable = 0;
}

int
git_run_adopt_pull(struct job *j, git_step_done done)
{
	struct git_run	*r;

	LIST_FOREACH(r, &j->project->git->runs, entry)
		if (r->job == j && r->adoptable)
			break;
	if (r == NULL)
		return 0;
	r->adoptable = 0;
	r->done = done;
	run_log(r, "fast-forwarding %s in %s to origin/%s", r->p->cfg->branch,
	    r->p->cfg->workdir, r->p->cfg->branch);
	return 1;
}

/* one line from the child: validated, never trusted beyond its bounds */
static void	run_exit(void *, int, int);

/* a file the pull changed: kept (at most GC_MAX_FILES) and logged */
static void
run_file(struct git_run *r, const struct gc_line *l)
{
	struct git_file	*f;

	if (r->nfiles >= GC_MAX_FILES)
		return;
	if (r->nfiles % 64 == 0 && (r->files = reallocarray(r->files,
	    r->nfiles + 64, sizeof(*r->files))) == NULL)
		fatal("%s", __func__);
	f = &r->files[r->nfiles++];
	snprintf(f->status, sizeof(f->status), "%s", l->fstatus);
	f->path = xstrdup(l->path);
	f->old_path = xstrdup(l->old_path);
	if (f->old_path != NULL)
		run_log(r, "  %c %s -> %s", file_letter(f->status), f->old_path,
		    f->path);
	else
		run_log(r, "  %c %s", file_letter(f->status), f->path);
}

/* a git child's output after its result */
static void
run_late_line(void *arg, const char *line, size_t len)
{
	(void)arg;
	log_warnx("git child, after its result: %.*s", (int)(len > 512 ? 512 :
	    len), line);
}

static void
run_line(void *arg, const char *line, size_t len)
{
	struct git_run	*r = arg;
	struct gc_line	 l;
	char		 err[128];
	struct proc	*p;

	if (++r->nlines > GIT_MAX_CHILD_LINES) {
		if (r->nlines == GIT_MAX_CHILD_LINES + 1)
			log_warnx("%s: git child: more than %d lines, ignoring the "
			    "rest", __func__, GIT_MAX_CHILD_LINES);
		return;
	}
	if (gc_line_decode(line, len, &l, err, sizeof(err)) == -1) {
		/* not ours: a crash report, a library's complaint */
		log_warnx("git child: %.*s", (int)(len > 512 ? 512 : len), line);
		if (r->job != NULL)
			job_logn(r->job, line, len);
		return;
	}
	if (r->final && l.type != GL_LOG) {
		log_warnx("%s: git child: output after its final line", __func__);
		goto done;
	}
	switch (l.type) {
	case GL_LOG:
		run_log(r, "%s", l.text);
		break;
	case GL_COMMIT:
		if (l.kind == GC_COMMIT_LOCAL)
			commit_from_line(&r->view.local, &l);
		else if (l.kind == GC_COMMIT_REMOTE)
			commit_from_line(&r->view.remote, &l);
		else if (r->view.nincoming < GC_MAX_INCOMING)
			commit_from_line(&r->view.incoming[r->view.nincoming++], &l);
		break;
	case GL_DIRTY:
		if (r->view.ndirty < GC_MAX_DIRTY)
			r->view.dirty[r->view.ndirty++] = xstrdup(l.path);
		break;
	case GL_FILE:
		run_file(r, &l);
		break;
	case GL_OK:
		r->final = 1;
		r->ok = 1;
		view_from_status(&r->view, &l.status);
		if ((r->has_fetched = l.has_fetched) && l.fetched != NULL)
			snprintf(r->fetched, sizeof(r->fetched), "%s", l.fetched);
		if ((r->has_origin = l.has_origin) && l.origin != NULL)
			snprintf(r->origin, sizeof(r->origin), "%s", l.origin);
		if (l.pull.present) {
			r->has_pull = 1;
			snprintf(r->from, sizeof(r->from), "%s",
			    l.pull.from != NULL ? l.pull.from : "");
			snprintf(r->to, sizeof(r->to), "%s", l.pull.to);
			r->commits = l.pull.commits;
			r->files_total = l.pull.files_total;
			r->up_to_date = l.pull.up_to_date;
		}
		break;
	case GL_FAIL:
		run_fail(r, l.code, l.retry, "%s", l.text);
		view_from_status(&r->view, &l.status);
		break;
	case GL_STEP:
		if (r->op != GC_FETCH_PULL) {
			log_warnx("%s: git child: a fetch step's result in a %s",
			    __func__, run_what(r));
			break;
		}
		run_step_fetched(r, &l);
		break;
	}
	/*
	 * A success is over at its final line: the child wrote and closed
	 * everything before it.  The run ends now, not once the child's exit
	 * reached the loop (about a millisecond later, bench/webhook.sh);
	 * what it still writes is logged (a sanitizer's report), and it is
	 * reaped as any child.
	 */
	if (l.type == GL_OK && (p = r->proc) != NULL) {
		gc_line_free(&l);
		proc_release(p, run_late_line, GIT_EXIT_WAIT);
		run_exit(r, 0, 0);	/* r may be freed */
		return;
	}
 done:
	gc_line_free(&l);
}

static void
run_timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct git_run	*r = arg;

	if (r->job != NULL && r->cancel_set) {
		r->job->cancel = r->prev_cancel;
		r->cancel_set = 0;
	}
	if (r->ending)
		run_finish(r);
	else
		git_run_try(r);
}

/* the job timed out while no child ran: between tries */
static void
run_cancel(struct job *j)
{
	struct git_run	*r;

	LIST_FOREACH(r, &j->project->git->runs, entry)
		if (r->job == j && r->cancel_set)
			break;
	if (r == NULL) {
		log_warnx("%s: job %lld: no git step waiting", __func__, j->id);
		return;
	}
	evtimer_del(r->timer);
	j->cancel = r->prev_cancel;
	r->cancel_set = 0;
	run_fail(r, "unavailable", 0, "timed out between tries");
	run_finish(r);
}

/* ends r from the event loop, not from inside its caller */
static void
run_end_later(struct git_run *r, long ms)
{
	struct timeval	tv = { ms / 1000, (ms % 1000) * 1000 };

	if (r->timer == NULL &&
	    (r->timer = evtimer_new(benv->base, run_timer_cb, r)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	if (r->job != NULL && !r->cancel_set) {
		r->prev_cancel = r->job->cancel;
		r->job->cancel = run_cancel;
		r->cancel_set = 1;
	}
	evtimer_add(r->timer, &tv);
}

/*
 * git refused an App's installation token (revoked, or expired early): a
 * new one is fetched before the next try, and the fetch is tried once more.
 * The child cannot tell an App's token from DAVIT_GITHUB_TOKEN: its hint is
 * rewritten here to name the App.
 */
static void
run_app_refused(struct git_run *r)
{
	char	repo[GC_MAX_URL + 1];

	github_token_invalidate(r->p);
	/* origin refused the credentials (not a redirect's host asking) */
	if (strstr(r->message, "DAVIT_GITHUB_TOKEN") == NULL)
		return;
	config_repo_display(r->p->cfg, repo, sizeof(repo));
	snprintf(r->message, sizeof(r->message), "%.72s refused the GitHub "
	    "App's installation token: check the App's permissions "
	    "(Contents: read) and its installation on %.64s", repo,
	    r->p->cfg->github_repo != NULL ? r->p->cfg->github_repo :
	    "the repository");
	if (!r->app_refused && r->attempt < r->tries) {
		r->app_refused = 1;
		r->retry = 1;	/* with a new token */
		run_log(r, "GitHub refused the App's token: asking for a new one");
	}
}

static void
run_exit(void *arg, int status, int timed_out)
{
	struct git_run	*r = arg;
	long		 ms;

	r->proc = NULL;
	if (r->job != NULL)
		r->job->proc = NULL;
	if (r->final && !r->ok && strcmp(r->code, "unauthorized") == 0 &&
	    github_is_app(r->p))
		run_app_refused(r);
	if (!r->final) {
		if (timed_out || (r->job != NULL && r->job->timed_out))
			run_fail(r, "unavailable", 0, "git %s timed out", run_what(r));
		else if (WIFSIGNALED(status))
			run_fail(r, "internal", 0, "the git child was killed by "
			    "signal %d without a result", WTERMSIG(status));
		else
			run_fail(r, "internal", 0, "the git child exited with "
			    "status %d without a result", WEXITSTATUS(status));
	}
	if (r->ok) {
		run_finish(r);
		return;
	}
	if (r->tries > 1)
		run_log(r, "try %d of %d failed: %s", r->attempt, r->tries,
		    r->message);
	if (r->retry && r->attempt < r->tries && !benv->shutting_down &&
	    (r->job == NULL || !r->job->timed_out)) {
		/* about 1, 2, 4 s, each +-25% */
		ms = (long)GIT_BACKOFF_MS << (r->attempt - 1);
		ms = ms * (75 + (long)arc4random_uniform(51)) / 100;
		log_warnx("git %s: try %d of %d failed: %s; retrying in %ld.%01ld s",
		    run_what(r), r->attempt, r->tries, r->message, ms / 1000,
		    (ms % 1000) / 100);
		run_log(r, "retrying in %ld.%01ld s", ms / 1000, (ms % 1000) / 100);
		r->ending = 0;
		run_end_later(r, ms);
		return;
	}
	if (r->retry && r->attempt >= r->tries)
		log_warnx("git %s: try %d of %d failed: %s; giving up", run_what(r),
		    r->attempt, r->tries, r->message);
	run_finish(r);
}

/*
 * davit-git's argv for the owner uid and gid (ids holds their digits).
 * Exec'd as root and dropped by itself (gitchild/drop.c): the owner cannot
 * attach to it before it made itself undumpable.
 */
void
git_child_argv(const char *argv[GIT_CHILD_ARGC + 1],
    char ids[2][GIT_CHILD_ID_LEN], uid_t uid, gid_t gid)
{
	snprintf(ids[0], GIT_CHILD_ID_LEN, "%u", (unsigned)uid);
	snprintf(ids[1], GIT_CHILD_ID_LEN, "%u", (unsigned)gid);
	argv[0] = git_child_exe;
	argv[1] = "--git-child";
	argv[2] = ids[0];
	argv[3] = ids[1];
	argv[4] = NULL;
}

static int
run_spawn(struct git_run *r, char *err, size_t errlen)
{
	const struct davit_config	*cfg = r->p->cfg;
	struct gc_request		 req;
	struct proc_spec		 spec;
	const char			*argv[GIT_CHILD_ARGC + 1];
	uid_t				 uid;
	gid_t				 gid;
	char				 ids[2][GIT_CHILD_ID_LEN], *line;
	size_t				 len;
	int				 net;

	if (git_owner(r->p, &uid, &gid, err, errlen) == -1)
		return -1;
	net = r->op == GC_FETCH || r->op == GC_FETCH_PULL || r->op == GC_CLONE ||
	    r->op == GC_LSREMOTE;
	memset(&req, 0, sizeof(req));
	req.op = r->op;
	req.workdir = cfg->workdir;
	req.branch = cfg->branch;
	if (r->op == GC_RESET)
		req.commit = r->commit;
	if (net) {
		if (cfg->repo_url == NULL) {
			snprintf(err, errlen, "DAVIT_REPO_URL is not set: there is "
			    "nothing to fetch from");
			return -1;
		}
		if (!gc_url_valid(cfg->repo_url)) {
			snprintf(err, errlen, "DAVIT_REPO_URL is not an https, http, "
			    "ssh or file URL of at most %d bytes", GC_MAX_URL);
			return -1;
		}
		req.url = cfg->repo_url;
		/* offered over http(s) only, where it is what GitHub expects */
		if (gc_url_is_http(cfg->repo_url))
			/* the App's, or DAVIT_GITHUB_TOKEN; only read */
			req.token = (char *)(uintptr_t)github_git_token(r->p);
	}
	line = gc_request_encode(&req, &len);
	if (len > GC_MAX_REQUEST) {
		explicit_bzero(line, len);
		free(line);
		snprintf(err, errlen, "the git request is longer than %d bytes "
		    "(DAVIT_WORKDIR, DAVIT_REPO_URL or the token too long?)",
		    GC_MAX_REQUEST);
		return -1;
	}
	git_child_argv(argv, ids, uid, gid);
	memset(&spec, 0, sizeof(spec));
	spec.argv = argv;
	spec.drop = 0;
	spec.input = line;
	spec.inputlen = len;
	spec.timeout = r->job != NULL ? 0 : GIT_BG_TIMEOUT;	/* jobs: the job's */
	spec.on_line = run_line;
	spec.on_exit = run_exit;
	spec.arg = r;
	if ((r->proc = git_spare_take(uid, gid, line, len, spec.on_line,
	    spec.on_exit, spec.arg, spec.timeout)) == NULL)
		r->proc = proc_start(&spec, err, errlen);
	git_spare_want(uid, gid);	/* the next run's */
	explicit_bzero(line, len);
	free(line);
	if (r->proc == NULL)
		return -1;
	r->seq = ++r->gp->seq;
	if (r->job != NULL)
		r->job->proc = r->proc;
	log_debug("git %s: child %d as uid %u", run_what(r),
	    (int)proc_pid(r->proc), (unsigned)uid);
	return 0;
}

static void	run_token_ready(void *, const char *);

void
git_run_try(struct git_run *r)
{
	char	repo[GC_MAX_URL + 1], err[PROTO_MAX_MESSAGE];

	run_reset(r);
	r->attempt++;
	config_repo_display(r->p->cfg, repo, sizeof(repo));
	switch (r->op) {
	case GC_FETCH:
	case GC_FETCH_PULL:
		run_log(r, "fetching %s from %s (try %d of %d)", r->p->cfg->branch,
		    repo, r->attempt, r->tries);
		break;
	case GC_CLONE:
		run_log(r, "cloning %s (branch %s) into %s (try %d of %d)", repo,
		    r->p->cfg->branch, r->p->cfg->workdir, r->attempt, r->tries);
		break;
	case GC_PULL:
		run_log(r, "fast-forwarding %s in %s to origin/%s", r->p->cfg->branch,
		    r->p->cfg->workdir, r->p->cfg->branch);
		break;
	case GC_RESET:
		run_log(r, "moving %s in %s back to %.12s (no fetch)",
		    r->p->cfg->branch, r->p->cfg->workdir, r->commit);
		break;
	default:
		break;
	}
	if ((r->op == GC_FETCH || r->op == GC_FETCH_PULL || r->op == GC_CLONE ||
	    r->op == GC_LSREMOTE) && github_token_wait(r->p, run_token_ready, r))
		return;		/* a GitHub App's token first */
	if (run_spawn(r, err, sizeof(err)) == -1) {
		run_fail(r, "unavailable", 0, "%s", err);
		r->ending = 1;
		run_end_later(r, 0);
	}
}

/* github_api.c has a fresh App token (why NULL), or none (why says so) */
static void
run_token_ready(void *arg, const char *why)
{
	struct git_run	*r = arg;
	char		 err[PROTO_MAX_MESSAGE];

	if (r->job != NULL && job_is_over(r->job))
		why = "the job ended while waiting for a GitHub App token";
	else if (why == NULL && run_spawn(r, err, sizeof(err)) == 0)
		return;
	run_fail(r, why != NULL ? "unauthorized" : "unavailable", 0, "%s",
	    why != NULL ? why : err);
	r->ending = 1;
	run_end_later(r, 0);
}

static void
run_finish(struct git_run *r)
{
	git_step_done		 done = r->done;
	struct job		*j = r->job;
	struct project		*p;
	enum git_run_kind	 kind = r->kind;
	struct git_step_result	 res;
	char			 code[sizeof(r->code)], message[sizeof(r->message)];
	long long		 seq;
	int			 newest;

	/*
	 * The status's error is the newest run's: a status refresh that
	 * started before a failed fetch does not clear what the fetch said.
	 * A run refused before its child started counts as started now.
	 */
	seq = r->seq != 0 ? r->seq : ++r->gp->seq;
	if ((newest = seq >= r->gp->error_seq))
		r->gp->error_seq = seq;
	if (r->ok) {
		run_apply(r);
		if (newest)
			git_set_error(r->gp, NULL);
	} else {
		run_apply_view(r);
		if (r->op == GC_LSREMOTE)
			r->gp->polled_ms = json_now_ms();
		if (newest)
			git_set_error(r->gp, "%s: %s", run_what(r), r->message);
		if (r->kind == RUN_BG)
			log_warnx("git %s: %s", run_what(r), r->message);
		else
			run_log(r, "%s failed (%s): %s", run_what(r), r->code,
			    r->message);
	}
	run_job_result(r);
	memset(&res, 0, sizeof(res));
	res.ok = r->ok;
	snprintf(code, sizeof(code), "%s", r->code);
	snprintf(message, sizeof(message), "%s", r->ok ? "" : r->message);
	res.code = r->ok ? NULL : code;
	res.message = message;
	if (r->ok && kind == RUN_PULL) {
		res.from = r->gp->pull_from[0] != '\0' ? r->gp->pull_from : NULL;
		res.to = r->gp->pull_to[0] != '\0' ? r->gp->pull_to : NULL;
		res.files = r->gp->files;
		res.nfiles = r->gp->nfiles;
	}
	if (r->gp->bg == r)
		r->gp->bg = NULL;
	p = r->p;
	git_run_free(r);
	git_publish(p);
	if ((kind == RUN_FETCH || kind == RUN_PULL) && done != NULL)
		done(j, &res);
}
