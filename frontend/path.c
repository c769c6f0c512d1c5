/*
 * Request paths for the www directory, and content types: pure functions.
 * A path is percent-decoded once and must then be plain segments: no "."
 * or "..", no empty segment ("//"), no hidden file, no NUL, control
 * character, backslash or encoded slash, at most FE_STATIC_MAX_DEPTH
 * directories and FE_STATIC_MAX_PATH bytes.
 */
#include <string.h>
#include <strings.h>

#include "common/text.h"
#include "frontend/frontend.h"

/*
 * raw: the path of the request URI, still percent-encoded.  Writes the
 * relative path to open ("index.html" for "/") into out.  -1 if refused.
 */
int
path_normalize(const char *raw, char *out, size_t outlen)
{
	const unsigned char	*p = (const unsigned char *)raw;
	size_t			 n = 0, seglen = 0, depth = 0, segstart = 0;
	int			 hi, lo;
	unsigned char		 c;

	if (raw == NULL || raw[0] != '/' || outlen < 2)
		return -1;
	if (strcmp(raw, "/") == 0) {
		if (outlen < sizeof("index.html"))
			return -1;
		memcpy(out, "index.html", sizeof("index.html"));
		return 0;
	}
	p++;
	for (;;) {
		c = *p;
		if (c == '%') {
			if ((hi = hexval(p[1])) == -1 || (lo = hexval(p[2])) == -1)
				return -1;
			c = (unsigned char)(hi << 4 | lo);
			/* an encoded separator is never a separator, nor a name */
			if (c == '/' || c == '\0')
				return -1;
			p += 3;
		} else if (c == '/' || c == '\0') {
			/* end of a segment */
			if (seglen == 0)
				return -1;		/* "//" or a trailing "/" */
			if (out[segstart] == '.')
				return -1;		/* ".", "..", hidden files */
			if (++depth > FE_STATIC_MAX_DEPTH + 1)
				return -1;
			if (c == '\0')
				break;
			if (n + 1 >= outlen || n + 1 > FE_STATIC_MAX_PATH)
				return -1;
			out[n++] = '/';
			segstart = n;
			seglen = 0;
			p++;
			continue;
		} else
			p++;
		if (c < 0x20 || c == 0x7f || c == '\\')
			return -1;
		if (n + 1 >= outlen || n + 1 > FE_STATIC_MAX_PATH)
			return -1;
		out[n++] = (char)c;
		seglen++;
	}
	out[n] = '\0';
	return 0;
}

const char *
path_content_type(const char *rel)
{
	static const struct {
		const char	*ext;
		const char	*type;
	} types[] = {
		{ "html", "text/html; charset=utf-8" },
		{ "js", "text/javascript; charset=utf-8" },
		{ "mjs", "text/javascript; charset=utf-8" },
		{ "css", "text/css; charset=utf-8" },
		{ "json", "application/json" },
		{ "map", "application/json" },
		{ "webmanifest", "application/manifest+json" },
		{ "svg", "image/svg+xml" },
		{ "png", "image/png" },
		{ "jpg", "image/jpeg" },
		{ "jpeg", "image/jpeg" },
		{ "gif", "image/gif" },
		{ "webp", "image/webp" },
		{ "ico", "image/x-icon" },
		{ "woff2", "font/woff2" },
		{ "txt", "text/plain; charset=utf-8" },
	};
	const char	*dot, *base;
	size_t		 i;

	base = strrchr(rel, '/');
	base = base != NULL ? base + 1 : rel;
	if ((dot = strrchr(base, '.')) == NULL)
		return "application/octet-stream";
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcasecmp(dot + 1, types[i].ext) == 0)
			return types[i].type;
	return "application/octet-stream";
}
