/*
 * The frontend's routes, through its real HTTP edge (http.c, api.c,
 * static.c, webhook_http.c) on a loopback socket, with no backend: what a
 * request gets without one.  A child process is the client (blocking
 * sockets, one connection a request, "Connection: close"); the test's
 * process runs the frontend's loop until the child is done.  The settings
 * name two projects, "shop" (secret SECRET) and "blog" (no secret), and
 * a session is made for the routes that need one.
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
#include <sodium.h>

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
#define NSTATIC	(sizeof(requests) / sizeof(requests[0]))

#define SECRET	"shop-secret"
#define BODY	"{\"zen\":\"x\"}"

/* made in setup: %1$s the session's cookie, %2$s its CSRF token, %3$s a signature */
static const char *const projreq[] = {
	/* ?project=: checked here, never forwarded when bad */
	"GET /api/state?project=Shop HTTP/1.1\r\nHost: h\r\nConnection: close\r\n"
	    "Cookie: davit_session=%1$s\r\n\r\n",
	"GET /api/state?project=shop&project=blog HTTP/1.1\r\nHost: h\r\n"
	    "Connection: close\r\nCookie: davit_session=%1$s\r\n\r\n",
	"POST /api/deploy?project=-x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n"
	    "Cookie: davit_session=%1$s\r\nX-Davit-CSRF: %2$s\r\n"
	    "Content-Length: 0\r\n\r\n",
	"POST /api/services/web/restart?project=abcdefghijklmnopqrstuvwxyz0123456 "
	    "HTTP/1.1\r\nHost: h\r\nConnection: close\r\n"
	    "Cookie: davit_session=%1$s\r\nX-Davit-CSRF: %2$s\r\n"
	    "Content-Length: 0\r\n\r\n",
	/* a good name goes on to the backend (none here: 503) */
	"POST /api/services/web/restart?project=shop HTTP/1.1\r\nHost: h\r\n"
	    "Connection: close\r\nCookie: davit_session=%1$s\r\n"
	    "X-Davit-CSRF: %2$s\r\nContent-Length: 0\r\n\r\n",
	"GET /api/state?project=blog HTTP/1.1\r\nHost: h\r\nConnection: close\r\n"
	    "Cookie: davit_session=%1$s\r\n\r\n",
	"GET /api/projects HTTP/1.1\r\nHost: h\r\nConnection: close\r\n"
	    "Cookie: davit_session=%1$s\r\n\r\n",
	/* webhooks: shop's secret opens /hooks/github/shop alone */
	"POST /hooks/github/shop HTTP/1.1\r\nHost: h\r\nConnection: close\r\n"
	    "X-GitHub-Event: ping\r\nX-GitHub-Delivery: d1\r\n"
	    "X-Hub-Signature-256: %3$s\r\nContent-Type: application/json\r\n"
	    "Content-Length: 11\r\n\r\n" BODY,
	"POST /hooks/github/blog HTTP/1.1\r\nHost: h\r\nConnection: close\r\n"
	    "X-GitHub-Event: ping\r\nX-GitHub-Delivery: d2\r\n"
	    "X-Hub-Signature-256: %3$s\r\nContent-Type: application/json\r\n"
	    "Content-Length: 11\r\n\r\n" BODY,
	"POST /hooks/github/nope HTTP/1.1\r\nHost: h\r\nConnection: close\r\n"
	    "X-GitHub-Event: ping\r\nX-GitHub-Delivery: d3\r\n"
	    "X-Hub-Signature-256: %3$s\r\nContent-Type: application/json\r\n"
	    "Content-Length: 11\r\n\r\n" BODY,
	"POST /hooks/github HTTP/1.1\r\nHost: h\r\nConnection: close\r\n"
	    "X-GitHub-Event: ping\r\nX-GitHub-Delivery: d4\r\n"
	    "X-Hub-Signature-256: %3$s\r\nContent-Type: application/json\r\n"
	    "Content-Length: 11\r\n\r\n" BODY,
	"POST /hooks/github/shop HTTP/1.1\r\nHost: h\r\nConnection: close\r\n"
	    "X-GitHub-Event: ping\r\nX-GitHub-Delivery: d5\r\n"
	    "X-Hub-Signature-256: sha256=%1$.64s\r\n"
	    "Content-Type: application/json\r\nContent-Length: 11\r\n\r\n" BODY,
};
#define NPROJ	(sizeof(projreq) / sizeof(projreq[0]))
#define NREQ	(NSTATIC + NPROJ)
#define R(i)	replies[NSTATIC + (i)]

static char	*reqs[NREQ];
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
		    write(s, reqs[i], strlen(reqs[i])) == -1)
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

/* the settings frontend.config would give, a session, the requests */
static int
projects_setup(void)
{
	crypto_auth_hmacsha256_state hs;
	unsigned char	mac[crypto_auth_hmacsha256_BYTES];
	char		sig[7 + 2 * sizeof(mac) + 1];
	struct session	*sess;
	size_t		i;

	if (sodium_init() == -1)
		return -1;
	fenv->cfg.nprojects = 2;
	if ((fenv->cfg.projects = calloc(2, sizeof(struct fe_project))) == NULL ||
	    (fenv->cfg.projects[0].webhook_secret = strdup(SECRET)) == NULL)
		return -1;
	strcpy(fenv->cfg.projects[0].name, "shop");
	fenv->cfg.projects[0].webhook_secret_len = strlen(SECRET);
	strcpy(fenv->cfg.projects[1].name, "blog");
	crypto_auth_hmacsha256_init(&hs, (const unsigned char *)SECRET,
	    strlen(SECRET));
	crypto_auth_hmacsha256_update(&hs, (const unsigned char *)BODY,
	    strlen(BODY));
	crypto_auth_hmacsha256_final(&hs, mac);
	memcpy(sig, "sha256=", 7);
	http_hex(mac, sizeof(mac), sig + 7);
	session_limits(600, 3600);
	if ((sess = session_create(fe_now())) == NULL)
		return -1;
	for (i = 0; i < NSTATIC; i++)
		reqs[i] = (char *)requests[i];
	for (i = 0; i < NPROJ; i++)
		if (asprintf(&reqs[NSTATIC + i], projreq[i], sess->id, sess->csrf,
		    sig) == -1)
			return -1;
	return 0;
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

	if (projects_setup() == -1)
		return -1;
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
	/* several projects: /hooks/github is no project's */
	assert_true(strncmp(replies[9], "HTTP/1.1 401 ", 13) == 0);
	/* two requests on one connection, answered in order */
	assert_true(strncmp(replies[10], "HTTP/1.1 200 ", 13) == 0);
	assert_non_null(strstr(strstr(replies[10], "backend"),
	    "HTTP/1.1 404 "));
}

static const char *
body(const char *r)
{
	const char	*b = strstr(r, "\r\n\r\n");

	assert_non_null(b);
	return b + 4;
}

static void
assert_status(const char *r, const char *status, const char *code)
{
	if (strncmp(r, status, strlen(status)) != 0)
		fail_msg("wanted %s, got %.200s", status, r);
	if (code != NULL)
		assert_non_null(strstr(body(r), code));
}

/* ?project=: bad names are 400s here; a good one is forwarded */
static void
test_project_query(void **state)
{
	assert_status(R(0), "HTTP/1.1 400 ", "project: not a project name");
	assert_status(R(1), "HTTP/1.1 400 ", "project: given twice");
	assert_status(R(2), "HTTP/1.1 400 ", "project: not a project name");
	assert_status(R(3), "HTTP/1.1 400 ", "project: not a project name");
	/* past the check, to the backend, which is not there */
	assert_status(R(4), "HTTP/1.1 503 ", "\"code\":\"unavailable\"");
	assert_status(R(5), "HTTP/1.1 503 ", "\"code\":\"unavailable\"");
	assert_status(R(6), "HTTP/1.1 503 ", "\"code\":\"unavailable\"");
}

/*
 * A project's secret opens its own URL only; no secret, no such project,
 * no name with several projects, a wrong signature: one 401, byte for byte
 */
static void
test_project_webhooks(void **state)
{
	size_t	i;

	assert_status(R(7), "HTTP/1.1 200 ", "{\"pong\":true}");
	for (i = 8; i <= 11; i++) {
		assert_status(R(i), "HTTP/1.1 401 ", "\"code\":\"unauthorized\"");
		assert_string_equal(body(R(i)), body(R(8)));
	}
	assert_string_equal(body(replies[9]), body(R(8)));
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_project_query),
		cmocka_unit_test(test_project_webhooks),
		cmocka_unit_test(test_api_routes),
		cmocka_unit_test(test_healthz_and_files),
		cmocka_unit_test(test_edge),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
