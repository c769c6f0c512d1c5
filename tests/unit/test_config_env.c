/*
 * common/config.c, reading all at once: every problem collected (file, line,
 * key, message) instead of the first one only, secrets never in a message;
 * DAVIT_ variables of an environment overriding the file through the same
 * validators; where each key came from, as --check-config prints it.
 */
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "common/config.h"

#define F	"t.env"
#define SECRET	"Zq7SECRETvalue"	/* 14 bytes: too short a webhook secret */
#define TOKEN	"ghp_Zq7SECRETtoken"

static char			 hash[crypto_pwhash_STRBYTES];
static char			 base[1024];
static struct davit_config	 C;
static struct config_errors	 R;

static int
group_setup(void **state)
{
	(void)state;
	if (sodium_init() == -1)
		return (-1);
	if (config_hash_password("the base password", hash, sizeof(hash)))
		return (-1);
	/* three lines: a test's own lines start at line 4 */
	snprintf(base, sizeof(base), "DAVIT_PASSWORD_HASH='%s'\n"
	    "DAVIT_WORKDIR=/srv/app\nDAVIT_SERVICES=web\n", hash);
	return (0);
}

static int
teardown(void **state)
{
	(void)state;
	config_free(&C);
	return (0);
}

static int
parse_env(const char *extra, char *const *envp)
{
	char	 text[8192];

	snprintf(text, sizeof(text), "%s%s", base, extra);
	config_free(&C);
	return (config_parse_all(F, text, strlen(text), envp, &C, &R));
}

static const char *
err_str(size_t i)
{
	static char	 buf[CONFIG_ERR_LEN + 512];

	assert_true(i < R.n);
	config_error_str(&R.e[i], buf, sizeof(buf));
	return (buf);
}

/* all of a file's problems, each with its line and key, in file order */
static void
t_every_problem(void **state)
{
	(void)state;
	assert_int_equal(parse_env("DAVIT_LISTEN=nope\n"
	    "DAVIT_STOP_TIMEOUT=99999\n"
	    "DAVIT_WEBHOOK_SECRET=" SECRET "\n"
	    "DAVIT_BRANCH=a..b\n"
	    "DAVIT_COOKIE_SECURE=maybe\n", NULL), -1);
	assert_int_equal(R.n, 5);
	assert_int_equal(R.dropped, 0);
	assert_string_equal(R.e[0].file, F);
	assert_int_equal(R.e[0].line, 4);
	assert_string_equal(R.e[0].key, "DAVIT_LISTEN");
	assert_string_equal(err_str(0),
	    F ":4: DAVIT_LISTEN: must be host:port or [ipv6]:port");
	assert_string_equal(err_str(1),
	    F ":5: DAVIT_STOP_TIMEOUT: must be an integer from 0 to 3600");
	assert_int_equal(R.e[2].line, 6);
	assert_string_equal(R.e[2].key, "DAVIT_WEBHOOK_SECRET");
	assert_null(strstr(R.e[2].msg, SECRET));
	assert_int_equal(R.e[3].line, 7);
	assert_string_equal(R.e[3].key, "DAVIT_BRANCH");
	assert_int_equal(R.e[4].line, 8);
	assert_string_equal(R.e[4].key, "DAVIT_COOKIE_SECURE");
}

/* line problems and whole-file ones together; a refused key not "required" */
static void
t_file_and_cross_key(void **state)
{
	char	 text[1024];

	(void)state;
	snprintf(text, sizeof(text), "DAVIT_WORKDIR=relative\n"
	    "DAVIT_GITHUB_APP_ID=12345\n"
	    "DAVIT_GITHUB_TOKEN=" TOKEN "\n");
	config_free(&C);
	assert_int_equal(config_parse_all(F, text, strlen(text), NULL, &C, &R),
	    -1);
	assert_string_equal(err_str(0),
	    F ":1: DAVIT_WORKDIR: must be an absolute path");
	/* DAVIT_WORKDIR was given (and refused): not reported twice */
	assert_string_equal(err_str(1), F ": DAVIT_SERVICES is required");
	assert_string_equal(err_str(2),
	    F ": DAVIT_PASSWORD_HASH (or DAVIT_PASSWORD) is required");
	assert_true(R.n >= 4);
	assert_non_null(strstr(err_str(3), "DAVIT_GITHUB_TOKEN and "
	    "DAVIT_GITHUB_APP_ID are both set"));
	for (size_t i = 0; i < R.n; i++)
		assert_null(strstr(err_str(i), TOKEN));
}

/* an empty password line is "not set": still required */
static void
t_empty_password(void **state)
{
	const char	*text = "DAVIT_WORKDIR=/srv/app\nDAVIT_SERVICES=web\n"
	    "DAVIT_PASSWORD=\n";
	char		*envp[] = { "DAVIT_PASSWORD_HASH=", NULL };

	(void)state;
	config_free(&C);
	assert_int_equal(config_parse_all(F, text, strlen(text), envp, &C, &R),
	    -1);
	assert_int_equal(R.n, 1);
	assert_string_equal(err_str(0),
	    F ": DAVIT_PASSWORD_HASH (or DAVIT_PASSWORD) is required");
}

/* a syntax error ends the reading, reported with its line */
static void
t_syntax_stops(void **state)
{
	(void)state;
	assert_int_equal(parse_env("DAVIT_LISTEN=nope\nDAVIT_BRANCH=\"open\n",
	    NULL), -1);
	assert_int_equal(R.n, 2);
	assert_string_equal(R.e[0].key, "DAVIT_LISTEN");
	assert_int_equal(R.e[1].line, 5);
	assert_string_equal(R.e[1].key, "");
}

/* more than CONFIG_MAX_ERRORS: kept up to the bound, the rest counted */
static void
t_bounded(void **state)
{
	char	 text[16384];
	size_t	 n = 0, i;

	(void)state;
	n += (size_t)snprintf(text, sizeof(text), "%s", base);
	for (i = 0; i < CONFIG_MAX_ERRORS + 5; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
		    "DAVIT_STOP_TIMEOUT=x%zu\n", i);
	config_free(&C);
	assert_int_equal(config_parse_all(F, text, n, NULL, &C, &R), -1);
	assert_int_equal(R.n, CONFIG_MAX_ERRORS);
	assert_int_equal(R.dropped, 5);
}

/* the old interface still reports the first problem, and frees */
static void
t_first_error(void **state)
{
	char	 text[2048], err[CONFIG_ERR_LEN];

	(void)state;
	snprintf(text, sizeof(text), "%sDAVIT_LISTEN=nope\n"
	    "DAVIT_STOP_TIMEOUT=-1\n", base);
	assert_int_equal(config_parse(F, text, strlen(text), &C, err,
	    sizeof(err)), -1);
	assert_string_equal(err,
	    F ":4: DAVIT_LISTEN: must be host:port or [ipv6]:port");
	assert_null(C.workdir);
}

/* the environment wins over the file, and is validated the same way */
static void
t_env_overrides(void **state)
{
	char	*envp[] = { "DAVIT_STOP_TIMEOUT=7", "DAVIT_LISTEN=[::1]:9000",
	    "DAVIT_SRC=/not/a/key", "PATH=/bin", "DAVIT_GITHUB_TOKEN=" TOKEN,
	    NULL };

	(void)state;
	assert_int_equal(parse_env("DAVIT_STOP_TIMEOUT=20\n"
	    "DAVIT_LISTEN=127.0.0.1:1\n", envp), 0);
	assert_int_equal(C.stop_timeout, 7);
	assert_string_equal(C.listen, "[::1]:9000");
	assert_string_equal(C.github_token, TOKEN);
	/* the file's values without an environment */
	assert_int_equal(parse_env("DAVIT_STOP_TIMEOUT=20\n"
	    "DAVIT_LISTEN=127.0.0.1:1\n", NULL), 0);
	assert_int_equal(C.stop_timeout, 20);
	assert_string_equal(C.listen, "127.0.0.1:1");
}

static void
t_env_invalid(void **state)
{
	char	*envp[] = { "DAVIT_STOP_TIMEOUT=99999",
	    "DAVIT_WEBHOOK_SECRET=" SECRET, "DAVIT_WORKDIR=", NULL };

	(void)state;
	assert_int_equal(parse_env("DAVIT_STOP_TIMEOUT=20\n", envp), -1);
	assert_int_equal(R.n, 3);
	assert_string_equal(err_str(0), CONFIG_ENV_NAME
	    ": DAVIT_STOP_TIMEOUT: must be an integer from 0 to 3600");
	assert_int_equal(R.e[0].line, 0);
	assert_string_equal(R.e[1].file, CONFIG_ENV_NAME);
	assert_string_equal(R.e[1].key, "DAVIT_WEBHOOK_SECRET");
	assert_null(strstr(err_str(1), SECRET));
	assert_string_equal(err_str(2),
	    CONFIG_ENV_NAME ": DAVIT_WORKDIR: must not be empty");
}

/* an empty value in the environment unsets the file's: the default again */
static void
t_env_empty_unsets(void **state)
{
	char	*envp[] = { "DAVIT_BRANCH=", NULL };

	(void)state;
	assert_int_equal(parse_env("DAVIT_BRANCH=release\n", envp), 0);
	assert_string_equal(C.branch, "main");
}

/* where each value came from; secrets and URL credentials not shown */
static void
t_sources(void **state)
{
	char	*envp[] = { "DAVIT_STOP_TIMEOUT=7", "DAVIT_GITHUB_TOKEN=" TOKEN,
	    NULL };
	char	 out[8192];
	FILE	*fp;
	size_t	 n;

	(void)state;
	assert_int_equal(parse_env("DAVIT_STOP_TIMEOUT=20\n"
	    "DAVIT_REPO_URL=https://user:" SECRET "@example.com/a/b.git\n"
	    "DAVIT_WEBHOOK_SECRET=" SECRET SECRET "\n", envp), 0);
	assert_int_equal(C.key_src[0], CONFIG_SRC_DEFAULT); /* DAVIT_PASSWORD */
	fp = tmpfile();
	assert_non_null(fp);
	config_print_sources(&C, F, fp);
	rewind(fp);
	n = fread(out, 1, sizeof(out) - 1, fp);
	out[n] = '\0';
	fclose(fp);
	assert_non_null(strstr(out, "DAVIT_PASSWORD_HASH=(secret) (" F
	    ":1)\n"));
	assert_non_null(strstr(out, "DAVIT_WORKDIR=/srv/app (" F ":2)\n"));
	assert_non_null(strstr(out, "DAVIT_SERVICES=web (" F ":3)\n"));
	assert_non_null(strstr(out, "DAVIT_STOP_TIMEOUT=7 (environment)\n"));
	assert_non_null(strstr(out,
	    "DAVIT_GITHUB_TOKEN=(secret) (environment)\n"));
	assert_non_null(strstr(out, "DAVIT_WEBHOOK_SECRET=(secret) (" F
	    ":6)\n"));
	assert_non_null(strstr(out,
	    "DAVIT_REPO_URL=https://example.com/a/b.git (" F ":5)\n"));
	/* defaults are not listed */
	assert_null(strstr(out, "DAVIT_BRANCH"));
	assert_null(strstr(out, SECRET));
	assert_null(strstr(out, TOKEN));
	assert_null(strstr(out, hash));
}

/* config_load_all: the file's own checks join the lines' problems */
static void
t_load_all(void **state)
{
	char	 dir[] = "/tmp/davit-test-config-env.XXXXXX", path[128];
	char	*envp[] = { "DAVIT_STOP_TIMEOUT=bad", NULL };
	FILE	*fp;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/davit.env", dir);
	assert_non_null(fp = fopen(path, "w"));
	fprintf(fp, "%sDAVIT_LISTEN=nope\n", base);
	fclose(fp);
	assert_int_equal(chmod(path, 0644), 0);
	config_free(&C);
	assert_int_equal(config_load_all(path, envp, &C, &R), -1);
	if (geteuid() == 0) {
		assert_int_equal(R.n, 3);
		assert_non_null(strstr(R.e[0].msg, "mode 0644 lets group or "
		    "others at it"));
		assert_int_equal(R.e[1].line, 4);
		assert_string_equal(R.e[2].file, CONFIG_ENV_NAME);
	} else {
		assert_int_equal(R.n, 4);	/* owner too */
		assert_int_equal(R.e[2].line, 4);
	}
	/* what was valid is kept for the other checks */
	assert_string_equal(C.workdir, "/srv/app");
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(t_every_problem, teardown),
		cmocka_unit_test_teardown(t_file_and_cross_key, teardown),
		cmocka_unit_test_teardown(t_empty_password, teardown),
		cmocka_unit_test_teardown(t_syntax_stops, teardown),
		cmocka_unit_test_teardown(t_bounded, teardown),
		cmocka_unit_test_teardown(t_first_error, teardown),
		cmocka_unit_test_teardown(t_env_overrides, teardown),
		cmocka_unit_test_teardown(t_env_invalid, teardown),
		cmocka_unit_test_teardown(t_env_empty_unsets, teardown),
		cmocka_unit_test_teardown(t_sources, teardown),
		cmocka_unit_test_teardown(t_load_all, teardown),
	};

	return (cmocka_run_group_tests(tests, group_setup, NULL));
}
