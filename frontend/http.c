/*
 * The HTTP server (libevent's evhttp, through its public API only): the
 * route table and the reply helpers that put the security headers on every
 * answer davit writes, and who the client is.  The connections under it
 * (the request-head reader, limits, counts, slow clients) are conn.c's.
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
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include "common/json.h"
#include "common/log.h"
#include "frontend/frontend.h"

static struct evhttp		*http;

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

/* a request header's value, NULL if it has none */
const char *
http_header(struct evhttp_request *req, const char *name)
{
	return evhttp_find_header(evhttp_request_get_input_headers(req), name);
}

/*
 * The HTTP status of a backend error code (PROTOCOL.md's codes), 0 for a
 * code that should not come (internal, or unknown): a bad gateway.
 */
int
http_backend_status(const char *code)
{
	static const struct {
		const char	*code;
		int		 status;
	} map[] = {
		{ "bad_request", 400 },
		{ "unauthorized", 401 },
		{ "not_allowed", 403 },
		{ "not_found", 404 },
		{ "conflict", 409 },
		{ "too_large", 413 },
		{ "unknown_op", 501 },	/* a backend without it (projects.list) */
		{ "busy", 503 },
		{ "unavailable", 503 },
	};
	size_t	i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(code, map[i].code) == 0)
			return map[i].status;
	return 0;
}

void
http_security_headers(struct evhttp_request *req, int api)
{
	struct evkeyvalq	*h = evhttp_request_get_output_headers(req);

	evhttp_add_header(h, "Content-Security-Policy", FE_CSP);
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
	evhttp_add_header(h, "X-Frame-Options", "DENY");
	if (tls_ctx() != NULL)
		evhttp_add_header(h, "Strict-Transport-Security", FE_HSTS);
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

	if (tls_ctx() != NULL)
		return 1;	/* our own HTTPS */
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

	/* its body is in; what follows on the connection is the next request */
	conn_request_in(req);

	if (uri == NULL || (path = evhttp_uri_get_path(uri)) == NULL ||
	    path[0] != '/') {
		http_reply_error(req, 400, "bad_request", "bad request URI");
		return;
	}
	if (strcmp(path, FE_HOOK_PATH) == 0 ||
	    strncmp(path, FE_HOOK_PATH "/", sizeof(FE_HOOK_PATH)) == 0) {
		if (webhook_route != NULL)
			webhook_route(req, path[sizeof(FE_HOOK_PATH) - 1] == '\0' ?
			    NULL : path + sizeof(FE_HOOK_PATH));
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
	conn_init(http);
	evhttp_set_gencb(http, http_request, NULL);
	evhttp_set_timeout(http, FE_HTTP_TIMEOUT);
	evhttp_set_max_headers_size(http, FE_MAX_HEADERS);
	/* the largest; each request's own is set by http_decide */
	evhttp_set_max_body_size(http, FE_MAX_WEBHOOK_BODY);
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
	if ((bound = evhttp_accept_socket_with_handle(http, fd)) == NULL)
		fatalx("%s: evhttp_accept_socket", __func__);
	conn_listener(evhttp_bound_socket_get_listener(bound));
}

void
http_shutdown(void)
{
	if (http == NULL)
		return;
	/*
	 * Calls http_conn_closed for each connection with a request; the
	 * bufferevents, and with them the connections' records, go when the
	 * loop next runs, if it does.
	 */
	evhttp_free(http);
	http = NULL;
	conn_shutdown();
}
