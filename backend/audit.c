/*
 * The audit log: one JSON object per line, appended to DAVIT_AUDIT_LOG.
 * Every request (time, peer, op, redacted arguments, result, duration),
 * every file update and every Docker action.  Secrets never reach it:
 * arguments are rendered from the op table with PF_SECRET fields redacted.
 *
 * It stays bounded: the read-only ops (PROTO_OP_READONLY in proto.c) are
 * counted, per op and result, in one "requests.summary" line a minute (and at rotation,
 * reopening and shutdown) instead of a line each; the file is rotated when
 * the next line would take it past DAVIT_AUDIT_MAX (path.1 .. path.4 are
 * kept); SIGHUP reopens it, for an outside logrotate.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "backend/backend.h"
#include "backend/project.h"
#include "common/json.h"
#include "common/log.h"

#define AUDIT_KEEP		4	/* rotated files: path.1 (newest) .. path.4 */
#define AUDIT_SUMMARY_SECS	60	/* read-only requests: one line at most this often */
#define AUDIT_MAX_DEFAULT	(64LL * 1024 * 1024)	/* when there is no config (tests) */
#define AUDIT_SUMMARY_UIDS	8	/* peers' uids named in one summary */

static int	audit_fd = -1;
static struct {
	char		*path;
	long long	 size;		/* of the open file, as written */
	long long	 max;		/* DAVIT_AUDIT_MAX */
	long long	 since_ms;	/* the first request counted, 0: none */
	unsigned long	 ok[OP__COUNT], failed[OP__COUNT];	/* PROTO_OP_READONLY ops */
	uid_t		 uids[AUDIT_SUMMARY_UIDS];	/* who asked, the first few */
	size_t		 nuids;
	struct event	*summary_ev, *hup_ev;
} au;

static void	audit_summary_flush(void);

/* the one open(2) of the log, for audit_open and every reopen */
static int
audit_open_fd(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW, 0640);
}

/* the size the file has now: lines are appended to it */
static void
audit_size_init(void)
{
	struct stat	st;

	au.size = fstat(audit_fd, &st) == 0 ? (long long)st.st_size : 0;
}

void
audit_open(const char *path)
{
	char		*copy, *dir;
	struct stat	 st;

	if ((copy = strdup(path)) == NULL)
		fatal("%s", __func__);
	dir = dirname(copy);
	if (stat(dir, &st) == -1 && errno == ENOENT && mkdir(dir, 0750) == -1)
		log_warn("%s: mkdir %s", __func__, dir);
	free(copy);
	if ((audit_fd = audit_open_fd(path)) == -1)
		fatal("DAVIT_AUDIT_LOG %s", path);
	free(au.path);
	if ((au.path = strdup(path)) == NULL)
		fatal("%s", __func__);
	if (au.max == 0)
		au.max = AUDIT_MAX_DEFAULT;
	audit_size_init();
}

static void
audit_sighup(evutil_socket_t sig, short ev, void *arg)
{
	log_info("SIGHUP: reopening the audit log");
	audit_reopen();
}

static void
audit_summary_timer(evutil_socket_t fd, short ev, void *arg)
{
	audit_summary_flush();
}

/* after audit_open: rotation past max bytes, the summary timer and SIGHUP */
void
audit_start(struct event_base *base, long long max)
{
	if (max > 0)
		au.max = max;
	if (base == NULL)
		return;		/* unit tests: summaries at rotation and close */
	if ((au.summary_ev = evtimer_new(base, audit_summary_timer, NULL)) == NULL ||
	    (au.hup_ev = evsignal_new(base, SIGHUP, audit_sighup, NULL)) == NULL ||
	    evsignal_add(au.hup_ev, NULL) == -1)
		fatalx("%s: cannot set up the audit log's events", __func__);
}

void
audit_close(void)
{
	audit_summary_flush();
	if (au.summary_ev != NULL)
		event_free(au.summary_ev);
	if (au.hup_ev != NULL)
		event_free(au.hup_ev);
	au.summary_ev = au.hup_ev = NULL;
	if (audit_fd != -1)
		close(audit_fd);
	audit_fd = -1;
	free(au.path);
	au.path = NULL;
	au.max = 0;
}

/*
 * Opens the log's path anew (after a rotation, or when SIGHUP says it was
 * moved away); the old file stays in use if that fails.
 */
void
audit_reopen(void)
{
	int	fd;

	if (au.path == NULL)
		return;
	audit_summary_flush();		/* the counts so far, into the old file */
	if ((fd = audit_open_fd(au.path)) == -1) {
		log_warn("%s: %s (still writing to the old file)", __func__,
		    au.path);
		return;
	}
	if (audit_fd != -1)
		close(audit_fd);
	audit_fd = fd;
	audit_size_init();
}

/* path.3 -> path.4, ..., path -> path.1, then a new path */
static void
audit_rotate(void)
{
	char	from[PATH_MAX], to[PATH_MAX];
	int	i;

	for (i = AUDIT_KEEP - 1; i >= 0; i--) {
		if (i == 0)
			snprintf(from, sizeof(from), "%s", au.path);
		else if ((size_t)snprintf(from, sizeof(from), "%s.%d", au.path,
		    i) >= sizeof(from))
			goto fail;
		if ((size_t)snprintf(to, sizeof(to), "%s.%d", au.path, i + 1) >=
		    sizeof(to))
			goto fail;
		if (rename(from, to) == -1 && errno != ENOENT) {
			log_warn("%s: rename %s to %s", __func__, from, to);
			goto fail;
		}
	}
	if (audit_fd != -1)
		close(audit_fd);
	audit_fd = -1;
	if ((audit_fd = audit_open_fd(au.path)) == -1) {
		log_warn("%s: %s: the audit log is lost until SIGHUP or a "
		    "restart", __func__, au.path);
		return;
	}
	audit_size_init();
	return;
 fail:
	/* keep writing to the file; the next try after another DAVIT_AUDIT_MAX */
	au.size = 0;
}

/* one line, one write(2): O_APPEND keeps lines whole */
static void
audit_emit(char *line, size_t len)
{
	line[len] = '\n';
	if (au.path != NULL && au.size > 0 &&
	    au.size + (long long)len + 1 > au.max) {
		audit_summary_flush();	/* the counts end the old file */
		audit_rotate();
	}
	if (audit_fd == -1)
		return;
	if (write(audit_fd, line, len + 1) != (ssize_t)len + 1)
		log_warn("%s: write", __func__);
	else
		au.size += (long long)len + 1;
}

void
audit_end(yajl_gen g)
{
	char	*line;
	size_t	 len;

	yajl_gen_map_close(g);
	line = json_gen_take(g, &len);
	yajl_gen_free(g);
	audit_emit(line, len);
	free(line);
}

yajl_gen
audit_begin(const char *kind)
{
	yajl_gen	g = json_gen_new();

	yajl_gen_map_open(g);
	json_ktime(g, "time", json_now_ms());
	json_kstr(g, "kind", kind);
	return g;
}

/* the counts of the read-only requests since the last summary, one line */
static void
audit_summary_flush(void)
{
	yajl_gen	 g;
	size_t		 i;
	unsigned long	 total = 0;
	char		*line;
	size_t		 len;

	if (au.since_ms == 0)
		return;
	if (au.summary_ev != NULL)
		evtimer_del(au.summary_ev);
	g = json_gen_new();
	yajl_gen_map_open(g);
	json_ktime(g, "time", json_now_ms());
	json_kstr(g, "kind", "requests.summary");
	json_ktime(g, "since", au.since_ms);
	json_key(g, "ok");
	yajl_gen_map_open(g);
	for (i = 0; i < OP__COUNT; i++)
		if (au.ok[i] > 0) {
			json_kint(g, proto_ops[i].name, au.ok[i]);
			total += au.ok[i];
		}
	yajl_gen_map_close(g);
	json_key(g, "failed");
	yajl_gen_map_open(g);
	for (i = 0; i < OP__COUNT; i++)
		if (au.failed[i] > 0) {
			json_kint(g, proto_ops[i].name, au.failed[i]);
			total += au.failed[i];
		}
	yajl_gen_map_close(g);
	json_kint(g, "requests", total);
	json_key(g, "uids");
	yajl_gen_array_open(g);
	for (i = 0; i < au.nuids; i++)
		yajl_gen_integer(g, au.uids[i]);
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	line = json_gen_take(g, &len);
	yajl_gen_free(g);
	memset(au.ok, 0, sizeof(au.ok));
	memset(au.failed, 0, sizeof(au.failed));
	au.nuids = 0;
	au.since_ms = 0;
	/* straight to the file: a rotation flushes the summary first */
	line[len] = '\n';
	if (audit_fd != -1 && write(audit_fd, line, len + 1) == (ssize_t)len + 1)
		au.size += (long long)len + 1;
	else if (audit_fd != -1)
		log_warn("%s: write", __func__);
	free(line);
}

/* 1 when the request was only counted */
static int
audit_count(const struct ctl_request *cr, const struct proto_error *err)
{
	struct timeval	tv = { AUDIT_SUMMARY_SECS, 0 };
	size_t		i;

	if (cr->req.op == NULL || !(cr->req.op->flags & PROTO_OP_READONLY))
		return 0;
	if (au.since_ms == 0) {
		au.since_ms = json_now_ms();
		if (au.summary_ev != NULL)
			evtimer_add(au.summary_ev, &tv);
	}
	if (err == NULL)
		au.ok[cr->req.op->id]++;
	else
		au.failed[cr->req.op->id]++;
	for (i = 0; i < au.nuids; i++)
		if (au.uids[i] == cr->uid)
			break;
	if (i == au.nuids && au.nuids < AUDIT_SUMMARY_UIDS)
		au.uids[au.nuids++] = cr->uid;
	return 1;
}

void
audit_request(const struct ctl_request *cr, const struct proto_error *err)
{
	yajl_gen	 g;
	char		*args;

	if (audit_count(cr, err))
		return;
	g = audit_begin("request");

	json_kint(g, "uid", cr->uid);
	json_kint(g, "pid", cr->pid);
	json_kstr(g, "op", cr->req.op != NULL ? cr->req.op->name : NULL);
	if (cr->project != NULL)
		json_kstr(g, "project", cr->project->name);
	json_key(g, "id");
	if (cr->req.id >= 0)
		yajl_gen_integer(g, cr->req.id);
	else
		yajl_gen_null(g);
	json_key(g, "args");
	args = proto_args_json(&cr->req, 1);	/* canonical, redacted: as it is */
	json_raw(g, args);
	free(args);
	json_kstr(g, "result", err == NULL ? "ok" : proto_errcode_name(err->code));
	json_kint(g, "ms", json_now_ms() - cr->started_ms);
	audit_end(g);
}
