/*
 * The link: the frontend's one connection to davit-backend.  Requests are encoded
 * against the op table (proto_request_encode), pipelined and matched to
 * their replies by id; at most FE_BACKEND_MAX_INFLIGHT are in flight (the
 * backend's per-peer bound), the rest wait in a bounded queue.  The same
 * connection is subscribed to the backend's events.  When the backend goes
 * away (or leaves a request unanswered for FE_BACKEND_TIMEOUT seconds, or
 * sends a line that is not a reply or an event) every waiting request is
 * answered with NULL, the browsers are told, and the frontend reconnects
 * with backoff, as DAVIT_USER.
 *
 * The handshake (hello, frontend.config, tls.get, subscribe), at start and
 * on every reconnect, is in link_handshake.c.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <sodium.h>

#include "common/json.h"
#include "common/log.h"
#include "frontend/frontend.h"
#include "frontend/link.h"

enum link_state {
	LINK_DOWN,
	LINK_HANDSHAKE,		/* hello, frontend.config, subscribe in flight */
	LINK_UP,
};

struct pending {
	TAILQ_ENTRY(pending)	 entry;
	long long		 id;
	const char		*op;
	fe_reply_cb		 cb;
	void			*arg;
	char			*line;		/* until written */
	size_t			 len;
	time_t			 sent;
};
TAILQ_HEAD(pending_list, pending);

static struct {
	enum link_state		 state;
	struct bufferevent	*bev;
	struct event		*retry;
	struct event		*tick;
	int			 retry_ms;
	int			 failures;	/* reconnects since it was last up */
	long long		 next_id;
	struct pending_list	 inflight;	/* oldest first */
	struct pending_list	 queued;
	int			 ninflight;
	int			 nqueued;
} bk = {
	.inflight = TAILQ_HEAD_INITIALIZER(bk.inflight),
	.queued = TAILQ_HEAD_INITIALIZER(bk.queued),
	.next_id = 1,
};


int
backend_up(void)
{
	return bk.state == LINK_UP;
}

static void
pending_free(struct pending *p)
{
	if (p->line != NULL)
		json_line_wipe(p->line, p->len, NULL);	/* may hold a password */
	free(p);
}

static void
link_write(struct pending *p)
{
	struct evbuffer	*out = bufferevent_get_output(bk.bev);

	if (evbuffer_add_reference(out, p->line, p->len, json_line_wipe,
	    NULL) == -1)
		fatalx("%s: evbuffer_add_reference", __func__);
	p->line = NULL;
	p->sent = fe_now();
	TAILQ_INSERT_TAIL(&bk.inflight, p, entry);
	bk.ninflight++;
}

/* moves queued requests into flight while there is room */
static void
link_pump(void)
{
	struct pending	*p;

	while (bk.bev != NULL && bk.ninflight < FE_BACKEND_MAX_INFLIGHT &&
	    (p = TAILQ_FIRST(&bk.queued)) != NULL) {
		TAILQ_REMOVE(&bk.queued, p, entry);
		bk.nqueued--;
		link_write(p);
	}
}

int
link_send(struct proto_request *req, fe_reply_cb cb, void *arg,
    struct proto_error *err)
{
	struct pending	*p;

	if (bk.nqueued >= FE_BACKEND_MAX_QUEUED) {
		proto_seterr(err, PE_BUSY, "the davit backend is busy (%d requests "
		    "waiting)", bk.nqueued);
		return -1;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL)
		fatal("%s", __func__);
	req->id = bk.next_id++;
	if (proto_request_encode(req, &p->line, &p->len, err) == -1) {
		free(p);
		return -1;
	}
	p->id = req->id;
	p->op = req->op->name;
	p->cb = cb;
	p->arg = arg;
	TAILQ_INSERT_TAIL(&bk.queued, p, entry);
	bk.nqueued++;
	link_pump();
	return 0;
}

/* the next request's id: the handshake at start draws from the same counter */
long long
link_next_id(void)
{
	return bk.next_id++;
}

int
backend_request(struct proto_request *req, fe_reply_cb cb, void *arg,
    struct proto_error *err)
{
	if (bk.state != LINK_UP) {
		proto_seterr(err, PE_UNAVAILABLE,
		    "the davit backend is not running (davit-frontend keeps "
		    "trying to reach it)");
		return -1;
	}
	return link_send(req, cb, arg, err);
}

/* the line being dispatched, and its decoded form: backend_raw's source */
static const char		*link_line;
static size_t			 link_linelen;
static const struct proto_reply	*link_reply;

/*
 * The bytes of r's result (a reply) or data (an event) as the backend sent
 * them, while r is the line being dispatched; NULL otherwise.
 */
const char *
backend_raw(const struct proto_reply *r, size_t *len)
{
	const char	*v;

	if (r == NULL || r != link_reply || json_raw_member(link_line,
	    link_linelen, r->is_event ? "data" : "result", &v, len) == -1)
		return NULL;
	return v;
}

/* r's result as JSON text (malloc'd): the backend's own bytes if we have them */
char *
backend_result_json(const struct proto_reply *r, size_t *len)
{
	yajl_gen	 g;
	const char	*raw;
	char		*out;

	if ((raw = backend_raw(r, len)) != NULL) {
		if ((out = malloc(*len + 1)) == NULL)
			fatal("%s", __func__);
		memcpy(out, raw, *len);
		out[*len] = '\0';
		return out;
	}
	g = json_gen_new();
	json_tree(g, r->result);
	out = json_gen_take(g, len);
	yajl_gen_free(g);
	return out;
}

static void
link_dispatch(const char *line, size_t len)
{
	struct proto_reply	 r;
	struct pending		*p;
	int			 wipe = 0;

	if (proto_reply_decode(line, len, &r) == -1) {
		link_disconnect("a line from the backend is neither a reply nor "
		    "an event");
		return;
	}
	link_line = line;
	link_linelen = len;
	link_reply = &r;
	if (r.is_event) {
		if (bk.state == LINK_UP && strcmp(r.event,
		    proto_event_by_id(EV_TLS_RELOAD)->name) == 0)
			tls_reload();
		else if (bk.state == LINK_UP) {
			if (strcmp(r.event,
			    proto_event_by_id(EV_PROJECTS_CHANGED)->name) == 0)
				link_projects_changed();
			api_event(&r);
		}
		goto done;
	}
	if (r.id == -1) {
		log_warnx("%s: the backend could not read a request: %s: %s",
		    __func__, r.error_code, r.error_message);
		link_disconnect("out of step with the backend");
		goto done;
	}
	TAILQ_FOREACH(p, &bk.inflight, entry)
		if (p->id == r.id)
			break;
	if (p == NULL) {
		log_warnx("%s: a reply to request %lld, which is not waiting",
		    __func__, r.id);
		goto done;
	}
	TAILQ_REMOVE(&bk.inflight, p, entry);
	bk.ninflight--;
	/* tls.get's reply holds the key: its line is wiped once parsed */
	wipe = strcmp(p->op, proto_op_by_id(OP_TLS_GET)->name) == 0;
	link_pump();
	if (!r.ok)
		log_debug("%s: %s: %s: %s", __func__, p->op, r.error_code,
		    r.error_message);
	p->cb(p->arg, &r);
	pending_free(p);
 done:
	/* (link_line is NULL if the input buffer went with the link) */
	if (wipe && link_line != NULL)
		sodium_memzero((void *)line, len);
	link_line = NULL;
	link_reply = NULL;
	proto_reply_free(&r);
}

static void
link_read(struct bufferevent *bev, void *arg)
{
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct evbuffer_ptr	 eol;
	const char		*line;
	size_t			 len;

	while (bk.bev == bev) {
		eol = evbuffer_search_eol(in, NULL, NULL, EVBUFFER_EOL_LF);
		if (eol.pos == -1) {
			if (evbuffer_get_length(in) > FE_BACKEND_MAX_LINE)
				link_disconnect("a line from the backend is too long");
			return;
		}
		len = (size_t)eol.pos;
		if (len > FE_BACKEND_MAX_LINE) {
			link_disconnect("a line from the backend is too long");
			return;
		}
		if ((line = (const char *)evbuffer_pullup(in, len + 1)) == NULL)
			fatalx("%s: evbuffer_pullup", __func__);
		if (len > 0)
			link_dispatch(line, len);
		if (bk.bev != bev)
			return;		/* disconnected meanwhile: in is gone */
		evbuffer_drain(in, len + 1);
	}
}

static void
link_event(struct bufferevent *bev, short what, void *arg)
{
	if (what & BEV_EVENT_EOF)
		link_disconnect("the backend closed the connection");
	else if (what & BEV_EVENT_ERROR)
		link_disconnect(evutil_socket_error_to_string(
		    EVUTIL_SOCKET_ERROR()));
}

static void
link_fail_all(struct pending_list *list)
{
	struct pending	*p;

	while ((p = TAILQ_FIRST(list)) != NULL) {
		TAILQ_REMOVE(list, p, entry);
		p->cb(p->arg, NULL);
		pending_free(p);
	}
}

static void
link_schedule(void)
{
	struct timeval	tv;

	if (fenv->shutting_down)
		return;
	tv.tv_sec = bk.retry_ms / 1000;
	tv.tv_usec = (bk.retry_ms % 1000) * 1000;
	evtimer_add(bk.retry, &tv);
	bk.retry_ms *= 2;
	if (bk.retry_ms > FE_BACKEND_RETRY_MAX_MS)
		bk.retry_ms = FE_BACKEND_RETRY_MAX_MS;
}

void
link_disconnect(const char *why)
{
	struct pending_list	 failed = TAILQ_HEAD_INITIALIZER(failed);
	struct pending		*p;
	int			 was_up = bk.state == LINK_UP;

	if (bk.bev == NULL)
		return;
	if (fenv->shutting_down)
		log_debug("backend %s: %s", fenv->socket_path, why);
	else if (was_up)
		log_warnx("backend %s: %s; reconnecting", fenv->socket_path, why);
	else
		log_warnx("backend %s: %s", fenv->socket_path, why);
	bufferevent_free(bk.bev);
	bk.bev = NULL;
	bk.state = LINK_DOWN;
	/* the line being dispatched was in the buffer just freed */
	link_line = NULL;
	link_reply = NULL;
	/* collect first: the callbacks may ask again (and be refused) */
	while ((p = TAILQ_FIRST(&bk.inflight)) != NULL) {
		TAILQ_REMOVE(&bk.inflight, p, entry);
		TAILQ_INSERT_TAIL(&failed, p, entry);
	}
	while ((p = TAILQ_FIRST(&bk.queued)) != NULL) {
		TAILQ_REMOVE(&bk.queued, p, entry);
		TAILQ_INSERT_TAIL(&failed, p, entry);
	}
	bk.ninflight = bk.nqueued = 0;
	if (was_up) {
		bk.retry_ms = FE_BACKEND_RETRY_MIN_MS;
		bk.failures = 0;
		api_backend_changed(0);
	}
	link_fail_all(&failed);
	link_schedule();
}

/*
 * The socket's path is only a name: whoever listens on it must be root
 * (the backend), else the frontend would hand a stranger its requests and
 * take its answers (frontend.config) for the backend's.
 */
static int
peer_is_root(int fd, const char *path)
{
	struct ucred	cred;
	socklen_t	len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		log_warn("backend %s: SO_PEERCRED", path);
		return 0;
	}
	if (cred.uid != 0) {
		log_warnx("backend %s: listened on by uid %u pid %d, not root: "
		    "refused", path, (unsigned)cred.uid, (int)cred.pid);
		return 0;
	}
	return 1;
}

static void
link_attach(int fd, int handshaken)
{
	if ((bk.bev = bufferevent_socket_new(fenv->base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL)
		fatalx("%s: bufferevent_socket_new", __func__);
	/* stop reading once a line could not fit: bounded input */
	bufferevent_setwatermark(bk.bev, EV_READ, 0, FE_BACKEND_MAX_LINE + 2);
	bufferevent_setcb(bk.bev, link_read, NULL, link_event, NULL);
	bufferevent_enable(bk.bev, EV_READ | EV_WRITE);
	if (handshaken) {
		link_up();
		return;
	}
	bk.state = LINK_HANDSHAKE;
	link_handshake();
}

static void
link_retry(evutil_socket_t fd0, short ev, void *arg)
{
	struct sockaddr_un	sun;
	int			fd;

	if (bk.bev != NULL || fenv->shutting_down)
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, fenv->socket_path, strlen(fenv->socket_path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		log_warn("%s: socket", __func__);
		link_schedule();
		return;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		if (bk.failures++ == 0)
			log_warn("backend %s: connect (will keep trying)",
			    fenv->socket_path);
		else
			log_debug("backend %s: connect: %s", fenv->socket_path,
			    strerror(errno));
		close(fd);
		link_schedule();
		return;
	}
	if (!peer_is_root(fd, fenv->socket_path)) {
		close(fd);
		link_schedule();
		return;
	}
	link_attach(fd, 0);
}

/* a request unanswered for too long: the backend is stuck, start over */
static void
link_tick(evutil_socket_t fd, short ev, void *arg)
{
	struct pending	*p;

	if ((p = TAILQ_FIRST(&bk.inflight)) != NULL &&
	    fe_now() - p->sent >= FE_BACKEND_TIMEOUT) {
		log_warnx("backend: no reply to %s (request %lld) in %d s",
		    p->op, p->id, FE_BACKEND_TIMEOUT);
		link_disconnect("the backend does not answer");
	}
}

/* the link is up: the handshake's last reply came */
void
link_up(void)
{
	bk.state = LINK_UP;
	bk.retry_ms = FE_BACKEND_RETRY_MIN_MS;
	if (bk.failures > 0)
		log_info("backend %s: connected again", fenv->socket_path);
	else
		log_info("backend %s: connected", fenv->socket_path);
	bk.failures = 0;
	api_backend_changed(1);
}

void
backend_start(int fd)
{
	struct timeval	tv = { 1, 0 };

	bk.retry_ms = FE_BACKEND_RETRY_MIN_MS;
	if ((bk.retry = evtimer_new(fenv->base, link_retry, NULL)) == NULL ||
	    (bk.tick = event_new(fenv->base, -1, EV_PERSIST, link_tick,
	    NULL)) == NULL)
		fatalx("%s: event_new", __func__);
	evtimer_add(bk.tick, &tv);
	evutil_make_socket_nonblocking(fd);
	/* backend_config_sync made the handshake on it */
	link_attach(fd, 1);
}

void
backend_shutdown(void)
{
	if (bk.bev != NULL)
		link_disconnect("shutting down");
	if (bk.retry != NULL)
		event_free(bk.retry);
	if (bk.tick != NULL)
		event_free(bk.tick);
	bk.retry = bk.tick = NULL;
}

/*
 * At start, before privileges are dropped: connects as DAVIT_USER (the
 * backend tells the frontend by its uid), then goes back to root.
 */
int
backend_connect_sync(const char *path, uid_t uid, gid_t gid)
{
	struct sockaddr_un	 sun;
	int			 fd, rv, saved;
	int			 as_root = geteuid() == 0 && uid != 0;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (as_root && (setgroups(1, &gid) == -1 || setegid(gid) == -1 ||
	    seteuid(uid) == -1))
		fatal("%s: cannot become uid %u for the connection", __func__,
		    (unsigned)uid);
	rv = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	saved = errno;
	if (as_root && (seteuid(0) == -1 || setegid(0) == -1))
		fatal("%s: cannot go back to root", __func__);
	if (rv == -1) {
		close(fd);
		errno = saved;
		return -1;
	}
	if (!peer_is_root(fd, path)) {
		close(fd);
		errno = EPERM;
		return -1;
	}
	return fd;
}

