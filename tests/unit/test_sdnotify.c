/*
 * backend/sdnotify.c: NOTIFY_SOCKET and WATCHDOG_* parsing, and the real
 * datagrams (READY=1, WATCHDOG=1, STOPPING=1) on an abstract socket.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "backend/sdnotify.h"

static void
test_addr(void **state)
{
	struct sockaddr_un	sun;
	socklen_t		len;
	char			longp[200];

	assert_int_equal(sdnotify_addr("/run/systemd/notify", &sun, &len), 0);
	assert_string_equal(sun.sun_path, "/run/systemd/notify");
	assert_int_equal(len, offsetof(struct sockaddr_un, sun_path) +
	    strlen("/run/systemd/notify") + 1);

	assert_int_equal(sdnotify_addr("@sd-notify-x", &sun, &len), 0);
	assert_int_equal(sun.sun_path[0], '\0');
	assert_memory_equal(sun.sun_path + 1, "sd-notify-x", 11);
	assert_int_equal(len, offsetof(struct sockaddr_un, sun_path) + 12);

	assert_int_equal(sdnotify_addr(NULL, &sun, &len), -1);
	assert_int_equal(sdnotify_addr("", &sun, &len), -1);
	assert_int_equal(sdnotify_addr("@", &sun, &len), -1);
	assert_int_equal(sdnotify_addr("/", &sun, &len), -1);
	assert_int_equal(sdnotify_addr("relative/sock", &sun, &len), -1);
	assert_int_equal(sdnotify_addr("vsock:2:1234", &sun, &len), -1);
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	assert_int_equal(sdnotify_addr(longp, &sun, &len), -1);
	longp[sizeof(sun.sun_path)] = '\0';		/* no room for the NUL */
	assert_int_equal(sdnotify_addr(longp, &sun, &len), -1);
	longp[sizeof(sun.sun_path) - 1] = '\0';		/* just fits */
	assert_int_equal(sdnotify_addr(longp, &sun, &len), 0);
}

static void
test_watchdog_usec(void **state)
{
	assert_int_equal(sdnotify_watchdog_usec(NULL, NULL, 42), 0);
	assert_int_equal(sdnotify_watchdog_usec("30000000", NULL, 42), 30000000);
	assert_int_equal(sdnotify_watchdog_usec("30000000", "42", 42), 30000000);
	assert_int_equal(sdnotify_watchdog_usec("30000000", "43", 42), 0);
	assert_int_equal(sdnotify_watchdog_usec("30000000", "x", 42), -1);
	assert_int_equal(sdnotify_watchdog_usec("30000000", "-42", 42), -1);
	assert_int_equal(sdnotify_watchdog_usec("30000000", "", 42), -1);
	assert_int_equal(sdnotify_watchdog_usec("", NULL, 42), -1);
	assert_int_equal(sdnotify_watchdog_usec("-1", NULL, 42), -1);
	assert_int_equal(sdnotify_watchdog_usec("100", NULL, 42), -1);
	assert_int_equal(sdnotify_watchdog_usec("30s", NULL, 42), -1);
	assert_int_equal(sdnotify_watchdog_usec(" 30000000", NULL, 42), -1);
	assert_int_equal(sdnotify_watchdog_usec("99999999999999999999", NULL,
	    42), -1);
}

static void
recv_msg(int fd, const char *want)
{
	char	buf[SDNOTIFY_MAX_MSG];
	ssize_t	n;

	n = recv(fd, buf, sizeof(buf) - 1, 0);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf, want);
}

static void
test_datagrams(void **state)
{
	struct sockaddr_un	 sun;
	struct event_base	*base;
	struct timeval		 tv = { 3, 0 };
	socklen_t		 len;
	char			 name[64], pid[32];
	int			 fd;

	snprintf(name, sizeof(name), "@davit-test-sdnotify-%d", (int)getpid());
	assert_int_equal(sdnotify_addr(name, &sun, &len), 0);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd != -1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, len), 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv)), 0);

	setenv("NOTIFY_SOCKET", name, 1);
	setenv("WATCHDOG_USEC", "1000000", 1);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	base = event_base_new();
	assert_non_null(base);
	sdnotify_ready(base);
	recv_msg(fd, "READY=1");
	recv_msg(fd, "WATCHDOG=1");
	/* the next ping comes from the event loop's timer (every 0.5 s) */
	event_base_loop(base, EVLOOP_ONCE);
	recv_msg(fd, "WATCHDOG=1");
	sdnotify_stopping();
	recv_msg(fd, "STOPPING=1");
	event_base_free(base);
	close(fd);
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
}

static void
test_not_under_systemd(void **state)
{
	struct event_base	*base = event_base_new();

	unsetenv("NOTIFY_SOCKET");
	sdnotify_ready(base);		/* no-op, no crash */
	sdnotify_stopping();
	setenv("NOTIFY_SOCKET", "not-a-path", 1);
	sdnotify_ready(base);		/* refused with a log line */
	sdnotify_stopping();
	unsetenv("NOTIFY_SOCKET");
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr),
		cmocka_unit_test(test_watchdog_usec),
		cmocka_unit_test(test_datagrams),
		cmocka_unit_test(test_not_under_systemd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
