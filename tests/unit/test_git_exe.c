/*
 * The git child as a program: davit-git is its own executable, refuses to
 * run without its marker or as root (answering with a final line the
 * backend decodes), and davit-backend no longer links libgit2.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gitchild/wire.h"

/* everything cmd writes on stdout, at most size - 1 bytes */
static void
run(const char *cmd, char *out, size_t size)
{
	FILE	*f;
	size_t	 n;

	assert_non_null(f = popen(cmd, "r"));
	n = fread(out, 1, size - 1, f);
	out[n] = '\0';
	pclose(f);
}

static void
child_says(const char *args, const char *needle)
{
	struct gc_line	 l;
	char		 cmd[1024], out[4096], err[128];

	snprintf(cmd, sizeof(cmd), "'%s' %s </dev/null 2>/dev/null",
	    DAVIT_GIT_EXE, args);
	run(cmd, out, sizeof(out));
	/* one final line, decoded as the backend decodes it */
	assert_non_null(strchr(out, '\n'));
	assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1);
	assert_int_equal(gc_line_decode(out, strlen(out), &l, err, sizeof(err)), 0);
	assert_int_equal(l.type, GL_FAIL);
	assert_string_equal(l.code, "internal");
	assert_false(l.retry);
	assert_non_null(strstr(l.text, needle));
	gc_line_free(&l);
}

static void
test_usage(void **state)
{
	child_says("", "usage: davit-git --git-child UID GID");
	child_says("1000 1000", "usage: davit-git --git-child UID GID");
	child_says("--git-child 1000", "usage: davit-git --git-child UID GID");
}

static void
test_never_root(void **state)
{
	child_says("--git-child 0 1000", "never runs as root");
	child_says("--git-child 1000 0", "never runs as root");
	child_says("--git-child -1 1000", "never runs as root");
	child_says("--git-child 4294967295 1000", "never runs as root");
}

static void
test_links(void **state)
{
	char	cmd[1024], out[16384];

	snprintf(cmd, sizeof(cmd), "readelf -d '%s'", DAVIT_BACKEND_EXE);
	run(cmd, out, sizeof(out));
	assert_non_null(strstr(out, "libyajl"));	/* read the right file */
	assert_null(strstr(out, "libgit2"));
	snprintf(cmd, sizeof(cmd), "readelf -d '%s'", DAVIT_GIT_EXE);
	run(cmd, out, sizeof(out));
	assert_non_null(strstr(out, "libgit2"));
	assert_null(strstr(out, "libevent"));
	assert_null(strstr(out, "libcurl"));
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_usage),
		cmocka_unit_test(test_never_root),
		cmocka_unit_test(test_links),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
