/*
 * The HTTP server (libevent's evhttp): limits, the connection count, the
 * route table and the reply helpers that put the security headers on every
 * answer davit writes.
 *
 * Bounding connections with evhttp 2.1: it creates each connection's
 * bufferevent through our callback (counted there, a reference held), and a
 * high-priority event right after takes the evhttp_connection from the
 * bufferevent's callback argument to register a close callback (uncounted
 * there).  At FE_MAX_CONNS the listener stops accepting: further clients
 * wait in the kernel's backlog.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include "common/json.h"
#include "common/log.h"
#include "frontend/frontend.h"

#define CSP	"default-src 'self'; frame-ancestors 'none'; base-uri 'none'; " \
		"form-action 'self'"

struct fe_conn {
	TAILQ_ENTRY(fe_conn)		 entry;
	struct bufferevent		*bev;	/* until adopted */
	struct evhttp_connection	*evcon;	/* once adopted */
	void				*sse;	/* its event stream, if any */
};
TAILQ_HEAD(fe_conn_list, fe_conn);

static struct evhttp		*http;
static struct evconnlistener	*http_listener;
static struct event		*http_adopt_ev;
static struct fe_conn_list	 http_fresh = TAILQ_HEAD_INITIALIZER(http_fresh);
static struct fe_conn_list	 http_conns = TAILQ_HEAD_INITIALIZER(http_conns);
static int			 http_nconns;
static int			 http_paused;

int
http_conn_count(void)
{
	return http_nconns;
}

static void
http_conn_gone(struct fe_conn *fc, struct fe_conn_list *list)
{
	TAILQ_REMOVE(list, fc, entry);
	free(fc);
	http_nconns--;
	if (http_paused && http_nconns < FE_MAX_CONNS && http_listener != NULL) {
		evconnlistener_enable(http_listener);
		http_paused = 0;
		log_info("%s: accepting connections again", __func__);
	}
}

static void
http_conn_closed(struct evhttp_connection *evcon, void *arg)
{
	struct fe_conn	*fc = arg;

	if (fc->sse != NULL)
		sse_closed(fc->sse);
	fc->sse = NULL;
	http_conn_gone(fc, &http_conns);
}

/* the connections evhttp made since the last time */
static void
http_adopt(evutil_socket_t fd, short ev, void *arg)
{
	struct fe_conn		*fc;
	bufferevent_data_cb	 readcb;
	void			*cbarg;

	while ((fc = TAILQ_FIRST(&http_fresh)) != NULL) {
		bufferevent_getcb(fc->bev, &readcb, NULL, NULL, &cbarg);
		bufferevent_decref(fc->bev);
		fc->bev = NULL;
		if (readcb == NULL || cbarg == NULL) {
			/* freed by evhttp already */
			http_conn_gone(fc, &http_fresh);
			continue;
		}
		TAILQ_REMOVE(&http_fresh, fc, entry);
		fc->evcon = cbarg;
		evhttp_connection_set_closecb(fc->evcon, http_conn_closed, fc);
		TAILQ_INSERT_TAIL(&http_conns, fc, entry);
	}
}

static struct bufferevent *
http_newconn(struct event_base *base, void *arg)
{
	struct fe_conn	*fc;

	if ((fc = calloc(1, sizeof(*fc))) == NULL)
		fatal("%s", __func__);
	if ((fc->bev = bufferevent_socket_new(base, -1,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL)
		fatalx("%s: bufferevent_socket_new", __func__);
	bufferevent_incref(fc->bev);
	TAILQ_INSERT_TAIL(&http_fresh, fc, entry);
	event_active(http_adopt_ev, EV_TIMEOUT, 0);
	if (++http_nconns >= FE_MAX_CONNS && !http_paused) {
		evconnlistener_disable(http_listener);
		http_paused = 1;
		log_warnx("%s: %d connections: not accepting more for now",
		    __func__, http_nconns);
	}
	return fc->bev;
}

int
http_conn_set_sse(struct evhttp_request *req, void *client)
{
	struct evhttp_connection	*evcon = evhttp_request_get_connection(req);
	struct fe_conn			*fc;

	http_adopt(-1, 0, NULL);
	TAILQ_FOREACH(fc, &http_conns, entry)
		if (fc->evcon == evcon) {
			fc->sse = client;
			return 0;
		}
	return -1;
}

static const char *
http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 202: return "Accepted";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	}
	return "Error";
}

void
http_security_headers(struct evhttp_request *req, int api)
{
	struct evkeyvalq	*h = evhttp_request_get_output_headers(req);

	evhttp_add_header(h, "Content-Security-Policy", CSP);
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
	evhttp_add_header(h, "X-Frame-Options", "DENY");
	if (api)
		evhttp_add_header(h, "Cache-Control", "no-store");
}

static void
http_log(struct evhttp_request *req, int status)
{
	char	addr[FE_ADDR_MAX];

	if (log_getverbose() == 0)
		return;
	http_client_addr(req, addr, sizeof(addr));
	log_debug("%s %s %.200s %d", addr,
	    evhttp_request_get_command(req) == EVHTTP_REQ_POST ? "POST" : "GET",
	    evhttp_request_get_uri(req) != NULL ? evhttp_request_get_uri(req) : "?",
	    status);
}

void
http_reply(struct evhttp_request *req, int status, const char *ctype,
    struct evbuffer *body)
{
	struct evkeyvalq	*h = evhttp_request_get_output_headers(req);

	char			 len[32];

	if (ctype != NULL)
		evhttp_add_header(h, "Content-Type", ctype);
	http_security_headers(req, ctype != NULL &&
	    (strncmp(ctype, "application/json", 16) == 0 ||
	    strcmp(ctype, "text/event-stream") == 0));
	http_log(req, status);
	/* evhttp 2.1 would send the body of a HEAD reply: headers only */
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
		snprintf(len, sizeof(len), "%zu",
		    body != NULL ? evbuffer_get_length(body) : 0);
		evhttp_add_header(h, "Content-Length", len);
		evhttp_send_reply(req, status, http_reason(status), NULL);
		return;
	}
	evhttp_send_reply(req, status, http_reason(status), body);
}

void
http_reply_json(struct evhttp_request *req, int status, const char *json,
    size_t len)
{
	struct evbuffer	*buf;

	if ((buf = evbuffer_new()) == NULL || evbuffer_add(buf, json, len) == -1)
		fatalx("%s: evbuffer", __func__);
	http_reply(req, status, "application/json", buf);
	evbuffer_free(buf);
}

void
http_reply_error(struct evhttp_request *req, int status, const char *code,
    const char *fmt, ...)
{
	char		 msg[PROTO_MAX_MESSAGE];
	va_list		 ap;
	yajl_gen	 g;
	char		*json;
	size_t		 len;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	g = json_gen_new();
	yajl_gen_map_open(g);
	json_key(g, "error");
	yajl_gen_map_open(g);
	json_kstr(g, "code", code);
	json_kstr(g, "message", msg);
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);
	json = json_gen_take(g, &len);
	yajl_gen_free(g);
	http_reply_json(req, status, json, len);
	free(json);
}

void
http_client_addr(struct evhttp_request *req, char *out, size_t outlen)
{
	struct evhttp_connection	*evcon = evhttp_request_get_connection(req);
	char				*addr = NULL;
	ev_uint16_t			 port;

	if (evcon != NULL)
		evhttp_connection_get_peer(evcon, &addr, &port);
	snprintf(out, outlen, "%s", addr != NULL ? addr : "?");
}

static void
http_request(struct evhttp_request *req, void *arg)
{
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	enum evhttp_cmd_type	 cmd = evhttp_request_get_command(req);
	const char		*path;

	if (uri == NULL || (path = evhttp_uri_get_path(uri)) == NULL ||
	    path[0] != '/') {
		http_reply_error(req, 400, "bad_request", "bad request URI");
		return;
	}
	if (strcmp(path, "/hooks/github") == 0) {
		if (webhook_route != NULL)
			webhook_route(req);
		else
			http_reply_error(req, 404, "not_found",
			    "webhooks are not built in");
		return;
	}
	if (evbuffer_get_length(evhttp_request_get_input_buffer(req)) >
	    FE_MAX_API_BODY) {
		http_reply_error(req, 413, "too_large",
		    "request body larger than %d bytes", FE_MAX_API_BODY);
		return;
	}
	if (strcmp(path, "/healthz") == 0) {
		api_healthz(req);
		return;
	}
	if (strncmp(path, "/api/", 5) == 0 || strcmp(path, "/api") == 0) {
		api_route(req, path);
		return;
	}
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
		    "GET, HEAD");
		http_reply_error(req, 405, "method_not_allowed",
		    "only GET and HEAD here");
		return;
	}
	static_serve(req, path);
}

void
http_init(int fd)
{
	struct evhttp_bound_socket	*bound;

	if ((http = evhttp_new(fenv->base)) == NULL)
		fatalx("%s: evhttp_new", __func__);
	if ((http_adopt_ev = event_new(fenv->base, -1, 0, http_adopt,
	    NULL)) == NULL || event_priority_set(http_adopt_ev, 0) == -1)
		fatalx("%s: event_new", __func__);
	evhttp_set_bevcb(http, http_newconn, NULL);
	evhttp_set_gencb(http, http_request, NULL);
	evhttp_set_timeout(http, FE_HTTP_TIMEOUT);
	evhttp_set_max_headers_size(http, FE_MAX_HEADERS);
	/* per route below: only the webhook may send more than FE_MAX_API_BODY */
	evhttp_set_max_body_size(http, webhook_route != NULL ?
	    FE_MAX_WEBHOOK_BODY : FE_MAX_API_BODY);
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
	if ((bound = evhttp_accept_socket_with_handle(http, fd)) == NULL)
		fatalx("%s: evhttp_accept_socket", __func__);
	http_listener = evhttp_bound_socket_get_listener(bound);
}

void
http_shutdown(void)
{
	struct fe_conn	*fc;

	if (http == NULL)
		return;
	http_adopt(-1, 0, NULL);
	http_listener = NULL;
	evhttp_free(http);	/* calls http_conn_closed for each connection */
	http = NULL;
	while ((fc = TAILQ_FIRST(&http_conns)) != NULL)
		http_conn_gone(fc, &http_conns);
	event_free(http_adopt_ev);
	http_adopt_ev = NULL;
}
