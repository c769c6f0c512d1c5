/*
 * The control socket: accepts peers (root and DAVIT_USER only; the last
 * CTL_ROOT_SLOTS slots are root's; an unsubscribed peer that sends nothing
 * for CTL_IDLE_TIMEOUT is closed), frames
 * newline-delimited requests, validates them against proto_ops[], checks
 * who may call what, dispatches by ctl_ops[] (dispatch.c), writes replies
 * and events with bounded buffers, and audits every request.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>

#include "backend/backend.h"
#include "backend/project.h"
#include "common/config.h"
#include "common/json.h"
#include "common/log.h"
#include "common/wipe.h"

#define CTL_IDLE_TIMEOUT	60	/* seconds an unsubscribed peer may send nothing */
#define CTL_ROOT_SLOTS		4	/* of CTL_MAX_CONNS, never DAVIT_USER's */

struct ctl_conn {
	TAILQ_ENTRY(ctl_conn)	 entry;
	struct bufferevent	*bev;
	uid_t			 uid;
	pid_t			 pid;
	unsigned		 caller;
	int			 subscribed;
	int			 closing;	/* flush, then close */
	int			 held;		/* not read: its output is over CTL_MAX_OUTPUT */
	int			 eof;		/* it sends no more */
	long long		 missed;	/* events dropped while the peer was slow */
	int			 npending;
	TAILQ_HEAD(, ctl_request) pending;
};

static TAILQ_HEAD(, ctl_conn)	 ctl_conns = TAILQ_HEAD_INITIALIZER(ctl_conns);
static struct evconnlistener	*ctl_listener;
static int			 ctl_nconns;
static int			 ctl_nfrontend;	/* of ctl_nconns, DAVIT_USER's */
static char			*ctl_socket_path;

static void	ctl_conn_free(struct ctl_conn *c);

/* stops reading; the write callback frees c once its output is flushed */
static void
ctl_close_later(struct ctl_conn *c)
{
	c->closing = 1;
	bufferevent_disable(c->bev, EV_READ);
	bufferevent_trigger(c->bev, EV_WRITE,
	    BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
}

/*
 * Queues output.  Backpressure: while more than CTL_MAX_OUTPUT waits for a
 * peer, its requests are not read, so that what it can make us hold is
 * CTL_MAX_OUTPUT plus its CTL_MAX_PENDING replies, each bounded by its op
 * (job.get by JOB_GET_LOG_MAX, deploys.list by DEPLOY_LIST_MAX).  A peer
 * that reads nothing for CTL_WRITE_TIMEOUT is dropped.
 */
static void
ctl_write(struct ctl_conn *c, const char *buf, size_t len)
{
	struct evbuffer	*out = bufferevent_get_output(c->bev);

	evbuffer_add(out, buf, len);
	if (evbuffer_get_length(out) > CTL_MAX_OUTPUT && !c->held && !c->closing) {
		log_debug("peer uid %u pid %d: %zu bytes unread, not reading its "
		    "requests for now", (unsigned)c->uid, (int)c->pid,
		    evbuffer_get_length(out));
		c->held = 1;
		bufferevent_disable(c->bev, EV_READ);
	}
}

void
ctl_request_complete(struct ctl_request *cr, yajl_gen g, const struct proto_error *err)
{
	struct ctl_conn		*c = cr->conn;
	struct proto_error	 internal;
	sigset_t		 mask = cr->secret_mask;
	char			*line;
	size_t			 len;
	int			 secret = cr->secret;

	if (g == NULL && err == NULL) {
		proto_seterr(&internal, PE_INTERNAL, "no result");
		err = &internal;
	}
	audit_request(cr, g == NULL ? err : NULL);
	if (g != NULL && cr->secret) {
		/* proto_finish's, but never moved: a move leaves a copy */
		yajl_gen_map_close(g);
		line = json_gen_take_line(g, &len);
		yajl_gen_free(g);
	} else if (g != NULL)
		line = proto_finish(g, &len);
	else
		line = proto_reply_error(cr->req.id, err, &len);
	if (c != NULL && cr->secret) {
		/* the output buffer refers to the line, wiped once written */
		if (evbuffer_add_reference(bufferevent_get_output(c->bev), line,
		    len, json_line_wipe, NULL) == -1)
			fatalx("%s: evbuffer_add_reference", __func__);
		line = NULL;
	} else if (c != NULL)
		ctl_write(c, line, len);
	if (c != NULL) {
		TAILQ_REMOVE(&c->pending, cr, entry);
		c->npending--;
		if (c->closing)
			ctl_close_later(c);
	}
	if (line != NULL)
		json_line_wipe(line, len, NULL);
	proto_request_free(&cr->req);
	free(cr);
	/* the copies are made: none stays in a register for a signal frame */
	if (secret)
		secret_leave(&mask);
}

/*
 * The project a PROTO_OP_PROJECT request is about: its "project", or the
 * only one when it names none.  An unknown name is not_allowed, as an
 * unknown service is: the op table's bounds, not a lookup, decide.
 */
static int
ctl_resolve_project(struct ctl_request *cr, struct proto_error *err)
{
	const char	*name = proto_arg_str(&cr->req, "project");
	size_t		 n;

	if (name == NULL) {
		if ((cr->project = project_only()) != NULL)
			return 0;
		n = projects_count();
		proto_seterr(err, n == 0 ? PE_UNAVAILABLE : PE_BAD_REQUEST,
		    n == 0 ? "no project is configured" :
		    "project: required (%zu projects)", n);
		return -1;
	}
	if ((cr->project = project_find(name)) == NULL) {
		proto_seterr(err, PE_NOT_ALLOWED, "no such project");
		return -1;
	}
	return 0;
}

static void
ctl_dispatch(struct ctl_conn *c, const char *line, size_t len)
{
	struct ctl_request	*cr;
	struct proto_error	 err;
	yajl_gen		 g;
	int			 rv;

	if ((cr = calloc(1, sizeof(*cr))) == NULL)
		fatal("%s", __func__);
	cr->conn = c;
	cr->caller = c->caller;
	cr->uid = c->uid;
	cr->pid = c->pid;
	cr->started_ms = json_now_ms();
	TAILQ_INSERT_TAIL(&c->pending, cr, entry);
	c->npending++;

	if (proto_request_decode(line, len, &cr->req, &err) == -1) {
		log_warnx("peer uid %u pid %d: %s: %s", (unsigned)c->uid,
		    (int)c->pid, proto_errcode_name(err.code), err.message);
		ctl_request_complete(cr, NULL, &err);
		return;
	}
	if (!proto_op_allowed(cr->req.op, c->caller)) {
		log_warnx("peer uid %u pid %d: op %s not allowed", (unsigned)c->uid,
		    (int)c->pid, cr->req.op->name);
		proto_seterr(&err, PE_NOT_ALLOWED, "op %s is not allowed for uid %u",
		    cr->req.op->name, (unsigned)c->uid);
		ctl_request_complete(cr, NULL, &err);
		return;
	}
	if (c->npending > CTL_MAX_PENDING) {
		proto_seterr(&err, PE_BUSY, "too many requests in flight");
		ctl_request_complete(cr, NULL, &err);
		return;
	}
	if ((cr->req.op->flags & PROTO_OP_PROJECT) &&
	    ctl_resolve_project(cr, &err) == -1) {
		ctl_request_complete(cr, NULL, &err);
		return;
	}
	log_debug("peer uid %u pid %d: op %s id %lld", (unsigned)c->uid,
	    (int)c->pid, cr->req.op->name, cr->req.id);
	g = proto_reply_begin(cr->req.id);
	memset(&err, 0, sizeof(err));
	rv = ctl_ops[cr->req.op->id].handler(cr, g, &err);
	switch (rv) {
	case CTL_DONE:
		ctl_request_complete(cr, g, NULL);
		break;
	case CTL_PENDING:
		yajl_gen_free(g);
		break;
	default:
		yajl_gen_free(g);
		ctl_request_complete(cr, NULL, &err);
		break;
	}
}

static void
ctl_read(struct bufferevent *bev, void *arg)
{
	struct ctl_conn		*c = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct evbuffer_ptr	 eol;
	struct proto_error	 err;
	char			*line, *reply;
	size_t			 len, replylen;

	while (!c->closing && !c->held) {
		eol = evbuffer_search_eol(in, NULL, NULL, EVBUFFER_EOL_LF);
		if (eol.pos == -1) {
			if (evbuffer_get_length(in) > PROTO_MAX_LINE)
				goto toolong;
			return;
		}
		if ((size_t)eol.pos > PROTO_MAX_LINE)
			goto toolong;
		len = eol.pos;
		if ((line = malloc(len + 1)) == NULL)
			fatal("%s", __func__);
		evbuffer_remove(in, line, len + 1);
		if (len > 0 && line[len - 1] == '\r')
			len--;
		line[len] = '\0';
		if (len > 0)
			ctl_dispatch(c, line, len);
		explicit_bzero(line, len);	/* it may have held a password */
		free(line);
	}
	return;
 toolong:
	log_warnx("peer uid %u pid %d: line longer than %d bytes, closing",
	    (unsigned)c->uid, (int)c->pid, PROTO_MAX_LINE);
	proto_seterr(&err, PE_TOO_LARGE, "line longer than %d bytes; closing",
	    PROTO_MAX_LINE);
	reply = proto_reply_error(-1, &err, &replylen);
	evbuffer_drain(in, evbuffer_get_length(in));
	ctl_write(c, reply, replylen);
	free(reply);
	ctl_close_later(c);
}

static void
ctl_written(struct bufferevent *bev, void *arg)
{
	struct ctl_conn	*c = arg;
	char		*line;
	size_t		 len;
	yajl_gen	 g;

	if (c->closing) {
		if (c->npending == 0 &&
		    evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			ctl_conn_free(c);
		return;
	}
	if (c->held) {		/* its output is gone: read its requests again */
		c->held = 0;
		if (!c->eof)
			bufferevent_enable(bev, EV_READ);
		ctl_read(bev, c);
		if (c->eof && !c->held && !c->closing)
			ctl_close_later(c);
		if (c->held || c->closing)
			return;
	}
	if (c->missed > 0) {
		g = events_begin(EV_MISSED);
		yajl_gen_map_open(g);
		json_kint(g, "count", c->missed);
		yajl_gen_map_close(g);
		line = proto_finish(g, &len);
		c->missed = 0;
		ctl_write(c, line, len);
		free(line);
	}
}

static void
ctl_event(struct bufferevent *bev, short what, void *arg)
{
	struct ctl_conn	*c = arg;

	/*
	 * A peer that shut down its writing side (socat at the end of its
	 * input) still reads: its replies, pending or queued, go out first.
	 */
	if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR)) {
		c->eof = 1;
		if (c->held)	/* requests still unread: ctl_written goes on */
			return;
		if (c->npending > 0 ||
		    evbuffer_get_length(bufferevent_get_output(bev)) > 0) {
			log_debug("peer uid %u pid %d: end of input, flushing",
			    (unsigned)c->uid, (int)c->pid);
			ctl_close_later(c);
			return;
		}
	}
	/*
	 * Nothing read for CTL_IDLE_TIMEOUT (subscribers have no read
	 * timeout): a peer waiting for a reply keeps its connection, an idle
	 * one gives its slot back.
	 */
	if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_READING)) {
		if (c->npending > 0 || c->subscribed) {
			bufferevent_enable(bev, EV_READ);
			return;
		}
		log_info("peer uid %u pid %d: sent nothing for %d s, closing",
		    (unsigned)c->uid, (int)c->pid, CTL_IDLE_TIMEOUT);
		ctl_conn_free(c);
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
		log_debug("peer uid %u pid %d: gone", (unsigned)c->uid, (int)c->pid);
		ctl_conn_free(c);
	}
}

static void
ctl_conn_free(struct ctl_conn *c)
{
	struct ctl_request	*cr;

	/* requests still in flight complete into the void */
	while ((cr = TAILQ_FIRST(&c->pending)) != NULL) {
		TAILQ_REMOVE(&c->pending, cr, entry);
		cr->conn = NULL;
	}
	TAILQ_REMOVE(&ctl_conns, c, entry);
	ctl_nconns--;
	if (c->caller == PROTO_CALLER_FRONTEND)
		ctl_nfrontend--;
	bufferevent_free(c->bev);
	free(c);
	if (ctl_listener != NULL && ctl_nconns < CTL_MAX_CONNS)
		evconnlistener_enable(ctl_listener);
}

static void
ctl_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct timeval	 write_timeout = { CTL_WRITE_TIMEOUT, 0 };
	struct timeval	 idle_timeout = { CTL_IDLE_TIMEOUT, 0 };
	struct ucred	 cred;
	socklen_t	 credlen = sizeof(cred);
	struct ctl_conn	*c;
	unsigned	 caller;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &credlen) == -1) {
		log_warn("%s: SO_PEERCRED", __func__);
		close(fd);
		return;
	}
	if (cred.uid == 0)
		caller = PROTO_CALLER_ROOT;
	else if (cred.uid == benv->frontend_uid)
		caller = PROTO_CALLER_FRONTEND;
	else {
		log_warnx("refused peer uid %u pid %d: only root and %s are served",
		    (unsigned)cred.uid, (int)cred.pid, benv->cfg.user);
		close(fd);
		return;
	}
	/* root always finds a slot, however many DAVIT_USER holds */
	if (caller == PROTO_CALLER_FRONTEND &&
	    ctl_nfrontend >= CTL_MAX_CONNS - CTL_ROOT_SLOTS) {
		log_warnx("refused peer uid %u pid %d: %s holds %d connections "
		    "already", (unsigned)cred.uid, (int)cred.pid,
		    benv->cfg.user, ctl_nfrontend);
		close(fd);
		return;
	}
	if (ctl_nconns >= CTL_MAX_CONNS) {
		log_warnx("refused peer uid %u pid %d: %d connections already",
		    (unsigned)cred.uid, (int)cred.pid, ctl_nconns);
		close(fd);
		evconnlistener_disable(l);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		fatal("%s", __func__);
	c->uid = cred.uid;
	c->pid = cred.pid;
	c->caller = caller;
	TAILQ_INIT(&c->pending);
	evutil_make_socket_nonblocking(fd);
	if ((c->bev = bufferevent_socket_new(benv->base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL)
		fatalx("%s: bufferevent_socket_new", __func__);
	/* stop reading once a line could not fit: bounded input */
	bufferevent_setwatermark(c->bev, EV_READ, 0, PROTO_MAX_LINE + 2);
	bufferevent_setcb(c->bev, ctl_read, ctl_written, ctl_event, c);
	bufferevent_set_timeouts(c->bev, &idle_timeout, &write_timeout);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	TAILQ_INSERT_TAIL(&ctl_conns, c, entry);
	ctl_nconns++;
	if (caller == PROTO_CALLER_FRONTEND)
		ctl_nfrontend++;
	log_debug("peer uid %u pid %d: connected", (unsigned)c->uid, (int)c->pid);
}

static void
ctl_accept_error(struct evconnlistener *l, void *arg)
{
	log_warn("%s: accept", __func__);
}

int
op_subscribe(struct ctl_request *cr, yajl_gen g, struct proto_error *err)
{
	struct timeval	 write_timeout = { CTL_WRITE_TIMEOUT, 0 };

	/* an event stream may be quiet for long: no read timeout */
	cr->conn->subscribed = 1;
	bufferevent_set_timeouts(cr->conn->bev, NULL, &write_timeout);
	yajl_gen_map_open(g);
	json_kbool(g, "subscribed", 1);
	yajl_gen_map_close(g);
	return CTL_DONE;
}

void
control_broadcast(const char *line, size_t len)
{
	struct ctl_conn	*c;
	struct evbuffer	*out;

	TAILQ_FOREACH(c, &ctl_conns, entry) {
		if (!c->subscribed || c->closing)
			continue;
		out = bufferevent_get_output(c->bev);
		/* a slow subscriber loses events, not memory: keep room for replies */
		if (c->missed > 0 ||
		    evbuffer_get_length(out) + len > CTL_MAX_OUTPUT / 2) {
			c->missed++;
			continue;
		}
		evbuffer_add(out, line, len);
	}
}

/*
 * Opens the socket's directory, made 0750 root:<DAVIT_USER's group> when it
 * is missing.  It must be root's and writable by root only: whoever could
 * write in it could put their own socket in davit's place, or swap the
 * socket between bind and chown.  Returns a descriptor of it.
 */
static int
ctl_open_dir(const char *dir)
{
	char		 err[CONFIG_ERR_LEN];
	struct stat	 st;
	int		 dfd;

	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		if (errno != ENOENT || mkdir(dir, 0750) == -1)
			fatal("DAVIT_SOCKET's directory %s", dir);
		if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC)) == -1)
			fatal("DAVIT_SOCKET's directory %s", dir);
		if (fchown(dfd, 0, benv->frontend_gid) == -1 ||
		    fchmod(dfd, 0750) == -1)
			fatal("%s: chown/chmod %s", __func__, dir);
		log_info("created %s (0750, group %u)", dir,
		    (unsigned)benv->frontend_gid);
	}
	if (fstat(dfd, &st) == -1)
		fatal("%s: fstat %s", __func__, dir);
	if (config_root_dir("DAVIT_SOCKET's directory", dir, &st, err,
	    sizeof(err)) == -1)
		fatalx("%s", err);
	if (!(st.st_mode & S_IXOTH) && !((st.st_mode & S_IXGRP) &&
	    st.st_gid == benv->frontend_gid))
		log_warnx("%s exists and the group of DAVIT_USER cannot enter it: "
		    "davit-frontend will not reach the socket", dir);
	return dfd;
}

void
control_init(void)
{
	struct sockaddr_un	 sun;
	struct stat		 st;
	const char		*path = benv->cfg.socket_path;
	char			*copy, *copy2, *dir, *base;
	mode_t			 old;
	int			 fd, dfd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		fatalx("DAVIT_SOCKET %s: path too long (at most %zu bytes)", path,
		    sizeof(sun.sun_path) - 1);
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((copy = strdup(path)) == NULL || (copy2 = strdup(path)) == NULL)
		fatal("%s", __func__);
	dir = dirname(copy);
	base = basename(copy2);
	dfd = ctl_open_dir(dir);

	/* the directory is root's alone: its entries stay what we see */
	if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!S_ISSOCK(st.st_mode))
			fatalx("DAVIT_SOCKET %s exists and is not a socket", path);
		/* a live backend answers; a stale file does not */
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
			fatal("%s: socket", __func__);
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
			fatalx("DAVIT_SOCKET %s: another backend is listening", path);
		close(fd);
		if (unlinkat(dfd, base, 0) == -1)
			fatal("%s: unlink stale %s", __func__, path);
		log_info("replaced stale socket %s", path);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1)
		fatal("%s: socket", __func__);
	old = umask(0117);	/* born 0660: no moment open to others */
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		fatal("%s: bind %s", __func__, path);
	umask(old);
	if (fchownat(dfd, base, 0, benv->frontend_gid,
	    AT_SYMLINK_NOFOLLOW) == -1)
		fatal("%s: chown %s", __func__, path);
	if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == -1)
		fatal("%s: stat %s", __func__, path);
	if (!S_ISSOCK(st.st_mode) || (st.st_mode & 07777) != 0660)
		fatalx("DAVIT_SOCKET %s: not the socket just made 0660", path);
	close(dfd);
	free(copy);
	free(copy2);
	if ((ctl_listener = evconnlistener_new(benv->base, ctl_accept, NULL,
	    LEV_OPT_CLOSE_ON_FREE, CTL_BACKLOG, fd)) == NULL)
		fatalx("%s: evconnlistener_new", __func__);
	evconnlistener_set_error_cb(ctl_listener, ctl_accept_error);
	if ((ctl_socket_path = strdup(path)) == NULL)
		fatal("%s", __func__);
	log_info("listening on %s", path);
}

void
control_shutdown(void)
{
	struct ctl_conn	*c;

	if (ctl_listener != NULL) {
		evconnlistener_free(ctl_listener);
		ctl_listener = NULL;
	}
	while ((c = TAILQ_FIRST(&ctl_conns)) != NULL)
		ctl_conn_free(c);
	if (ctl_socket_path != NULL) {
		unlink(ctl_socket_path);
		free(ctl_socket_path);
		ctl_socket_path = NULL;
	}
}
