/*
 * Unit tests for backend/notify.c's rate limit, through its public
 * functions and a small HTTP receiver of our own on 127.0.0.1: one kind is
 * sent at most once a NOTIFY_MIN_INTERVAL for one service, other services
 * and other kinds go out at once; when every remembered kind holds
 * something back, the one sent longest ago makes room by sending what it
 * held (its newest text, with the count of the others), never losing it.
 * No test waits for the interval: "not sent" is checked by a marker sent
 * after it, the worker sending in order.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "backend/backend.h"
#include "backend/notify.h"
#include "common/json.h"

#define RECV_MAX	512		/* bodies kept */
#define RECV_BODY_MAX	8192
#define WAIT_SECS	60		/* a hang guard, not an assertion on speed */
#define KEYS		128		/* notify.c's NOTIFY_KEYS */

static struct backend_env	test_env;
struct backend_env		*benv = &test_env;

static pthread_mutex_t	 recv_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 recv_cond = PTHREAD_COND_INITIALIZER;
static char		*recv_bodies[RECV_MAX];
static int		 recv_n;
static int		 recv_fd = -1;
static pthread_t	 recv_thread;
static char		 url[64];

/* reads one request, answers 204, keeps its body */
static void
recv_one(int c)
{
	char	 buf[RECV_BODY_MAX + 1024], *end, *cl, *body;
	size_t	 have = 0, want = 0, hlen;
	ssize_t	 n;
	static const char ok[] = "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n";

	for (;;) {
		if (have == sizeof(buf) - 1)
			return;
		if ((n = read(c, buf + have, sizeof(buf) - 1 - have)) <= 0)
			return;
		have += n;
		buf[have] = '\0';
		if ((end = strstr(buf, "\r\n\r\n")) == NULL)
			continue;
		hlen = end + 4 - buf;
		if ((cl = strcasestr(buf, "\r\nContent-Length:")) == NULL || cl > end)
			return;
		want = strtoul(cl + 17, NULL, 10);
		if (have >= hlen + want)
			break;
	}
	if ((body = strndup(buf + hlen, want)) == NULL)
		abort();
	(void)write(c, ok, sizeof(ok) - 1);
	pthread_mutex_lock(&recv_lock);
	if (recv_n < RECV_MAX)
		recv_bodies[recv_n++] = body;
	else
		free(body);
	pthread_cond_broadcast(&recv_cond);
	pthread_mutex_unlock(&recv_lock);
}

static void *
recv_main(void *arg)
{
	int	c;

	while ((c = accept(recv_fd, NULL, NULL)) != -1) {
		recv_one(c);
		close(c);
	}
	return NULL;
}

/* waits until n bodies came; fails after WAIT_SECS */
static void
recv_wait(int n)
{
	struct timespec	until;
	int		got;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += WAIT_SECS;
	pthread_mutex_lock(&recv_lock);
	while (recv_n < n &&
	    pthread_cond_timedwait(&recv_cond, &recv_lock, &until) == 0)
		;
	got = recv_n;
	pthread_mutex_unlock(&recv_lock);
	if (got < n)
		fail_msg("%d notifications received, %d expected", got, n);
}

/* body i, parsed */
static yajl_val
recv_json(int i)
{
	char		 err[128];
	yajl_val	 v;

	pthread_mutex_lock(&recv_lock);
	assert_true(i < recv_n);
	v = json_parse(recv_bodies[i], strlen(recv_bodies[i]), err, sizeof(err));
	pthread_mutex_unlock(&recv_lock);
	assert_non_null(v);
	return v;
}

static const char *
jstr(yajl_val v, const char *key)
{
	yajl_val	f = json_get(v, key);

	return YAJL_IS_STRING(f) ? YAJL_GET_STRING(f) : NULL;
}

/* body i is of kind and service (NULL: none), with text and held_back */
static void
assert_note(int i, const char *kind, const char *service, const char *text,
    long long held)
{
	yajl_val	v = recv_json(i);

	assert_string_equal(jstr(v, "kind"), kind);
	if (service == NULL)
		assert_true(YAJL_IS_NULL(json_get(v, "service")));
	else
		assert_string_equal(jstr(v, "service"), service);
	assert_string_equal(jstr(v, "text"), text);
	assert_string_equal(jstr(v, "content"), text);
	assert_string_equal(jstr(v, "project"), "proj");
	assert_true(YAJL_IS_INTEGER(json_get(v, "held_back")));
	assert_int_equal(YAJL_GET_INTEGER(json_get(v, "held_back")), held);
	yajl_tree_free(v);
}

static int
group_setup(void **state)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);

	recv_fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(recv_fd != -1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(recv_fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(recv_fd, 64), 0);
	assert_int_equal(getsockname(recv_fd, (struct sockaddr *)&sin, &len), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/hook", ntohs(sin.sin_port));
	assert_int_equal(pthread_create(&recv_thread, NULL, recv_main, NULL), 0);

	memset(&test_env, 0, sizeof(test_env));
	test_env.base = event_base_new();
	assert_non_null(test_env.base);
	test_env.cfg.notify_url = url;
	test_env.cfg.compose_project = "proj";
	notify_init();
	return 0;
}

static int
group_teardown(void **state)
{
	int	i;

	notify_shutdown();
	event_base_free(test_env.base);
	shutdown(recv_fd, SHUT_RDWR);
	close(recv_fd);
	pthread_join(recv_thread, NULL);
	for (i = 0; i < recv_n; i++)
		free(recv_bodies[i]);
	return 0;
}

static void
test_one_a_minute_per_kind_and_service(void **state)
{
	int	base;

	pthread_mutex_lock(&recv_lock);
	base = recv_n;
	pthread_mutex_unlock(&recv_lock);

	notify_project(NULL, "service.restart.failed", "web", "web failed: %s", "1");
	notify_project(NULL, "service.restart.failed", "web", "web failed: %s", "2");
	notify_project(NULL, "service.restart.failed", "web", "web failed: %s", "3");
	/* another service, another kind, no service: each at once */
	notify_project(NULL, "service.restart.failed", "worker", "worker failed");
	notify_critical("docker.unreachable", "the engine is away");
	notify_project(NULL, "docker.unreachable", NULL, "still away");
	notify_critical("marker.one", "marker");
	recv_wait(base + 4);
	/* the worker sends in order: the marker came last, so web's 2 and 3 and
	 * the second docker.unreachable were held back, not late */
	assert_note(base + 0, "service.restart.failed", "web",
	    "davit [proj]: web failed: 1", 0);
	assert_note(base + 1, "service.restart.failed", "worker",
	    "davit [proj]: worker failed", 0);
	assert_note(base + 2, "docker.unreachable", NULL,
	    "davit [proj]: the engine is away", 0);
	assert_note(base + 3, "marker.one", NULL, "davit [proj]: marker", 0);
	/* nothing more came behind the marker */
	notify_critical("marker.two", "marker 2");
	recv_wait(base + 5);
	assert_note(base + 4, "marker.two", NULL, "davit [proj]: marker 2", 0);
}

/* 1 if body v is what a slot holding something sends to make room */
static int
is_made_room(yajl_val v)
{
	char		 want[160];
	const char	*k = jstr(v, "kind"), *t = jstr(v, "text");
	long long	 held = YAJL_GET_INTEGER(json_get(v, "held_back"));

	if (strncmp(k, "fill.", 5) == 0) {
		/* its newest text, and the count of the others */
		snprintf(want, sizeof(want), "davit [proj]: %s held b (1 like it "
		    "in the last 60 s)", k);
		return strcmp(t, want) == 0 && held == 1;
	}
	if (strcmp(k, "service.restart.failed") == 0)	/* the first test's web */
		return strcmp(t, "davit [proj]: web failed: 3 (1 like it in the "
		    "last 60 s)") == 0 && held == 1;
	if (strcmp(k, "docker.unreachable") == 0)
		return strcmp(t, "davit [proj]: still away") == 0 && held == 0;
	return 0;
}

static void
test_full_table_sends_what_it_held(void **state)
{
	char		 kind[32], text[160];
	const char	*k;
	yajl_val	 v;
	int		 base, i, j, n, made_room = 0, end;

	pthread_mutex_lock(&recv_lock);
	base = recv_n;
	pthread_mutex_unlock(&recv_lock);

	/*
	 * KEYS kinds, each sent once and then holding two back, one at a time
	 * (the worker's queue is short).  With the first test's web (2 held)
	 * and docker.unreachable (1 held), KEYS + 2 kinds hold something in
	 * a table of KEYS slots: twice a slot that holds something must make
	 * room, by sending what it held.
	 */
	for (i = 0; i < KEYS; i++) {
		snprintf(kind, sizeof(kind), "fill.%03d", i);
		notify_project(NULL, kind, "svc", "%s sent", kind);
		recv_wait(base + i + 1);
		notify_project(NULL, kind, "svc", "%s held a", kind);
		notify_project(NULL, kind, "svc", "%s held b", kind);
	}
	/* a new kind: one more slot makes room first, then it goes out */
	notify_critical("new.kind", "new");
	notify_critical("marker.end", "the end");
	end = base + KEYS + 2 + 1 + 1 + 1;
	recv_wait(end);

	for (i = 0; i < KEYS; i++) {
		snprintf(kind, sizeof(kind), "fill.%03d", i);
		snprintf(text, sizeof(text), "davit [proj]: %s sent", kind);
		for (j = base, n = 0; j < end; j++) {
			v = recv_json(j);
			n += strcmp(jstr(v, "text"), text) == 0;
			yajl_tree_free(v);
		}
		assert_int_equal(n, 1);
	}
	for (j = base; j < end; j++) {
		v = recv_json(j);
		k = jstr(v, "kind");
		assert_non_null(k);
		if (is_made_room(v))
			made_room++;
		else if (strcmp(k, "new.kind") == 0) {
			/* the slot it took sent what it held just before */
			yajl_val	 p = recv_json(j - 1);

			assert_true(is_made_room(p));
			yajl_tree_free(p);
			assert_int_equal(j, end - 2);
		} else if (strcmp(k, "marker.end") != 0) {
			snprintf(text, sizeof(text), "davit [proj]: %s sent", k);
			assert_string_equal(jstr(v, "text"), text);
		}
		yajl_tree_free(v);
	}
	assert_int_equal(made_room, 3);
	v = recv_json(end - 1);
	assert_string_equal(jstr(v, "kind"), "marker.end");
	yajl_tree_free(v);
	pthread_mutex_lock(&recv_lock);
	assert_int_equal(recv_n, end);		/* and nothing else */
	pthread_mutex_unlock(&recv_lock);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_a_minute_per_kind_and_service),
		cmocka_unit_test(test_full_table_sends_what_it_held),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
