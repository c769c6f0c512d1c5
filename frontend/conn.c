/*
 * The HTTP connections under evhttp, through libevent's public API only:
 * the request-head reader, the body limit of each request's route, the
 * connection counts, slow clients.  The design is in HTTP.md, "The HTTP
 * edge"; http.c is the server above (routes, replies).
 *
 * Each connection evhttp accepts reads through a filter bufferevent of
 * ours (http_newconn, evhttp_set_bevcb) over the socket's.  The filter
 * (http_feed) holds a request's head back from evhttp until it is all in
 * (FE_MAX_HEADERS at most, else evhttp refuses it), reads the request line
 * and the body's framing (http_head_body), and only then lets evhttp see
 * it, after setting the route's body limit (http_decide): FE_MAX_WEBHOOK_BODY
 * for POST /hooks/github[/NAME], FE_MAX_API_BODY for everything else.  The bytes
 * of the next request are held until evhttp has handed us this one
 * (conn_request_in): one request at a time, and at most FE_READ_AHEAD bytes
 * read ahead.
 *
 * evhttp_connection of a connection: libevent 2.1 shows it only with a
 * request, so the limit of a connection's first request cannot be set on
 * it.  evhttp's own limit is the largest (FE_MAX_WEBHOOK_BODY) and a first
 * request over its route's limit is refused by us (http_refuse: 413 written
 * to the socket, the connection closed); later ones get their limit set on
 * the connection and evhttp's own 413.  A chunked body of a first request
 * is cut when its bytes on the wire pass the limit.  At most
 * FE_WEBHOOK_MAX_RECEIVING webhook bodies may be that large at once: their
 * senders are not known yet.
 *
 * Connections: counted when evhttp makes them (http_newconn) and uncounted
 * when it frees their filter (http_conn_gone, the filter's free callback).
 * At FE_MAX_CONNS the listener stops accepting: further clients wait in the
 * kernel's backlog.  One client address (its client_key: IPv6 by /64) may
 * hold FE_MAX_CONNS_PER_ADDR of them; further ones are closed at once
 * (http_adopt, from the loop, reads the peer with getpeername).  A trusted
 * proxy's connections are not counted per address.
 *
 * Slow clients: from the first byte of a request, its request line and
 * headers must be in within FE_HEAD_TIMEOUT seconds; then its body must
 * keep up FE_BODY_MIN_RATE bytes a second on average (after the same
 * grace).  A connection that does not is closed (http_deadline).  Between
 * requests evhttp's own timeout (FE_HTTP_TIMEOUT) applies.
 *
 * Writing: the filter writes what evhttp gives it straight to the socket
 * (http_filter_out, in conn_write.c with the rest of the writing).
 *
 * HTTPS (tls.c has a context): the bufferevent under the filter is an
 * OpenSSL one (libevent's bufferevent_openssl) that does the handshake
 * and decrypts what the filter reads; the filter writes with SSL_write on
 * the connection's SSL, straight to the socket as above.  Before the
 * handshake reads anything, http_peek looks at the first byte: a TLS
 * ClientHello starts with 0x16; anything else is a client speaking plain
 * HTTP, which gets a plain-text 400 (tls_refuse_plain) and is closed.
 */
#include <sys/socket.h>

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/bufferevent_ssl.h>
#include <event2/listener.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "common/log.h"
#include "frontend/conn.h"
#include "frontend/frontend.h"

#define FE_REFUSED_LINGER	2	/* seconds a refused client may read */
#define FE_READ_AHEAD		(2 * FE_MAX_HEADERS)	/* held from evhttp */
#define FE_TLS_RECORD_HANDSHAKE	0x16	/* a ClientHello's first byte */

TAILQ_HEAD(fe_conn_list, fe_conn);

static struct evconnlistener	*http_listener;
static struct event		*http_adopt_ev;
static struct fe_conn_list	 http_conns = TAILQ_HEAD_INITIALIZER(http_conns);
static int			 http_nconns;
static int			 http_paused;
static int			 http_webhook_rx;	/* large webhook bodies coming in */
static time_t			 http_cap_logged;	/* the last "too many" log line */

static void	http_feed(struct fe_conn *, struct evbuffer *, struct evbuffer *);

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

/* the filter bufferevent is being freed: the connection is gone */
static void
http_conn_gone(void *arg)
{
	struct fe_conn	*fc = arg;

	if (fc->sse != NULL)
		sse_closed(fc->sse);
	http_webhook_rx_end(fc);
	TAILQ_REMOVE(&http_conns, fc, entry);
	evbuffer_remove_cb_entry(bufferevent_get_output(fc->bev), fc->outcb);
	event_free(fc->flush);
	if (fc->writable != NULL)
		event_free(fc->writable);
	event_free(fc->deadline);
	if (fc->peek != NULL)
		event_free(fc->peek);
	free(fc);
	http_nconns--;
	if (http_paused && http_nconns < FE_MAX_CONNS && http_listener != NULL) {
		evconnlistener_enable(http_listener);
		http_paused = 0;
		log_info("%s: accepting connections again", __func__);
	}
}

/* evhttp frees a connection it knew us to hold (http_conn_of) */
static void
http_conn_closed(struct evhttp_connection *evcon, void *arg)
{
	struct fe_conn	*fc = arg;

	if (fc->sse != NULL)
		sse_closed(fc->sse);
	fc->sse = NULL;
	fc->evcon = NULL;
	fc->kill = 1;
	fc->closed = 1;
	evtimer_del(fc->deadline);
	/* evhttp closes the socket now: nothing may wait on it */
	if (fc->writable != NULL)
		event_del(fc->writable);
	if (fc->peek != NULL)
		event_del(fc->peek);
	if (fc->ssl != NULL && SSL_is_init_finished(fc->ssl) &&
	    !fc->write_failed) {
		(void)SSL_shutdown(fc->ssl);	/* close_notify, best effort */
		ERR_clear_error();
	}
}

/* a reply of our own to the socket: through TLS on an HTTPS connection */
static int
http_raw_send(struct fe_conn *fc, evutil_socket_t fd, const char *buf,
    size_t len)
{
	int	n;

	if (fc->ssl == NULL)
		return (int)send(fd, buf, len, MSG_NOSIGNAL);
	ERR_clear_error();
	if ((n = SSL_write(fc->ssl, buf, (int)len)) <= 0) {
		ERR_clear_error();
		return -1;
	}
	return n;
}

static void
http_close(struct fe_conn *fc)
{
	bufferevent_event_cb	ecb;

	if (fc->evcon != NULL) {
		/* calls http_conn_closed; the bufferevent goes later */
		evhttp_connection_free(fc->evcon);
		return;
	}
	/*
	 * evhttp may have freed it already (its callbacks are gone, fc goes
	 * with it from the loop): a reference taken now would free it again.
	 */
	bufferevent_getcb(fc->bev, NULL, NULL, &ecb, NULL);
	if (ecb == NULL)
		return;
	/* no request yet: as if the client had closed it */
	bufferevent_trigger_event(fc->bev, BEV_EVENT_EOF | BEV_EVENT_READING,
	    0);
}

/* a request too slow to come in, or a connection to be closed */
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
	if (fc->phase == PH_HEAD) {
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
	fc->body_bytes = 0;
	fc->started = fe_now();
	evtimer_add(fc->deadline, &tv);
}

/* close fc soon, from the loop: we may be inside its own callbacks */
static void
http_kill_soon(struct fe_conn *fc, int secs)
{
	struct timeval	tv = { secs, 0 };

	fc->kill = 1;
	fc->reading = 0;
	evtimer_add(fc->deadline, &tv);
}

/*
 * Refuse fc's first request ourselves (evhttp has no connection for us to
 * set a limit on yet): the reply written straight to the socket, the rest
 * of its input dropped, the connection closed once the client had time to
 * read it.
 */
static void
http_refuse(struct fe_conn *fc, int status, const char *reason,
    const char *code, const char *msg)
{
	char		 body[256], head[1024];
	int		 blen, hlen;
	evutil_socket_t	 fd = bufferevent_getfd(fc->bev);

	blen = snprintf(body, sizeof(body),
	    "{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}", code, msg);
	hlen = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\n"
	    "Content-Type: application/json\r\nContent-Length: %d\r\n"
	    "Connection: close\r\nContent-Security-Policy: " FE_CSP "\r\n"
	    "X-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\n"
	    "X-Frame-Options: DENY\r\nCache-Control: no-store\r\n\r\n",
	    status, reason, blen);
	log_warnx("client %s: %d %s", fc->key, status, msg);
	fc->refused = 1;
	http_webhook_rx_end(fc);
	if (fd != -1 && blen > 0 && hlen > 0 && (size_t)blen < sizeof(body) &&
	    (size_t)hlen < sizeof(head)) {
		/* a fresh connection's send buffer holds this much */
		if (http_raw_send(fc, fd, head, (size_t)hlen) == hlen)
			(void)http_raw_send(fc, fd, body, (size_t)blen);
		if (fc->ssl == NULL)
			(void)shutdown(fd, SHUT_WR);
	}
	http_kill_soon(fc, FE_REFUSED_LINGER);
}

/*
 * A request's head is all in (head[0..len)): its route's body limit, set
 * on evhttp's connection when we know it, else (a connection's first
 * request) kept by us.  0 to pass it on, -1 when refused.
 */
static int
http_decide(struct fe_conn *fc, const char *head, size_t len)
{
	struct evhttp_uri	*uri;
	const char		*path, *method, *target, *eol;
	char			 tgt[FE_MAX_HEADERS + 1], msg[128];
	size_t			 llen, mlen, tlen;
	long long		 clen, limit;
	int			 webhook = 0, chunked;

	eol = memchr(head, '\n', len);
	llen = eol != NULL ? (size_t)(eol - head) : len;
	if (llen > 0 && head[llen - 1] == '\r')
		llen--;
	if (webhook_route != NULL && http_request_line(head, llen, &method,
	    &mlen, &target, &tlen) == 0 && mlen == 4 &&
	    memcmp(method, "POST", 4) == 0) {
		/* the target's path as http_request sees it */
		memcpy(tgt, target, tlen);
		tgt[tlen] = '\0';
		if ((uri = evhttp_uri_parse_with_flags(tgt,
		    EVHTTP_URI_NONCONFORMANT)) != NULL) {
			path = evhttp_uri_get_path(uri);
			webhook = path != NULL &&
			    (strcmp(path, FE_HOOK_PATH) == 0 ||
			    strncmp(path, FE_HOOK_PATH "/",
			    sizeof(FE_HOOK_PATH)) == 0);
			evhttp_uri_free(uri);
		}
	}
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
	limit = webhook ? FE_MAX_WEBHOOK_BODY : FE_MAX_API_BODY;
	if (http_head_body(head, len, &clen, &chunked) == -1) {
		if (fc->evcon == NULL) {
			http_refuse(fc, 400, "Bad Request", "bad_request",
			    "bad Content-Length or Transfer-Encoding");
			return -1;
		}
		clen = -1;	/* evhttp's to judge */
		chunked = 1;
	}
	if (fc->evcon != NULL)
		evhttp_connection_set_max_body_size(fc->evcon, limit);
	else if (clen > limit) {
		snprintf(msg, sizeof(msg), "request body larger than %lld "
		    "bytes", limit);
		http_refuse(fc, 413, "Payload Too Large", "too_large", msg);
		return -1;
	}
	fc->raw_limit = (size_t)limit;
	if (chunked)
		fc->phase = PH_PASS;
	else if (clen > 0) {
		fc->phase = PH_BODY;
		fc->body_left = clen;
	} else
		fc->phase = PH_WAIT;
	return 0;
}

/*
 * Bytes came that evhttp does not see yet: its idle timeout must not take
 * them for silence (the head's own is http_deadline's).  An event stream
 * keeps its own.
 */
static void
http_held(struct fe_conn *fc)
{
	struct timeval	tv = { FE_HTTP_TIMEOUT, 0 };

	if (fc->sse == NULL)
		bufferevent_set_timeouts(fc->bev, &tv, &tv);
}

/*
 * Move what evhttp may see from src (the socket's input) to dst (evhttp's):
 * a request's head only once it is all in and its limit set, its body as
 * it comes, and nothing of the next request until evhttp has this one.
 */
static void
http_feed(struct fe_conn *fc, struct evbuffer *src, struct evbuffer *dst)
{
	size_t		 n, k;
	ssize_t		 end;
	unsigned char	*p;

	while ((n = evbuffer_get_length(src)) > 0) {
		if (fc->refused || fc->kill) {
			evbuffer_drain(src, n);
			return;
		}
		switch (fc->phase) {
		case PH_HEAD:
			if (!fc->reading)
				http_reading(fc);
			k = n > FE_MAX_HEADERS + 1 ? FE_MAX_HEADERS + 1 : n;
			if ((p = evbuffer_pullup(src, (ev_ssize_t)k)) == NULL)
				fatalx("%s: evbuffer_pullup", __func__);
			end = http_head_scan(&fc->head_state,
			    (char *)p + fc->head_scanned, k - fc->head_scanned);
			if (end < 0) {
				fc->head_scanned = k;
				if (k <= FE_MAX_HEADERS) {
					/* not all in yet */
					http_held(fc);
					return;
				}
				/* evhttp refuses it */
				fc->phase = PH_PASS;
				fc->raw_limit = FE_MAX_API_BODY;
				if (fc->evcon != NULL)
					evhttp_connection_set_max_body_size(
					    fc->evcon, FE_MAX_API_BODY);
				break;
			}
			end += (ssize_t)fc->head_scanned;
			fc->head_state = 0;
			fc->head_scanned = 0;
			if (http_decide(fc, (char *)p, (size_t)end) == -1)
				break;
			fc->started = fe_now();
			evbuffer_remove_buffer(src, dst, (size_t)end);
			break;
		case PH_BODY:
			k = (long long)n < fc->body_left ? n :
			    (size_t)fc->body_left;
			evbuffer_remove_buffer(src, dst, k);
			fc->body_bytes += k;
			if ((fc->body_left -= (long long)k) == 0)
				fc->phase = PH_WAIT;
			break;
		case PH_WAIT:
			return;
		case PH_PASS:
			evbuffer_remove_buffer(src, dst, n);
			fc->body_bytes += n;
			if (fc->evcon == NULL && fc->body_bytes > fc->raw_limit)
				http_refuse(fc, 413, "Payload Too Large",
				    "too_large", "request body too large");
			break;
		}
	}
}

/* BEV_OK only when it moved something: libevent calls again until not */
static enum bufferevent_filter_result
http_filter_in(struct evbuffer *src, struct evbuffer *dst, ev_ssize_t limit,
    enum bufferevent_flush_mode mode, void *arg)
{
	size_t	before = evbuffer_get_length(dst);

	http_feed(arg, src, dst);
	return evbuffer_get_length(dst) > before ? BEV_OK : BEV_NEED_MORE;
}

/* HTTPS: the first byte, before the handshake reads it */
static void
http_peek(evutil_socket_t fd, short ev, void *arg)
{
	struct fe_conn	*fc = arg;
	unsigned char	 b;
	ssize_t		 n;

	if (fc->closed || fc->kill)
		return;
	/*
	 * Only while OpenSSL has read nothing: once it has (this event may
	 * come late, under load), the byte at the socket's head is a later
	 * record's (0x17, application data), not the connection's first.
	 */
	if (fc->ssl != NULL && SSL_get_rbio(fc->ssl) != NULL &&
	    BIO_number_read(SSL_get_rbio(fc->ssl)) > 0)
		return;
	if ((n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT)) == -1 &&
	    (errno == EAGAIN || errno == EINTR)) {
		event_add(fc->peek, NULL);
		return;
	}
	if (n == 1 && b != FE_TLS_RECORD_HANDSHAKE) {
		/*
		 * Nor may the handshake go on: it runs on writability too,
		 * would read the plain bytes and fail, and evhttp would free
		 * the connection from it, before http_close does.
		 */
		bufferevent_disable(fc->sock, EV_READ | EV_WRITE);
		fc->refused = 1;
		http_kill_soon(fc, 0);
		log_warnx("client %s: 400 plain HTTP on the HTTPS port", fc->key);
		tls_refuse_plain(fd);
	}
	/* else TLS, or the end: the handshake's to see */
}

/* the connections evhttp made since the last time: who their peers are */
static void
http_adopt(evutil_socket_t fd, short ev, void *arg)
{
	struct fe_conn		*fc, *c;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	char			 peer[NI_MAXHOST];
	evutil_socket_t		 s;
	int			 same;
	time_t			 now;

	TAILQ_FOREACH(fc, &http_conns, entry) {
		if (fc->adopted)
			continue;
		fc->adopted = 1;
		sslen = sizeof(ss);
		if ((s = bufferevent_getfd(fc->bev)) == -1 ||
		    getpeername(s, (struct sockaddr *)&ss, &sslen) == -1 ||
		    getnameinfo((struct sockaddr *)&ss, sslen, peer,
		    sizeof(peer), NULL, 0, NI_NUMERICHOST) != 0)
			snprintf(peer, sizeof(peer), "?");
		client_key(peer, fc->key, sizeof(fc->key));
		if (fc->ssl != NULL && s != -1) {
			/* before the handshake's first read (priority 0) */
			if ((fc->peek = event_new(fenv->base, s, EV_READ,
			    http_peek, fc)) == NULL ||
			    event_priority_set(fc->peek, 0) == -1 ||
			    event_add(fc->peek, NULL) == -1)
				fatalx("%s: event_new", __func__);
		}
		fc->counted = !client_addr_trusted(&fenv->cfg.proxies, peer);
		same = 0;
		if (fc->counted)
			TAILQ_FOREACH(c, &http_conns, entry)
				if (c != fc && c->adopted && c->counted &&
				    !c->kill && strcmp(c->key, fc->key) == 0)
					same++;
		if (same >= FE_MAX_CONNS_PER_ADDR) {
			bufferevent_disable(fc->bev, EV_READ);
			http_kill_soon(fc, 0);
			if ((now = fe_now()) != http_cap_logged) {
				http_cap_logged = now;
				log_warnx("client %s: %d connections already: "
				    "closing new ones", fc->key,
				    FE_MAX_CONNS_PER_ADDR);
			}
		}
	}
}

/* the connection a request came on; NULL if it has gone */
static struct fe_conn *
http_conn_of(struct evhttp_request *req)
{
	struct evhttp_connection	*evcon = evhttp_request_get_connection(req);
	struct bufferevent		*bev;
	struct fe_conn			*fc;

	if (evcon == NULL)
		return NULL;
	bev = evhttp_connection_get_bufferevent(evcon);
	TAILQ_FOREACH(fc, &http_conns, entry)
		if (fc->bev == bev)
			break;
	if (fc == NULL)
		return NULL;
	if (fc->evcon == NULL && !fc->kill) {
		fc->evcon = evcon;
		evhttp_connection_set_closecb(evcon, http_conn_closed, fc);
	}
	return fc->evcon == evcon ? fc : NULL;
}

/*
 * evhttp's new connection: a socket bufferevent under a filter of ours,
 * through which evhttp reads (http_filter_in).  evhttp sets its socket.
 */
static struct bufferevent *
http_newconn(struct event_base *base, void *arg)
{
	struct fe_conn		*fc;
	struct bufferevent	*sock;
	bufferevent_data_cb	 rcb, wcb;
	bufferevent_event_cb	 ecb;
	void			*cbarg;

	if ((fc = calloc(1, sizeof(*fc))) == NULL)
		fatal("%s", __func__);
	if (tls_ctx() != NULL) {
		/* evhttp sets the socket; the handshake starts then */
		if ((fc->ssl = SSL_new(tls_ctx())) == NULL ||
		    (sock = bufferevent_openssl_socket_new(base, -1, fc->ssl,
		    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE)) == NULL)
			fatalx("%s: TLS bufferevent", __func__);
		bufferevent_openssl_set_allow_dirty_shutdown(sock, 1);
	} else if ((sock = bufferevent_socket_new(base, -1,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL)
		fatalx("%s: bufferevent", __func__);
	fc->sock = sock;
	if ((fc->bev = bufferevent_filter_new(sock, http_filter_in,
	    http_filter_out, BEV_OPT_CLOSE_ON_FREE, http_conn_gone, fc)) == NULL)
		fatalx("%s: bufferevent", __func__);
	/*
	 * The socket's bufferevent has nothing to write (the filter writes
	 * to the socket), yet calls the filter's write callback once, when
	 * first writable; libevent 2.1 runs it holding no reference: should
	 * evhttp write a reply from it and free the connection (Connection:
	 * close), the filter re-arms its write timeout on itself as it is
	 * freed (a freed timer: a crash, or event_base_free spinning).
	 */
	bufferevent_getcb(sock, &rcb, &wcb, &ecb, &cbarg);
	bufferevent_setcb(sock, rcb, NULL, ecb, cbarg);
	/* what the filter holds back (the next request) is bounded */
	bufferevent_setwatermark(sock, EV_READ, 0, FE_READ_AHEAD);
	if ((fc->deadline = evtimer_new(base, http_deadline, fc)) == NULL ||
	    (fc->flush = event_new(base, -1, 0, http_out_flush, fc)) == NULL)
		fatalx("%s: event_new", __func__);
	if ((fc->outcb = evbuffer_add_cb(bufferevent_get_output(fc->bev),
	    http_out_added, fc)) == NULL)
		fatalx("%s: evbuffer_add_cb", __func__);
	fc->phase = PH_HEAD;
	TAILQ_INSERT_TAIL(&http_conns, fc, entry);
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

/* a request's body is in: what follows on its connection is the next request */
void
conn_request_in(struct evhttp_request *req)
{
	struct fe_conn	*fc;

	if ((fc = http_conn_of(req)) != NULL) {
		http_webhook_rx_end(fc);
		fc->reading = 0;
		evtimer_del(fc->deadline);
		if (fc->phase == PH_PASS)
			/* where its chunked body ended is evhttp's to know */
			evhttp_add_header(evhttp_request_get_output_headers(req),
			    "Connection", "close");
		else {
			fc->phase = PH_HEAD;
			/* pipelined: the next one may have begun */
			http_feed(fc, bufferevent_get_input(
			    bufferevent_get_underlying(fc->bev)),
			    bufferevent_get_input(fc->bev));
		}
	}
}

/*
 * libevent's own messages, in davit's log.  Its filter's "too few
 * references" means a bufferevent freed a second time (a freed timer of
 * the filter's came due): a warning like the others.
 */
static void
http_libevent_log(int severity, const char *msg)
{
	if (severity < EVENT_LOG_WARN)
		log_debug("libevent: %s", msg);
	else
		log_warnx("libevent: %s", msg);
}

/* evhttp's connections come through http_newconn */
void
conn_init(struct evhttp *http)
{
	event_set_log_callback(http_libevent_log);
	if ((http_adopt_ev = event_new(fenv->base, -1, 0, http_adopt,
	    NULL)) == NULL || event_priority_set(http_adopt_ev, 0) == -1)
		fatalx("%s: event_new", __func__);
	evhttp_set_bevcb(http, http_newconn, NULL);
}

/* the listener to pause at FE_MAX_CONNS */
void
conn_listener(struct evconnlistener *listener)
{
	http_listener = listener;
}

/* after evhttp_free: the connections' records go with their bufferevents */
void
conn_shutdown(void)
{
	http_listener = NULL;
	if (http_adopt_ev != NULL)
		event_free(http_adopt_ev);
	http_adopt_ev = NULL;
}
