/*
 * The dashboard's files, from the www directory only.  The request path is
 * made plain by path_normalize (path.c); then each directory on the way is
 * opened with O_NOFOLLOW relative to the one before, from the directory
 * opened at start, so no symlink can lead out of it; only regular files are
 * served.  One path is answered from memory before the directory is looked
 * at: PROTOCOL_JS_PATH, generated from proto/'s tables (protocol.c).
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

/*
 * Opens rel (from path_normalize) below dirfd without following any
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
		/* as path_normalize: never "", ".", ".." or hidden */
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

/* the generated module: a file of the www directory by that name is not read */
static void
static_protocol_js(struct evhttp_request *req)
{
	struct evbuffer	*buf;
	const char	*js;
	size_t		 len;

	js = protocol_js(&len);
	if ((buf = evbuffer_new()) == NULL)
		fatalx("%s: evbuffer_new", __func__);
	evbuffer_add(buf, js, len);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control",
	    "no-cache");
	http_reply(req, 200, path_content_type(PROTOCOL_JS_PATH), buf);
	evbuffer_free(buf);
}

void
static_serve(struct evhttp_request *req, const char *rawpath)
{
	char		 rel[FE_STATIC_MAX_PATH + 1];
	struct evbuffer	*buf;
	off_t		 size;
	int		 fd;

	if (path_normalize(rawpath, rel, sizeof(rel)) == -1) {
		log_debug("%s: refused path", __func__);
		http_reply_error(req, 404, "not_found", "no such file");
		return;
	}
	if (strcmp(rel, PROTOCOL_JS_PATH) == 0) {
		static_protocol_js(req);
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
	http_reply(req, 200, path_content_type(rel), buf);
	evbuffer_free(buf);
}
