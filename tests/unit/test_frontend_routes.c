/*
 * The frontend's routes, through its real HTTP edge (http.c, api.c,
 * static.c, webhook_http.c) on a loopback socket, with no backend: what a
 * request gets without one.  A child process is the client (blocking
 * sockets, one connection a request, "Connection: close"); the test's
 * process runs the frontend's loop until the child is done.
 */
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <event2/event.h>

#include "frontend/frontend.h"

#define SEP	"\n=====\n"

static const char *const requests[] = {
	"GET /api/nope HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
	"POST /api/state HTTP/1.1\r\nHost: h\r\nConnection: close\r\n"
	    "Content-Length: 0\r\n\r\n",
	"GET /api/state HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
	"POST /api/login HTTP/1.1\r\nHost: h\r\nOrigin: http://evil\r\n"
	    "Connection: close\r\nContent-Type: application/json\r\n"
	    "Content-Length: 2\r\n\r\n{}",
	"POST /api/login HTTP/1.1\r\nHost: h\r\nConnection: close\r\n"
	    "Content-Type: text/plain\r\nContent-Length: 2\r\n\r\n{}",
	"GET /healthz HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
	"HEAD /healthz HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
	"DELETE /index.html HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
	"POST /api/login HTTP/1.1\r\nHost: h\r\nContent-Type: application/json"
	    "\r\nContent-Length: 70000\r\n\r\n",
	"POST /hooks/github HTTP/1.1\r\nHost: h\r\nConnection: close\r\n"
	    "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
	"GET /healthz HTTP/1.1\r\nHost: h\r\n\r\n"
	    "GET /api/nope HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
};
#define NREQ	(sizeof(requests) / sizeof(requests[0]))

static char	*replies[NREQ];

/* the child: each request on its own connection, the replies to out */
static void
client(int port, int out)
{
	struct sockaddr_in	 sin;
	char			 buf[65536];
	size_t			 i;
	ssize_t			 n;
	int			 s;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (i = 0; i < NREQ; i++) {
		if ((s = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
		    connect(s, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
		    write(s, requests[i], strlen(requests[i])) == -1)
			_exit(1);
		while ((n = read(s, buf, sizeof(buf))) > 0)
			if (write(out, buf, (size_t)n) != n)
				_exit(1);
		close(s);
		if (write(out, SEP, strlen(SEP)) == -1)
			_exit(1);
	}
	_exit(0);
}

static char	*got;
static size_t	 gotlen;

static void
collect(evutil_socket_t fd, short ev, void *arg)
{
	char	buf[4096];
	ssize_t	n;

	if ((n = read(fd, buf, sizeof(buf))) <= 0) {
		event_base_loopbreak(fenv->base);
		return;
	}
	got = realloc(got, gotlen + (size_t)n + 1);
	assert_non_null(got);
	memcpy(got + gotlen, buf, (size_t)n);
	gotlen += (size_t)n;
	got[gotlen] = '\0';
}

static int
setup(void **state)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	struct event		*ev;
	struct timeval		 tv = { 30, 0 };
	pid_t			 pid;
	int			 fd, p[2], status;
	size_t			 i;
	char			*s, *e;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 16) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1 ||
	    pipe(p) == -1)
		return -1;
	fenv->base = event_base_new();
	fenv->www_fd = -1;
	event_base_priority_init(fenv->base, 2);
	session_limits(600, 3600);
	sse_init();
	http_init(fd);
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		close(p[0]);
		client(ntohs(sin.sin_port), p[1]);
	}
	close(p[1]);
	ev = event_new(fenv->base, p[0], EV_READ | EV_PERSIST, collect, NULL);
	event_add(ev, NULL);
	event_base_loopexit(fenv->base, &tv);	/* a bound, not a timing */
	event_base_dispatch(fenv->base);
	event_free(ev);
	close(p[0]);
	if (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0 || got == NULL)
		return -1;
	for (i = 0, s = got; i < NREQ; i++, s = e + strlen(SEP)) {
		if ((e = strstr(s, SEP)) == NULL)
			return -1;
		*e = '\0';
		replies[i] = s;
	}
	return 0;
}

static int
teardown(void **state)
{
	fenv->shutting_down = 1;
	sse_shutdown();
	http_shutdown();
	state_shutdown();
	session_clear();
	event_base_free(fenv->base);
	free(got);
	return 0;
}

/* every reply davit writes has the security headers */
static void
assert_secure(const char *r)
{
	assert_non_null(strstr(r, "Content-Security-Policy: default-src 'self'"));
	assert_non_null(strstr(r, "X-Content-Type-Options: nosniff"));
	assert_non_null(strstr(r, "X-Frame-Options: DENY"));
}

static void
test_api_routes(void **state)
{
	assert_true(strncmp(replies[0], "HTTP/1.1 404 ", 13) == 0);
	assert_non_null(strstr(replies[0], "\"code\":\"not_found\""));
	assert_secure(replies[0]);
	assert_true(strncmp(replies[1], "HTTP/1.1 405 ", 13) == 0);
	assert_non_null(strstr(replies[1], "Allow: GET, HEAD"));
	assert_true(strncmp(replies[2], "HTTP/1.1 401 ", 13) == 0);
	assert_non_null(strstr(replies[2], "\"code\":\"unauthorized\""));
	assert_true(strncmp(replies[3], "HTTP/1.1 403 ", 13) == 0);
	assert_true(strncmp(replies[4], "HTTP/1.1 415 ", 13) == 0);
}

static void
test_healthz_and_files(void **state)
{
	assert_true(strncmp(replies[5], "HTTP/1.1 200 ", 13) == 0);
	assert_non_null(strstr(replies[5], "{\"backend\":\"down\"}"));
	/* HEAD: the length, no body */
	assert_true(strncmp(replies[6], "HTTP/1.1 200 ", 13) == 0);
	assert_non_null(strstr(replies[6], "Content-Length: 18\r\n"));
	assert_null(strstr(replies[6], "backend\":"));
	assert_true(strncmp(replies[7], "HTTP/1.1 405 ", 13) == 0);
	assert_non_null(strstr(replies[7], "Allow: GET, HEAD"));
}

static void
test_edge(void **state)
{
	/* a first request over its route's limit: davit's own 413 */
	assert_true(strncmp(replies[8], "HTTP/1.1 413 ", 13) == 0);
	assert_non_null(strstr(replies[8], "\"code\":\"too_large\""));
	assert_secure(replies[8]);
	/* no webhook secret: no webhook */
	assert_true(strncmp(replies[9], "HTTP/1.1 404 ", 13) == 0);
	/* two requests on one connection, answered in order */
	assert_true(strncmp(replies[10], "HTTP/1.1 200 ", 13) == 0);
	assert_non_null(strstr(strstr(replies[10], "backend"),
	    "HTTP/1.1 404 "));
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_api_routes),
		cmocka_unit_test(test_healthz_and_files),
		cmocka_unit_test(test_edge),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
