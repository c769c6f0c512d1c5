/*
 * Unit tests for backend/auth.c's own bound on auth.login: per client
 * string, and overall whatever client strings a compromised frontend
 * invents; a right password clears its client and is not counted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backend/backend.h"

#define T0	100000

static struct backend_env	test_env;
struct backend_env		*benv = &test_env;

static int
setup(void **state)
{
	auth_throttle_reset();
	return 0;
}

static void
test_per_client(void **state)
{
	const char	*why = NULL;
	int		 i, wait;

	for (i = 0; i < 10; i++)
		assert_int_equal(auth_throttle_check("192.0.2.1", T0 + i, &why), 0);
	wait = auth_throttle_check("192.0.2.1", T0 + 10, &why);
	assert_int_equal(wait, 60 - 1);
	assert_non_null(strstr(why, "this client"));
	/* another client goes on; the lock ends */
	assert_int_equal(auth_throttle_check("192.0.2.2", T0 + 10, &why), 0);
	assert_int_equal(auth_throttle_check("192.0.2.1", T0 + 9 + 60, &why), 0);
	/* a right password clears it */
	auth_throttle_done("192.0.2.1", 1);
	for (i = 0; i < 10; i++)
		assert_int_equal(auth_throttle_check("192.0.2.1", T0 + 70, &why), 0);
	assert_true(auth_throttle_check("192.0.2.1", T0 + 70, &why) > 0);
	/* no client string: one client, "?" */
	for (i = 0; i < 10; i++)
		assert_int_equal(auth_throttle_check(NULL, T0 + 70, &why), 0);
	assert_true(auth_throttle_check("", T0 + 70, &why) > 0);
	assert_true(auth_throttle_check("?", T0 + 70, &why) > 0);
}

/* a new client string for every guess: 120 a minute, no more */
static void
test_overall(void **state)
{
	const char	*why = NULL;
	char		 name[32];
	int		 i, n = 0, wait = 0;

	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "invented-%d", i);
		if (auth_throttle_check(name, T0 + i / 100, &why) == 0)
			n++;
	}
	assert_int_equal(n, 120);
	assert_non_null(strstr(why, "overall"));
	wait = auth_throttle_check("fresh", T0 + 9, &why);
	assert_int_equal(wait, 60 - 9);
	/* right passwords are not counted */
	auth_throttle_done("invented-5", 1);
	assert_int_equal(auth_throttle_check("fresh", T0 + 9, &why), 0);
	assert_true(auth_throttle_check("fresh2", T0 + 9, &why) > 0);
	/* the window moves on */
	assert_int_equal(auth_throttle_check("fresh3", T0 + 60, &why), 0);
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test_setup(test_per_client, setup),
		cmocka_unit_test_setup(test_overall, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
