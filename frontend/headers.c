/*
 * Parsing of what HTTP clients send: cookies, media types, Origin, ids.
 * Pure functions over hostile text: bounded, no allocation, every length
 * checked, an embedded NUL is a malformed header.
 */
#include <string.h>
#include <strings.h>

#include "frontend/frontend.h"

static int
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* RFC 6265 cookie-octet, plus the quotes of a quoted value */
static int
is_cookie_octet(unsigned char c)
{
	return c == 0x21 || (c >= 0x23 && c <= 0x2b) || (c >= 0x2d && c <= 0x3a) ||
	    (c >= 0x3c && c <= 0x5b) || (c >= 0x5d && c <= 0x7e);
}

/*
 * Finds the values of the cookie NAME in a Cookie header ("a=1; b=2"):
 * up to max of them (a name may come more than once), as pointers into hdr.
 * Pairs without '=', with characters a cookie may not hold, or beyond the
 * first FE_MAX_COOKIES are skipped; a header longer than
 * FE_MAX_COOKIE_HEADER or holding a NUL yields nothing.
 */
size_t
http_cookie_find(const char *hdr, size_t len, const char *name,
    const char **vals, size_t *lens, size_t max)
{
	const char	*p, *end, *pair, *eq, *pend, *v;
	size_t		 namelen = strlen(name), found = 0, npairs = 0, vlen, i;
	int		 ok;

	if (hdr == NULL || len > FE_MAX_COOKIE_HEADER ||
	    memchr(hdr, '\0', len) != NULL)
		return 0;
	p = hdr;
	end = hdr + len;
	while (p < end && found < max && npairs < FE_MAX_COOKIES) {
		while (p < end && (is_ows(*p) || *p == ';'))
			p++;
		if (p == end)
			break;
		pair = p;
		if ((pend = memchr(p, ';', (size_t)(end - p))) == NULL)
			pend = end;
		p = pend;
		npairs++;
		/* trailing whitespace of the pair */
		while (pend > pair && is_ows(pend[-1]))
			pend--;
		if ((eq = memchr(pair, '=', (size_t)(pend - pair))) == NULL)
			continue;
		if ((size_t)(eq - pair) != namelen ||
		    memcmp(pair, name, namelen) != 0)
			continue;
		v = eq + 1;
		vlen = (size_t)(pend - v);
		if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
			v++;
			vlen -= 2;
		}
		for (i = 0, ok = 1; i < vlen && ok; i++)
			ok = is_cookie_octet((unsigned char)v[i]);
		if (!ok)
			continue;
		vals[found] = v;
		lens[found] = vlen;
		found++;
	}
	return found;
}

/*
 * The media type of a Content-Type value, lowercased, without parameters
 * or whitespace: "Application/JSON; charset=utf-8" -> "application/json".
 * -1 when it is not type/subtype or does not fit.
 */
int
http_media_type(const char *ctype, char *out, size_t outlen)
{
	const char	*p = ctype;
	size_t		 n = 0;
	int		 slash = 0;

	if (ctype == NULL || outlen == 0)
		return -1;
	while (is_ows(*p))
		p++;
	for (; *p != '\0' && *p != ';' && !is_ows(*p); p++) {
		unsigned char	c = (unsigned char)*p;

		if (c == '/')
			slash++;
		else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("!#$&^_.+-", c) != NULL))
			return -1;
		if (n + 1 >= outlen)
			return -1;
		out[n++] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : (char)c;
	}
	while (is_ows(*p))
		p++;
	if (*p != '\0' && *p != ';')
		return -1;
	out[n] = '\0';
	if (slash != 1 || out[0] == '/' || out[n - 1] == '/')
		return -1;
	return 0;
}

/* the types a plain HTML form (or a CORS "simple request") can send */
int
http_media_is_form(const char *media)
{
	return strcmp(media, "application/x-www-form-urlencoded") == 0 ||
	    strcmp(media, "multipart/form-data") == 0 ||
	    strcmp(media, "text/plain") == 0;
}

/*
 * 1 if an Origin header names the host of the Host header: scheme http or
 * https, then exactly that host[:port], nothing after.  "null", a path,
 * userinfo or a different port do not match.
 */
int
http_origin_ok(const char *origin, const char *host)
{
	const char	*hp;
	size_t		 hlen;

	if (origin == NULL || host == NULL)
		return 0;
	while (is_ows(*host))
		host++;
	hlen = strlen(host);
	while (hlen > 0 && is_ows(host[hlen - 1]))
		hlen--;
	if (hlen == 0 || hlen > 255 || memchr(host, '/', hlen) != NULL ||
	    memchr(host, '@', hlen) != NULL)
		return 0;
	if (strncasecmp(origin, "http://", 7) == 0)
		hp = origin + 7;
	else if (strncasecmp(origin, "https://", 8) == 0)
		hp = origin + 8;
	else
		return 0;
	return strlen(hp) == hlen && strncasecmp(hp, host, hlen) == 0;
}

/* a decimal id in 1..max, digits only, no leading zero: 0 on success */
int
http_parse_id(const char *s, size_t len, long long max, long long *out)
{
	long long	v = 0;
	size_t		i;

	if (len == 0 || len > 19 || s[0] == '0')
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v > (max - (s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v < 1 || v > max)
		return -1;
	*out = v;
	return 0;
}

/* 1 if s is len lowercase hex digits */
int
http_is_hex(const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* out holds 2 * len + 1 */
void
http_hex(const unsigned char *in, size_t len, char *out)
{
	static const char	digits[] = "0123456789abcdef";
	size_t			i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0x0f];
	}
	out[2 * len] = '\0';
}

/*
 * The method and the target of a request line "METHOD SP TARGET SP VERSION"
 * (its CRLF left out), as pointers into line: 0 on success, -1 when it is
 * not one: longer than FE_MAX_HEADERS, a NUL or another control character,
 * a part missing or empty, or more than three parts.
 */
int
http_request_line(const char *line, size_t len, const char **method,
    size_t *mlen, const char **target, size_t *tlen)
{
	const char	*sp1, *sp2;
	size_t		 i;

	if (len == 0 || len > FE_MAX_HEADERS)
		return -1;
	for (i = 0; i < len; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			return -1;
	if ((sp1 = memchr(line, ' ', len)) == NULL || sp1 == line)
		return -1;
	sp2 = memchr(sp1 + 1, ' ', len - (size_t)(sp1 + 1 - line));
	if (sp2 == NULL || sp2 == sp1 + 1 || sp2 + 1 == line + len ||
	    memchr(sp2 + 1, ' ', len - (size_t)(sp2 + 1 - line)) != NULL)
		return -1;
	*method = line;
	*mlen = (size_t)(sp1 - line);
	*target = sp1 + 1;
	*tlen = (size_t)(sp2 - sp1 - 1);
	return 0;
}

/*
 * The end of a request's head in the bytes p[0..n): the index just past
 * it, or -1 if it is not there yet.  *state carries over between calls
 * (0 at the start of a request).  A line ends with LF, CR LF tolerated; an
 * empty line ends the head.
 */
ssize_t
http_head_scan(int *state, const char *p, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		switch (p[i]) {
		case '\n':
			if (*state == 1 || *state == 2) {
				*state = 3;
				return (ssize_t)(i + 1);
			}
			*state = 1;
			break;
		case '\r':
			*state = *state == 1 ? 2 : (*state == 2 ? 0 : *state);
			break;
		default:
			*state = 0;
			break;
		}
	}
	return -1;
}

/*
 * How the body of a request follows its head (head[0..len), the request
 * line included): *clen its Content-Length (-1 when none), *chunked when
 * Transfer-Encoding names chunked.  -1 when that cannot be trusted: a
 * Content-Length that is not all digits, over 18 of them, or two that
 * differ; both headers at once.
 */
int
http_head_body(const char *head, size_t len, long long *clen, int *chunked)
{
	const char	*p = head, *end = head + len, *eol, *colon, *v, *ve;
	long long	 n;
	size_t		 nlen;

	*clen = -1;
	*chunked = 0;
	if ((eol = memchr(p, '\n', len)) == NULL)
		return -1;
	for (p = eol + 1; p < end; p = eol + 1) {
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		if ((colon = memchr(p, ':', (size_t)(eol - p))) == NULL)
			continue;
		nlen = (size_t)(colon - p);
		for (v = colon + 1; v < eol && (*v == ' ' || *v == '\t'); v++)
			;
		for (ve = eol; ve > v && (ve[-1] == '\r' || ve[-1] == ' ' ||
		    ve[-1] == '\t'); ve--)
			;
		if (nlen == 14 && strncasecmp(p, "Content-Length", 14) == 0) {
			if (ve == v || ve - v > 18)
				return -1;
			for (n = 0; v < ve; v++) {
				if (*v < '0' || *v > '9')
					return -1;
				n = n * 10 + (*v - '0');
			}
			if (*clen != -1 && *clen != n)
				return -1;
			*clen = n;
		} else if (nlen == 17 &&
		    strncasecmp(p, "Transfer-Encoding", 17) == 0) {
			if (ve - v >= 7 && strncasecmp(ve - 7, "chunked", 7) == 0)
				*chunked = 1;
		}
		if (eol == end)
			break;
	}
	if (*chunked && *clen != -1)
		return -1;
	return 0;
}
