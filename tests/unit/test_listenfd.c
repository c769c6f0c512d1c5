/*
 * frontend/listenfd.c: LISTEN_PID/LISTEN_FDS parsing, and taking a real
 * listening socket from fd 3 as systemd passes it.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "frontend/listenfd.h"

static void
test_count(void **state)
{
	assert_int_equal(listenfd_count(NULL, NULL, 42), 0);
	assert_int_equal(listenfd_count("42", NULL, 42), 0);
	assert_int_equal(listenfd_count(NULL, "1", 42), 0);
	assert_int_equal(listenfd_count("42", "1", 42), 1);
	assert_int_equal(listenfd_count("42", "2", 42), 2);
	assert_int_equal(listenfd_count("42", "0", 42), 0);
	assert_int_equal(listenfd_count("43", "1", 42), 0);	/* not ours */
	assert_int_equal(listenfd_count("0", "1", 42), -1);
	assert_int_equal(listenfd_count("-42", "1", 42), -1);
	assert_int_equal(listenfd_count("42x", "1", 42), -1);
	assert_int_equal(listenfd_count("", "1", 42), -1);
	assert_int_equal(listenfd_count("42", "", 42), -1);
	assert_int_equal(listenfd_count("42", "-1", 42), -1);
	assert_int_equal(listenfd_count("42", "1 ", 42), -1);
	assert_int_equal(listenfd_count("42", "65", 42), -1);
	assert_int_equal(listenfd_count("99999999999999999999", "1", 42), -1);
	assert_int_equal(listenfd_count("42", "99999999999999999999", 42), -1);
}

static void
set_env(pid_t pid, const char *fds)
{
	char	buf[32];

	snprintf(buf, sizeof(buf), "%d", (int)pid);
	setenv("LISTEN_PID", buf, 1);
	setenv("LISTEN_FDS", fds, 1);
	setenv("LISTEN_FDNAMES", "davit-frontend.socket", 1);
}

static void
test_take(void **state)
{
	struct sockaddr_un	sun = { .sun_family = AF_UNIX };
	int			fd, fl;

	/* not under systemd, or meant for another process: bind ourselves */
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	assert_int_equal(listenfd_take(), -1);
	set_env(getpid() + 1, "1");
	assert_int_equal(listenfd_take(), -1);
	assert_null(getenv("LISTEN_PID"));

	/* a listening socket on fd 3, as systemd passes it */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd != -1);
	snprintf(sun.sun_path + 1, sizeof(sun.sun_path) - 1,
	    "davit-test-listenfd-%d", (int)getpid());
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(fd, 4), 0);
	if (fd != LISTENFD_FIRST) {
		assert_int_equal(dup2(fd, LISTENFD_FIRST), LISTENFD_FIRST);
		close(fd);
	}
	set_env(getpid(), "1");
	assert_int_equal(listenfd_take(), LISTENFD_FIRST);
	assert_null(getenv("LISTEN_PID"));
	assert_null(getenv("LISTEN_FDS"));
	assert_null(getenv("LISTEN_FDNAMES"));
	fl = fcntl(LISTENFD_FIRST, F_GETFL);
	assert_true(fl & O_NONBLOCK);
	assert_true(fcntl(LISTENFD_FIRST, F_GETFD) & FD_CLOEXEC);
	close(LISTENFD_FIRST);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_count),
		cmocka_unit_test(test_take),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
