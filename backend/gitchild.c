/*
 * The git child ("davit-backend --git-child UID GID"): every libgit2
 * operation runs here, in a process exec'd fresh by git.c as root.  Before
 * anything else it makes itself undumpable and drops for good to UID and
 * GID, DAVIT_WORKDIR's owner (never root), and checks the drop; only then
 * does it read one request line on stdin (the token travels there, never in
 * argv or the environment), do one operation, and write JSON lines on
 * stdout (see gitchild.h).  Data from the network is parsed only here.
 *
 * The token goes to origin only: remotes are made without the checkout's
 * url.*.insteadOf, redirects to another host are not followed, every TCP
 * connection must go to origin's host and port (gc_stream_init), TLS only
 * when origin is https, and the credential callback answers only origin's
 * URL over https (http only on loopback).
 *
 * The first half of this file is the codec shared with the parent and the
 * unit tests; the second half is the child itself.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <grp.h>
#include <limits.h>
#include <netdb.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <git2.h>
#include <git2/sys/stream.h>
#include <sodium.h>

#include "backend/backend.h"
#include "backend/gitchild.h"
#include "common/json.h"
#include "common/log.h"

#define GC_FMT_BUF		8192	/* a message before it is scrubbed and cut */
#define GC_CERT_FILE		"/etc/ssl/certs/ca-certificates.crt"
#define GC_CERT_DIR		"/etc/ssl/certs"
#define GC_KNOWN_HOSTS_MAX	(1024 * 1024)	/* bytes of a known_hosts file read */
#define GC_NAMES_IN_MESSAGE	3	/* paths quoted in a refusal */
#define GC_NAME_IN_MESSAGE	48	/* bytes of each */

static const char *const gc_op_names[GC__OPS] = {
	[GC_STATUS] = "status",
	[GC_FETCH] = "fetch",
	[GC_PULL] = "pull",
	[GC_CLONE] = "clone",
	[GC_LSREMOTE] = "ls-remote",
};

/* ------------------------------------------------------------ the codec -- */

/* glibc 2.36 has no strlcpy: the OpenBSD semantics, truncating */
static size_t
gc_strlcpy(char *dst, const char *src, size_t size)
{
	size_t	len = strlen(src);

	if (size > 0) {
		size_t	n = len < size - 1 ? len : size - 1;

		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

static size_t
gc_strlcat(char *dst, const char *src, size_t size)
{
	size_t	dlen = strnlen(dst, size);

	if (dlen == size)
		return dlen + strlen(src);
	return dlen + gc_strlcpy(dst + dlen, src, size - dlen);
}


const char *
gc_op_name(enum gc_op op)
{
	if ((unsigned)op >= GC__OPS)
		return "?";
	return gc_op_names[op];
}

static int
gc_printable(const char *s, int allow_space)
{
	const unsigned char	*u = (const unsigned char *)s;

	for (; *u != '\0'; u++)
		if (*u < 0x20 || *u == 0x7f || (!allow_space && *u == ' '))
			return 0;
	return 1;
}

static int
gc_prefix(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

int
gc_url_is_http(const char *url)
{
	return gc_prefix(url, "https://") || gc_prefix(url, "http://");
}

int
gc_url_valid(const char *url)
{
	static const char *const schemes[] = {
		"https://", "http://", "ssh://", "file://"
	};
	const char	*colon, *slash;
	size_t		 i;

	if (*url == '\0' || strlen(url) > GC_MAX_URL || !gc_printable(url, 0))
		return 0;
	if (*url == '-')
		return 0;
	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (gc_prefix(url, schemes[i]))
			return url[strlen(schemes[i])] != '\0';
	if (strstr(url, "://") != NULL)
		return 0;	/* git://, ftp://, ...: not offered */
	/* scp-like: [user@]host:path, the colon before any slash */
	colon = strchr(url, ':');
	slash = strchr(url, '/');
	return colon != NULL && colon != url && colon[1] != '\0' &&
	    (slash == NULL || colon < slash);
}

static unsigned
gc_default_port(const char *scheme)
{
	if (strcmp(scheme, "https") == 0)
		return 443;
	if (strcmp(scheme, "http") == 0)
		return 80;
	return 22;	/* ssh */
}

int
gc_url_authority(const char *url, struct gc_authority *a)
{
	const char	*p, *end, *at, *host, *hend, *colon;
	size_t		 n, i;
	char		*q;
	unsigned long	 port;

	memset(a, 0, sizeof(*a));
	if (url == NULL || strlen(url) > GC_MAX_URL || !gc_printable(url, 0))
		return -1;
	if ((p = strstr(url, "://")) != NULL) {
		n = p - url;
		if (n == 0 || n >= sizeof(a->scheme))
			return -1;
		for (i = 0; i < n; i++)
			a->scheme[i] = tolower((unsigned char)url[i]);
		if (strcmp(a->scheme, "https") != 0 && strcmp(a->scheme, "http") != 0 &&
		    strcmp(a->scheme, "ssh") != 0)
			return -1;
		p += 3;
		end = p + strcspn(p, "/?#");
	} else {
		/* scp-like [user@]host:path, the colon before any slash */
		colon = strchr(url, ':');
		if (colon == NULL || colon == url ||
		    (strchr(url, '/') != NULL && strchr(url, '/') < colon))
			return -1;
		gc_strlcpy(a->scheme, "ssh", sizeof(a->scheme));
		p = url;
		end = colon;
	}
	/* the last '@' ends the userinfo */
	for (at = NULL, host = p; host < end; host++)
		if (*host == '@')
			at = host;
	host = at != NULL ? at + 1 : p;
	a->port = gc_default_port(a->scheme);
	if (*host == '[') {
		if ((hend = memchr(host, ']', end - host)) == NULL)
			return -1;
		host++;
		colon = hend + 1 < end ? hend + 1 : NULL;
		if (colon != NULL && *colon != ':')
			return -1;
	} else {
		colon = memchr(host, ':', end - host);
		hend = colon != NULL ? colon : end;
	}
	n = hend - host;
	if (n == 0 || n >= sizeof(a->host))
		return -1;
	memcpy(a->host, host, n);
	a->host[n] = '\0';
	for (q = a->host; *q != '\0'; q++)
		*q = tolower((unsigned char)*q);
	if (colon != NULL && colon + 1 < end) {
		if (end - (colon + 1) > 5)
			return -1;
		port = 0;
		for (p = colon + 1; p < end; p++) {
			if (*p < '0' || *p > '9')
				return -1;
			port = port * 10 + (*p - '0');
		}
		if (port == 0 || port > 65535)
			return -1;
		a->port = (unsigned)port;
	}
	return 0;
}

int
gc_host_is_loopback(const char *host)
{
	const char	*p;
	int		 dots = 0;

	if (strcasecmp(host, "localhost") == 0 || strcmp(host, "::1") == 0 ||
	    strcmp(host, "0:0:0:0:0:0:0:1") == 0)
		return 1;
	if (strncmp(host, "127.", 4) != 0)
		return 0;
	for (p = host; *p != '\0'; p++) {
		if (*p == '.')
			dots++;
		else if (*p < '0' || *p > '9')
			return 0;
	}
	return dots == 3;
}

int
gc_same_server(const struct gc_authority *origin, const char *host,
    unsigned port)
{
	char	h[GC_MAX_HOST + 1];
	size_t	n = strlen(host);

	/* libgit2 may hand an IPv6 address in brackets */
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		if (n - 2 >= sizeof(h))
			return 0;
		memcpy(h, host + 1, n - 2);
		h[n - 2] = '\0';
		host = h;
	}
	return strcasecmp(origin->host, host) == 0 && origin->port == port;
}

int
gc_token_allowed(const char *origin_url, const char *asking_url)
{
	struct gc_authority	o, a;

	if (gc_url_authority(origin_url, &o) == -1 ||
	    gc_url_authority(asking_url, &a) == -1)
		return 0;
	if (strcmp(o.scheme, a.scheme) != 0 || !gc_same_server(&o, a.host, a.port))
		return 0;
	if (strcmp(a.scheme, "https") == 0)
		return 1;
	return strcmp(a.scheme, "http") == 0 && gc_host_is_loopback(a.host);
}

/* refs/heads/<branch>: git's rules for a ref name component list */
static int
gc_branch_valid(const char *b)
{
	size_t	len = strlen(b);

	if (len == 0 || len > GC_MAX_BRANCH || b[0] == '-' || b[0] == '/' ||
	    b[len - 1] == '/' || b[len - 1] == '.')
		return 0;
	if (strstr(b, "..") != NULL || strstr(b, "@{") != NULL ||
	    strstr(b, "//") != NULL || strstr(b, "/.") != NULL || b[0] == '.' ||
	    (len >= 5 && strcmp(b + len - 5, ".lock") == 0) || strcmp(b, "@") == 0)
		return 0;
	for (; *b != '\0'; b++)
		if ((unsigned char)*b <= 0x20 || *b == 0x7f ||
		    strchr("~^:?*[\\", *b) != NULL)
			return 0;
	return 1;
}

static char *
gc_strdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		fatal("%s", __func__);
	return p;
}

int
gc_request_parse(const char *line, size_t len, struct gc_request *req,
    char *err, size_t errlen)
{
	static const char *const keys[] = { "op", "workdir", "url", "branch", "token" };
	const char	*vals[5] = { NULL };
	yajl_val	 tree, v;
	char		 perr[128];
	size_t		 i, k, n;
	int		 op;

	memset(req, 0, sizeof(*req));
	req->op = GC__OPS;
	if (len > GC_MAX_REQUEST) {
		snprintf(err, errlen, "request longer than %d bytes", GC_MAX_REQUEST);
		return -1;
	}
	if ((tree = json_parse(line, len, perr, sizeof(perr))) == NULL) {
		snprintf(err, errlen, "request: %s", perr);
		return -1;
	}
	if (tree->type != yajl_t_object) {
		snprintf(err, errlen, "request: not a JSON object");
		goto fail;
	}
	for (i = 0; i < tree->u.object.len; i++) {
		for (k = 0; k < 5; k++)
			if (strcmp(tree->u.object.keys[i], keys[k]) == 0)
				break;
		if (k == 5) {
			snprintf(err, errlen, "request: unknown member \"%.32s\"",
			    tree->u.object.keys[i]);
			goto fail;
		}
		if (vals[k] != NULL) {
			snprintf(err, errlen, "request: member \"%s\" given twice",
			    keys[k]);
			goto fail;
		}
		v = tree->u.object.values[i];
		if (v == NULL || v->type != yajl_t_string) {
			snprintf(err, errlen, "request: \"%s\" must be a string",
			    keys[k]);
			goto fail;
		}
		vals[k] = v->u.string;
	}
	if (vals[0] == NULL || vals[1] == NULL || vals[3] == NULL) {
		snprintf(err, errlen, "request: \"op\", \"workdir\" and \"branch\" "
		    "are required");
		goto fail;
	}
	for (op = 0; op < GC__OPS; op++)
		if (strcmp(vals[0], gc_op_names[op]) == 0)
			break;
	if (op == GC__OPS) {
		snprintf(err, errlen, "request: unknown op \"%.32s\"", vals[0]);
		goto fail;
	}
	n = strlen(vals[1]);
	if (n == 0 || n > GC_MAX_WORKDIR || vals[1][0] != '/' ||
	    !gc_printable(vals[1], 1)) {
		snprintf(err, errlen, "request: \"workdir\" must be an absolute "
		    "path of at most %d printable bytes", GC_MAX_WORKDIR);
		goto fail;
	}
	if (!gc_branch_valid(vals[3])) {
		snprintf(err, errlen, "request: \"branch\" is not a valid branch name");
		goto fail;
	}
	if (vals[2] != NULL && !gc_url_valid(vals[2])) {
		snprintf(err, errlen, "request: \"url\" must be an https, http, ssh "
		    "or file URL of at most %d bytes", GC_MAX_URL);
		goto fail;
	}
	if (vals[2] == NULL && (op == GC_FETCH || op == GC_CLONE ||
	    op == GC_LSREMOTE)) {
		snprintf(err, errlen, "request: op %s needs a \"url\"",
		    gc_op_names[op]);
		goto fail;
	}
	if (vals[4] != NULL) {
		n = strlen(vals[4]);
		/* the value is never quoted: it is a secret */
		if (n == 0 || n > GC_MAX_TOKEN || !gc_printable(vals[4], 0)) {
			snprintf(err, errlen, "request: \"token\" must be 1..%d "
			    "printable bytes without spaces", GC_MAX_TOKEN);
			goto fail;
		}
	}
	req->op = op;
	req->workdir = gc_strdup(vals[1]);
	req->branch = gc_strdup(vals[3]);
	if (vals[2] != NULL)
		req->url = gc_strdup(vals[2]);
	if (vals[4] != NULL)
		req->token = gc_strdup(vals[4]);
	if (vals[4] != NULL)
		explicit_bzero((char *)vals[4], strlen(vals[4]));
	yajl_tree_free(tree);
	return 0;
 fail:
	if (vals[4] != NULL)
		explicit_bzero((char *)vals[4], strlen(vals[4]));
	yajl_tree_free(tree);
	return -1;
}

char *
gc_request_encode(const struct gc_request *req, size_t *len)
{
	yajl_gen	 g = json_gen_new();
	const unsigned char *buf;
	char		*line;
	size_t		 n;

	yajl_gen_map_open(g);
	json_kstr(g, "op", gc_op_name(req->op));
	json_kstr(g, "workdir", req->workdir);
	if (req->url != NULL)
		json_kstr(g, "url", req->url);
	json_kstr(g, "branch", req->branch);
	if (req->token != NULL)
		json_kstr(g, "token", req->token);
	yajl_gen_map_close(g);
	if (yajl_gen_get_buf(g, &buf, &n) != yajl_gen_status_ok)
		fatalx("%s: generator in error state", __func__);
	if ((line = malloc(n + 2)) == NULL)
		fatal("%s", __func__);
	memcpy(line, buf, n);
	line[n] = '\n';
	line[n + 1] = '\0';
	explicit_bzero((void *)buf, n);	/* yajl's own copy of the token */
	yajl_gen_free(g);
	*len = n + 1;
	return line;
}

void
gc_request_free(struct gc_request *req)
{
	free(req->workdir);
	free(req->url);
	free(req->branch);
	if (req->token != NULL) {
		explicit_bzero(req->token, strlen(req->token));
		free(req->token);
	}
	memset(req, 0, sizeof(*req));
	req->op = GC__OPS;
}

void
gc_strip_userinfo(char *s)
{
	char	*p = s, *a, *q, *end, *at;

	while ((p = strstr(p, "://")) != NULL) {
		a = p + 3;
		end = a + strcspn(a, "/?# \t\r\n\"'<>\\");
		at = NULL;
		for (q = a; q < end; q++)
			if (*q == '@')
				at = q;
		if (at != NULL)
			memmove(a, at + 1, strlen(at + 1) + 1);
		p = a;
	}
}

void
gc_scrub(char *s, size_t size, const char *token)
{
	char	*out;
	size_t	 tl, n, i, o = 0, k;
	unsigned char *u;

	if (size == 0)
		return;
	s[size - 1] = '\0';
	gc_strip_userinfo(s);
	if (token != NULL && (tl = strlen(token)) > 0) {
		n = strlen(s);
		if ((out = malloc(size)) == NULL)
			fatal("%s", __func__);
		for (i = 0; i < n && o + 1 < size;) {
			if (n - i >= tl && memcmp(s + i, token, tl) == 0) {
				for (k = 0; k < 3 && o + 1 < size; k++)
					out[o++] = '*';
				i += tl;
				continue;
			}
			out[o++] = s[i++];
		}
		out[o] = '\0';
		memcpy(s, out, o + 1);
		explicit_bzero(out, size);
		free(out);
	}
	for (u = (unsigned char *)s; *u != '\0'; u++)
		if (*u < 0x20 || *u == 0x7f)
			*u = ' ';
}

size_t
gc_cut_utf8(const char *s, size_t len, size_t max)
{
	size_t	n;

	if (len <= max)
		return len;
	n = max;
	/* s[n] is the first byte left out: never cut inside a sequence */
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

size_t
gc_cut_json(const char *s, size_t len, size_t max_encoded)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i, cost, total = 0;

	for (i = 0; i < len; i++) {
		if (u[i] == '"' || u[i] == '\\')
			cost = 2;
		else if (u[i] < 0x20 || u[i] == 0x7f)
			cost = 6;	/* \u00XX */
		else
			cost = 1;
		if (total + cost > max_encoded)
			break;
		total += cost;
	}
	return gc_cut_utf8(s, len, i);
}

void
gc_classify(int rc, int klass, const char *msg, enum gc_auth auth,
    struct gc_class *out)
{
	static const char *const transient[] = {
		"connection refused", "connection reset", "connection timed out",
		"timed out", "timeout", "network is unreachable", "no route to host",
		"host is unreachable", "broken pipe", "early eof", "unexpected eof",
		"failed to resolve address", "name or service not known",
		"temporary failure in name resolution", "could not resolve",
		"no address associated", "failed to connect", "failed to send",
		"failed to receive", "connection closed", "ssl error", "tls error",
	};
	const char	*m = msg != NULL ? msg : "";
	const char	*p;
	size_t		 i;

	out->retry = 0;
	if (auth != GC_AUTH_NONE || rc == GIT_EAUTH) {
		out->code = "unauthorized";
		return;
	}
	if (rc == GIT_ECERTIFICATE) {
		out->code = "unavailable";	/* a bad certificate is not transient */
		return;
	}
	if ((p = strcasestr(m, "status code: ")) != NULL) {
		p += strlen("status code: ");
		if (strncmp(p, "401", 3) == 0 || strncmp(p, "403", 3) == 0 ||
		    strncmp(p, "407", 3) == 0) {
			out->code = "unauthorized";
			return;
		}
		if (strncmp(p, "404", 3) == 0 || strncmp(p, "410", 3) == 0) {
			out->code = "not_found";
			return;
		}
		out->code = "unavailable";
		/* 5xx and 429 are the server's passing trouble */
		out->retry = p[0] == '5' || strncmp(p, "429", 3) == 0 ||
		    strncmp(p, "408", 3) == 0;
		return;
	}
	if (strcasestr(m, "authentication") != NULL ||
	    strcasestr(m, "too many redirects or authentication replays") != NULL) {
		out->code = "unauthorized";
		return;
	}
	if (strcasestr(m, "could not find repository") != NULL ||
	    strcasestr(m, "repository not found") != NULL ||
	    strcasestr(m, "failed to resolve path") != NULL ||
	    strcasestr(m, "does not appear to be a git repository") != NULL) {
		out->code = "not_found";
		return;
	}
	for (i = 0; i < sizeof(transient) / sizeof(transient[0]); i++)
		if (strcasestr(m, transient[i]) != NULL) {
			out->code = "unavailable";
			out->retry = 1;
			return;
		}
	if (rc == GIT_EEOF) {
		out->code = "unavailable";
		out->retry = 1;
		return;
	}
	switch (klass) {
	case GIT_ERROR_NET:
	case GIT_ERROR_HTTP:
	case GIT_ERROR_SSL:
	case GIT_ERROR_SSH:
		/* the network's other troubles: a cut or garbled transfer */
		out->code = "unavailable";
		out->retry = 1;
		return;
	case GIT_ERROR_NOMEMORY:
	case GIT_ERROR_INTERNAL:
		out->code = "internal";
		return;
	default:
		break;
	}
	if (rc == GIT_ENOTFOUND && (klass == GIT_ERROR_REPOSITORY ||
	    klass == GIT_ERROR_REFERENCE)) {
		out->code = "not_found";
		return;
	}
	out->code = "unavailable";
}

static char *
gc_line_take(yajl_gen g, size_t *len)
{
	const unsigned char	*buf;
	char			*line;
	size_t			 n;

	yajl_gen_map_close(g);
	if (yajl_gen_get_buf(g, &buf, &n) != yajl_gen_status_ok)
		fatalx("%s: generator in error state", __func__);
	if (n + 1 > GC_MAX_LINE)
		fatalx("%s: reply line of %zu bytes", __func__, n + 1);
	if ((line = malloc(n + 2)) == NULL)
		fatal("%s", __func__);
	memcpy(line, buf, n);
	line[n] = '\n';
	line[n + 1] = '\0';
	yajl_gen_free(g);
	*len = n + 1;
	return line;
}

/* a string cut to maxraw bytes and maxenc encoded bytes, "..." when cut */
static void
gc_kstr_cut(yajl_gen g, const char *key, const char *s, size_t maxraw,
    size_t maxenc)
{
	char	*buf;
	size_t	 len, n;

	json_key(g, key);
	if (s == NULL) {
		yajl_gen_null(g);
		return;
	}
	len = strlen(s);
	n = gc_cut_utf8(s, len, maxraw);
	n = gc_cut_json(s, n, maxenc);
	if (n == len) {
		json_strn(g, s, len);
		return;
	}
	/* room for the "...": the result stays within both bounds */
	n = gc_cut_utf8(s, len, maxraw > 3 ? maxraw - 3 : 0);
	n = gc_cut_json(s, n, maxenc > 3 ? maxenc - 3 : 0);
	if ((buf = malloc(n + 4)) == NULL)
		fatal("%s", __func__);
	memcpy(buf, s, n);
	memcpy(buf + n, "...", 4);
	json_strn(g, buf, n + 3);
	free(buf);
}

char *
gc_fmt_log(const char *msg, const char *token, size_t *len)
{
	yajl_gen	 g = json_gen_new();
	char		 buf[GC_FMT_BUF];

	gc_strlcpy(buf, msg, sizeof(buf));
	gc_scrub(buf, sizeof(buf), token);
	yajl_gen_map_open(g);
	gc_kstr_cut(g, "log", buf, GC_MAX_LOG, GC_MAX_LINE - 64);
	explicit_bzero(buf, sizeof(buf));
	return gc_line_take(g, len);
}

char *
gc_fmt_fail(const char *code, const char *msg, int retry, const char *token,
    size_t *len)
{
	return gc_fmt_fail_status(code, msg, retry, token, NULL, len);
}

static void
gc_status_gen(yajl_gen g, const struct gc_status *st)
{
	json_key(g, "status");
	yajl_gen_map_open(g);
	gc_kstr_cut(g, "branch", st->branch, GC_MAX_BRANCH, 2 * GC_MAX_BRANCH);
	json_kbool(g, "detached", st->detached);
	json_kbool(g, "unborn", st->unborn);
	json_kint(g, "ahead", st->ahead);
	json_kint(g, "behind", st->behind);
	json_kint(g, "dirty_total", st->dirty_total);
	yajl_gen_map_close(g);
}

char *
gc_fmt_fail_status(const char *code, const char *msg, int retry,
    const char *token, const struct gc_status *st, size_t *len)
{
	yajl_gen	 g = json_gen_new();
	char		 buf[GC_FMT_BUF];

	gc_strlcpy(buf, msg, sizeof(buf));
	gc_scrub(buf, sizeof(buf), token);
	yajl_gen_map_open(g);
	json_kbool(g, "ok", 0);
	json_kstr(g, "code", code);
	gc_kstr_cut(g, "message", buf, GC_MAX_MESSAGE, GC_MAX_LINE - 128 -
	    (st != NULL ? 2 * GC_MAX_BRANCH + 150 : 0));
	json_kbool(g, "retry", retry);
	if (st != NULL && st->present)
		gc_status_gen(g, st);
	explicit_bzero(buf, sizeof(buf));
	return gc_line_take(g, len);
}

char *
gc_fmt_commit(const char *item, const char *id, const char *summary,
    const char *author, long long time, size_t *len)
{
	yajl_gen	g = json_gen_new();

	yajl_gen_map_open(g);
	json_kstr(g, "item", item);
	json_kstr(g, "id", id);
	gc_kstr_cut(g, "summary", summary != NULL ? summary : "", GC_MAX_SUMMARY,
	    3 * GC_MAX_SUMMARY);
	gc_kstr_cut(g, "author", author != NULL ? author : "", GC_MAX_AUTHOR,
	    3 * GC_MAX_AUTHOR);
	json_kint(g, "time", time);
	return gc_line_take(g, len);
}

char *
gc_fmt_dirty(const char *path, size_t *len)
{
	yajl_gen	g = json_gen_new();

	yajl_gen_map_open(g);
	json_kstr(g, "item", "dirty");
	gc_kstr_cut(g, "path", path, GC_MAX_PATH_JSON, GC_MAX_PATH_JSON);
	return gc_line_take(g, len);
}

char *
gc_fmt_file(const char *status, const char *path, const char *old_path,
    size_t *len)
{
	yajl_gen	g = json_gen_new();
	size_t		max = old_path != NULL ? GC_MAX_PATH_JSON / 2 : GC_MAX_PATH_JSON;

	yajl_gen_map_open(g);
	json_kstr(g, "item", "file");
	json_kstr(g, "status", status);
	gc_kstr_cut(g, "path", path, max, max);
	if (old_path != NULL)
		gc_kstr_cut(g, "old_path", old_path, max, max);
	return gc_line_take(g, len);
}

static void
gc_kid(yajl_gen g, const char *key, const char *id)
{
	if (id != NULL && gc_oid_valid(id))
		json_kstr(g, key, id);
	else
		json_knull(g, key);
}

static char *
gc_fmt_ok(const struct gc_status *st, int has_fetched, const char *fetched,
    int has_origin, const char *origin, const struct gc_pull *pull, size_t *len)
{
	yajl_gen	g = json_gen_new();

	yajl_gen_map_open(g);
	json_kbool(g, "ok", 1);
	json_key(g, "result");
	yajl_gen_map_open(g);
	if (st != NULL && st->present)
		gc_status_gen(g, st);
	if (has_fetched)
		gc_kid(g, "fetched", fetched);
	if (has_origin)
		gc_kid(g, "origin", origin);
	if (pull != NULL && pull->present) {
		json_key(g, "pull");
		yajl_gen_map_open(g);
		gc_kid(g, "from", pull->from);
		gc_kid(g, "to", pull->to);
		json_kint(g, "commits", pull->commits);
		json_kint(g, "files_total", pull->files_total);
		json_kbool(g, "up_to_date", pull->up_to_date);
		yajl_gen_map_close(g);
	}
	yajl_gen_map_close(g);
	return gc_line_take(g, len);
}

int
gc_oid_valid(const char *s)
{
	size_t	i;

	for (i = 0; i < GC_OID_HEX; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[GC_OID_HEX] == '\0';
}

/* the members of obj must all be among names */
static int
gc_members_known(yajl_val obj, const char *const *names, size_t n,
    char *err, size_t errlen)
{
	size_t	i, k;

	for (i = 0; i < obj->u.object.len; i++) {
		for (k = 0; k < n; k++)
			if (strcmp(obj->u.object.keys[i], names[k]) == 0)
				break;
		if (k == n) {
			snprintf(err, errlen, "unknown member \"%.32s\"",
			    obj->u.object.keys[i]);
			return -1;
		}
	}
	return 0;
}

static int
gc_get_int(yajl_val obj, const char *key, long long min, long long max,
    long long *out, char *err, size_t errlen)
{
	yajl_val	v = json_get(obj, key);

	if (v == NULL || v->type != yajl_t_number || !YAJL_IS_INTEGER(v) ||
	    v->u.number.i < min || v->u.number.i > max) {
		snprintf(err, errlen, "\"%s\" must be an integer in %lld..%lld",
		    key, min, max);
		return -1;
	}
	*out = v->u.number.i;
	return 0;
}

static int
gc_get_bool(yajl_val obj, const char *key, int *out, char *err, size_t errlen)
{
	yajl_val	v = json_get(obj, key);

	if (v == NULL || (v->type != yajl_t_true && v->type != yajl_t_false)) {
		snprintf(err, errlen, "\"%s\" must be true or false", key);
		return -1;
	}
	*out = v->type == yajl_t_true;
	return 0;
}

/* a string member of at most max bytes; NULL allowed when nullable */
static int
gc_get_str(yajl_val obj, const char *key, size_t max, int nullable,
    const char **out, char *err, size_t errlen)
{
	yajl_val	v = json_get(obj, key);

	if (nullable && (v == NULL || v->type == yajl_t_null)) {
		*out = NULL;
		return 0;
	}
	if (v == NULL || v->type != yajl_t_string || strlen(v->u.string) > max) {
		snprintf(err, errlen, "\"%s\" must be a string of at most %zu bytes",
		    key, max);
		return -1;
	}
	*out = v->u.string;
	return 0;
}

static int
gc_get_id(yajl_val obj, const char *key, int nullable, const char **out,
    char *err, size_t errlen)
{
	if (gc_get_str(obj, key, GC_OID_HEX, nullable, out, err, errlen) == -1)
		return -1;
	if (*out != NULL && !gc_oid_valid(*out)) {
		snprintf(err, errlen, "\"%s\" is not a commit id", key);
		return -1;
	}
	return 0;
}

#define GC_MAX_COUNT	1000000000LL
#define GC_MAX_TIME	(1LL << 40)

static int
gc_decode_status(yajl_val s, struct gc_status *st, char *err, size_t errlen)
{
	static const char *const stk[] = { "branch", "detached", "unborn", "ahead",
	    "behind", "dirty_total" };

	if (s->type != yajl_t_object) {
		snprintf(err, errlen, "\"status\" must be an object");
		return -1;
	}
	if (gc_members_known(s, stk, 6, err, errlen) == -1 ||
	    gc_get_str(s, "branch", 2 * GC_MAX_BRANCH + 3, 1, &st->branch, err,
	    errlen) == -1 ||
	    gc_get_bool(s, "detached", &st->detached, err, errlen) == -1 ||
	    gc_get_bool(s, "unborn", &st->unborn, err, errlen) == -1 ||
	    gc_get_int(s, "ahead", 0, GC_MAX_COUNT, &st->ahead, err, errlen) == -1 ||
	    gc_get_int(s, "behind", 0, GC_MAX_COUNT, &st->behind, err,
	    errlen) == -1 ||
	    gc_get_int(s, "dirty_total", 0, GC_MAX_COUNT, &st->dirty_total, err,
	    errlen) == -1)
		return -1;
	st->present = 1;
	return 0;
}

static int
gc_decode_ok(yajl_val tree, struct gc_line *out, char *err, size_t errlen)
{
	static const char *const top[] = { "ok", "result" };
	static const char *const res[] = { "status", "fetched", "origin", "pull" };
	static const char *const pk[] = { "from", "to", "commits", "files_total",
	    "up_to_date" };
	yajl_val	 r, s, p;

	if (gc_members_known(tree, top, 2, err, errlen) == -1)
		return -1;
	r = json_get(tree, "result");
	if (r == NULL || r->type != yajl_t_object) {
		snprintf(err, errlen, "\"result\" must be an object");
		return -1;
	}
	if (gc_members_known(r, res, 4, err, errlen) == -1)
		return -1;
	out->type = GL_OK;
	if ((s = json_get(r, "status")) != NULL &&
	    gc_decode_status(s, &out->status, err, errlen) == -1)
		return -1;
	if (json_get(r, "fetched") != NULL) {
		if (gc_get_id(r, "fetched", 1, &out->fetched, err, errlen) == -1)
			return -1;
		out->has_fetched = 1;
	}
	if (json_get(r, "origin") != NULL) {
		if (gc_get_id(r, "origin", 1, &out->origin, err, errlen) == -1)
			return -1;
		out->has_origin = 1;
	}
	if ((p = json_get(r, "pull")) != NULL) {
		if (p->type != yajl_t_object) {
			snprintf(err, errlen, "\"pull\" must be an object");
			return -1;
		}
		if (gc_members_known(p, pk, 5, err, errlen) == -1 ||
		    gc_get_id(p, "from", 1, &out->pull.from, err, errlen) == -1 ||
		    gc_get_id(p, "to", 0, &out->pull.to, err, errlen) == -1 ||
		    gc_get_int(p, "commits", 0, GC_MAX_COUNT, &out->pull.commits,
		    err, errlen) == -1 ||
		    gc_get_int(p, "files_total", 0, GC_MAX_COUNT,
		    &out->pull.files_total, err, errlen) == -1 ||
		    gc_get_bool(p, "up_to_date", &out->pull.up_to_date, err,
		    errlen) == -1)
			return -1;
		out->pull.present = 1;
	}
	return 0;
}

static int
gc_decode_fail(yajl_val tree, struct gc_line *out, char *err, size_t errlen)
{
	static const char *const keys[] = { "ok", "code", "message", "retry",
	    "status" };
	yajl_val	 st;
	static const char *const codes[] = { "conflict", "unavailable",
	    "unauthorized", "not_found", "internal" };
	size_t	i;

	if (gc_members_known(tree, keys, 5, err, errlen) == -1 ||
	    gc_get_str(tree, "code", 16, 0, &out->code, err, errlen) == -1 ||
	    gc_get_str(tree, "message", GC_MAX_LINE, 0, &out->text, err,
	    errlen) == -1 ||
	    gc_get_bool(tree, "retry", &out->retry, err, errlen) == -1)
		return -1;
	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (strcmp(out->code, codes[i]) == 0)
			break;
	if (i == sizeof(codes) / sizeof(codes[0])) {
		snprintf(err, errlen, "unknown error code \"%.16s\"", out->code);
		return -1;
	}
	if ((st = json_get(tree, "status")) != NULL &&
	    gc_decode_status(st, &out->status, err, errlen) == -1)
		return -1;
	out->type = GL_FAIL;
	return 0;
}

static int
gc_decode_item(yajl_val tree, const char *item, struct gc_line *out,
    char *err, size_t errlen)
{
	static const char *const ck[] = { "item", "id", "summary", "author", "time" };
	static const char *const dk[] = { "item", "path" };
	static const char *const fk[] = { "item", "status", "path", "old_path" };
	static const char *const fstatus[] = { "added", "modified", "deleted",
	    "renamed" };
	size_t	i;

	if (strcmp(item, "local") == 0 || strcmp(item, "remote") == 0 ||
	    strcmp(item, "incoming") == 0) {
		out->type = GL_COMMIT;
		out->kind = item[0] == 'l' ? GC_COMMIT_LOCAL :
		    item[0] == 'r' ? GC_COMMIT_REMOTE : GC_COMMIT_INCOMING;
		if (gc_members_known(tree, ck, 5, err, errlen) == -1 ||
		    gc_get_id(tree, "id", 0, &out->id, err, errlen) == -1 ||
		    gc_get_str(tree, "summary", GC_MAX_SUMMARY + 3, 0, &out->summary,
		    err, errlen) == -1 ||
		    gc_get_str(tree, "author", GC_MAX_AUTHOR + 3, 0, &out->author,
		    err, errlen) == -1 ||
		    gc_get_int(tree, "time", -GC_MAX_TIME, GC_MAX_TIME, &out->time,
		    err, errlen) == -1)
			return -1;
		return 0;
	}
	if (strcmp(item, "dirty") == 0) {
		out->type = GL_DIRTY;
		if (gc_members_known(tree, dk, 2, err, errlen) == -1 ||
		    gc_get_str(tree, "path", GC_MAX_PATH_JSON + 3, 0, &out->path,
		    err, errlen) == -1)
			return -1;
		if (out->path[0] == '\0') {
			snprintf(err, errlen, "empty path");
			return -1;
		}
		return 0;
	}
	if (strcmp(item, "file") == 0) {
		out->type = GL_FILE;
		if (gc_members_known(tree, fk, 4, err, errlen) == -1 ||
		    gc_get_str(tree, "status", 16, 0, &out->fstatus, err,
		    errlen) == -1 ||
		    gc_get_str(tree, "path", GC_MAX_PATH_JSON + 3, 0, &out->path,
		    err, errlen) == -1 ||
		    gc_get_str(tree, "old_path", GC_MAX_PATH_JSON + 3, 1,
		    &out->old_path, err, errlen) == -1)
			return -1;
		for (i = 0; i < sizeof(fstatus) / sizeof(fstatus[0]); i++)
			if (strcmp(out->fstatus, fstatus[i]) == 0)
				break;
		if (i == sizeof(fstatus) / sizeof(fstatus[0])) {
			snprintf(err, errlen, "unknown file status \"%.16s\"",
			    out->fstatus);
			return -1;
		}
		if (out->path[0] == '\0' || (out->old_path != NULL &&
		    out->old_path[0] == '\0')) {
			snprintf(err, errlen, "empty path");
			return -1;
		}
		return 0;
	}
	snprintf(err, errlen, "unknown item \"%.16s\"", item);
	return -1;
}

int
gc_line_decode(const char *line, size_t len, struct gc_line *out, char *err,
    size_t errlen)
{
	static const char *const lk[] = { "log" };
	yajl_val	 tree, v;
	char		 perr[128];

	memset(out, 0, sizeof(*out));
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len == 0 || len > GC_MAX_LINE || line[0] != '{') {
		snprintf(err, errlen, "not a reply line");
		return -1;
	}
	if ((tree = json_parse(line, len, perr, sizeof(perr))) == NULL) {
		snprintf(err, errlen, "%s", perr);
		return -1;
	}
	out->tree = tree;
	if (tree->type != yajl_t_object) {
		snprintf(err, errlen, "not a JSON object");
		goto fail;
	}
	if ((v = json_get(tree, "log")) != NULL) {
		if (gc_members_known(tree, lk, 1, err, errlen) == -1 ||
		    gc_get_str(tree, "log", GC_MAX_LINE, 0, &out->text, err,
		    errlen) == -1)
			goto fail;
		out->type = GL_LOG;
		return 0;
	}
	if ((v = json_get(tree, "item")) != NULL) {
		if (v->type != yajl_t_string) {
			snprintf(err, errlen, "\"item\" must be a string");
			goto fail;
		}
		if (gc_decode_item(tree, v->u.string, out, err, errlen) == -1)
			goto fail;
		return 0;
	}
	if ((v = json_get(tree, "ok")) != NULL) {
		if (v->type == yajl_t_true) {
			if (gc_decode_ok(tree, out, err, errlen) == -1)
				goto fail;
			return 0;
		}
		if (v->type == yajl_t_false) {
			if (gc_decode_fail(tree, out, err, errlen) == -1)
				goto fail;
			return 0;
		}
	}
	snprintf(err, errlen, "neither a log, an item nor a result");
 fail:
	gc_line_free(out);
	return -1;
}

void
gc_line_free(struct gc_line *l)
{
	if (l->tree != NULL)
		yajl_tree_free(l->tree);
	memset(l, 0, sizeof(*l));
}

/* ------------------------------------------------------------ the child -- */

#if defined(__SANITIZE_ADDRESS__)
/*
 * Sanitizer builds: libgit2 1.5 leaks pcre2 match data in its regex
 * wrapper (not ours to free).  The child's environment is minimal, so the
 * suppression is compiled in rather than passed in LSAN_OPTIONS.
 */
const char	*__lsan_default_suppressions(void);

const char *
__lsan_default_suppressions(void)
{
	return "leak:libpcre2-8.so\n";
}

const char	*__lsan_default_options(void);

const char *
__lsan_default_options(void)
{
	return "print_suppressions=0";
}
#endif

struct gc_ctx {
	struct gc_request	 req;
	git_repository		*repo;
	enum gc_auth		 auth;
	int			 cred_calls;
	int			 ssh_key_next;
	char			 home[PATH_MAX];
	char			 user[64];
	/* origin: where connections and the token may go (network URLs) */
	struct gc_authority	 osrv;
	int			 has_origin_server;
	char			 refused[GC_MAX_HOST + 16];	/* "host:port" turned away */
	int			 refused_token;	/* it asked for the token */
	int			 failed;	/* gc_fail was called */
	char			 fail_code[16];
	int			 fail_retry;
	char			 fail_msg[GC_FMT_BUF];
	/* transfer progress */
	long long		 progress_ms;
	int			 progress_phase;	/* 0 objects, 1 deltas, 2 done */
	unsigned		 progress_decile;
	/* what the final line reports */
	struct gc_status	 st;
	char			 branch[GC_MAX_BRANCH * 2 + 1];
	int			 has_fetched, has_origin;
	char			 fetched[GC_OID_HEX + 1], origin[GC_OID_HEX + 1];
	struct gc_pull		 pull;
	char			 pull_from[GC_OID_HEX + 1], pull_to[GC_OID_HEX + 1];
};

static struct gc_ctx	 gc;

/* written by the SIGALRM handler: prepared before the alarm is armed */
static char		 gc_alarm_connect[GC_MAX_LINE + 1];
static char		 gc_alarm_stall[GC_MAX_LINE + 1];
static size_t		 gc_alarm_connect_len, gc_alarm_stall_len;
static volatile sig_atomic_t gc_alarm_which;	/* 0 connect, 1 stall */

static long long
gc_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
gc_write(char *line)
{
	size_t	len = strlen(line), off = 0;
	ssize_t	n;

	while (off < len) {
		if ((n = write(STDOUT_FILENO, line + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			_exit(1);	/* the parent is gone */
		}
		off += n;
	}
	free(line);
}

static void __attribute__((format(printf, 1, 2)))
gc_log(const char *fmt, ...)
{
	char	buf[GC_FMT_BUF];
	va_list	ap;
	size_t	len;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	gc_write(gc_fmt_log(buf, gc.req.token, &len));
}

/* records the failure; the final line is written by gc_finish */
static void __attribute__((format(printf, 3, 4)))
gc_fail(const char *code, int retry, const char *fmt, ...)
{
	va_list	ap;

	if (gc.failed)
		return;
	alarm(0);
	va_start(ap, fmt);
	vsnprintf(gc.fail_msg, sizeof(gc.fail_msg), fmt, ap);
	va_end(ap);
	snprintf(gc.fail_code, sizeof(gc.fail_code), "%s", code);
	gc.fail_retry = retry;
	gc.failed = 1;
}

/* the one final line */
static void
gc_finish(void)
{
	size_t	len;

	alarm(0);
	if (gc.failed) {
		gc_write(gc_fmt_fail_status(gc.fail_code, gc.fail_msg, gc.fail_retry,
		    gc.req.token, gc.st.present ? &gc.st : NULL, &len));
		explicit_bzero(gc.fail_msg, sizeof(gc.fail_msg));
	} else
		gc_write(gc_fmt_ok(&gc.st, gc.has_fetched, gc.fetched,
		    gc.has_origin, gc.has_origin && gc.origin[0] ? gc.origin : NULL,
		    &gc.pull, &len));
}

static const char *
gc_git_message(void)
{
	const git_error	*e = git_error_last();

	return (e != NULL && e->message != NULL) ? e->message : "unknown error";
}

/* a failed libgit2 call: classified, with a message that says what to check */
static void
gc_fail_git(int rc, const char *what)
{
	const git_error	*e = git_error_last();
	struct gc_class	 c;
	char		 url[GC_MAX_URL + 1];

	gc_classify(rc, e != NULL ? e->klass : 0, e != NULL ? e->message : NULL,
	    gc.auth, &c);
	gc_strlcpy(url, gc.req.url != NULL ? gc.req.url : "", sizeof(url));
	gc_strip_userinfo(url);
	if (gc.refused[0] != '\0') {
		if (gc.refused_token)
			gc_fail("unauthorized", 0, "%s asked for the token: it goes "
			    "only to origin (%s://%s:%u, over https; http only on "
			    "loopback)", gc.refused, gc.osrv.scheme,
			    gc.osrv.host, gc.osrv.port);
		else
			gc_fail("unavailable", 0, "refused to contact %s: davit "
			    "talks only to origin (%s://%s:%u); a redirect to "
			    "another host or port is not followed", gc.refused,
			    gc.osrv.scheme, gc.osrv.host, gc.osrv.port);
		return;
	}
	if (strcmp(c.code, "unauthorized") == 0) {
		if (gc.auth == GC_AUTH_MISSING)
			gc_fail(c.code, 0, "%s asks for credentials: set "
			    "DAVIT_GITHUB_TOKEN (or an ssh key for ssh URLs)", url);
		else if (gc_url_is_http(url))
			gc_fail(c.code, 0, "%s refused the credentials: check "
			    "DAVIT_GITHUB_TOKEN (its value, its expiry and its "
			    "access to this repository)", url);
		else
			gc_fail(c.code, 0, "%s refused the credentials: %s", url,
			    gc_git_message());
	} else if (strcmp(c.code, "not_found") == 0 && gc.req.url != NULL &&
	    rc != GIT_ENOTFOUND)
		gc_fail(c.code, 0, "no repository at %s: check DAVIT_REPO_URL (and "
		    "that the token may read it) (%s)", url, gc_git_message());
	else
		gc_fail(c.code, c.retry, "%s: %s", what, gc_git_message());
}

static void
gc_on_alarm(int sig)
{
	ssize_t	n;

	if (gc_alarm_which == 0)
		n = write(STDOUT_FILENO, gc_alarm_connect, gc_alarm_connect_len);
	else
		n = write(STDOUT_FILENO, gc_alarm_stall, gc_alarm_stall_len);
	(void)n;
	_exit(1);
}

static void
gc_alarm_prepare(void)
{
	struct sigaction	 sa;
	char			 msg[256], *line;
	size_t			 len;

	snprintf(msg, sizeof(msg), "no answer from the remote within %d s "
	    "(connect timeout)", GC_CONNECT_TIMEOUT);
	line = gc_fmt_fail("unavailable", msg, 1, NULL, &len);
	memcpy(gc_alarm_connect, line, len);
	gc_alarm_connect_len = len;
	free(line);
	snprintf(msg, sizeof(msg), "the transfer stalled: no data for %d s "
	    "(transfer timeout)", GC_STALL_TIMEOUT);
	line = gc_fmt_fail("unavailable", msg, 1, NULL, &len);
	memcpy(gc_alarm_stall, line, len);
	gc_alarm_stall_len = len;
	free(line);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = gc_on_alarm;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
}

static void
gc_alarm(int which, unsigned secs)
{
	gc_alarm_which = which;
	alarm(secs);
}

static void
gc_human_bytes(size_t n, char *buf, size_t size)
{
	if (n >= 1024 * 1024)
		snprintf(buf, size, "%.1f MiB", n / (1024.0 * 1024.0));
	else
		snprintf(buf, size, "%.1f KiB", n / 1024.0);
}

/* at most one line per 10% or per second, and one when all is in */
static int
gc_progress(const git_indexer_progress *p, void *payload)
{
	long long	 now = gc_now_ms();
	unsigned	 decile;
	char		 bytes[32];

	gc_alarm(1, GC_STALL_TIMEOUT);
	if (p->total_objects == 0)
		return 0;
	gc_human_bytes(p->received_bytes, bytes, sizeof(bytes));
	if (p->received_objects < p->total_objects) {
		decile = (unsigned)((unsigned long long)p->received_objects * 10 /
		    p->total_objects);
		if (gc.progress_phase != 0 || decile > gc.progress_decile ||
		    now - gc.progress_ms >= 1000) {
			gc_log("receiving objects: %u%% (%u/%u), %s",
			    (unsigned)((unsigned long long)p->received_objects * 100 /
			    p->total_objects), p->received_objects,
			    p->total_objects, bytes);
			gc.progress_phase = 0;
			gc.progress_decile = decile;
			gc.progress_ms = now;
		}
		return 0;
	}
	if (p->total_deltas > 0 && p->indexed_deltas < p->total_deltas) {
		decile = (unsigned)((unsigned long long)p->indexed_deltas * 10 /
		    p->total_deltas);
		if (gc.progress_phase != 1 || decile > gc.progress_decile ||
		    now - gc.progress_ms >= 1000) {
			if (gc.progress_phase == 0)
				gc_log("received %u objects, %s", p->received_objects,
				    bytes);
			gc_log("resolving deltas: %u%% (%u/%u)",
			    (unsigned)((unsigned long long)p->indexed_deltas * 100 /
			    p->total_deltas), p->indexed_deltas, p->total_deltas);
			gc.progress_phase = 1;
			gc.progress_decile = decile;
			gc.progress_ms = now;
		}
		return 0;
	}
	if (gc.progress_phase != 2) {
		gc_log("received %u/%u objects (%s), %u deltas resolved",
		    p->received_objects, p->total_objects, bytes, p->indexed_deltas);
		gc.progress_phase = 2;
		gc.progress_ms = now;
	}
	return 0;
}

static int
gc_credentials(git_credential **out, const char *url, const char *user_from_url,
    unsigned int allowed, void *payload)
{
	static const char *const keys[] = { "id_ed25519", "id_ecdsa", "id_rsa" };
	const char	*user = user_from_url != NULL && *user_from_url != '\0' ?
			    user_from_url : "git";
	char		 priv[PATH_MAX], pub[PATH_MAX];
	int		 i;

	gc.cred_calls++;
	if (allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) {
		/*
		 * libgit2 hands the remote's URL here, not where a redirect
		 * led: the stream below keeps every connection on origin's
		 * host and port, and this keeps the token to origin's URL.
		 */
		if (gc.req.token != NULL && !gc_token_allowed(gc.req.url, url)) {
			struct gc_authority	a;

			if (gc_url_authority(url, &a) == 0)
				snprintf(gc.refused, sizeof(gc.refused), "%s://%s:%u",
				    a.scheme, a.host, a.port);
			else
				gc_strlcpy(gc.refused, "a non-network URL",
				    sizeof(gc.refused));
			gc.refused_token = 1;
			git_error_set_str(GIT_ERROR_NET, "the token goes to origin only");
			return GIT_EAUTH;
		}
		if (gc.req.token == NULL) {
			gc.auth = GC_AUTH_MISSING;
			git_error_set_str(GIT_ERROR_NET, "credentials required");
			return GIT_EAUTH;
		}
		if (gc.cred_calls > 1) {
			/* the token was refused once: do not loop on it */
			gc.auth = GC_AUTH_REJECTED;
			git_error_set_str(GIT_ERROR_NET, "credentials refused");
			return GIT_EAUTH;
		}
		return git_credential_userpass_plaintext_new(out, "x-access-token",
		    gc.req.token);
	}
	if (allowed & GIT_CREDENTIAL_SSH_KEY) {
		while (gc.ssh_key_next < (int)(sizeof(keys) / sizeof(keys[0]))) {
			i = gc.ssh_key_next++;
			if ((size_t)snprintf(priv, sizeof(priv), "%s/.ssh/%s",
			    gc.home, keys[i]) >= sizeof(priv) ||
			    (size_t)snprintf(pub, sizeof(pub), "%s.pub", priv) >=
			    sizeof(pub))
				continue;
			if (access(priv, R_OK) == 0)
				return git_credential_ssh_key_new(out, user,
				    access(pub, R_OK) == 0 ? pub : NULL, priv, NULL);
		}
		gc.auth = gc.ssh_key_next > 0 && gc.cred_calls > 1 ?
		    GC_AUTH_REJECTED : GC_AUTH_MISSING;
		git_error_set_str(GIT_ERROR_SSH, "no ssh key accepted");
		return GIT_EAUTH;
	}
	if (allowed & GIT_CREDENTIAL_USERNAME)
		return git_credential_username_new(out, user);
	gc.auth = GC_AUTH_MISSING;
	git_error_set_str(GIT_ERROR_NET, "unsupported authentication method");
	return GIT_EAUTH;
}

/* "[host]:port" for a non-default ssh port, else "host" */
static void
gc_known_host_name(const char *host, char *out, size_t size)
{
	const char	*u = gc.req.url, *p, *end;
	long		 port = 22;

	if (u != NULL && gc_prefix(u, "ssh://")) {
		p = u + strlen("ssh://");
		end = p + strcspn(p, "/");
		while (p < end && memchr(p, '@', end - p) != NULL)
			p = (const char *)memchr(p, '@', end - p) + 1;
		if (*p == '[') {
			if ((p = memchr(p, ']', end - p)) == NULL)
				p = end;
		}
		if ((p = memchr(p, ':', end - p)) != NULL)
			port = strtol(p + 1, NULL, 10);
	}
	if (port > 0 && port != 22)
		snprintf(out, size, "[%s]:%ld", host, port);
	else
		snprintf(out, size, "%s", host);
}

/* OpenSSH's host patterns: '*' and '?' only, no case ("[h]:port" is literal) */
static int
gc_glob(const char *p, const char *s)
{
	for (; *p != '\0'; p++, s++) {
		if (*p == '*') {
			while (p[1] == '*')
				p++;
			if (p[1] == '\0')
				return 1;
			for (; *s != '\0'; s++)
				if (gc_glob(p + 1, s))
					return 1;
			return 0;
		}
		if (*s == '\0')
			return 0;
		if (*p != '?' && tolower((unsigned char)*p) !=
		    tolower((unsigned char)*s))
			return 0;
	}
	return *s == '\0';
}

int
gc_known_host_match(char *hosts, const char *name)
{
	char	*pat, *save = NULL;
	int	 match = 0, hashed = 0;

	for (pat = strtok_r(hosts, ",", &save); pat != NULL;
	    pat = strtok_r(NULL, ",", &save)) {
		if (pat[0] == '|') {
			hashed = 1;
			continue;
		}
		if (pat[0] == '!') {
			if (gc_glob(pat + 1, name))
				return 0;
			continue;
		}
		if (gc_glob(pat, name))
			match = 1;
	}
	return match ? 1 : (hashed ? -1 : 0);
}

/*
 * The ssh host key against the owner's known_hosts and the system's
 * (plain host names only: hashed entries are not read).  libgit2 1.5 does
 * not check them itself.
 */
static int
gc_certificate_check(git_cert *cert, int valid, const char *host, void *payload)
{
	const git_cert_hostkey	*hk = (const git_cert_hostkey *)cert;
	const char		*files[2];
	char			 path[PATH_MAX], name[512], *b64 = NULL, *line = NULL;
	char			*hosts, *type, *key, *save;
	size_t			 b64len, cap = 0, total;
	ssize_t			 n;
	FILE			*f;
	int			 i, m, found = 0, mismatch = 0, hashed = 0;

	if (cert->cert_type != GIT_CERT_HOSTKEY_LIBSSH2) {
		/* TLS: only to origin, and only when origin is https */
		if (!gc.has_origin_server ||
		    strcmp(gc.osrv.scheme, "https") != 0 ||
		    strcasecmp(gc.osrv.host, host) != 0) {
			snprintf(gc.refused, sizeof(gc.refused), "https://%s", host);
			git_error_set(GIT_ERROR_NET, "refusing TLS to %s", host);
			return GIT_ECERTIFICATE;
		}
		return GIT_PASSTHROUGH;	/* libgit2's own verification */
	}
	if (!(hk->type & GIT_CERT_SSH_RAW) || hk->hostkey_len == 0) {
		git_error_set_str(GIT_ERROR_SSH, "the ssh server's host key is "
		    "not available for checking");
		return GIT_ECERTIFICATE;
	}
	b64len = sodium_base64_ENCODED_LEN(hk->hostkey_len,
	    sodium_base64_VARIANT_ORIGINAL);
	if ((b64 = malloc(b64len)) == NULL)
		fatal("%s", __func__);
	sodium_bin2base64(b64, b64len, (const unsigned char *)hk->hostkey,
	    hk->hostkey_len, sodium_base64_VARIANT_ORIGINAL);
	gc_known_host_name(host, name, sizeof(name));
	if ((size_t)snprintf(path, sizeof(path), "%s/.ssh/known_hosts",
	    gc.home) >= sizeof(path))
		path[0] = '\0';
	files[0] = path;
	files[1] = "/etc/ssh/ssh_known_hosts";
	for (i = 0; i < 2 && !found; i++) {
		if ((f = fopen(files[i], "re")) == NULL)
			continue;
		total = 0;
		while (!found && (n = getline(&line, &cap, f)) != -1) {
			if ((total += n) > GC_KNOWN_HOSTS_MAX)
				break;
			save = NULL;
			if ((hosts = strtok_r(line, " \t\r\n", &save)) == NULL ||
			    hosts[0] == '#')
				continue;
			if (hosts[0] == '@') {
				int revoked = strcmp(hosts, "@revoked") == 0;

				if ((hosts = strtok_r(NULL, " \t\r\n", &save)) == NULL ||
				    (type = strtok_r(NULL, " \t\r\n", &save)) == NULL ||
				    (key = strtok_r(NULL, " \t\r\n", &save)) == NULL)
					continue;
				if (revoked && strcmp(key, b64) == 0) {
					mismatch = 1;
					break;
				}
				continue;	/* @cert-authority: not supported */
			}
			if ((type = strtok_r(NULL, " \t\r\n", &save)) == NULL ||
			    (key = strtok_r(NULL, " \t\r\n", &save)) == NULL)
				continue;
			if ((m = gc_known_host_match(hosts, name)) == -1)
				hashed = 1;
			if (m != 1)
				continue;
			if (strcmp(key, b64) == 0)
				found = 1;
			else
				mismatch = 1;
		}
		fclose(f);
	}
	free(line);
	free(b64);
	if (found && !mismatch)
		return 0;
	if (mismatch)
		git_error_set(GIT_ERROR_SSH, "the host key of %s does not match "
		    "known_hosts (or is revoked): refusing to connect", name);
	else
		git_error_set(GIT_ERROR_SSH, "the host key of %s is not in %s or "
		    "/etc/ssh/ssh_known_hosts%s: add it with ssh-keyscan", name,
		    path, hashed ? " (hashed entries are not read)" : "");
	return GIT_ECERTIFICATE;
}

/*
 * The origin-only stream.  Every TCP connection libgit2 makes (http, the
 * socket under https's TLS, ssh) is created by gc_stream_init, registered
 * as libgit2's standard stream: it refuses any host and port but origin's.
 * libgit2 1.5 follows a redirect to the same host on another port even with
 * GIT_REMOTE_REDIRECT_NONE, and its credential callback is given the
 * remote's URL, not the redirect's: this is where such a redirect stops.
 */
struct gc_stream {
	git_stream	 parent;
	int		 fd;
	char		 host[GC_MAX_HOST + 1];
	char		 port[8];
};

static int
gc_stream_connect(git_stream *s)
{
	struct gc_stream	*st = (struct gc_stream *)s;
	struct addrinfo		 hints, *res = NULL, *ai;
	int			 rc, fd = -1, saved = ECONNREFUSED;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(st->host, st->port, &hints, &res)) != 0) {
		git_error_set(GIT_ERROR_NET, "failed to resolve address for %s: %s",
		    st->host, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol)) == -1) {
			saved = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1) {
		git_error_set(GIT_ERROR_NET, "failed to connect to %s: %s",
		    st->host, strerror(saved));
		return -1;
	}
	st->fd = fd;
	return 0;
}

static ssize_t
gc_stream_read(git_stream *s, void *buf, size_t len)
{
	struct gc_stream	*st = (struct gc_stream *)s;
	ssize_t			 n;

	do
		n = recv(st->fd, buf, len, 0);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		git_error_set(GIT_ERROR_NET, "failed to receive data: %s",
		    strerror(errno));
	return n;
}

static ssize_t
gc_stream_write(git_stream *s, const char *data, size_t len, int flags)
{
	struct gc_stream	*st = (struct gc_stream *)s;
	size_t			 off = 0;
	ssize_t			 n;

	while (off < len) {
		if ((n = send(st->fd, data + off, len - off,
		    flags | MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			git_error_set(GIT_ERROR_NET, "failed to send data: %s",
			    strerror(errno));
			return -1;
		}
		off += n;
	}
	return off;
}

static int
gc_stream_close(git_stream *s)
{
	struct gc_stream	*st = (struct gc_stream *)s;

	if (st->fd != -1)
		close(st->fd);
	st->fd = -1;
	return 0;
}

static void
gc_stream_free(git_stream *s)
{
	gc_stream_close(s);
	free(s);
}

static int
gc_stream_init(git_stream **out, const char *host, const char *port)
{
	struct gc_stream	*st;
	char			*end;
	unsigned long		 p;

	errno = 0;
	p = strtoul(port, &end, 10);
	if (!gc.has_origin_server || *port == '\0' || *end != '\0' ||
	    errno != 0 || p == 0 || p > 65535 || strlen(host) > GC_MAX_HOST ||
	    !gc_same_server(&gc.osrv, host, (unsigned)p)) {
		snprintf(gc.refused, sizeof(gc.refused), "%.*s:%.7s", GC_MAX_HOST,
		    host, port);
		git_error_set(GIT_ERROR_NET, "refusing to connect to %s: not origin",
		    gc.refused);
		return -1;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL)
		fatal("%s", __func__);
	st->parent.version = GIT_STREAM_VERSION;
	st->parent.connect = gc_stream_connect;
	st->parent.read = gc_stream_read;
	st->parent.write = gc_stream_write;
	st->parent.close = gc_stream_close;
	st->parent.free = gc_stream_free;
	st->fd = -1;
	gc_strlcpy(st->host, host, sizeof(st->host));
	gc_strlcpy(st->port, port, sizeof(st->port));
	*out = &st->parent;
	return 0;
}

/* origin's server, and the stream that keeps every connection on it */
static int
gc_origin_only(void)
{
	static git_stream_registration	reg = {
		GIT_STREAM_VERSION, gc_stream_init, NULL
	};

	if (gc.req.url != NULL && gc_url_authority(gc.req.url, &gc.osrv) == 0)
		gc.has_origin_server = 1;
	return git_stream_register(GIT_STREAM_STANDARD, &reg);
}

/*
 * A file:// origin is only read, and libgit2 runs nothing from its config:
 * it may belong to another user than the checkout (root's, in the demo).
 * The checkout itself is always opened with libgit2's owner validation.
 */
static void
gc_local_origin(int reading)
{
	if (gc.req.url != NULL && gc_prefix(gc.req.url, "file://"))
		git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, reading ? 0 : 1);
}

/* a remote for req.url: the checkout's url.*.insteadOf never applies */
static int
gc_remote_new(git_remote **out, git_repository *repo, const char *name)
{
	git_remote_create_options	o;

	git_remote_create_options_init(&o, GIT_REMOTE_CREATE_OPTIONS_VERSION);
	o.repository = repo;	/* NULL: detached */
	o.name = name;		/* NULL: anonymous */
	o.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF;
	return git_remote_create_with_opts(out, gc.req.url, &o);
}

/* git_clone's "origin", made the same way */
static int
gc_clone_remote(git_remote **out, git_repository *repo, const char *name,
    const char *url, void *payload)
{
	if (strcmp(url, gc.req.url) != 0) {
		git_error_set_str(GIT_ERROR_INVALID, "clone: unexpected URL");
		return -1;
	}
	return gc_remote_new(out, repo, name);
}

static void
gc_callbacks(git_remote_callbacks *cb)
{
	git_remote_init_callbacks(cb, GIT_REMOTE_CALLBACKS_VERSION);
	cb->credentials = gc_credentials;
	cb->certificate_check = gc_certificate_check;
	cb->transfer_progress = gc_progress;
}

/* the workdir, or for a clone its parent, must belong to us */
static int
gc_check_owner(void)
{
	struct stat	 st;
	char		*copy = NULL;
	const char	*path = gc.req.workdir;
	int		 rv = -1;

	if (stat(path, &st) == -1) {
		if (errno != ENOENT || gc.req.op != GC_CLONE) {
			gc_fail(errno == ENOENT ? "not_found" : "unavailable", 0,
			    "DAVIT_WORKDIR %s: %s", path, strerror(errno));
			return -1;
		}
		copy = gc_strdup(path);
		path = dirname(copy);
		if (stat(path, &st) == -1) {
			gc_fail("not_found", 0, "cannot clone into %s: %s: %s",
			    gc.req.workdir, path, strerror(errno));
			goto done;
		}
	}
	if (st.st_uid != geteuid()) {
		gc_fail("internal", 0, "the git child runs as uid %u but %s belongs "
		    "to uid %u", (unsigned)geteuid(), path, (unsigned)st.st_uid);
		goto done;
	}
	rv = 0;
 done:
	free(copy);
	return rv;
}

static int
gc_open(int quiet)
{
	int	rc;

	rc = git_repository_open_ext(&gc.repo, gc.req.workdir,
	    GIT_REPOSITORY_OPEN_NO_SEARCH, NULL);
	if (rc == 0 && git_repository_is_bare(gc.repo)) {
		git_repository_free(gc.repo);
		gc.repo = NULL;
		if (!quiet)
			gc_fail("unavailable", 0, "DAVIT_WORKDIR %s is a bare "
			    "repository: davit needs a checkout", gc.req.workdir);
		return -1;
	}
	if (rc == 0)
		return 0;
	gc.repo = NULL;
	if (quiet)
		return -1;
	if (rc == GIT_ENOTFOUND)
		gc_fail("not_found", 0, "DAVIT_WORKDIR %s is not a git repository",
		    gc.req.workdir);
	else if (rc == GIT_EOWNER)
		gc_fail("unavailable", 0, "DAVIT_WORKDIR %s is owned by another "
		    "user than its .git", gc.req.workdir);
	else
		gc_fail("unavailable", 0, "cannot open the repository in %s (is it "
		    "damaged?): %s", gc.req.workdir, gc_git_message());
	return -1;
}

static void
gc_emit_commit(const char *item, git_commit *c)
{
	const git_signature	*a = git_commit_author(c);
	char			 id[GC_OID_HEX + 1];
	size_t			 len;

	git_oid_tostr(id, sizeof(id), git_commit_id(c));
	gc_write(gc_fmt_commit(item, id, git_commit_summary(c),
	    a != NULL ? a->name : "", (long long)git_commit_time(c), &len));
}

static int
gc_emit_commit_id(const char *item, const git_oid *oid)
{
	git_commit	*c;

	if (git_commit_lookup(&c, gc.repo, oid) < 0)
		return -1;
	gc_emit_commit(item, c);
	git_commit_free(c);
	return 0;
}

static int
gc_remote_ref(char *buf, size_t size)
{
	if ((size_t)snprintf(buf, size, "refs/remotes/origin/%s", gc.req.branch) >= size)
		return -1;
	return 0;
}

/* the path a status entry is about */
static const char *
gc_status_path(const git_status_entry *e)
{
	if (e->index_to_workdir != NULL)
		return e->index_to_workdir->old_file.path;
	if (e->head_to_index != NULL)
		return e->head_to_index->old_file.path;
	return NULL;
}

/* modified tracked files: untracked and ignored ones do not count */
static int
gc_dirty(git_status_list **out, size_t *count)
{
	git_status_options	 so;
	const git_status_entry	*e;
	size_t			 i, n;
	int			 rc;

	*count = 0;
	git_status_options_init(&so, GIT_STATUS_OPTIONS_VERSION);
	so.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
	so.flags = GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
	if ((rc = git_status_list_new(out, gc.repo, &so)) < 0)
		return rc;
	n = git_status_list_entrycount(*out);
	for (i = 0; i < n; i++) {
		e = git_status_byindex(*out, i);
		if (e->status == GIT_STATUS_CURRENT || e->status == GIT_STATUS_WT_NEW ||
		    (e->status & GIT_STATUS_IGNORED))
			continue;
		(*count)++;
	}
	return 0;
}

static int
gc_dirty_entry(const git_status_entry *e)
{
	return !(e->status == GIT_STATUS_CURRENT || e->status == GIT_STATUS_WT_NEW ||
	    (e->status & GIT_STATUS_IGNORED));
}

/* the local state of the checkout, as items and gc.st */
static int
gc_status(void)
{
	git_reference		*head = NULL, *sym = NULL;
	git_revwalk		*walk = NULL;
	git_status_list		*list = NULL;
	const git_status_entry	*e;
	const char		*target, *path;
	git_oid			 loid, roid, oid;
	char			 rname[GC_MAX_BRANCH + 32];
	size_t			 ahead = 0, behind = 0, i, n, dirty = 0, emitted;
	int			 rc, have_local = 0, have_remote = 0;
	size_t			 len;

	memset(&gc.st, 0, sizeof(gc.st));
	gc.branch[0] = '\0';
	rc = git_repository_head(&head, gc.repo);
	if (rc == GIT_EUNBORNBRANCH || rc == GIT_ENOTFOUND) {
		gc.st.unborn = 1;
		if (git_reference_lookup(&sym, gc.repo, "HEAD") == 0 &&
		    (target = git_reference_symbolic_target(sym)) != NULL &&
		    strncmp(target, "refs/heads/", 11) == 0)
			gc_strlcpy(gc.branch, target + 11, sizeof(gc.branch));
		git_reference_free(sym);
	} else if (rc < 0) {
		gc_fail("unavailable", 0, "cannot read HEAD in %s (is the repository "
		    "damaged?): %s", gc.req.workdir, gc_git_message());
		return -1;
	} else {
		gc.st.detached = git_repository_head_detached(gc.repo) == 1;
		if (!gc.st.detached && git_reference_is_branch(head))
			gc_strlcpy(gc.branch, git_reference_shorthand(head),
			    sizeof(gc.branch));
		if (git_reference_target(head) == NULL) {
			gc_fail("unavailable", 0, "HEAD in %s does not point to a "
			    "commit", gc.req.workdir);
			goto fail;
		}
		git_oid_cpy(&loid, git_reference_target(head));
		have_local = 1;
	}
	gc.st.branch = gc.branch[0] != '\0' ? gc.branch : NULL;
	if (gc_remote_ref(rname, sizeof(rname)) == -1)
		goto fail;
	rc = git_reference_name_to_id(&roid, gc.repo, rname);
	if (rc == 0)
		have_remote = 1;
	else if (rc != GIT_ENOTFOUND) {
		gc_fail("unavailable", 0, "cannot read %s: %s", rname,
		    gc_git_message());
		goto fail;
	}
	if (have_local && gc_emit_commit_id("local", &loid) == -1) {
		gc_fail("unavailable", 0, "cannot read the commit HEAD points to "
		    "(is the repository damaged?): %s", gc_git_message());
		goto fail;
	}
	if (have_remote && gc_emit_commit_id("remote", &roid) == -1) {
		gc_fail("unavailable", 0, "cannot read the commit of %s: %s", rname,
		    gc_git_message());
		goto fail;
	}
	if (have_local && have_remote) {
		if ((rc = git_graph_ahead_behind(&ahead, &behind, gc.repo, &loid,
		    &roid)) < 0) {
			gc_fail("unavailable", 0, "cannot compare HEAD with %s: %s",
			    rname, gc_git_message());
			goto fail;
		}
	}
	if (have_remote && (behind > 0 || !have_local)) {
		if (git_revwalk_new(&walk, gc.repo) < 0 ||
		    git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME) < 0 ||
		    git_revwalk_push(walk, &roid) < 0 ||
		    (have_local && git_revwalk_hide(walk, &loid) < 0)) {
			gc_fail("unavailable", 0, "cannot walk %s: %s", rname,
			    gc_git_message());
			goto fail;
		}
		n = 0;
		while ((rc = git_revwalk_next(&oid, walk)) == 0) {
			if (n < GC_MAX_INCOMING && gc_emit_commit_id("incoming",
			    &oid) == -1)
				break;
			n++;
			if (have_local && n >= GC_MAX_INCOMING)
				break;	/* behind is known already */
		}
		if (!have_local)
			behind = n;
	}
	if ((rc = gc_dirty(&list, &dirty)) < 0) {
		gc_fail("unavailable", 0, "cannot read the status of %s (is the "
		    "index damaged?): %s", gc.req.workdir, gc_git_message());
		goto fail;
	}
	n = git_status_list_entrycount(list);
	for (i = 0, emitted = 0; i < n && emitted < GC_MAX_DIRTY; i++) {
		e = git_status_byindex(list, i);
		if (!gc_dirty_entry(e) || (path = gc_status_path(e)) == NULL)
			continue;
		gc_write(gc_fmt_dirty(path, &len));
		emitted++;
	}
	gc.st.present = 1;
	gc.st.ahead = ahead;
	gc.st.behind = behind;
	gc.st.dirty_total = dirty;
	git_status_list_free(list);
	git_revwalk_free(walk);
	git_reference_free(head);
	return 0;
 fail:
	git_status_list_free(list);
	git_revwalk_free(walk);
	git_reference_free(head);
	return -1;
}

/* connects remote and finds refs/heads/BRANCH; 1 found, 0 not, -1 failed */
static int
gc_connect_find(git_remote *remote, const git_remote_callbacks *cb, git_oid *oid)
{
	const git_remote_head	**heads;
	git_remote_connect_options co;
	char			  ref[GC_MAX_BRANCH + 16];
	size_t			  n, i;
	int			  rc;

	snprintf(ref, sizeof(ref), "refs/heads/%s", gc.req.branch);
	git_remote_connect_options_init(&co, GIT_REMOTE_CONNECT_OPTIONS_VERSION);
	co.callbacks = *cb;
	co.follow_redirects = GIT_REMOTE_REDIRECT_NONE;
	gc_alarm(0, GC_CONNECT_TIMEOUT);
	gc.cred_calls = 0;
	if ((rc = git_remote_connect_ext(remote, GIT_DIRECTION_FETCH, &co)) < 0) {
		gc_fail_git(rc, "cannot reach origin");
		return -1;
	}
	if ((rc = git_remote_ls(&heads, &n, remote)) < 0) {
		gc_fail_git(rc, "cannot list origin's branches");
		return -1;
	}
	alarm(0);
	for (i = 0; i < n; i++)
		if (strcmp(heads[i]->name, ref) == 0) {
			git_oid_cpy(oid, &heads[i]->oid);
			return 1;
		}
	return 0;
}

static int
gc_do_lsremote(void)
{
	git_remote		*remote = NULL;
	git_remote_callbacks	 cb;
	git_oid			 oid;
	int			 rc;

	gc_callbacks(&cb);
	if ((rc = gc_remote_new(&remote, NULL, NULL)) < 0) {
		gc_fail_git(rc, "bad DAVIT_REPO_URL");
		return -1;
	}
	gc_local_origin(1);
	rc = gc_connect_find(remote, &cb, &oid);
	git_remote_disconnect(remote);
	gc_local_origin(0);
	if (rc == -1)
		goto fail;
	gc.has_origin = 1;
	if (rc == 1)
		git_oid_tostr(gc.origin, sizeof(gc.origin), &oid);
	else
		gc_log("origin has no branch %s", gc.req.branch);
	git_remote_free(remote);
	/* the local side too, when there is one: memory stays fresh */
	if (gc_open(1) == 0 && gc_status() == -1)
		return -1;
	return 0;
 fail:
	git_remote_free(remote);
	return -1;
}

static int
gc_do_fetch(void)
{
	git_remote		*remote = NULL;
	git_remote_callbacks	 cb;
	git_fetch_options	 fo;
	git_strarray		 specs;
	git_indexer_progress	 stats;
	char			 spec[2 * GC_MAX_BRANCH + 64], *specp = spec;
	char			 rname[GC_MAX_BRANCH + 32], old[GC_OID_HEX + 1] = "";
	char			 new[GC_OID_HEX + 1], bytes[32];
	git_oid			 oid, before;
	int			 rc;

	if (gc_open(0) == -1)
		return -1;
	gc_remote_ref(rname, sizeof(rname));
	if (git_reference_name_to_id(&before, gc.repo, rname) == 0)
		git_oid_tostr(old, sizeof(old), &before);
	gc_callbacks(&cb);
	/* anonymous: the configured URL, nothing written to .git/config */
	if ((rc = gc_remote_new(&remote, gc.repo, NULL)) < 0) {
		gc_fail_git(rc, "bad DAVIT_REPO_URL");
		return -1;
	}
	gc_local_origin(1);
	if ((rc = gc_connect_find(remote, &cb, &oid)) == -1)
		goto fail;
	if (rc == 0) {
		gc_fail("not_found", 0, "origin has no branch %s: check DAVIT_BRANCH",
		    gc.req.branch);
		goto fail;
	}
	snprintf(spec, sizeof(spec), "+refs/heads/%s:%s", gc.req.branch, rname);
	specs.strings = &specp;
	specs.count = 1;
	git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
	fo.callbacks = cb;
	fo.prune = GIT_FETCH_NO_PRUNE;
	fo.update_fetchhead = 1;
	fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	fo.follow_redirects = GIT_REMOTE_REDIRECT_NONE;
	gc_alarm(1, GC_STALL_TIMEOUT);
	if ((rc = git_remote_download(remote, &specs, &fo)) < 0) {
		gc_fail_git(rc, "fetch failed");
		goto fail;
	}
	alarm(0);
	if ((rc = git_remote_update_tips(remote, &cb, 1,
	    GIT_REMOTE_DOWNLOAD_TAGS_NONE, "davit: fetch")) < 0) {
		gc_fail_git(rc, "cannot update origin's branch");
		goto fail;
	}
	stats = *git_remote_stats(remote);
	git_remote_disconnect(remote);
	gc_local_origin(0);
	git_remote_free(remote);
	remote = NULL;
	if (git_reference_name_to_id(&oid, gc.repo, rname) < 0) {
		gc_fail("unavailable", 0, "fetched, but %s is missing: %s", rname,
		    gc_git_message());
		return -1;
	}
	git_oid_tostr(new, sizeof(new), &oid);
	gc.has_fetched = 1;
	gc_strlcpy(gc.fetched, new, sizeof(gc.fetched));
	gc_human_bytes(stats.received_bytes, bytes, sizeof(bytes));
	if (strcmp(old, new) == 0)
		gc_log("origin/%s is at %.12s: nothing new", gc.req.branch, new);
	else
		gc_log("origin/%s: %.12s -> %.12s (%u objects, %s)", gc.req.branch,
		    old[0] != '\0' ? old : "(none)", new, stats.received_objects,
		    bytes);
	return gc_status();
 fail:
	gc_local_origin(0);
	git_remote_free(remote);
	return -1;
}

/* is the directory missing or empty? */
static int
gc_dir_empty(const char *path)
{
	DIR		*d;
	struct dirent	*de;
	int		 empty = 1;

	if ((d = opendir(path)) == NULL)
		return errno == ENOENT;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
			empty = 0;
			break;
		}
	closedir(d);
	return empty;
}

static int
gc_do_clone(void)
{
	git_clone_options	 co;
	char			 url[GC_MAX_URL + 1];
	int			 rc;

	if (!gc_dir_empty(gc.req.workdir)) {
		gc_fail("conflict", 0, "DAVIT_WORKDIR %s is not empty: davit clones "
		    "only into a missing or empty directory", gc.req.workdir);
		return -1;
	}
	gc_strlcpy(url, gc.req.url, sizeof(url));
	gc_strip_userinfo(url);
	git_clone_options_init(&co, GIT_CLONE_OPTIONS_VERSION);
	gc_callbacks(&co.fetch_opts.callbacks);
	co.fetch_opts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	co.fetch_opts.follow_redirects = GIT_REMOTE_REDIRECT_NONE;
	co.remote_cb = gc_clone_remote;
	co.checkout_branch = gc.req.branch;
	co.checkout_opts.checkout_strategy = GIT_CHECKOUT_SAFE;
	gc_log("cloning %s (branch %s) into %s", url, gc.req.branch,
	    gc.req.workdir);
	gc_alarm(0, GC_CONNECT_TIMEOUT);
	gc.cred_calls = 0;
	gc_local_origin(1);
	rc = git_clone(&gc.repo, gc.req.url, gc.req.workdir, &co);
	gc_local_origin(0);
	if (rc < 0) {
		gc.repo = NULL;
		gc_fail_git(rc, "clone failed");
		return -1;
	}
	alarm(0);
	/* credentials given in the URL do not stay in .git/config */
	if (strcmp(url, gc.req.url) != 0 &&
	    (rc = git_remote_set_url(gc.repo, "origin", url)) < 0) {
		gc_fail_git(rc, "cannot set origin's URL");
		return -1;
	}
	gc_log("cloned %s", url);
	return gc_status();
}

struct gc_conflicts {
	size_t	count;
	char	names[GC_NAMES_IN_MESSAGE * (GC_NAME_IN_MESSAGE + 8)];
};

static void
gc_conflicts_add(struct gc_conflicts *c, const char *path)
{
	char	name[GC_NAME_IN_MESSAGE + 8];
	size_t	len = strlen(path), n;

	if (c->count++ >= GC_NAMES_IN_MESSAGE)
		return;
	n = gc_cut_utf8(path, len, GC_NAME_IN_MESSAGE);
	snprintf(name, sizeof(name), "%s%.*s%s", c->count > 1 ? ", " : "",
	    (int)n, path, n < len ? "..." : "");
	gc_strlcat(c->names, name, sizeof(c->names));
}

static void
gc_conflicts_text(const struct gc_conflicts *c, char *buf, size_t size)
{
	if (c->count > GC_NAMES_IN_MESSAGE)
		snprintf(buf, size, "%s and %zu more", c->names,
		    c->count - GC_NAMES_IN_MESSAGE);
	else
		snprintf(buf, size, "%s", c->names);
}

static int
gc_checkout_notify(git_checkout_notify_t why, const char *path,
    const git_diff_file *baseline, const git_diff_file *target,
    const git_diff_file *workdir, void *payload)
{
	gc_conflicts_add(payload, path);
	return 0;
}

static const char *
gc_delta_name(git_delta_t s)
{
	switch (s) {
	case GIT_DELTA_ADDED:
	case GIT_DELTA_COPIED:
		return "added";
	case GIT_DELTA_DELETED:
		return "deleted";
	case GIT_DELTA_RENAMED:
		return "renamed";
	default:
		return "modified";
	}
}

/* the files that changed between two trees, as file items */
static int
gc_emit_changes(git_tree *from, git_tree *to, size_t *total)
{
	git_diff		*diff = NULL;
	git_diff_find_options	 fo;
	const git_diff_delta	*d;
	size_t			 i, n, len;
	int			 rc;

	if ((rc = git_diff_tree_to_tree(&diff, gc.repo, from, to, NULL)) < 0)
		return rc;
	git_diff_find_options_init(&fo, GIT_DIFF_FIND_OPTIONS_VERSION);
	fo.flags = GIT_DIFF_FIND_RENAMES;
	if ((rc = git_diff_find_similar(diff, &fo)) < 0) {
		git_diff_free(diff);
		return rc;
	}
	n = git_diff_num_deltas(diff);
	for (i = 0; i < n && i < GC_MAX_FILES; i++) {
		d = git_diff_get_delta(diff, i);
		gc_write(gc_fmt_file(gc_delta_name(d->status), d->new_file.path,
		    d->status == GIT_DELTA_RENAMED ? d->old_file.path : NULL, &len));
	}
	*total = n;
	git_diff_free(diff);
	return 0;
}

static int
gc_do_pull(void)
{
	git_reference		*head = NULL, *sym = NULL, *moved = NULL;
	git_commit		*lc = NULL, *rc_commit = NULL;
	git_tree		*ltree = NULL, *rtree = NULL;
	git_status_list		*list = NULL;
	git_checkout_options	 co;
	struct gc_conflicts	 conflicts;
	const char		*target, *path;
	char			 rname[GC_MAX_BRANCH + 32], lname[GC_MAX_BRANCH + 16];
	char			 cur[GC_MAX_BRANCH * 2 + 1] = "", names[512];
	char			 msg[64];
	git_oid			 loid, roid;
	size_t			 ahead = 0, behind = 0, dirty, i, n, files = 0;
	int			 rc, unborn = 0;

	if (gc_open(0) == -1)
		return -1;
	if (git_repository_state(gc.repo) != GIT_REPOSITORY_STATE_NONE) {
		gc_fail("conflict", 0, "a merge, rebase, cherry-pick or bisect is in "
		    "progress in %s: finish or abort it by hand", gc.req.workdir);
		return -1;
	}
	if (git_repository_head_detached(gc.repo) == 1) {
		if (git_reference_name_to_id(&loid, gc.repo, "HEAD") == 0)
			git_oid_tostr(cur, 13, &loid);
		gc_fail("conflict", 0, "HEAD is detached (at %s): davit pulls only "
		    "on branch %s; check it out by hand", cur, gc.req.branch);
		return -1;
	}
	rc = git_repository_head(&head, gc.repo);
	if (rc == GIT_EUNBORNBRANCH || rc == GIT_ENOTFOUND) {
		unborn = 1;
		if (git_reference_lookup(&sym, gc.repo, "HEAD") == 0 &&
		    (target = git_reference_symbolic_target(sym)) != NULL &&
		    strncmp(target, "refs/heads/", 11) == 0)
			gc_strlcpy(cur, target + 11, sizeof(cur));
		git_reference_free(sym);
	} else if (rc < 0) {
		gc_fail("unavailable", 0, "cannot read HEAD in %s (is the repository "
		    "damaged?): %s", gc.req.workdir, gc_git_message());
		return -1;
	} else {
		if (git_reference_is_branch(head))
			gc_strlcpy(cur, git_reference_shorthand(head), sizeof(cur));
		git_oid_cpy(&loid, git_reference_target(head));
	}
	if (strcmp(cur, gc.req.branch) != 0) {
		gc_fail("conflict", 0, "the checkout is on branch %s, not %s: davit "
		    "pulls only into %s; switch back by hand", cur[0] ? cur : "?",
		    gc.req.branch, gc.req.branch);
		goto fail;
	}
	gc_remote_ref(rname, sizeof(rname));
	snprintf(lname, sizeof(lname), "refs/heads/%s", gc.req.branch);
	if ((rc = git_reference_name_to_id(&roid, gc.repo, rname)) < 0) {
		if (rc == GIT_ENOTFOUND)
			gc_fail("not_found", 0, "%s does not exist yet: fetch first",
			    rname);
		else
			gc_fail("unavailable", 0, "cannot read %s: %s", rname,
			    gc_git_message());
		goto fail;
	}
	gc.pull.present = 1;
	if (!unborn) {
		git_oid_tostr(gc.pull_from, sizeof(gc.pull_from), &loid);
		gc.pull.from = gc.pull_from;
	}
	if (!unborn && git_oid_equal(&loid, &roid)) {
		gc_strlcpy(gc.pull_to, gc.pull_from, sizeof(gc.pull_to));
		gc.pull.to = gc.pull_to;
		gc.pull.up_to_date = 1;
		gc_log("already up to date with origin/%s (%.12s)", gc.req.branch,
		    gc.pull_to);
		git_reference_free(head);
		return gc_status();
	}
	if (!unborn) {
		if ((rc = git_graph_ahead_behind(&ahead, &behind, gc.repo, &loid,
		    &roid)) < 0) {
			gc_fail("unavailable", 0, "cannot compare HEAD with %s: %s",
			    rname, gc_git_message());
			goto fail;
		}
		if (ahead > 0 && behind > 0) {
			gc_fail("conflict", 0, "history has diverged: the checkout has "
			    "%zu commit%s that origin/%s lacks, and origin has %zu "
			    "that the checkout lacks; davit only fast-forwards: "
			    "reconcile them by hand", ahead, ahead == 1 ? "" : "s",
			    gc.req.branch, behind);
			goto fail;
		}
		if (behind == 0) {
			gc_strlcpy(gc.pull_to, gc.pull_from, sizeof(gc.pull_to));
			gc.pull.to = gc.pull_to;
			gc.pull.up_to_date = 1;
			gc_log("the checkout is %zu commit%s ahead of origin/%s: "
			    "nothing to pull", ahead, ahead == 1 ? "" : "s",
			    gc.req.branch);
			git_reference_free(head);
			return gc_status();
		}
	}
	/* local edits to tracked files are never overwritten */
	if ((rc = gc_dirty(&list, &dirty)) < 0) {
		gc_fail("unavailable", 0, "cannot read the status of %s (is the "
		    "index damaged?): %s", gc.req.workdir, gc_git_message());
		goto fail;
	}
	if (dirty > 0) {
		memset(&conflicts, 0, sizeof(conflicts));
		n = git_status_list_entrycount(list);
		for (i = 0; i < n; i++) {
			const git_status_entry *e = git_status_byindex(list, i);

			if (gc_dirty_entry(e) && (path = gc_status_path(e)) != NULL)
				gc_conflicts_add(&conflicts, path);
		}
		gc_conflicts_text(&conflicts, names, sizeof(names));
		gc_fail("conflict", 0, "tracked file%s modified in the checkout: %s; "
		    "commit, stash or discard the change%s by hand (davit never "
		    "overwrites local changes)", dirty == 1 ? " is" : "s are", names,
		    dirty == 1 ? "" : "s");
		goto fail;
	}
	if ((rc = git_commit_lookup(&rc_commit, gc.repo, &roid)) < 0 ||
	    (rc = git_commit_tree(&rtree, rc_commit)) < 0 ||
	    (!unborn && ((rc = git_commit_lookup(&lc, gc.repo, &loid)) < 0 ||
	    (rc = git_commit_tree(&ltree, lc)) < 0))) {
		gc_fail("unavailable", 0, "cannot read the commits to pull (is the "
		    "repository damaged?): %s", gc_git_message());
		goto fail;
	}
	memset(&conflicts, 0, sizeof(conflicts));
	git_checkout_options_init(&co, GIT_CHECKOUT_OPTIONS_VERSION);
	co.checkout_strategy = GIT_CHECKOUT_SAFE;
	co.notify_flags = GIT_CHECKOUT_NOTIFY_CONFLICT;
	co.notify_cb = gc_checkout_notify;
	co.notify_payload = &conflicts;
	if ((rc = git_checkout_tree(gc.repo, (git_object *)rc_commit, &co)) < 0) {
		if (conflicts.count > 0 || rc == GIT_ECONFLICT) {
			gc_conflicts_text(&conflicts, names, sizeof(names));
			gc_fail("conflict", 0, "the pull would overwrite file%s in the "
			    "checkout that git does not track: %s; move %s away by hand",
			    conflicts.count == 1 ? "" : "s", names,
			    conflicts.count == 1 ? "it" : "them");
		} else
			gc_fail("unavailable", 0, "checkout failed: %s",
			    gc_git_message());
		goto fail;
	}
	snprintf(msg, sizeof(msg), "davit: fast-forward pull");
	if (unborn)
		rc = git_reference_create(&moved, gc.repo, lname, &roid, 0, msg);
	else
		rc = git_reference_create_matching(&moved, gc.repo, lname, &roid, 1,
		    &loid, msg);
	if (rc < 0) {
		gc_fail("unavailable", 0, "the files were updated but %s could not "
		    "be moved (%s): run git status in %s", lname, gc_git_message(),
		    gc.req.workdir);
		goto fail;
	}
	git_oid_tostr(gc.pull_to, sizeof(gc.pull_to), &roid);
	gc.pull.to = gc.pull_to;
	gc.pull.commits = behind;
	if ((rc = gc_emit_changes(ltree, rtree, &files)) < 0) {
		gc_log("cannot list the changed files: %s", gc_git_message());
		files = 0;
	}
	gc.pull.files_total = files;
	gc_log("fast-forwarded %s from %.12s to %.12s (%zu commit%s, %zu file%s)",
	    gc.req.branch, gc.pull.from != NULL ? gc.pull.from : "(none)",
	    gc.pull_to, behind, behind == 1 ? "" : "s", files, files == 1 ? "" : "s");
	git_reference_free(moved);
	git_tree_free(ltree);
	git_tree_free(rtree);
	git_commit_free(lc);
	git_commit_free(rc_commit);
	git_status_list_free(list);
	git_reference_free(head);
	return gc_status();
 fail:
	gc.pull.present = 0;
	git_reference_free(moved);
	git_tree_free(ltree);
	git_tree_free(rtree);
	git_commit_free(lc);
	git_commit_free(rc_commit);
	git_status_list_free(list);
	git_reference_free(head);
	return -1;
}

/*
 * No core dumps, no ptrace by the owner's other processes: the token will
 * be here.  Called as root before the drop, and again after it (changing
 * uids resets the dumpable flag to fs.suid_dumpable).
 */
static int
gc_harden(void)
{
	struct rlimit	 rl = { 0, 0 };
	FILE		*f;
	char		*line = NULL;
	size_t		 cap = 0;
	int		 traced = 0;

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1 ||
	    prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0 ||
	    setrlimit(RLIMIT_CORE, &rl) == -1)
		return -1;
	if ((f = fopen("/proc/self/status", "re")) != NULL) {
		while (getline(&line, &cap, f) != -1)
			if (strncmp(line, "TracerPid:", 10) == 0 &&
			    strtol(line + 10, NULL, 10) != 0)
				traced = 1;
		free(line);
		fclose(f);
	}
	return traced ? -1 : 0;
}

/* a uid or gid from argv: decimal, not root's, not -1 */
static int
gc_parse_id(const char *s, unsigned *out)
{
	unsigned long	v = 0;
	const char	*p;

	if (*s == '\0' || strlen(s) > 10)
		return -1;
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p - '0');
	}
	if (v == 0 || v >= (unsigned long)(uid_t)-1)
		return -1;
	*out = (unsigned)v;
	return 0;
}

/*
 * Exec'd as root (so that the owner cannot attach to it yet), the child
 * hardens itself, then becomes the owner of DAVIT_WORKDIR for good, and
 * checks it, before it reads the token or touches the repository.
 */
static int
gc_drop(uid_t uid, gid_t gid)
{
	uid_t	ruid, euid, suid;
	gid_t	rgid, egid, sgid;

	if (gc_harden() == -1) {
		gc_fail("internal", 0, "cannot protect the git child (ptrace or "
		    "core dumps)");
		return -1;
	}
	if (geteuid() != uid) {
		if (setgroups(1, &gid) == -1 ||
		    setresgid(gid, gid, gid) == -1 ||
		    setresuid(uid, uid, uid) == -1) {
			gc_fail("internal", 0, "the git child cannot become uid %u "
			    "gid %u: %s", (unsigned)uid, (unsigned)gid,
			    strerror(errno));
			return -1;
		}
	}
	if (getresuid(&ruid, &euid, &suid) == -1 ||
	    getresgid(&rgid, &egid, &sgid) == -1 ||
	    ruid != uid || euid != uid || suid != uid ||
	    rgid != gid || egid != gid || sgid != gid ||
	    setuid(0) != -1) {
		gc_fail("internal", 0, "the git child did not become uid %u gid %u",
		    (unsigned)uid, (unsigned)gid);
		return -1;
	}
	if (gc_harden() == -1 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		gc_fail("internal", 0, "cannot protect the git child (ptrace or "
		    "core dumps)");
		return -1;
	}
	return 0;
}

static int
gc_read_request(char *buf, size_t size, size_t *len)
{
	ssize_t	n;

	*len = 0;
	for (;;) {
		if (*len == size)
			return -1;	/* too long */
		if ((n = read(STDIN_FILENO, buf + *len, size - *len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break;
		*len += n;
	}
	while (*len > 0 && (buf[*len - 1] == '\n' || buf[*len - 1] == '\r'))
		(*len)--;
	return 0;
}

int
git_child_main(int argc, char **argv)
{
	char		 buf[GC_MAX_REQUEST + 2], err[256];
	struct passwd	*pw;
	size_t		 len;
	unsigned	 uid, gid;
	int		 rv = -1, libgit2 = 0;

	signal(SIGPIPE, SIG_IGN);
	memset(&gc, 0, sizeof(gc));
	gc.req.op = GC__OPS;
	if (argc != 4) {
		gc_fail("internal", 0, "usage: davit-backend --git-child UID GID "
		    "< request");
		goto done;
	}
	/* git never runs as root: the parent refuses first, this is the net */
	if (gc_parse_id(argv[2], &uid) == -1 || gc_parse_id(argv[3], &gid) == -1) {
		gc_fail("internal", 0, "the git child never runs as root (uid or "
		    "gid 0) and needs numeric ids");
		goto done;
	}
	if (gc_drop(uid, gid) == -1)
		goto done;
	rv = gc_read_request(buf, sizeof(buf), &len);
	if (rv == -1)
		gc_fail("internal", 0, "cannot read the request (longer than %d "
		    "bytes?)", GC_MAX_REQUEST);
	else if ((rv = gc_request_parse(buf, len, &gc.req, err,
	    sizeof(err))) == -1)
		gc_fail("internal", 0, "%s", err);
	explicit_bzero(buf, sizeof(buf));
	if (rv == -1)
		goto done;
	rv = -1;
	/* libgit2 reads the owner's global config, not the caller's */
	unsetenv("XDG_CONFIG_HOME");
	unsetenv("HOME");
	if ((pw = getpwuid(geteuid())) != NULL) {
		gc_strlcpy(gc.home, pw->pw_dir, sizeof(gc.home));
		gc_strlcpy(gc.user, pw->pw_name, sizeof(gc.user));
		setenv("HOME", gc.home, 1);
	}
	if (gc_check_owner() == -1)
		goto done;
	gc_alarm_prepare();
	if (git_libgit2_init() < 0) {
		gc_fail("internal", 0, "libgit2 failed to initialise");
		goto done;
	}
	libgit2 = 1;
	if (gc_origin_only() < 0) {
		gc_fail("internal", 0, "cannot register the origin-only stream: %s",
		    gc_git_message());
		goto done;
	}
	/* parsing the CA bundle costs milliseconds: only for TLS remotes */
	if (gc.req.url != NULL && gc_url_is_http(gc.req.url)) {
		if (access(GC_CERT_FILE, R_OK) == 0)
			git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS,
			    GC_CERT_FILE, NULL);
		else
			git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, NULL,
			    GC_CERT_DIR);
	}
	git_libgit2_opts(GIT_OPT_SET_USER_AGENT, "davit/" DAVIT_VERSION);

	switch (gc.req.op) {
	case GC_STATUS:
		rv = gc_open(0) == 0 ? gc_status() : -1;
		break;
	case GC_FETCH:
		rv = gc_do_fetch();
		break;
	case GC_PULL:
		rv = gc_do_pull();
		break;
	case GC_CLONE:
		rv = gc_do_clone();
		break;
	case GC_LSREMOTE:
		rv = gc_do_lsremote();
		break;
	case GC__OPS:
		break;
	}
	alarm(0);
	if (rv == -1 && !gc.failed)
		gc_fail("internal", 0, "%s failed without a reason",
		    gc_op_name(gc.req.op));
	/* a refusal or failure still refreshes the parent's memory */
	if (rv == -1 && gc.repo != NULL && !gc.st.present) {
		gc.failed = 0;
		if (gc_status() == -1)
			memset(&gc.st, 0, sizeof(gc.st));
		gc.failed = 1;
	}
 done:
	gc_finish();
	if (gc.repo != NULL)
		git_repository_free(gc.repo);
	gc.repo = NULL;
	if (libgit2)
		git_libgit2_shutdown();
	gc_request_free(&gc.req);
	return rv == 0 ? 0 : 1;
}
