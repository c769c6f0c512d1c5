/*
 * common/landlock.c: in a forked child, confined to a read-only and a
 * read-write directory, what it may and may not open, create and connect.
 * Skipped where the kernel has no Landlock.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <errno.h>
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

#include "common/landlock.h"

static char	tmpl[] = "/tmp/davit-test-landlock.XXXXXX";
static char	ro[64], rw[64], rofile[80], rwfile[80], rwnew[80];

/* 0 if open(path, flags) fails with EACCES */
static int
denied(const char *path, int flags)
{
	int	fd;

	if ((fd = open(path, flags | O_CLOEXEC, 0600)) != -1) {
		close(fd);
		return 1;
	}
	return errno == EACCES ? 0 : 1;
}

static int
allowed(const char *path, int flags)
{
	int	fd;

	if ((fd = open(path, flags | O_CLOEXEC, 0600)) == -1)
		return 1;
	close(fd);
	return 0;
}

/* the child's checks: its exit status is the number of the first failure */
static int
confined(int abi)
{
	struct landlock_rule	rules[2] = {
		{ -1, ro, 0 },
		{ -1, rw, 1 },
	};
	struct sockaddr_in	sin;
	char			err[256];
	int			fd, rc;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return 100;
	if ((rc = landlock_confine(rules, 2, err, sizeof(err))) != abi) {
		fprintf(stderr, "landlock_confine: %d (%s)\n", rc, err);
		return 101;
	}
	if (allowed(rofile, O_RDONLY))
		return 1;
	if (denied(rofile, O_WRONLY))
		return 2;
	if (denied(ro, O_RDONLY | O_DIRECTORY) == 0)	/* listing: allowed */
		return 3;
	if (allowed(rwfile, O_RDWR))
		return 4;
	if (allowed(rwnew, O_WRONLY | O_CREAT | O_EXCL))
		return 5;
	if (denied("/etc/passwd", O_RDONLY))
		return 6;
	if (denied("/tmp/davit-test-landlock-outside", O_WRONLY | O_CREAT))
		return 7;
	if (abi >= 4) {		/* TCP connect: denied before it is tried */
		if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
			return 8;
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons(1);
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != -1 ||
		    errno != EACCES)
			return 9;
		close(fd);
	}
	return 0;
}

static void
test_confine(void **state)
{
	pid_t	pid;
	int	abi, status, fd;

	if ((abi = landlock_abi()) == 0)
		skip();
	assert_non_null(mkdtemp(tmpl));
	snprintf(ro, sizeof(ro), "%s/ro", tmpl);
	snprintf(rw, sizeof(rw), "%s/rw", tmpl);
	snprintf(rofile, sizeof(rofile), "%s/file", ro);
	snprintf(rwfile, sizeof(rwfile), "%s/file", rw);
	snprintf(rwnew, sizeof(rwnew), "%s/new", rw);
	assert_int_equal(mkdir(ro, 0700), 0);
	assert_int_equal(mkdir(rw, 0700), 0);
	assert_int_not_equal(fd = open(rofile, O_WRONLY | O_CREAT, 0600), -1);
	close(fd);
	assert_int_not_equal(fd = open(rwfile, O_WRONLY | O_CREAT, 0600), -1);
	close(fd);

	assert_int_not_equal(pid = fork(), -1);
	if (pid == 0)
		_exit(confined(abi));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* the parent is not confined */
	assert_int_equal(allowed(rofile, O_WRONLY), 0);

	unlink(rwnew);
	unlink(rwfile);
	unlink(rofile);
	rmdir(rw);
	rmdir(ro);
	rmdir(tmpl);
}

static void
test_bad_rule(void **state)
{
	struct landlock_rule	rule = { -1, "/nonexistent/davit", 0 };
	char			err[256];

	if (landlock_abi() == 0)
		skip();
	assert_int_equal(landlock_confine(&rule, 1, err, sizeof(err)), -1);
	assert_int_equal(errno, ENOENT);
	assert_non_null(strstr(err, "/nonexistent/davit"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_confine),
		cmocka_unit_test(test_bad_rule),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
