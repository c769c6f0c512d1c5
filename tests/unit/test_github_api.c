/*
 * backend/github_api.c's pure part: GitHub's
 * github-authentication-token-expiration header, as the personal token's
 * expiry (git.status's auth, the notification 7 days before).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "backend/backend.h"
#include "backend/github_api.h"

/* github_api.c's other functions read the backend's environment */
static struct backend_env	test_env;
struct backend_env		*benv = &test_env;

#define T_2031	1925089445LL	/* 2031-01-02T03:04:05Z */

static void
expiration_utc(void **state)
{
	assert_int_equal((long long)github_parse_expiration(
	    "2031-01-02 03:04:05 UTC"), T_2031);
	assert_int_equal((long long)github_parse_expiration(
	    "2031-01-02 03:04:05"), T_2031);
	assert_int_equal((long long)github_parse_expiration(
	    "2031-01-02 03:04:05 GMT"), T_2031);
}

static void
expiration_offset(void **state)
{
	assert_int_equal((long long)github_parse_expiration(
	    "2031-01-02 04:04:05 +0100"), T_2031);
	assert_int_equal((long long)github_parse_expiration(
	    "2031-01-01 19:04:05 -0800"), T_2031);
	assert_int_equal((long long)github_parse_expiration(
	    "2031-01-02 03:34:05 +0030"), T_2031);
}

static void
expiration_refused(void **state)
{
	static const char	*bad[] = {
		"", "never", "2031-01-02", "2031-01-02T03:04:05Z",
		"2031-01-02 03:04:05 CET", "2031-01-02 03:04:05 +1",
		"2031-01-02 03:04:05 +01:00", "2031-01-02 03:04:05 UTC trailing",
		"2031-13-02 03:04:05 UTC", "2031-01-02 25:04:05 UTC",
	};
	size_t			 i;

	assert_int_equal((long long)github_parse_expiration(NULL), -1);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (github_parse_expiration(bad[i]) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
	}
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(expiration_utc),
		cmocka_unit_test(expiration_offset),
		cmocka_unit_test(expiration_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
