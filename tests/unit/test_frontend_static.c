/*
 * Unit tests for frontend/path.c and static.c: path normalisation against traversal
 * (plain, percent-encoded, doubly encoded, NUL, backslash, "//", hidden
 * files), and opening below the www directory without following symlinks
 * out of it.
 */
#include <sys/stat.h>

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

#include "frontend/frontend.h"

static char	tmpdir[64];
static int	wwwfd = -1;

static void
norm_ok(const char *raw, const char *want)
{
	char	out[FE_STATIC_MAX_PATH + 1];

	if (path_normalize(raw, out, sizeof(out)) != 0)
		fail_msg("refused: %s", raw);
	assert_string_equal(out, want);
}

static void
norm_bad(const char *raw)
{
	char	out[FE_STATIC_MAX_PATH + 1];

	if (path_normalize(raw, out, sizeof(out)) != -1)
		fail_msg("accepted: %s -> %s", raw, out);
}

static void
test_normalize_ok(void **state)
{
	norm_ok("/", "index.html");
	norm_ok("/index.html", "index.html");
	norm_ok("/app.js", "app.js");
	norm_ok("/css/site.css", "css/site.css");
	norm_ok("/%61pp.js", "app.js");
	norm_ok("/a%20b.txt", "a b.txt");
	norm_ok("/a..b", "a..b");
	norm_ok("/x.", "x.");
	norm_ok("/caf%C3%A9.txt", "caf\xc3\xa9.txt");
}

static void
test_normalize_traversal(void **state)
{
	norm_bad("/../etc/passwd");
	norm_bad("/..");
	norm_bad("/a/../../etc/passwd");
	norm_bad("/a/..");
	norm_bad("/./index.html");
	norm_bad("/.");
	norm_bad("/%2e%2e/etc/passwd");
	norm_bad("/%2E%2E/etc/passwd");
	norm_bad("/.%2e/etc/passwd");
	norm_bad("/%2e./etc/passwd");
	norm_bad("/..%2fetc/passwd");
	norm_bad("/..%2Fetc%2Fpasswd");
	norm_bad("/a%2f..%2f..%2fetc");
	/* doubly encoded: decoded once, "%2e" is then a name with '%' in it */
	norm_ok("/%252e%252e/x", "%2e%2e/x");
	norm_bad("/%25%32%65%25%32%65/../x");
	/* hidden files */
	norm_bad("/.env");
	norm_bad("/.git/config");
	norm_bad("/a/.htpasswd");
	norm_bad("/%2eenv");
}

static void
test_normalize_malformed(void **state)
{
	char	buf[1024];
	int	i;

	norm_bad("");
	norm_bad("index.html");
	norm_bad("//etc/passwd");
	norm_bad("/a//b");
	norm_bad("/dir/");
	norm_bad("/a%00b");
	norm_bad("/a%00");
	norm_bad("/%00/../x");
	norm_bad("/a\\b");
	norm_bad("/..\\..\\x");
	norm_bad("/a%5cb");
	norm_bad("/a%5C..%5Cb");
	norm_bad("/a%");
	norm_bad("/a%2");
	norm_bad("/a%zz");
	norm_bad("/a%g0");
	norm_bad("/a%0ab");
	norm_bad("/a%0d%0ab");
	norm_bad("/a\tb");
	norm_bad("/a%7f");
	norm_bad("/a%1b");
	assert_int_equal(path_normalize(NULL, buf, sizeof(buf)), -1);

	/* too long */
	buf[0] = '/';
	memset(buf + 1, 'a', FE_STATIC_MAX_PATH + 1);
	buf[FE_STATIC_MAX_PATH + 2] = '\0';
	norm_bad(buf);
	buf[FE_STATIC_MAX_PATH + 1] = '\0';
	norm_ok(buf, buf + 1);
	/* too deep */
	buf[0] = '\0';
	for (i = 0; i < FE_STATIC_MAX_DEPTH + 2; i++)
		strcat(buf, "/d");
	norm_bad(buf);
	buf[0] = '\0';
	for (i = 0; i < FE_STATIC_MAX_DEPTH + 1; i++)
		strcat(buf, "/d");
	assert_int_equal(path_normalize(buf, buf + 512, 256), 0);
	/* a small output buffer is never overrun */
	assert_int_equal(path_normalize("/abcdef", buf, 4), -1);
	assert_int_equal(path_normalize("/", buf, 4), -1);
}

static void
put(const char *rel, const char *content)
{
	char	path[256];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, rel);
	assert_non_null(f = fopen(path, "w"));
	fputs(content, f);
	fclose(f);
}

static int
setup_www(void **state)
{
	char	path[256];

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/davit-static.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/www", tmpdir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/www/sub", tmpdir);
	mkdir(path, 0755);
	put("www/index.html", "<p>hi</p>");
	put("www/sub/x.js", "x();");
	put("secret.txt", "outside");
	snprintf(path, sizeof(path), "%s/www/link", tmpdir);
	if (symlink("../secret.txt", path) == -1)
		return -1;
	snprintf(path, sizeof(path), "%s/www/dirlink", tmpdir);
	if (symlink("..", path) == -1)
		return -1;
	snprintf(path, sizeof(path), "%s/www/sub/up", tmpdir);
	if (symlink("..", path) == -1)
		return -1;
	snprintf(path, sizeof(path), "%s/www/abs", tmpdir);
	if (symlink("/etc/passwd", path) == -1)
		return -1;
	snprintf(path, sizeof(path), "%s/www/fifo", tmpdir);
	if (mkfifo(path, 0644) == -1)
		return -1;
	snprintf(path, sizeof(path), "%s/www", tmpdir);
	wwwfd = open(path, O_RDONLY | O_DIRECTORY);
	return wwwfd == -1 ? -1 : 0;
}

static int
teardown_www(void **state)
{
	char	cmd[128];

	close(wwwfd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
open_ok(const char *rel, off_t want)
{
	off_t	size = -1;
	int	fd;

	if ((fd = static_open(wwwfd, rel, &size)) == -1)
		fail_msg("cannot open %s: %s", rel, strerror(errno));
	assert_int_equal(size, want);
	close(fd);
}

static void
open_bad(const char *rel)
{
	off_t	size;
	int	fd;

	if ((fd = static_open(wwwfd, rel, &size)) != -1) {
		close(fd);
		fail_msg("opened %s", rel);
	}
	assert_int_equal(errno, ENOENT);
}

static void
test_open(void **state)
{
	open_ok("index.html", 9);
	open_ok("sub/x.js", 4);
	/* symlinks: not followed, last component or on the way */
	open_bad("link");
	open_bad("abs");
	open_bad("dirlink/secret.txt");
	open_bad("sub/up/secret.txt");
	open_bad("sub/up/index.html");
	/* only regular files */
	open_bad("sub");
	open_bad("fifo");
	open_bad("missing.html");
	open_bad("sub/missing/x.js");
	/* what normalisation would refuse fails here too */
	open_bad("../secret.txt");
}

static void
test_content_type(void **state)
{
	assert_string_equal(path_content_type("index.html"),
	    "text/html; charset=utf-8");
	assert_string_equal(path_content_type("app.js"),
	    "text/javascript; charset=utf-8");
	assert_string_equal(path_content_type("a/style.CSS"),
	    "text/css; charset=utf-8");
	assert_string_equal(path_content_type("favicon.svg"), "image/svg+xml");
	assert_string_equal(path_content_type("x.json"), "application/json");
	assert_string_equal(path_content_type("README"),
	    "application/octet-stream");
	assert_string_equal(path_content_type("x.exe"),
	    "application/octet-stream");
	assert_string_equal(path_content_type("dir.js/file"),
	    "application/octet-stream");
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_normalize_ok),
		cmocka_unit_test(test_normalize_traversal),
		cmocka_unit_test(test_normalize_malformed),
		cmocka_unit_test(test_open),
		cmocka_unit_test(test_content_type),
	};

	return cmocka_run_group_tests(tests, setup_www, teardown_www);
}
