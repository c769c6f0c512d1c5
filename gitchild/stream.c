/*
 * The origin-only stream, registered as libgit2's standard stream: every
 * TCP connection libgit2 opens (http, the socket under https's TLS, ssh)
 * goes to origin's host and port, or is refused naming where it would
 * have gone (gc.refused, for report.c's message).
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <git2/sys/stream.h>

#include "common/log.h"
#include "gitchild/gitchild.h"

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
int
gc_origin_only(void)
{
	static git_stream_registration	reg = {
		GIT_STREAM_VERSION, gc_stream_init, NULL
	};

	if (gc.req.url != NULL && gc_url_authority(gc.req.url, &gc.osrv) == 0)
		gc.has_origin_server = 1;
	return git_stream_register(GIT_STREAM_STANDARD, &reg);
}
