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
 * wait in the kernel's backlog.  One client address (its client_key: IPv6
 * by /64) may hold FE_MAX_CONNS_PER_ADDR of them; further ones are closed
 * as soon as they are adopted.  A trusted proxy's connections are not
 * counted per address (its clients' are all its own).
 *
 * Slow clients: from the first byte of a request, its request line and
 * headers must be in within FE_HEAD_TIMEOUT seconds; then its body must
 * keep up FE_BODY_MIN_RATE bytes a second on average (after the same
 * grace).  A connection that does not is closed (http_deadline).  The
 * head's end is found by http_head_scan over the bytes as they come in.
 * Between requests evhttp's own timeout (FE_HTTP_TIMEOUT) applies.
 *
 * Bodies: evhttp reads a whole body before the route is known, so each
 * connection's input is watched for the request line of its next request
 * (http_sniff), and the connection's body limit set from it before evhttp
 * reads the headers: FE_MAX_WEBHOOK_BODY for POST /hooks/github, and
 * FE_MAX_API_BODY for everything else.  evhttp then refuses a larger body
 * (413) from its Content-Length, or as soon as a chunked one grows past
 * it, without reading the rest.  At most FE_WEBHOOK_MAX_RECEIVING webhook
 * bodies may be that large at once: their senders are not known yet.
 *
 * Replies that come later (after a backend reply): evhttp 2.1 does not read
 * from a connection while its request is with us, so a client that goes
 * away meanwhile is noticed when the reply is written, and the request
 * stays valid until then.  Were the connection to fail first, evhttp
 * detaches the request (evhttp_request_get_connection() is NULL) instead
 * of freeing it, and evhttp_send_reply() frees it.  Either way the
 * callbacks of api.c and webhook_http.c answer exactly once, and the
 * shutdown answers them (backend_shutdown) before http_shutdown.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
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
	struct evbuffer_cb_entry	*incb;	/* http_input on the socket's input */
	void				*sse;	/* its event stream, if any */
	int				 line_pending;	/* the next bytes start a request */
	int				 webhook_rx;	/* holds a large webhook body slot */
	char				 key[FE_ADDR_MAX];	/* client_key of the peer */
	int				 counted;	/* in its address's count */
	int				 kill;		/* over the per-address cap */
	struct event			*deadline;	/* http_deadline */
	int				 reading;	/* a request is coming in */
	int				 head_state;	/* http_head_scan */
	int				 head_done;
	time_t				 started;	/* its first byte, or its body's */
	size_t				 body_bytes;
};
TAILQ_HEAD(fe_conn_list, fe_conn);

static struct evhttp		*http;
static struct evconnlistener	*http_listener;
static struct event		*http_adopt_ev;
static struct fe_conn_list	 http_fresh = TAILQ_HEAD_INITIALIZER(http_fresh);
static struct fe_conn_list	 http_conns = TAILQ_HEAD_INITIALIZER(http_conns);
static int			 http_nconns;
static int			 http_paused;
static int			 http_webhook_rx;	/* large webhook bodies coming in */
static time_t			 http_cap_logged;	/* the last "too many" log line */

int
http_conn_count(void)
{
	return http_nconns;
}

static void
http_webhook_rx_end(struct fe_conn *fc)
{
	if (fc->webhook_rx) {
		fc->webhook_rx = 0;
		http_webhook_rx--;
	}
}

static void
http_conn_gone(struct fe_conn *fc, struct fe_conn_list *list)
{
	http_webhook_rx_end(fc);
	TAILQ_REMOVE(list, fc, entry);
	if (fc->deadline != NULL)
		event_free(fc->deadline);
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
	struct fe_conn		*fc = arg;
	struct bufferevent	*bev = evhttp_connection_get_bufferevent(evcon);

	if (fc->sse != NULL)
		sse_closed(fc->sse);
	fc->sse = NULL;
	if (bev != NULL && fc->incb != NULL)
		evbuffer_remove_cb_entry(bufferevent_get_input(bev), fc->incb);
	fc->incb = NULL;
	http_conn_gone(fc, &http_conns);
}

static void
http_close(struct fe_conn *fc)
{
	/* calls http_conn_closed, which frees fc */
	evhttp_connection_free(fc->evcon);
}

/* a request too slow to come in, or a connection over its address's cap */
static void
http_deadline(evutil_socket_t fd, short ev, void *arg)
{
	struct fe_conn	*fc = arg;
	struct timeval	 tv = { 0, 0 };
	time_t		 now = fe_now(), allowed;

	if (fc->kill) {
		http_close(fc);
		return;
	}
	if (!fc->reading)
		return;
	if (!fc->head_done) {
		log_warnx("client %s: request line and headers not in within "
		    "%d s: connection closed", fc->key, FE_HEAD_TIMEOUT);
		http_close(fc);
		return;
	}
	allowed = fc->started + FE_HEAD_TIMEOUT +
	    (time_t)(fc->body_bytes / FE_BODY_MIN_RATE);
	if (now >= allowed) {
		log_warnx("client %s: body slower than %d bytes/s (%zu bytes "
		    "in %lld s): connection closed", fc->key, FE_BODY_MIN_RATE,
		    fc->body_bytes, (long long)(now - fc->started));
		http_close(fc);
		return;
	}
	tv.tv_sec = allowed - now;
	evtimer_add(fc->deadline, &tv);
}

/* the first bytes of a request came: its clock starts */
static void
http_reading(struct fe_conn *fc)
{
	struct timeval	tv = { FE_HEAD_TIMEOUT, 0 };

	fc->reading = 1;
	fc->head_state = 0;
	fc->head_done = 0;
	fc->body_bytes = 0;
	fc->started = fe_now();
	evtimer_add(fc->deadline, &tv);
}

/* bytes of the current request: where its head ends, what its body does */
static void
http_account(struct fe_conn *fc, struct evbuffer *in, size_t added)
{
	struct evbuffer_ptr	 ptr;
	struct evbuffer_iovec	 v[4];
	size_t			 total = evbuffer_get_length(in), from, i, len;
	ssize_t			 end;
	int			 n;

	if (fc->head_done) {
		fc->body_bytes += added;
		return;
	}
	if (added > total)
		added = total;
	from = total - added;
	while (added > 0 && !fc->head_done) {
		if (evbuffer_ptr_set(in, &ptr, from, EVBUFFER_PTR_SET) == -1 ||
		    (n = evbuffer_peek(in, added, &ptr, v, 4)) <= 0)
			return;
		for (i = 0; i < (size_t)n && i < 4 && added > 0; i++) {
			len = v[i].iov_len < added ? v[i].iov_len : added;
			end = http_head_scan(&fc->head_state, v[i].iov_base, len);
			if (end >= 0) {
				fc->head_done = 1;
				fc->started = fe_now();
				fc->body_bytes = added - (size_t)end;
				return;
			}
			from += len;
			added -= len;
		}
	}
}

/* the connections evhttp made since the last time */
static void
http_adopt(evutil_socket_t fd, short ev, void *arg)
{
	struct fe_conn		*fc, *c;
	struct timeval		 now0 = { 0, 0 };
	bufferevent_data_cb	 readcb;
	void			*cbarg;
	char			*peer = NULL;
	ev_uint16_t		 port;
	int			 same;
	time_t			 now;

	while ((fc = TAILQ_FIRST(&http_fresh)) != NULL) {
		bufferevent_getcb(fc->bev, &readcb, NULL, NULL, &cbarg);
		if (readcb == NULL || cbarg == NULL) {
			evbuffer_remove_cb_entry(bufferevent_get_input(fc->bev),
			    fc->incb);
			fc->incb = NULL;
		}
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
		if ((fc->deadline = evtimer_new(fenv->base, http_deadline,
		    fc)) == NULL)
			fatalx("%s: evtimer_new", __func__);
		evhttp_connection_get_peer(fc->evcon, &peer, &port);
		client_key(peer, fc->key, sizeof(fc->key));
		fc->counted = !client_addr_trusted(&fenv->cfg.proxies, peer);
		same = 0;
		if (fc->counted)
			TAILQ_FOREACH(c, &http_conns, entry)
				if (c->counted && !c->kill &&
				    strcmp(c->key, fc->key) == 0)
					same++;
		TAILQ_INSERT_TAIL(&http_conns, fc, entry);
		if (same >= FE_MAX_CONNS_PER_ADDR) {
			/* closed from the loop: we may be in its own callback */
			fc->kill = 1;
			bufferevent_disable(evhttp_connection_get_bufferevent(
			    fc->evcon), EV_READ);
			evtimer_add(fc->deadline, &now0);
			if ((now = fe_now()) != http_cap_logged) {
				http_cap_logged = now;
				log_warnx("client %s: %d connections already: "
				    "closing new ones", fc->key,
				    FE_MAX_CONNS_PER_ADDR);
			}
		}
	}
}

/*
 * The request line of fc's next request, once it is all in: the body limit
 * of its route.  Anything unexpected gets FE_MAX_API_BODY, which is safe.
 */
static void
http_sniff(struct fe_conn *fc, struct evbuffer *in)
{
	struct evbuffer_ptr	 eol;
	struct evhttp_uri	*uri;
	const char		*path, *method, *target;
	char			*line = NULL;
	size_t			 eollen, len, mlen, tlen;
	int			 webhook = 0;

	if (!fc->line_pending || fc->evcon == NULL)
		return;
	eol = evbuffer_search_eol(in, NULL, &eollen, EVBUFFER_EOL_CRLF);
	if (eol.pos == -1) {
		if (evbuffer_get_length(in) <= FE_MAX_HEADERS)
			return;		/* not all in yet */
		goto decide;		/* evhttp refuses it */
	}
	len = (size_t)eol.pos;
	if (webhook_route == NULL || len > FE_MAX_HEADERS)
		goto decide;
	if ((line = malloc(len + 1)) == NULL)
		fatal("%s", __func__);
	if (evbuffer_copyout(in, line, len) != (ev_ssize_t)len ||
	    http_request_line(line, len, &method, &mlen, &target, &tlen) == -1 ||
	    mlen != 4 || memcmp(method, "POST", 4) != 0)
		goto decide;
	/* the target's path as http_request sees it */
	line[target - line + tlen] = '\0';
	if ((uri = evhttp_uri_parse_with_flags(target,
	    EVHTTP_URI_NONCONFORMANT)) != NULL) {
		path = evhttp_uri_get_path(uri);
		webhook = path != NULL && strcmp(path, "/hooks/github") == 0;
		evhttp_uri_free(uri);
	}
 decide:
	free(line);
	fc->line_pending = 0;
	if (webhook && http_webhook_rx >= FE_WEBHOOK_MAX_RECEIVING) {
		log_warnx("%s: %d webhook bodies coming in already: this one "
		    "may have %d bytes", __func__, http_webhook_rx,
		    FE_MAX_API_BODY);
		webhook = 0;
	}
	if (webhook) {
		fc->webhook_rx = 1;
		http_webhook_rx++;
	}
	evhttp_connection_set_max_body_size(fc->evcon, webhook ?
	    FE_MAX_WEBHOOK_BODY : FE_MAX_API_BODY);
}

/* bytes came in on a connection: the first of a request? */
static void
http_input(struct evbuffer *in, const struct evbuffer_cb_info *info, void *arg)
{
	struct fe_conn	*fc = arg, *c;

	if (info->n_added == 0)
		return;
	if (fc->evcon == NULL) {
		/* evhttp read before http_adopt ran (it should not) */
		http_adopt(-1, 0, NULL);
		TAILQ_FOREACH(c, &http_conns, entry)
			if (c == fc)
				break;
		if (c == NULL)
			return;		/* fc was freed: not a live connection */
	}
	if (fc->kill)
		return;
	if (!fc->reading)
		http_reading(fc);
	http_account(fc, in, info->n_added);
	if (fc->line_pending)
		http_sniff(fc, in);
}

/* the connection a request came on; NULL if it has gone */
static struct fe_conn *
http_conn_of(struct evhttp_request *req)
{
	struct evhttp_connection	*evcon = evhttp_request_get_connection(req);
	struct fe_conn			*fc;

	if (evcon == NULL)
		return NULL;
	http_adopt(-1, 0, NULL);
	TAILQ_FOREACH(fc, &http_conns, entry)
		if (fc->evcon == evcon)
			return fc;
	return NULL;
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
	fc->line_pending = 1;
	if ((fc->incb = evbuffer_add_cb(bufferevent_get_input(fc->bev),
	    http_input, fc)) == NULL)
		fatalx("%s: evbuffer_add_cb", __func__);
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
	struct fe_conn	*fc;

	if ((fc = http_conn_of(req)) == NULL)
		return -1;
	fc->sse = client;
	return 0;
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

/* what the peer is; "?" when not known */
static const char *
http_peer(struct evhttp_request *req)
{
	struct evhttp_connection	*evcon = evhttp_request_get_connection(req);
	char				*addr = NULL;
	ev_uint16_t			 port;

	if (evcon != NULL)
		evhttp_connection_get_peer(evcon, &addr, &port);
	return addr != NULL ? addr : "?";
}

void
http_client_addr(struct evhttp_request *req, char *out, size_t outlen)
{
	const char	*peer = http_peer(req);
	struct evkeyval	*kv;
	char		 xff[FE_MAX_FORWARDED];
	size_t		 len = 0, vlen;
	int		 any = 0, cut = 0;

	snprintf(out, outlen, "%s", peer);
	if (!client_addr_trusted(&fenv->cfg.proxies, peer))
		return;
	/* every X-Forwarded-For header, in order, as one list */
	TAILQ_FOREACH(kv, evhttp_request_get_input_headers(req), next) {
		if (strcasecmp(kv->key, "X-Forwarded-For") != 0)
			continue;
		vlen = strlen(kv->value);
		if (len + vlen + 2 > sizeof(xff)) {
			cut = 1;
			break;
		}
		if (any)
			xff[len++] = ',';
		memcpy(xff + len, kv->value, vlen);
		len += vlen;
		any = 1;
	}
	if (!any)
		return;		/* the proxy's own request */
	if (cut) {
		log_warnx("proxy %s: X-Forwarded-For over %d bytes: client "
		    "taken as the proxy", peer, FE_MAX_FORWARDED);
		return;
	}
	if (client_forwarded(xff, len, &fenv->cfg.proxies, out, outlen) == -1) {
		log_warnx("proxy %s: X-Forwarded-For not a list of addresses: "
		    "client taken as the proxy", peer);
		snprintf(out, outlen, "%s", peer);
	}
}

int
http_request_secure(struct evhttp_request *req)
{
	struct evkeyval	*kv;
	const char	*v = NULL, *e;
	size_t		 len;

	if (!client_addr_trusted(&fenv->cfg.proxies, http_peer(req)))
		return 0;
	TAILQ_FOREACH(kv, evhttp_request_get_input_headers(req), next)
		if (strcasecmp(kv->key, "X-Forwarded-Proto") == 0)
			v = kv->value;
	if (v == NULL)
		return 0;
	/* the right-most value: what the proxy nearest us saw */
	if ((e = strrchr(v, ',')) != NULL)
		v = e + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	len = strlen(v);
	while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
		len--;
	return len == 5 && strncasecmp(v, "https", 5) == 0;
}

static void
http_request(struct evhttp_request *req, void *arg)
{
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	enum evhttp_cmd_type	 cmd = evhttp_request_get_command(req);
	const char		*path;
	struct fe_conn		*fc;

	/* its body is in; what follows on the connection is the next request */
	if ((fc = http_conn_of(req)) != NULL) {
		http_webhook_rx_end(fc);
		fc->reading = 0;
		evtimer_del(fc->deadline);
		if (evbuffer_get_length(bufferevent_get_input(
		    evhttp_connection_get_bufferevent(fc->evcon))) > 0) {
			/* pipelined: the next one has begun */
			http_reading(fc);
			http_account(fc, bufferevent_get_input(
			    evhttp_connection_get_bufferevent(fc->evcon)),
			    evbuffer_get_length(bufferevent_get_input(
			    evhttp_connection_get_bufferevent(fc->evcon))));
		}
		fc->line_pending = 1;
		http_sniff(fc, bufferevent_get_input(
		    evhttp_connection_get_bufferevent(fc->evcon)));
	}

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
	/* raised for a webhook request by http_sniff */
	evhttp_set_max_body_size(http, FE_MAX_API_BODY);
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
