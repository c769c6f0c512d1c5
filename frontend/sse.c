/*
 * GET /api/events: Server-Sent Events to the browsers.  The backend's
 * events (job.state, job.log, service.state, engine.state, git.state,
 * deploy.state) are passed on as "event: NAME" / "data: JSON"; "backend" tells when the link
 * to the backend went down or came back.  Each stream may hold at most
 * FE_SSE_MAX_BUFFER unsent bytes: a browser that does not keep up loses
 * events, and is sent "missed" with their count once there is room again,
 * so that it reloads /api/state.  A ": ping" every FE_SSE_PING seconds keeps
 * proxies and the connection's timeout happy, and ends the streams of
 * sessions that expired or logged out.
 */
#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "common/log.h"
#include "frontend/frontend.h"

struct sse_client {
	TAILQ_ENTRY(sse_client)		 entry;
	struct evhttp_request		*req;
	struct evhttp_connection	*evcon;
	char				 sid[FE_TOKEN_HEX + 1];
	long long			 missed;
};

static TAILQ_HEAD(, sse_client)	 sse_clients = TAILQ_HEAD_INITIALIZER(sse_clients);
static size_t			 sse_nclients;
static struct event		*sse_ping_ev;
static struct evbuffer		*sse_tmp;

size_t
sse_count(void)
{
	return sse_nclients;
}

static size_t
sse_unsent(const struct sse_client *c)
{
	return http_conn_unsent(c->evcon);
}

static void
sse_write(struct sse_client *c, const char *data, size_t len)
{
	if (evbuffer_add(sse_tmp, data, len) == -1)
		fatalx("%s: evbuffer_add", __func__);
	evhttp_send_reply_chunk(c->req, sse_tmp);	/* drains sse_tmp */
	evbuffer_drain(sse_tmp, evbuffer_get_length(sse_tmp));
}

/* tells the browser how many events it lost, if there is room for it */
static int
sse_flush_missed(struct sse_client *c)
{
	char	buf[128];
	int	n;

	if (c->missed == 0)
		return 0;
	n = snprintf(buf, sizeof(buf), "event: missed\ndata: {\"count\":%lld}\n\n",
	    c->missed);
	if (sse_unsent(c) + (size_t)n > FE_SSE_MAX_BUFFER)
		return -1;
	sse_write(c, buf, (size_t)n);
	c->missed = 0;
	return 0;
}

static void
sse_send(struct sse_client *c, const char *data, size_t len)
{
	if (sse_flush_missed(c) == -1 || sse_unsent(c) + len > FE_SSE_MAX_BUFFER) {
		c->missed++;
		return;
	}
	sse_write(c, data, len);
}

static void
sse_free(struct sse_client *c)
{
	TAILQ_REMOVE(&sse_clients, c, entry);
	sse_nclients--;
	free(c);
}

/* ends the stream; the connection stays evhttp's */
static void
sse_end(struct sse_client *c)
{
	http_conn_set_sse(c->req, NULL);
	evhttp_send_reply_end(c->req);
	sse_free(c);
}

/*
 * Its connection is going away.  When that is the client's doing, evhttp
 * detaches the request it was still sending and leaves it to us.
 */
void
sse_closed(void *arg)
{
	struct sse_client	*c = arg;

	if (evhttp_request_get_connection(c->req) == NULL)
		evhttp_request_free(c->req);
	sse_free(c);
}

void
sse_open(struct evhttp_request *req, const struct session *s)
{
	struct evkeyvalq	*h = evhttp_request_get_output_headers(req);
	struct sse_client	*c;
	struct bufferevent	*bev;
	char			 hello[128];
	int			 n, sndbuf = FE_SSE_SNDBUF;
	evutil_socket_t		 fd;

	if (sse_nclients >= FE_SSE_MAX_CLIENTS) {
		http_reply_error(req, 503, "unavailable",
		    "too many event streams open (%d)", FE_SSE_MAX_CLIENTS);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		fatal("%s", __func__);
	c->req = req;
	c->evcon = evhttp_request_get_connection(req);
	memcpy(c->sid, s->id, sizeof(c->sid));
	if (http_conn_set_sse(req, c) == -1) {
		free(c);
		http_reply_error(req, 500, "internal", "unknown connection");
		return;
	}
	TAILQ_INSERT_TAIL(&sse_clients, c, entry);
	sse_nclients++;
	evhttp_add_header(h, "Content-Type", "text/event-stream");
	evhttp_add_header(h, "X-Accel-Buffering", "no");
	/* a stream ends its connection: nothing follows it on the same one */
	evhttp_add_header(h, "Connection", "close");
	http_security_headers(req, 1);
	evhttp_send_reply_start(req, 200, "OK");
	/* the stream is quiet between events: pings keep it within this */
	evhttp_connection_set_timeout(c->evcon, FE_SSE_TIMEOUT);
	/*
	 * The kernel's send buffer is bounded too, or autotuning lets a
	 * stalled reader hold megabytes per stream and "missed" depends on
	 * the host's sysctls.
	 */
	bev = evhttp_connection_get_bufferevent(c->evcon);
	if (bev != NULL && (fd = bufferevent_getfd(bev)) != -1 &&
	    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)) == -1)
		log_warn("%s: SO_SNDBUF", __func__);
	n = snprintf(hello, sizeof(hello),
	    "retry: %d\n\nevent: backend\ndata: {\"up\":%s}\n\n", FE_SSE_RETRY_MS,
	    backend_up() ? "true" : "false");
	sse_write(c, hello, (size_t)n);
	log_debug("%s: %zu event streams", __func__, sse_nclients);
}

void
sse_broadcast(const char *event, const char *data, size_t len)
{
	struct sse_client	*c;
	char			*msg;
	size_t			 msglen;

	if (sse_nclients == 0)
		return;
	msglen = strlen("event: \ndata: \n\n") + strlen(event) + len;
	if ((msg = malloc(msglen + 1)) == NULL)
		fatal("%s", __func__);
	snprintf(msg, msglen + 1, "event: %s\ndata: ", event);
	memcpy(msg + msglen - len - 2, data, len);
	memcpy(msg + msglen - 2, "\n\n", 2);
	msg[msglen] = '\0';
	TAILQ_FOREACH(c, &sse_clients, entry)
		sse_send(c, msg, msglen);
	free(msg);
}

/* the backend dropped count events for us: every browser missed them */
void
sse_missed_all(long long count)
{
	struct sse_client	*c;

	TAILQ_FOREACH(c, &sse_clients, entry) {
		c->missed = c->missed > PROTO_MAX_ID - count ? PROTO_MAX_ID :
		    c->missed + count;
		sse_flush_missed(c);
	}
}

void
sse_end_session(const char *sid)
{
	struct sse_client	*c, *next;

	for (c = TAILQ_FIRST(&sse_clients); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (strcmp(c->sid, sid) == 0)
			sse_end(c);
	}
}

static void
sse_ping(evutil_socket_t fd, short ev, void *arg)
{
	struct sse_client	*c, *next;
	time_t			 now = fe_now();

	for (c = TAILQ_FIRST(&sse_clients); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (session_peek(c->sid, FE_TOKEN_HEX, now) == NULL) {
			log_debug("%s: session over, ending its event stream",
			    __func__);
			sse_end(c);
			continue;
		}
		sse_send(c, ": ping\n\n", 8);
	}
}

void
sse_init(void)
{
	struct timeval	tv = { FE_SSE_PING, 0 };

	if ((sse_tmp = evbuffer_new()) == NULL ||
	    (sse_ping_ev = event_new(fenv->base, -1, EV_PERSIST, sse_ping,
	    NULL)) == NULL)
		fatalx("%s: event_new", __func__);
	evtimer_add(sse_ping_ev, &tv);
}

void
sse_shutdown(void)
{
	struct sse_client	*c;

	while ((c = TAILQ_FIRST(&sse_clients)) != NULL)
		sse_end(c);
	if (sse_ping_ev != NULL)
		event_free(sse_ping_ev);
	if (sse_tmp != NULL)
		evbuffer_free(sse_tmp);
	sse_ping_ev = NULL;
	sse_tmp = NULL;
}
