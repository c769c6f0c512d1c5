/*
 * Deploys: fetch -> fast-forward pull -> rebuild (build first; down and
 * up -d only when the build succeeded, or by name when the project has
 * services outside DAVIT_SERVICES: compose.c) -> verify that every listed
 * service runs, and is healthy where it has a healthcheck, within
 * DAVIT_DEPLOY_VERIFY.
 *
 * A deploy is a job (op "deploy").  It comes from the dashboard, from the
 * socket, or from a verified GitHub push (webhook.push, which filters the
 * push first).  Pushes that arrive while a deploy waits in the queue are
 * merged into it; one that arrives while a deploy runs queues one follow-up,
 * into which later ones merge: the newest commit is what gets deployed.
 *
 * The history (one JSON line per deploy) lives in DAVIT_STATE_DIR and
 * survives restarts; so does the commit the app was last built from.
 */
#include <sys/stat.h>
#include <sys/uio.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "backend/backend.h"
#include "backend/docker.h"
#include "backend/git.h"
#include "backend/notify.h"
#include "common/json.h"
#include "common/log.h"

#define DEPLOY_HISTORY_KEEP	100		/* deploys kept in memory and listed */
#define DEPLOY_HISTORY_READ	(1024 * 1024)	/* tail of the history file read at start */
#define DEPLOY_HISTORY_ROTATE	(4 * DEPLOY_HISTORY_READ)	/* then rewritten from memory */
#define DEPLOY_FILES_KEPT	50		/* changed files a record lists */
#define DEPLOY_LIST_MAX		(512 * 1024)	/* bytes of history in deploys.list */
#define DEPLOY_VERIFY_STABLE_MS	3000		/* services ready, unchanged, this long */
#define DEPLOY_VERIFY_TICK_MS	250
#define DEPLOY_DELIVERIES	32		/* delivery ids remembered per deploy */
#define DEPLOY_SEEN_MAX		1024		/* deployed delivery ids and bodies remembered */
#define DEPLOY_BODY_KEY		"sha256:"	/* a body's digest in the seen set */
#define DEPLOY_STEPS		5
#define DEPLOY_ID_MAX		65		/* a sha256 commit id and its NUL */
#define DEPLOY_HISTORY_FILE	"deploys.jsonl"
#define DEPLOY_COMMIT_FILE	"deployed-commit"

enum deploy_step {
	STEP_FETCH,
	STEP_PULL,
	STEP_REBUILD,
	STEP_VERIFY,
};

static const char *const deploy_step_names[] = {
	[STEP_FETCH] = "fetch",
	[STEP_PULL] = "pull",
	[STEP_REBUILD] = "rebuild",
	[STEP_VERIFY] = "verify",
};

struct deploy {
	long long	 id;			/* deploys are numbered across restarts */
	int		 interrupted;		/* davit stopped before it ended */
	struct job	*job;
	char		 trigger[16];		/* webhook, dashboard, socket */
	char		*by;
	char		*deliveries[DEPLOY_DELIVERIES];
	size_t		 ndeliveries;
	char		*bodies[DEPLOY_DELIVERIES];	/* their bodies' SHA-256 */
	size_t		 nbodies;
	char		 push_after[DEPLOY_ID_MAX];	/* newest pushed commit, if any */
	char		 from[DEPLOY_ID_MAX], to[DEPLOY_ID_MAX];
	char		*files_json;		/* from the pull */
	struct {
		int		 done;
		int		 ok;
		int		 skipped;
		long long	 ms;
	}		 steps[DEPLOY_STEPS];
	long long	 step_started_ms;
	struct event	*verify_timer;
	long long	 verify_deadline_ms;
	long long	 verify_stable_ms;	/* ready, unchanged, since; 0 if not */
	unsigned long long verify_print;	/* the containers then */
	char		 verify_why[256];
};

static struct deploy	*deploy_queued;		/* waiting in the job queue */
static struct deploy	*deploy_current;	/* running */
static char		*deploy_history[DEPLOY_HISTORY_KEEP];	/* JSON lines, oldest first */
static size_t		 deploy_nhistory;
static char		*deploy_seen[DEPLOY_SEEN_MAX];	/* deliveries deployed with success */
static size_t		 deploy_nseen, deploy_seen_next;
static char		 deploy_commit[DEPLOY_ID_MAX];	/* what the app was last built from */
static char		*deploy_history_path, *deploy_commit_path;
static long long	 deploy_next_id = 1;

static void	deploy_step_start(struct job *j, enum deploy_step step);

static void
deploy_free(void *arg)
{
	struct deploy	*d = arg;
	size_t		 i;

	if (d == NULL)
		return;
	if (deploy_queued == d)
		deploy_queued = NULL;
	if (deploy_current == d)
		deploy_current = NULL;
	if (d->verify_timer != NULL)
		event_free(d->verify_timer);
	for (i = 0; i < d->ndeliveries; i++)
		free(d->deliveries[i]);
	for (i = 0; i < d->nbodies; i++)
		free(d->bodies[i]);
	free(d->by);
	free(d->files_json);
	free(d);
}

static int
deploy_delivery_seen(const char *delivery)
{
	size_t	i;

	for (i = 0; i < deploy_nseen; i++)
		if (strcmp(deploy_seen[i], delivery) == 0)
			return 1;
	return 0;
}

static void
deploy_delivery_remember(const char *delivery)
{
	if (deploy_delivery_seen(delivery))
		return;
	free(deploy_seen[deploy_seen_next]);
	if ((deploy_seen[deploy_seen_next] = strdup(delivery)) == NULL)
		fatal("%s", __func__);
	deploy_seen_next = (deploy_seen_next + 1) % DEPLOY_SEEN_MAX;
	if (deploy_nseen < DEPLOY_SEEN_MAX)
		deploy_nseen++;
}

static int
str_in(char *const *list, size_t n, const char *s)
{
	size_t	i;

	for (i = 0; s != NULL && i < n; i++)
		if (strcmp(list[i], s) == 0)
			return 1;
	return 0;
}

/* the body is the delivery: a copy under another delivery id is no new push */
static int
deploy_has_delivery(const struct deploy *d, const char *delivery,
    const char *body)
{
	return d != NULL && (str_in(d->deliveries, d->ndeliveries, delivery) ||
	    str_in(d->bodies, d->nbodies, body));
}

/* adds s to a list of DEPLOY_DELIVERIES, the oldest going first */
static void
str_add(char **list, size_t *n, const char *s)
{
	if (s == NULL || str_in(list, *n, s))
		return;
	if (*n == DEPLOY_DELIVERIES) {
		free(list[0]);
		memmove(list, list + 1, (DEPLOY_DELIVERIES - 1) * sizeof(char *));
		(*n)--;
	}
	if ((list[(*n)++] = strdup(s)) == NULL)
		fatal("%s", __func__);
}

static void
deploy_add_delivery(struct deploy *d, const char *delivery, const char *body,
    const char *after)
{
	str_add(d->deliveries, &d->ndeliveries, delivery);
	str_add(d->bodies, &d->nbodies, body);
	if (after != NULL)
		snprintf(d->push_after, sizeof(d->push_after), "%s", after);
}

static void
deploy_body_remember(const char *body)
{
	char	key[sizeof(DEPLOY_BODY_KEY) + DEPLOY_ID_MAX];

	snprintf(key, sizeof(key), "%s%s", DEPLOY_BODY_KEY, body);
	deploy_delivery_remember(key);
}

static int
deploy_body_seen(const char *body)
{
	char	key[sizeof(DEPLOY_BODY_KEY) + DEPLOY_ID_MAX];

	if (body == NULL)
		return 0;
	snprintf(key, sizeof(key), "%s%s", DEPLOY_BODY_KEY, body);
	return deploy_delivery_seen(key);
}

/* the deploy as JSON: the history record, the deploy.state event */
static void
deploy_gen(yajl_gen g, const struct deploy *d)
{
	const struct job	*j = d->job;
	yajl_val		 files = NULL;
	char			 perr[64];
	size_t			 i, nfiles;

	yajl_gen_map_open(g);
	json_kint(g, "id", d->id);
	json_kint(g, "job", j->id);
	json_kstr(g, "trigger", d->trigger);
	json_kstr(g, "by", d->by);
	json_key(g, "deliveries");
	yajl_gen_array_open(g);
	for (i = 0; i < d->ndeliveries; i++)
		json_str(g, d->deliveries[i]);
	yajl_gen_array_close(g);
	json_key(g, "bodies");
	yajl_gen_array_open(g);
	for (i = 0; i < d->nbodies; i++)
		json_str(g, d->bodies[i]);
	yajl_gen_array_close(g);
	json_kstr(g, "pushed", d->push_after[0] ? d->push_after : NULL);
	json_kstr(g, "from", d->from[0] ? d->from : NULL);
	json_kstr(g, "to", d->to[0] ? d->to : NULL);
	json_key(g, "files");
	nfiles = 0;
	if (d->files_json != NULL && (files = json_parse(d->files_json,
	    strlen(d->files_json), perr, sizeof(perr))) != NULL &&
	    YAJL_IS_ARRAY(files)) {
		nfiles = files->u.array.len;
		yajl_gen_array_open(g);
		for (i = 0; i < nfiles && i < DEPLOY_FILES_KEPT; i++)
			json_tree(g, files->u.array.values[i]);
		yajl_gen_array_close(g);
	} else
		yajl_gen_null(g);
	if (files != NULL)
		yajl_tree_free(files);
	json_kint(g, "files_total", nfiles);
	json_key(g, "steps");
	yajl_gen_array_open(g);
	for (i = 0; i < DEPLOY_STEPS && i <= STEP_VERIFY; i++) {
		if (!d->steps[i].done)
			continue;
		yajl_gen_map_open(g);
		json_kstr(g, "name", deploy_step_names[i]);
		json_kbool(g, "ok", d->steps[i].ok);
		json_kbool(g, "skipped", d->steps[i].skipped);
		json_kint(g, "ms", d->steps[i].ms);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	json_kstr(g, "state", d->interrupted ? "interrupted" :
	    job_state_name(j->state));
	json_ktime(g, "created_at", j->created_ms);
	json_ktime(g, "started_at", j->started_ms);
	json_ktime(g, "ended_at", d->interrupted ? json_now_ms() : j->ended_ms);
	json_kstr(g, "error", d->interrupted ? "davit stopped before the deploy "
	    "ended" : j->error);
	yajl_gen_map_close(g);
}

static void
deploy_publish(const struct deploy *d)
{
	yajl_gen	g = proto_event_begin("deploy.state");

	deploy_gen(g, d);
	events_publish(g);
}

static void
deploy_history_add(char *line)
{
	if (deploy_nhistory == DEPLOY_HISTORY_KEEP) {
		free(deploy_history[0]);
		memmove(deploy_history, deploy_history + 1,
		    (DEPLOY_HISTORY_KEEP - 1) * sizeof(char *));
		deploy_nhistory--;
	}
	deploy_history[deploy_nhistory++] = line;
}

/*
 * Writes a whole state file: a fresh temporary file (never following a link
 * planted there), fsynced, renamed over path, the directory fsynced.
 */
static int
state_file_write(const char *path, const struct iovec *iov, int iovcnt)
{
	char	tmp[PATH_MAX];
	ssize_t	want = 0;
	int	fd, dfd, i;

	for (i = 0; i < iovcnt; i++)
		want += (ssize_t)iov[i].iov_len;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		log_warnx("%s: path too long", path);
		return -1;
	}
	if (unlink(tmp) == -1 && errno != ENOENT) {
		log_warn("%s", tmp);
		return -1;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0640)) == -1) {
		log_warn("%s", tmp);
		return -1;
	}
	if (writev(fd, iov, iovcnt) != want || fsync(fd) == -1) {
		log_warn("%s: write", tmp);
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	if (rename(tmp, path) == -1) {
		log_warn("rename %s", tmp);
		unlink(tmp);
		return -1;
	}
	if ((dfd = open(benv->cfg.state_dir, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) != -1) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

/* the history file rewritten from the records in memory, when it grew big */
static void
deploy_history_rotate(void)
{
	struct iovec	 iov[DEPLOY_HISTORY_KEEP * 2];
	size_t		 i;

	for (i = 0; i < deploy_nhistory; i++) {
		iov[i * 2].iov_base = deploy_history[i];
		iov[i * 2].iov_len = strlen(deploy_history[i]);
		iov[i * 2 + 1].iov_base = "\n";
		iov[i * 2 + 1].iov_len = 1;
	}
	if (state_file_write(deploy_history_path, iov, (int)(deploy_nhistory * 2)) == 0)
		log_info("deploy history %s rewritten with its last %zu deploys",
		    deploy_history_path, deploy_nhistory);
}

/*
 * Appends the finished deploy to the history file in one write.  A short
 * write is cut off again, and a line left without its newline (a crash
 * mid-write) gets one, so that one damaged line never eats the next.
 */
static void
deploy_history_append(const struct deploy *d)
{
	yajl_gen	 g = json_gen_new();
	struct stat	 st;
	char		*line, last;
	size_t		 len;
	int		 fd;

	deploy_gen(g, d);
	line = json_gen_take(g, &len);
	yajl_gen_free(g);
	if ((fd = open(deploy_history_path, O_RDWR | O_APPEND | O_CREAT |
	    O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0640)) == -1) {
		log_warn("deploy history %s", deploy_history_path);
		goto keep;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		log_warnx("deploy history %s: not a regular file", deploy_history_path);
		goto done;
	}
	if (st.st_size > DEPLOY_HISTORY_ROTATE) {
		close(fd);
		deploy_history_add(line);
		deploy_history_rotate();
		return;
	}
	if (st.st_size > 0 && (pread(fd, &last, 1,
	    st.st_size - 1) != 1 || last != '\n') && write(fd, "\n", 1) != 1)
		log_warn("deploy history %s: write", deploy_history_path);
	line[len] = '\n';
	if (write(fd, line, len + 1) != (ssize_t)len + 1) {
		log_warn("deploy history %s: write", deploy_history_path);
		if (ftruncate(fd, st.st_size) == -1)
			log_warn("deploy history %s: truncate", deploy_history_path);
	} else if (fsync(fd) == -1)
		log_warn("deploy history %s: fsync", deploy_history_path);
	line[len] = '\0';
 done:
	close(fd);
 keep:
	deploy_history_add(line);
}

static void
deploy_commit_save(const char *id)
{
	struct iovec	iov[2];

	snprintf(deploy_commit, sizeof(deploy_commit), "%s", id);
	iov[0].iov_base = deploy_commit;
	iov[0].iov_len = strlen(deploy_commit);
	iov[1].iov_base = "\n";
	iov[1].iov_len = 1;
	state_file_write(deploy_commit_path, iov, 2);
}

static int
is_commit_id(const char *s)
{
	size_t	n = strlen(s), i;

	if (n != 40 && n != 64)
		return 0;
	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return 0;
	return 1;
}

/* calls fn on each string of a history record's array that fits an id */
static void
history_strings(yajl_val a, void (*fn)(const char *))
{
	size_t	i;

	if (a == NULL || !YAJL_IS_ARRAY(a))
		return;
	for (i = 0; i < a->u.array.len; i++)
		if (YAJL_IS_STRING(a->u.array.values[i]) &&
		    strlen(a->u.array.values[i]->u.string) < DEPLOY_ID_MAX)
			fn(a->u.array.values[i]->u.string);
}

/* a history record of an earlier run, its "job" id (no longer valid) null */
static char *
history_line_without_job(yajl_val v)
{
	yajl_gen	 g = json_gen_new();
	char		*line;
	size_t		 i;

	yajl_gen_map_open(g);
	for (i = 0; i < v->u.object.len; i++) {
		json_key(g, v->u.object.keys[i]);
		if (strcmp(v->u.object.keys[i], "job") == 0)
			yajl_gen_null(g);
		else
			json_tree(g, v->u.object.values[i]);
	}
	yajl_gen_map_close(g);
	line = json_gen_take(g, NULL);
	yajl_gen_free(g);
	return line;
}

/* reads the history's tail and the deployed commit; bad lines are skipped */
static void
deploy_state_load(void)
{
	char		*buf = NULL, *p, *nl, *eol, *end, perr[64];
	char		 commit[DEPLOY_ID_MAX + 2];
	struct stat	 st;
	yajl_val	 v, idv;
	const char	*st_name;
	ssize_t		 n;
	size_t		 bad = 0;
	off_t		 off;
	int		 fd;

	if ((fd = open(deploy_commit_path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) != -1) {
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
		    (n = read(fd, commit, sizeof(commit) - 1)) > 0) {
			commit[n] = '\0';
			commit[strcspn(commit, "\n")] = '\0';
			if (is_commit_id(commit))
				snprintf(deploy_commit, sizeof(deploy_commit), "%s", commit);
			else
				log_warnx("%s: not a commit id, ignored", deploy_commit_path);
		}
		close(fd);
	}
	if ((fd = open(deploy_history_path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1) {
		if (errno != ENOENT)
			log_warn("deploy history %s", deploy_history_path);
		return;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		log_warnx("deploy history %s: not a regular file", deploy_history_path);
		goto done;
	}
	off = st.st_size > DEPLOY_HISTORY_READ ? st.st_size - DEPLOY_HISTORY_READ : 0;
	if ((buf = malloc(DEPLOY_HISTORY_READ + 1)) == NULL)
		fatal("%s", __func__);
	if ((n = pread(fd, buf, DEPLOY_HISTORY_READ, off)) == -1) {
		log_warn("deploy history %s: read", deploy_history_path);
		goto done;
	}
	end = buf + n;
	*end = '\0';
	p = buf;
	if (off > 0)	/* a partial first line */
		p = (p = memchr(buf, '\n', n)) != NULL ? p + 1 : end;
	for (; p < end; p = nl) {
		if ((eol = memchr(p, '\n', end - p)) == NULL)
			eol = end;
		nl = eol < end ? eol + 1 : end;
		*eol = '\0';
		if (eol == p)
			continue;
		/* a NUL in a line: what a crash mid-write leaves */
		if (memchr(p, '\0', eol - p) != NULL) {
			bad++;
			continue;
		}
		if ((v = json_parse(p, eol - p, perr, sizeof(perr))) == NULL ||
		    v->type != yajl_t_object || json_get(v, "job") == NULL) {
			bad++;
			if (v != NULL)
				yajl_tree_free(v);
			continue;
		}
		if ((idv = json_get(v, "id")) != NULL && YAJL_IS_INTEGER(idv) &&
		    idv->u.number.i >= deploy_next_id && idv->u.number.i < PROTO_MAX_ID)
			deploy_next_id = idv->u.number.i + 1;
		/* a successful deploy's deliveries and bodies: replays from now */
		if ((st_name = json_get_str(v, "state")) != NULL &&
		    strcmp(st_name, "succeeded") == 0) {
			history_strings(json_get(v, "deliveries"),
			    deploy_delivery_remember);
			history_strings(json_get(v, "bodies"), deploy_body_remember);
		}
		/* its job belonged to an earlier backend: "job" becomes null */
		deploy_history_add(history_line_without_job(v));
		yajl_tree_free(v);
	}
	if (bad > 0)
		log_warnx("deploy history %s: %zu damaged lines skipped",
		    deploy_history_path, bad);
	log_info("deploy history: %zu deploys, last built commit %s",
	    deploy_nhistory, deploy_commit[0] ? deploy_commit : "unknown");
 done:
	free(buf);
	close(fd);
}

static void
deploy_finish(struct job *j, const char *fmt, const char *arg)
{
	struct deploy	*d = j->arg;
	size_t		 i;

	if (fmt != NULL)
		job_done(j, 1, fmt, arg);
	else
		job_done(j, 0, NULL);
	if (j->state == JOB_SUCCEEDED) {
		for (i = 0; i < d->ndeliveries; i++)
			deploy_delivery_remember(d->deliveries[i]);
		for (i = 0; i < d->nbodies; i++)
			deploy_body_remember(d->bodies[i]);
	}
	deploy_history_append(d);
	deploy_publish(d);
	if (deploy_current == d)
		deploy_current = NULL;
}

static void
deploy_step_end(struct job *j, enum deploy_step step, int ok, int skipped)
{
	struct deploy	*d = j->arg;

	d->steps[step].done = 1;
	d->steps[step].ok = ok;
	d->steps[step].skipped = skipped;
	d->steps[step].ms = json_now_ms() - d->step_started_ms;
	job_log(j, "deploy: %s %s in %lld ms", deploy_step_names[step],
	    skipped ? "skipped" : ok ? "done" : "FAILED", d->steps[step].ms);
	deploy_publish(d);
}

/*
 * Verify: every listed service running (healthy where it has a healthcheck)
 * and staying so, the same containers not restarting, for
 * DEPLOY_VERIFY_STABLE_MS (at most DAVIT_DEPLOY_VERIFY), within
 * DAVIT_DEPLOY_VERIFY.  One instant of "running" proves nothing for a
 * container that crashes a second after it starts.
 */
static void
deploy_verify_tick(evutil_socket_t fd, short ev, void *arg)
{
	struct job		*j = arg;
	struct deploy		*d = j->arg;
	struct timeval		 tv = { 0, DEPLOY_VERIFY_TICK_MS * 1000 };
	char			 why[sizeof(d->verify_why)];
	long long		 now = json_now_ms(), stable;
	unsigned long long	 print;

	if (job_is_over(j))
		return;
	stable = (long long)benv->cfg.deploy_verify * 1000;
	if (stable > DEPLOY_VERIFY_STABLE_MS)
		stable = DEPLOY_VERIFY_STABLE_MS;
	if (docker_services_ready(why, sizeof(why))) {
		print = docker_services_fingerprint();
		if (d->verify_stable_ms == 0 || print != d->verify_print) {
			if (d->verify_stable_ms != 0)
				job_log(j, "deploy: a container restarted or "
				    "was replaced; waiting again");
			d->verify_stable_ms = now;
			d->verify_print = print;
		}
		if (now - d->verify_stable_ms >= stable) {
			deploy_step_end(j, STEP_VERIFY, 1, 0);
			deploy_commit_save(d->to[0] ? d->to : deploy_commit);
			job_log(j, "deploy: %s is live", d->to[0] ? d->to : "the app");
			deploy_finish(j, NULL, NULL);
			return;
		}
		snprintf(why, sizeof(why), "every service runs; watching it for "
		    "%lld s", stable / 1000);
	} else
		d->verify_stable_ms = 0;
	if (strcmp(why, d->verify_why) != 0) {
		job_log(j, "deploy: waiting: %s", why);
		snprintf(d->verify_why, sizeof(d->verify_why), "%s", why);
	}
	if (now >= d->verify_deadline_ms) {
		deploy_step_end(j, STEP_VERIFY, 0, 0);
		deploy_finish(j, "services not ready and steady within "
		    "DAVIT_DEPLOY_VERIFY: %s", why);
		return;
	}
	evtimer_add(d->verify_timer, &tv);
}

static void
deploy_after_rebuild(struct job *j, const struct compose_result *r)
{
	if (!r->ok && r->err[0] != '\0')
		job_log(j, "davit: %s%s", r->err, r->untouched ?
		    "; the running containers were left alone" : "");
	compose_audit(j, "docker.stack_rebuild", NULL, r->ok ? "ok" :
	    j->timed_out ? "timed out" : r->err[0] != '\0' ? r->err :
	    "compose failed");
	if (job_is_over(j))
		return;
	deploy_step_end(j, STEP_REBUILD, r->ok, 0);
	if (!r->ok) {
		deploy_finish(j, "%s", "rebuild failed: see the log (a failed "
		    "build leaves the running app untouched)");
		return;
	}
	deploy_step_start(j, STEP_VERIFY);
}

static void
deploy_after_pull(struct job *j, int ok, const char *code)
{
	struct deploy	*d = j->arg;
	yajl_gen	 g;
	char		 why[128];
	const char	*head;

	if (job_is_over(j))
		return;
	deploy_step_end(j, STEP_PULL, ok, 0);
	if (!ok) {
		deploy_finish(j, "pull refused or failed (%s): the running app is "
		    "untouched", code != NULL ? code : "error");
		return;
	}
	if (git_last_pull_from() != NULL)
		snprintf(d->from, sizeof(d->from), "%s", git_last_pull_from());
	if (git_last_pull_to() != NULL)
		snprintf(d->to, sizeof(d->to), "%s", git_last_pull_to());
	else if ((head = git_head_id()) != NULL)
		snprintf(d->to, sizeof(d->to), "%s", head);
	g = json_gen_new();
	git_last_pull_files_gen(g);
	free(d->files_json);
	d->files_json = json_gen_take(g, NULL);
	yajl_gen_free(g);
	if (d->push_after[0] != '\0' && d->to[0] != '\0' &&
	    strcmp(d->push_after, d->to) != 0)
		job_log(j, "deploy: origin is at %.12s (the push named %.12s)",
		    d->to, d->push_after);
	/* nothing new, and the app already runs it: no rebuild */
	if (d->to[0] != '\0' && strcmp(d->to, deploy_commit) == 0 &&
	    docker_services_ready(why, sizeof(why))) {
		d->step_started_ms = json_now_ms();
		deploy_step_end(j, STEP_REBUILD, 1, 1);
		job_log(j, "deploy: %.12s is already deployed and running", d->to);
		deploy_finish(j, NULL, NULL);
		return;
	}
	deploy_step_start(j, STEP_REBUILD);
}

static void
deploy_after_fetch(struct job *j, int ok)
{
	if (job_is_over(j))
		return;
	deploy_step_end(j, STEP_FETCH, ok, 0);
	if (!ok) {
		deploy_finish(j, "%s", "fetch failed: the running app is untouched");
		return;
	}
	deploy_step_start(j, STEP_PULL);
}

static void
deploy_step_start(struct job *j, enum deploy_step step)
{
	struct deploy	*d = j->arg;
	struct timeval	 tv = { 0, 0 };

	d->step_started_ms = json_now_ms();
	job_log(j, "deploy: %s", deploy_step_names[step]);
	switch (step) {
	case STEP_FETCH:
		git_fetch_step(j, deploy_after_fetch);
		break;
	case STEP_PULL:
		git_pull_step(j, deploy_after_pull);
		break;
	case STEP_REBUILD:
		compose_rebuild(j, NULL, deploy_after_rebuild);
		break;
	case STEP_VERIFY:
		d->verify_deadline_ms = json_now_ms() +
		    (long long)benv->cfg.deploy_verify * 1000;
		d->verify_stable_ms = 0;
		d->verify_why[0] = '\0';
		evtimer_add(d->verify_timer, &tv);
		break;
	}
}

/* the job timed out outside a child process: in the verify step */
static void
deploy_cancel(struct job *j)
{
	struct deploy	*d = j->arg;

	evtimer_del(d->verify_timer);
	deploy_finish(j, "%s", "timed out");
}

static void
deploy_start(struct job *j)
{
	struct deploy	*d = j->arg;

	if (deploy_queued == d)
		deploy_queued = NULL;
	deploy_current = d;
	d->job = j;
	j->cancel = deploy_cancel;
	if ((d->verify_timer = evtimer_new(benv->base, deploy_verify_tick, j)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	job_log(j, "deploy #%lld: started by %s%s%s", d->id, d->trigger,
	    d->by && strcmp(d->by, d->trigger) != 0 ? " " : "",
	    d->by && strcmp(d->by, d->trigger) != 0 ? d->by : "");
	deploy_publish(d);
	deploy_step_start(j, STEP_FETCH);
}

/*
 * Queues a deploy, or merges into the one already waiting.  Returns its job,
 * NULL with err set when the queue is full.
 */
static struct job *
deploy_submit(const char *trigger, const char *by, const char *delivery,
    const char *body, const char *after, int *merged, struct proto_error *err)
{
	struct deploy	*d;
	struct job	*j;
	char		 args[64];

	*merged = 0;
	if (deploy_queued != NULL) {
		deploy_add_delivery(deploy_queued, delivery, body, after);
		job_log(deploy_queued->job, "deploy: merged a request from %s%s%s",
		    trigger, by && strcmp(by, trigger) != 0 ? " " : "",
		    by && strcmp(by, trigger) != 0 ? by : "");
		*merged = 1;
		deploy_publish(deploy_queued);
		return deploy_queued->job;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL)
		fatal("%s", __func__);
	snprintf(d->trigger, sizeof(d->trigger), "%s", trigger);
	if (by != NULL && (d->by = strdup(by)) == NULL)
		fatal("%s", __func__);
	deploy_add_delivery(d, delivery, body, after);
	d->id = deploy_next_id;
	/* its own arguments: the job queue never takes it for another one */
	snprintf(args, sizeof(args), "{\"deploy\":%lld}", d->id);
	if ((j = jobs_submit_internal(OP_DEPLOY, args, by, deploy_start, d,
	    deploy_free, err)) == NULL)
		return NULL;	/* d freed by jobs_submit_internal */
	deploy_next_id++;
	d->job = j;
	deploy_queued = d;
	deploy_publish(d);
	return j;
}

int
op_deploy(struct ctl_request *cr, yajl_gen g, struct proto_error *err)
{
	struct job	*j;
	const char	*by = proto_arg_str(&cr->req, "by");
	int		 merged;

	if (benv->cfg.repo_url == NULL) {
		proto_seterr(err, PE_UNAVAILABLE, "no DAVIT_REPO_URL: nothing to deploy from");
		return CTL_FAIL;
	}
	j = deploy_submit(cr->caller == PROTO_CALLER_FRONTEND ? "dashboard" :
	    "socket", by, NULL, NULL, NULL, &merged, err);
	if (j == NULL)
		return CTL_FAIL;
	yajl_gen_map_open(g);
	json_kint(g, "job", j->id);
	json_kbool(g, "merged", merged);
	yajl_gen_map_close(g);
	return CTL_DONE;
}

static int
ignored(yajl_gen g, const char *delivery, const char *fmt, const char *arg)
{
	char	reason[256];

	snprintf(reason, sizeof(reason), fmt, arg);
	log_info("webhook delivery %s ignored: %s", delivery, reason);
	yajl_gen_map_open(g);
	json_kbool(g, "ignored", 1);
	json_kstr(g, "reason", reason);
	yajl_gen_map_close(g);
	return CTL_DONE;
}

static int
all_zeros(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s != '0')
			return 0;
	return 1;
}

/*
 * A push the frontend verified (signature) and parsed.  Values are checked
 * again here: branch, repository, deletion, replay.
 */
int
op_webhook_push(struct ctl_request *cr, yajl_gen g, struct proto_error *err)
{
	const struct davit_config	*cfg = &benv->cfg;
	const char			*delivery = proto_arg_str(&cr->req, "delivery");
	const char			*ref = proto_arg_str(&cr->req, "ref");
	const char			*after = proto_arg_str(&cr->req, "after");
	const char			*repo = proto_arg_str(&cr->req, "repository");
	const char			*body = proto_arg_str(&cr->req, "digest");
	const struct proto_value	*paths = proto_arg(&cr->req, "paths");
	char				 want[300], by[80];
	struct job			*j;
	int				 merged;

	snprintf(want, sizeof(want), "refs/heads/%s", cfg->branch);
	if (strcmp(ref, want) != 0)
		return ignored(g, delivery, "ref %s is not the deployed branch", ref);
	if (cfg->github_repo == NULL)
		return ignored(g, delivery, "%s", "DAVIT_GITHUB_REPO is not set "
		    "and cannot be derived from DAVIT_REPO_URL");
	if (strcasecmp(repo, cfg->github_repo) != 0)
		return ignored(g, delivery, "repository %s is not DAVIT_GITHUB_REPO", repo);
	if (all_zeros(after))
		return ignored(g, delivery, "%s", "the branch was deleted");
	/* a replay is the same delivery id, or the same body under another */
	if (deploy_delivery_seen(delivery))
		return ignored(g, delivery, "%s", "delivery already deployed (replay)");
	if (deploy_body_seen(body))
		return ignored(g, delivery, "%s", "the same push was deployed "
		    "under another delivery id (replay)");
	if (deploy_has_delivery(deploy_queued, delivery, body) ||
	    deploy_has_delivery(deploy_current, delivery, body))
		return ignored(g, delivery, "%s", "delivery already being deployed");
	if (cfg->repo_url == NULL) {
		proto_seterr(err, PE_UNAVAILABLE, "no DAVIT_REPO_URL: nothing to deploy from");
		return CTL_FAIL;
	}
	snprintf(by, sizeof(by), "webhook:%s", delivery);
	if ((j = deploy_submit("webhook", by, delivery, body, after, &merged,
	    err)) == NULL)
		return CTL_FAIL;
	job_log(j, "deploy: push %s to %s: %.12s, %zu changed paths", delivery,
	    ref, after, paths->nlist);
	yajl_gen_map_open(g);
	json_kint(g, "job", j->id);
	json_kbool(g, "merged", merged);
	yajl_gen_map_close(g);
	return CTL_DONE;
}

/* the frontend saw a delivery with a bad signature: notify, rate-limited */
int
op_webhook_rejected(struct ctl_request *cr, yajl_gen g, struct proto_error *err)
{
	const char	*reason = proto_arg_str(&cr->req, "reason");
	const char	*client = proto_arg_str(&cr->req, "client");

	notify_critical("webhook.rejected", "webhook delivery rejected from %s: %s",
	    client != NULL ? client : "an unknown address", reason);
	yajl_gen_map_open(g);
	json_kbool(g, "recorded", 1);
	yajl_gen_map_close(g);
	return CTL_DONE;
}

/* newest first: the running and queued deploys, then the history */
void
deploys_list_gen(yajl_gen g)
{
	yajl_val	 v;
	char		 perr[64];
	size_t		 i, bytes;

	yajl_gen_array_open(g);
	if (deploy_queued != NULL)
		deploy_gen(g, deploy_queued);
	if (deploy_current != NULL)
		deploy_gen(g, deploy_current);
	for (i = deploy_nhistory, bytes = 0; i > 0; i--) {
		/* the newest ones, within DEPLOY_LIST_MAX bytes */
		if ((bytes += strlen(deploy_history[i - 1])) > DEPLOY_LIST_MAX)
			break;
		v = json_parse(deploy_history[i - 1], strlen(deploy_history[i - 1]),
		    perr, sizeof(perr));
		if (v != NULL) {
			json_tree(g, v);
			yajl_tree_free(v);
		}
	}
	yajl_gen_array_close(g);
}

int
op_deploys_list(struct ctl_request *cr, yajl_gen g, struct proto_error *err)
{
	deploys_list_gen(g);
	return CTL_DONE;
}

void
deploy_init(void)
{
	const char	*dir = benv->cfg.state_dir;
	struct stat	 st;

	if (lstat(dir, &st) == -1) {
		if (errno != ENOENT || mkdir(dir, 0750) == -1)
			fatal("DAVIT_STATE_DIR %s", dir);
	} else if (!S_ISDIR(st.st_mode))
		fatalx("DAVIT_STATE_DIR %s is not a directory", dir);
	else if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)))
		/* another user could plant links to files root then writes */
		fatalx("DAVIT_STATE_DIR %s must belong to root and be writable "
		    "by root only (it is uid %u, mode %04o)", dir,
		    (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
	if (asprintf(&deploy_history_path, "%s/%s", dir, DEPLOY_HISTORY_FILE) == -1 ||
	    asprintf(&deploy_commit_path, "%s/%s", dir, DEPLOY_COMMIT_FILE) == -1)
		fatal("%s", __func__);
	deploy_state_load();
}

void
deploy_shutdown(void)
{
	struct deploy	*ds[2] = { deploy_current, deploy_queued };
	size_t		 i;

	/* recorded as interrupted: their deliveries may come again */
	for (i = 0; i < 2; i++) {
		if (ds[i] == NULL || ds[i]->job == NULL)
			continue;
		ds[i]->interrupted = 1;
		log_warnx("deploy #%lld (%s) interrupted by the shutdown",
		    ds[i]->id, ds[i] == deploy_current ? "running" : "queued");
		deploy_history_append(ds[i]);
	}

	for (i = 0; i < deploy_nhistory; i++)
		free(deploy_history[i]);
	deploy_nhistory = 0;
	for (i = 0; i < deploy_nseen; i++)
		free(deploy_seen[i]);
	deploy_nseen = 0;
	free(deploy_history_path);
	free(deploy_commit_path);
	deploy_history_path = deploy_commit_path = NULL;
}
