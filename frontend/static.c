/*
 * The dashboard's files, from the www directory only.  A request path is
 * percent-decoded once and must then be plain segments: no "." or "..", no
 * empty segment ("//"), no hidden file, no NUL, control character,
 * backslash or encoded slash.  Each directory on the way is opened with
 * O_NOFOLLOW relative to the one before, from the directory opened at start,
 * so no symlink can lead out of it; only regular files are served.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "common/log.h"
#include "frontend/frontend.h"

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * raw: the path of the request URI, still percent-encoded.  Writes the
 * relative path to open ("index.html" for "/") into out.  -1 if refused.
 */
int
static_normalize(const char *raw, char *out, size_t outlen)
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

/*
 * Opens rel (from static_normalize) below dirfd without following any
 * symlink; a regular file of at most FE_STATIC_MAX_FILE bytes.  Returns the
 * fd, or -1 with errno (ENOENT for anything that is not such a file).
 */
int
static_open(int dirfd, const char *rel, off_t *size)
{
	char		 comp[FE_STATIC_MAX_PATH + 1];
	const char	*p = rel, *slash;
	struct stat	 st;
	int		 fd = -1, dfd = dirfd, next;
	size_t		 len;

	errno = 0;
	if (strlen(rel) > FE_STATIC_MAX_PATH)
		goto enoent;
	while ((slash = strchr(p, '/')) != NULL) {
		len = (size_t)(slash - p);
		/* as static_normalize: never "", ".", ".." or hidden */
		if (len == 0 || p[0] == '.') {
			if (dfd != dirfd)
				close(dfd);
			goto enoent;
		}
		memcpy(comp, p, len);
		comp[len] = '\0';
		next = openat(dfd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		if (dfd != dirfd)
			close(dfd);
		if (next == -1)
			goto enoent;
		dfd = next;
		p = slash + 1;
	}
	if (p[0] == '\0' || p[0] == '.') {
		if (dfd != dirfd)
			close(dfd);
		goto enoent;
	}
	fd = openat(dfd, p, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC);
	if (dfd != dirfd)
		close(dfd);
	if (fd == -1)
		goto enoent;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > FE_STATIC_MAX_FILE) {
		close(fd);
		goto enoent;
	}
	*size = st.st_size;
	return fd;
 enoent:
	if (errno != EMFILE && errno != ENFILE)
		errno = ENOENT;
	return -1;
}

const char *
static_content_type(const char *rel)
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

/* the whole file: it is small and regular, and may have changed size */
static int
static_read(struct evbuffer *buf, int fd, off_t size)
{
	off_t	got = 0;
	int	n;

	while (got < size) {
		n = evbuffer_read(buf, fd, (int)(size - got));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		if (n == 0)
			break;
		got += n;
	}
	return 0;
}

void
static_serve(struct evhttp_request *req, const char *rawpath)
{
	char		 rel[FE_STATIC_MAX_PATH + 1];
	struct evbuffer	*buf;
	off_t		 size;
	int		 fd;

	if (static_normalize(rawpath, rel, sizeof(rel)) == -1) {
		log_debug("%s: refused path", __func__);
		http_reply_error(req, 404, "not_found", "no such file");
		return;
	}
	if (fenv->www_fd == -1) {
		http_reply_error(req, 404, "not_found",
		    "the dashboard's files are not installed");
		return;
	}
	if ((fd = static_open(fenv->www_fd, rel, &size)) == -1) {
		if (errno == EMFILE || errno == ENFILE) {
			log_warn("%s: open", __func__);
			http_reply_error(req, 503, "unavailable",
			    "too many open files");
		} else
			http_reply_error(req, 404, "not_found", "no such file");
		return;
	}
	if ((buf = evbuffer_new()) == NULL)
		fatalx("%s: evbuffer_new", __func__);
	if (static_read(buf, fd, size) == -1) {
		log_warn("%s: read %s", __func__, rel);
		close(fd);
		evbuffer_free(buf);
		http_reply_error(req, 500, "internal", "cannot read the file");
		return;
	}
	close(fd);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control",
	    "no-cache");
	http_reply(req, 200, static_content_type(rel), buf);
	evbuffer_free(buf);
}
