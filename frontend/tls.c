/*
 * HTTPS: the frontend's TLS contexts, built from a certificate and key it
 * is handed, never from files it opens.  One way in, spawned or under
 * systemd: the backend's reply to tls.get (link.c's handshake, and again
 * at each tls.reload event, which the backend publishes after a SIGHUP
 * that re-read the files) holds a bundle, "davit-tls CERTLEN KEYLEN\n"
 * then the PEM bytes of the certificate (chain) and of the key, or null
 * (plain HTTP).  The first comes before the listener serves; a later one
 * makes a new context, and a bad one leaves the one in use.
 *
 * A new context serves new connections; each connection's SSL holds a
 * reference to the context it began with, so renewing drops nothing.
 * TLS 1.2 and 1.3 only, no renegotiation, no compression, no session
 * tickets; OpenSSL's TLS 1.3 suites, ECDHE with AES-GCM or ChaCha20 for
 * 1.2.  The key's bytes are wiped once parsed and never logged.  Also
 * here: conn.c's writes through SSL (tls_write) and the plain-text 400 for
 * a client speaking plain HTTP to the port (tls_refuse_plain).
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "common/log.h"
#include "frontend/frontend.h"

#define FE_TLS_HEAD_MAX		64	/* "davit-tls CERTLEN KEYLEN\n" */
#define FE_TLS12_CIPHERS	"ECDHE+AESGCM:ECDHE+CHACHA20"
#define FE_TLS_PLAIN_MAX	64	/* plain-HTTP refusals lingering at once */
#define FE_TLS_PLAIN_LINGER	2	/* seconds a refused client may read */
#define FE_TLS_DRAIN_BUF	4096

static SSL_CTX		*tls_cur;	/* for new connections; NULL: plain HTTP */
static int		 tls_plain;	/* plain-HTTP refusals lingering */

/*
 * Pure: a bundle in buf[0..len)?  Its total length (the header's length,
 * the certificate's and the key's in *hlen, *clen, *klen), 0 when more is
 * needed, -1 when it is not one.
 */
ssize_t
tls_bundle_parse(const char *buf, size_t len, size_t *hlen, size_t *clen,
    size_t *klen)
{
	static const char	 magic[] = "davit-tls ";
	const char		*nl, *p;
	char			*end;
	unsigned long long	 c, k;
	size_t			 i;

	for (i = 0; i < len && i < sizeof(magic) - 1; i++)
		if (buf[i] != magic[i])
			return -1;
	if ((nl = memchr(buf, '\n', len < FE_TLS_HEAD_MAX ? len :
	    FE_TLS_HEAD_MAX)) == NULL)
		return len < FE_TLS_HEAD_MAX ? 0 : -1;
	if ((size_t)(nl - buf) < sizeof(magic) - 1)
		return -1;
	for (p = buf + sizeof(magic) - 1; p < nl; p++)
		if ((*p < '0' || *p > '9') && *p != ' ')
			return -1;
	p = buf + sizeof(magic) - 1;
	if (*p < '1' || *p > '9')
		return -1;
	errno = 0;
	c = strtoull(p, &end, 10);
	if (errno != 0 || *end != ' ' || end[1] < '1' || end[1] > '9')
		return -1;
	k = strtoull(end + 1, &end, 10);
	if (errno != 0 || end != nl || c > FE_TLS_CERT_MAX ||
	    k > FE_TLS_KEY_MAX)
		return -1;
	*hlen = (size_t)(nl - buf) + 1;
	*clen = (size_t)c;
	*klen = (size_t)k;
	if (len < *hlen + *clen + *klen)
		return 0;
	return (ssize_t)(*hlen + *clen + *klen);
}

/* a key with a passphrase is refused: nobody is there to type it */
static int
tls_no_passphrase(char *buf, int size, int rw, void *u)
{
	return 0;
}

static void
tls_why(char *why, size_t len, const char *what)
{
	unsigned long	e = ERR_peek_last_error();

	snprintf(why, len, "%s%s%s", what, e != 0 ? ": " : "",
	    e != 0 ? ERR_reason_error_string(e) : "");
	ERR_clear_error();
}

/* a server context from PEM bytes; NULL with why */
static SSL_CTX *
tls_ctx_new(const char *cert, size_t clen, const char *key, size_t klen,
    char *why, size_t whylen)
{
	SSL_CTX		*ctx = NULL;
	BIO		*bio = NULL;
	X509		*x = NULL;
	EVP_PKEY	*pk = NULL;
	char		 serial[128] = "?", subject[256] = "?";
	ASN1_INTEGER	*sn;
	BIGNUM		*bn;
	char		*hex;

	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL ||
	    !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_cipher_list(ctx, FE_TLS12_CIPHERS)) {
		tls_why(why, whylen, "TLS context");
		goto fail;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION |
	    SSL_OP_NO_TICKET);
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	if ((bio = BIO_new_mem_buf(cert, (int)clen)) == NULL ||
	    (x = PEM_read_bio_X509_AUX(bio, NULL, tls_no_passphrase,
	    NULL)) == NULL || SSL_CTX_use_certificate(ctx, x) != 1) {
		tls_why(why, whylen, "the certificate");
		goto fail;
	}
	for (;;) {	/* the chain, if any */
		X509	*ca;

		if ((ca = PEM_read_bio_X509(bio, NULL, tls_no_passphrase,
		    NULL)) == NULL)
			break;
		if (SSL_CTX_add0_chain_cert(ctx, ca) != 1) {
			X509_free(ca);
			tls_why(why, whylen, "the certificate chain");
			goto fail;
		}
	}
	ERR_clear_error();	/* the chain's end */
	BIO_free(bio);
	if ((bio = BIO_new_mem_buf(key, (int)klen)) == NULL ||
	    (pk = PEM_read_bio_PrivateKey(bio, NULL, tls_no_passphrase,
	    NULL)) == NULL || SSL_CTX_use_PrivateKey(ctx, pk) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		tls_why(why, whylen, "the key (PEM, no passphrase, the "
		    "certificate's)");
		goto fail;
	}
	BIO_free(bio);
	EVP_PKEY_free(pk);
	if ((sn = X509_get_serialNumber(x)) != NULL &&
	    (bn = ASN1_INTEGER_to_BN(sn, NULL)) != NULL) {
		if ((hex = BN_bn2hex(bn)) != NULL) {
			snprintf(serial, sizeof(serial), "%s", hex);
			OPENSSL_free(hex);
		}
		BN_free(bn);
	}
	X509_NAME_oneline(X509_get_subject_name(x), subject, sizeof(subject));
	log_info("TLS certificate %s, serial %s", subject, serial);
	X509_free(x);
	return ctx;
 fail:
	BIO_free(bio);
	X509_free(x);
	EVP_PKEY_free(pk);
	SSL_CTX_free(ctx);
	return NULL;
}

/* a complete bundle: the new context, or the old one kept */
static int
tls_take(const char *b, size_t hlen, size_t clen, size_t klen, char *why,
    size_t whylen)
{
	SSL_CTX	*ctx;

	if ((ctx = tls_ctx_new(b + hlen, clen, b + hlen + clen, klen, why,
	    whylen)) == NULL)
		return -1;
	SSL_CTX_free(tls_cur);	/* connections keep their own reference */
	tls_cur = ctx;
	return 0;
}

/*
 * tls.get's result: {"bundle": the bundle or null}.  0 (a new context, or
 * null: nothing to do), or -1 with why (the context in use is kept).  The
 * key's bytes in the reply's tree are wiped.
 */
int
tls_from_reply(yajl_val result, char *why, size_t whylen)
{
	const char	*path[] = { "bundle", NULL };
	yajl_val	 v = yajl_tree_get(result, path, yajl_t_any);
	size_t		 hlen, clen, klen, len;
	ssize_t		 total;
	int		 rv = -1;

	if (v == NULL || YAJL_IS_NULL(v)) {
		if (tls_cur != NULL)
			log_warnx("TLS: the backend has no certificate now; "
			    "HTTPS goes on with the one in use until a "
			    "restart");
		return 0;
	}
	if (!YAJL_IS_STRING(v)) {
		snprintf(why, whylen, "tls.get: no bundle");
		return -1;
	}
	len = strlen(v->u.string);
	if ((total = tls_bundle_parse(v->u.string, len, &hlen, &clen,
	    &klen)) <= 0 || (size_t)total != len)
		snprintf(why, whylen, "tls.get: not a certificate bundle");
	else
		rv = tls_take(v->u.string, hlen, clen, klen, why, whylen);
	OPENSSL_cleanse(v->u.string, len);
	return rv;
}

static void
tls_reply(void *arg, const struct proto_reply *r)
{
	char	why[256];

	if (r == NULL)
		return;		/* the link is gone: its handshake asks again */
	if (!r->ok)
		log_warnx("TLS reload: tls.get: %s: the certificate in use "
		    "is kept", r->error_code);
	else if (tls_from_reply(r->result, why, sizeof(why)) == -1)
		log_warnx("TLS reload: %s: the certificate in use is kept",
		    why);
	else
		log_info("TLS reload: new connections use the new "
		    "certificate");
}

/* the tls.reload event: ask the backend for the renewed files */
void
tls_reload(void)
{
	struct proto_request	req;
	struct proto_error	err;

	proto_request_init(&req, OP_TLS_GET, 0);
	if (backend_request(&req, tls_reply, NULL, &err) == -1)
		log_warnx("TLS reload: %s", err.message);
}

/*
 * conn.c's filter, HTTPS: the first contiguous part of src through SSL_write (partial
 * writes on, the buffer may move between tries); as evbuffer_write does:
 * the bytes written, or -1 with errno EAGAIN to wait for the socket.
 */
int
tls_write(SSL *ssl, struct evbuffer *src)
{
	struct evbuffer_iovec	 v;
	int			 n, e;

	if (evbuffer_peek(src, -1, NULL, &v, 1) < 1 || v.iov_len == 0)
		return 0;
	if (v.iov_len > INT_MAX)
		v.iov_len = INT_MAX;
	ERR_clear_error();
	if ((n = SSL_write(ssl, v.iov_base, (int)v.iov_len)) > 0) {
		evbuffer_drain(src, (size_t)n);
		return n;
	}
	e = SSL_get_error(ssl, n);
	ERR_clear_error();
	errno = e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ ?
	    EAGAIN : EPIPE;
	return -1;
}

struct fe_plain {
	evutil_socket_t	 fd;	/* our duplicate of the socket */
	struct event	*ev;	/* its input, drained */
	struct event	*done;	/* FE_REFUSED_LINGER */
};

static void
tls_plain_end(evutil_socket_t fd, short ev, void *arg)
{
	struct fe_plain	*pl = arg;

	event_free(pl->ev);
	event_free(pl->done);
	close(pl->fd);
	free(pl);
	tls_plain--;
}

static void
tls_plain_drain(evutil_socket_t fd, short ev, void *arg)
{
	struct fe_plain	*pl = arg;
	char		 buf[FE_TLS_DRAIN_BUF];
	ssize_t		 n;

	if ((n = read(fd, buf, sizeof(buf))) == 0 || (n == -1 &&
	    errno != EAGAIN && errno != EINTR))
		event_active(pl->done, EV_TIMEOUT, 0);
}

/*
 * A client spoke plain HTTP to the HTTPS port (conn.c's http_peek): a
 * plain-text 400 on a duplicate of its socket, which stays open (its input
 * drained) for FE_TLS_PLAIN_LINGER seconds whatever becomes of the
 * connection, so that its closing does not reset it before the client
 * has read the answer.
 */
void
tls_refuse_plain(evutil_socket_t fd)
{
	static const char	 body[] = FE_TLS_PLAIN_MSG "\n";
	char			 head[256];
	struct fe_plain		*pl;
	struct timeval		 tv = { FE_TLS_PLAIN_LINGER, 0 };
	int			 hlen;

	if (tls_plain >= FE_TLS_PLAIN_MAX)
		return;
	if ((pl = calloc(1, sizeof(*pl))) == NULL)
		fatal("%s", __func__);
	if ((pl->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) == -1) {
		log_warn("%s: fcntl", __func__);
		free(pl);
		return;
	}
	hlen = snprintf(head, sizeof(head), "HTTP/1.1 400 Bad Request\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n"
	    "X-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\n"
	    "\r\n", sizeof(body) - 1);
	if (send(pl->fd, head, (size_t)hlen, MSG_NOSIGNAL) == hlen)
		(void)send(pl->fd, body, sizeof(body) - 1, MSG_NOSIGNAL);
	(void)shutdown(pl->fd, SHUT_WR);
	if ((pl->ev = event_new(fenv->base, pl->fd, EV_READ | EV_PERSIST,
	    tls_plain_drain, pl)) == NULL || (pl->done = evtimer_new(
	    fenv->base, tls_plain_end, pl)) == NULL)
		fatalx("%s: event_new", __func__);
	event_add(pl->ev, NULL);
	evtimer_add(pl->done, &tv);
	tls_plain++;
}

SSL_CTX *
tls_ctx(void)
{
	return tls_cur;
}

void
tls_shutdown(void)
{
	SSL_CTX_free(tls_cur);
	tls_cur = NULL;
}
