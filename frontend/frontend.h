/*
 * davit-frontend: the unprivileged web process.  It never reads .env: it
 * asks the backend for its settings (frontend.config), forwards logins
 * (auth.login) and actions, keeps sessions, serves the JSON API, the
 * dashboard's files and a Server-Sent Events stream of the backend's events.
 */
#ifndef DAVIT_FRONTEND_H
#define DAVIT_FRONTEND_H

#include <sys/queue.h>
#include <sys/types.h>

#include <stddef.h>
#include <time.h>

#include <event2/event.h>
#include <event2/http.h>
#include <yajl/yajl_tree.h>

#include "proto/proto.h"

/* limits, all in one place; those the backend shares are in proto/limits.h */
#define FE_CSP	"default-src 'self'; frame-ancestors 'none'; base-uri 'none'; " \
		"form-action 'self'"		/* every reply's Content-Security-Policy */
#define FE_MAX_HEADERS		(16 * 1024)	/* request line and headers */
#define FE_MAX_API_BODY		(64 * 1024)	/* every route but the webhook */
#define FE_MAX_WEBHOOK_BODY	(25 * 1024 * 1024)	/* GitHub's own cap */
#define FE_WEBHOOK_MAX_RECEIVING 4		/* such bodies coming in at once */
#define FE_HTTP_TIMEOUT		10		/* seconds a client may stall */
#define FE_MAX_CONNS		256		/* HTTP connections at once */
#define FE_LISTEN_BACKLOG	128
#define FE_MAX_SESSIONS		64		/* the least recently used goes */
#define FE_TOKEN_BYTES		32		/* session ids and CSRF tokens */
#define FE_TOKEN_HEX		(FE_TOKEN_BYTES * 2)
#define FE_MAX_COOKIE_HEADER	8192		/* a longer Cookie header is ignored */
#define FE_MAX_COOKIES		64		/* pairs looked at in one header */
#define FE_THROTTLE_FREE	3		/* failures a client may make at no cost */
#define FE_THROTTLE_PER_ADDR	5		/* failures, then refused (429) */
#define FE_THROTTLE_LOCK	60		/* seconds refused after the last, */
#define FE_THROTTLE_LOCK_MAX	900		/* doubling per further failure */
#define FE_THROTTLE_FORGET	3600		/* seconds: a client's failures forgotten */
#define FE_THROTTLE_ADDRS	1024		/* clients remembered */
#define FE_ADDR_MAX		PROTO_CLIENT_MAX	/* a client address as text */
#define FE_MAX_PROXIES		32		/* DAVIT_TRUSTED_PROXIES elements */
#define FE_MAX_FORWARDED	4096		/* X-Forwarded-For looked at */
#define FE_MAX_CONNS_PER_ADDR	32		/* connections of one client address */
#define FE_HEAD_TIMEOUT		10		/* seconds for a request line and headers */
#define FE_BODY_MIN_RATE	1024		/* bytes a second a body must keep up */
#define FE_PASSWORD_MAX		PROTO_PASSWORD_MAX	/* auth.login's field */
#define FE_SSE_MAX_CLIENTS	128		/* event streams at once */
#define FE_SSE_MAX_BUFFER	(64 * 1024)	/* unsent bytes of one stream */
#define FE_SSE_SNDBUF		(64 * 1024)	/* its kernel send buffer */
#define FE_SSE_PING		15		/* seconds between ": ping" */
#define FE_SSE_TIMEOUT		60		/* a stream that takes nothing for this long */
#define FE_SSE_RETRY_MS		2000		/* the browser's reconnect delay */
#define FE_STATE_TTL_MS		1000		/* the /api/state cache, besides events */
#define FE_STATE_MAX_WAITERS	256
#define FE_STATE_MAX_DOCS	(PROTO_MAX_PROJECTS + 1)	/* /api/state documents kept */
#define FE_BACKEND_MAX_LINE	PROTO_MAX_REPLY		/* one reply or event */
#define FE_BACKEND_MAX_INFLIGHT	PROTO_MAX_PENDING	/* the backend's CTL_MAX_PENDING */
#define FE_BACKEND_MAX_QUEUED	512		/* waiting to be sent */
#define FE_BACKEND_TIMEOUT	60		/* seconds for any reply */
#define FE_BACKEND_RETRY_MIN_MS	200		/* reconnect backoff */
#define FE_BACKEND_RETRY_MAX_MS	2000
#define FE_BOOT_TIMEOUT		10		/* seconds for frontend.config at start */
#define FE_STATIC_MAX_PATH	256		/* a decoded www path */
#define FE_STATIC_MAX_DEPTH	8		/* directories below www */
#define FE_STATIC_MAX_FILE	(16 * 1024 * 1024)
#define FE_MAX_LISTEN		PROTO_LISTEN_MAX	/* DAVIT_LISTEN */

#define FE_COOKIE_NAME		"davit_session"
#define FE_CSRF_HEADER		"X-Davit-CSRF"

/* an address, or a network: DAVIT_TRUSTED_PROXIES */
struct fe_cidr {
	int		family;		/* AF_INET, AF_INET6 */
	unsigned	bits;
	unsigned char	addr[16];
};
struct fe_proxies {
	struct fe_cidr	net[FE_MAX_PROXIES];
	size_t		n;
};

/* a project as frontend.config names it, with its webhook secret */
struct fe_project {
	char	 name[PROTO_PROJECT_NAME_MAX + 1];
	char	*webhook_secret;	/* NULL: no webhook */
	size_t	 webhook_secret_len;
};

/* what frontend.config tells us */
struct fe_config {
	char	*listen;
	struct fe_project *projects;	/* in the backend's order, names unique */
	size_t	 nprojects;		/* 0..PROTO_MAX_PROJECTS */
	int	 single;		/* one project from the main file: /hooks/github */
	int	 session_idle;
	int	 session_max;
	int	 cookie_secure;
	struct fe_proxies proxies;	/* trusted_proxies, parsed */
	char	*github_repo;
	char	*branch;
	char	*www_dir;
};

struct frontend_env {
	struct event_base	*base;
	struct fe_config	 cfg;
	const char		*socket_path;
	const char		*user;
	int			 www_fd;	/* -1: no dashboard files */
	int			 listen_fd;
	uid_t			 uid;		/* DAVIT_USER */
	gid_t			 gid;
	volatile int		 shutting_down;
};
extern struct frontend_env	*fenv;

/* settings.c */
int	 fe_config_parse(yajl_val result, struct fe_config *cfg, char *err,
	    size_t errlen);
void	 fe_config_free(struct fe_config *cfg);
/* the project of that name (not NUL-terminated), or NULL */
const struct fe_project *fe_project_find(const struct fe_config *cfg,
	    const char *name, size_t len);
time_t	 fe_now(void);		/* monotonic seconds */

/* link.c: the one persistent connection to davit-backend */
/* r is NULL when the backend went away or did not answer in time */
typedef void (*fe_reply_cb)(void *arg, const struct proto_reply *r);
const char *backend_raw(const struct proto_reply *r, size_t *len);
int	 backend_connect_sync(const char *path, uid_t uid, gid_t gid);
int	 backend_config_sync(int fd, struct fe_config *cfg, char *err, size_t errlen);
void	 backend_start(int fd);
void	 backend_shutdown(void);
int	 backend_up(void);
/*
 * Sends req (its id is set here) and calls cb with the reply.  -1 with err
 * (PE_UNAVAILABLE when the backend is down, PE_BUSY when too much is queued,
 * PE_BAD_REQUEST when a value does not fit the op table): cb is not called.
 */
int	 backend_request(struct proto_request *req, fe_reply_cb cb, void *arg,
	    struct proto_error *err);
/* the result of an ok reply as JSON text (malloc'd) */
char	*backend_result_json(const struct proto_reply *r, size_t *len);

/* http.c: the server, the route table, replies */
void	 http_init(int fd);
void	 http_shutdown(void);
/* conn.c: the connections under evhttp (HTTP.md, "The HTTP edge") */
void	 conn_init(struct evhttp *http);
/* the TLS port's answer to a client speaking plain HTTP to it */
#define FE_TLS_PLAIN_MSG	"this port speaks HTTPS: use https://"
void	 conn_listener(struct evconnlistener *listener);
void	 conn_request_in(struct evhttp_request *req);
void	 conn_shutdown(void);
int	 http_conn_count(void);
size_t	 http_conn_unsent(struct evhttp_connection *evcon);
/* adds the security headers (and Cache-Control: no-store for the API) */
const char *http_header(struct evhttp_request *req, const char *name);
int	 http_backend_status(const char *code);
void	 http_security_headers(struct evhttp_request *req, int api);
void	 http_reply(struct evhttp_request *req, int status, const char *ctype,
	    struct evbuffer *body);
void	 http_reply_json(struct evhttp_request *req, int status, const char *json,
	    size_t len);
void	 http_reply_error(struct evhttp_request *req, int status, const char *code,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* the client: the peer, or what a trusted proxy says (X-Forwarded-For) */
void	 http_client_addr(struct evhttp_request *req, char *out, size_t outlen);
/* over TLS, or a trusted proxy says X-Forwarded-Proto: https */
int	 http_request_secure(struct evhttp_request *req);

/* tls.c: HTTPS, from a certificate and key handed over (never opened) */
#define FE_TLS_CERT_MAX		(64 * 1024)	/* backend/supervise.c's SUPERVISE_TLS_CERT_MAX */
#define FE_TLS_KEY_MAX		(16 * 1024)	/* backend/supervise.c's SUPERVISE_TLS_KEY_MAX */
#define FE_HSTS			"max-age=31536000"
struct ssl_ctx_st;
ssize_t	 tls_bundle_parse(const char *buf, size_t len, size_t *hlen,
	    size_t *clen, size_t *klen);
int	 tls_from_reply(yajl_val result, char *why, size_t whylen);
void	 tls_reload(void);	/* the tls.reload event */
struct ssl_ctx_st *tls_ctx(void);	/* NULL: plain HTTP */
struct ssl_st;
struct evbuffer;
int	 tls_write(struct ssl_st *ssl, struct evbuffer *src);
void	 tls_refuse_plain(evutil_socket_t fd);
void	 tls_shutdown(void);
/* the SSE stream of req is tied to its connection: closed with it */
int	 http_conn_set_sse(struct evhttp_request *req, void *client);

/* headers.c: parsing of what clients send; pure functions */
size_t	 http_cookie_find(const char *hdr, size_t len, const char *name,
	    const char **vals, size_t *lens, size_t max);
int	 http_media_type(const char *ctype, char *out, size_t outlen);
int	 http_media_is_form(const char *media);
int	 http_origin_ok(const char *origin, const char *host);
int	 http_parse_id(const char *s, size_t len, long long max, long long *out);
int	 http_request_line(const char *line, size_t len, const char **method,
	    size_t *mlen, const char **target, size_t *tlen);
int	 http_is_hex(const char *s, size_t len);
void	 http_hex(const unsigned char *in, size_t len, char *out);
ssize_t	 http_head_scan(int *state, const char *p, size_t n);
int	 http_head_body(const char *head, size_t len, long long *clen,
	    int *chunked);

/* rawjson.c: a member's bytes in a JSON object, to pass them on as they are */
int	 json_raw_member(const char *s, size_t len, const char *key,
	    const char **val, size_t *vlen);

/* session.c: the session store */
struct session {
	int	 used;
	char	 id[FE_TOKEN_HEX + 1];
	char	 csrf[FE_TOKEN_HEX + 1];
	time_t	 created;		/* fe_now() */
	time_t	 last;
};
void		 session_limits(int idle, int max);
struct session	*session_create(time_t now);
/* the live session of that id, touched; NULL if none or expired */
struct session	*session_lookup(const char *id, size_t len, time_t now);
/* the same without touching it */
struct session	*session_peek(const char *id, size_t len, time_t now);
void		 session_destroy(struct session *s);
void		 session_clear(void);
size_t		 session_count(time_t now);
time_t		 session_expires(const struct session *s);	/* absolute, fe_now() */
int		 session_csrf_ok(const struct session *s, const char *token);

/* client.c: who the client is; pure functions */
int	 client_cidr_parse(const char *s, size_t len, struct fe_cidr *net);
int	 client_proxies_parse(const char *s, struct fe_proxies *p, char *err,
	    size_t errlen);
int	 client_addr_trusted(const struct fe_proxies *p, const char *addr);
/* X-Forwarded-For's right-most address not in p, canonical; -1: none, or malformed */
int	 client_forwarded(const char *xff, size_t len, const struct fe_proxies *p,
	    char *out, size_t outlen);
/* the key a client is counted by: IPv4 as is, IPv6 by its /64 */
void	 client_key(const char *addr, char *out, size_t outlen);
int	 client_listen_is_loopback(const char *listen);

/* throttle.c: failures per client (failed logins, bad webhook signatures) */
enum throttle_kind {
	THROTTLE_LOGIN,
	THROTTLE_WEBHOOK,
	THROTTLE__COUNT
};
/*
 * 0: go ahead after *delay seconds (the attempt counts as failed until
 * throttle_success or throttle_cancel); else refused, seconds to wait.
 */
int	 throttle_check(enum throttle_kind kind, const char *addr, time_t now,
	    int *delay);
void	 throttle_success(enum throttle_kind kind, const char *addr);
void	 throttle_cancel(enum throttle_kind kind, const char *addr);
void	 throttle_reset(void);

/* path.c: request paths for the www directory; pure functions */
int	 path_normalize(const char *raw, char *out, size_t outlen);
const char *path_content_type(const char *rel);

/* static.c: the www directory */
int	 static_open(int dirfd, const char *rel, off_t *size);
void	 static_serve(struct evhttp_request *req, const char *rawpath);

/* protocol.c: GET /js/protocol.js, the dashboard's op and event names */
#define PROTOCOL_JS_PATH	"js/protocol.js"	/* below /, as path_normalize gives it */
char		*protocol_js_build(size_t *len);	/* malloc'd; pure */
const char	*protocol_js(size_t *len);		/* built once, kept */

/* state.c: /api/state from a cache kept fresh by events (proto_events[]) */
/*
 * json is the whole /api/state document, or NULL with a message and the
 * backend's error code (NULL: the backend is not there, or too busy)
 */
typedef void (*state_cb)(void *arg, const char *json, size_t len,
    const char *code, const char *errmsg);
/* project: NULL or a valid name (proto_project_name_ok) */
int	 state_get(const char *project, state_cb cb, void *arg);
/* PROTO_PART_BIT()s of one project (NULL: of all) */
void	 state_invalidate(const char *project, unsigned parts);
void	 state_backend_down(void);
void	 state_shutdown(void);

/* sse.c: the browsers' event streams */
void	 sse_init(void);
void	 sse_shutdown(void);
void	 sse_open(struct evhttp_request *req, const struct session *s);
void	 sse_closed(void *client);	/* its connection went away */
void	 sse_broadcast(const char *event, const char *data, size_t len);
void	 sse_missed_all(long long count);
void	 sse_end_session(const char *sid);	/* logout: its streams end */
size_t	 sse_count(void);

/* api.c: the JSON API */
void	 api_route(struct evhttp_request *req, const char *path);
void	 api_healthz(struct evhttp_request *req);
/* a backend event: the cache and the browsers */
void	 api_event(const struct proto_reply *r);
void	 api_backend_changed(int up);
void	 api_shutdown(void);	/* answers the logins still being delayed */

/*
 * webhook_http.c (the webhook concern): POST /hooks/github (name NULL) and
 * /hooks/github/NAME (name: the rest of the path, unchecked).  Weak: without
 * it the route answers 404.  The secrets are fenv->cfg.projects'.
 */
#define FE_HOOK_PATH		"/hooks/github"
void	 webhook_route(struct evhttp_request *req, const char *name)
	    __attribute__((weak));
void	 webhook_shutdown(void) __attribute__((weak));

#endif
