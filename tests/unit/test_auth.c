/*
 * Unit tests for backend/auth.c's own bound on auth.login: per client
 * string; overall, whatever client strings a compromised frontend invents,
 * a hold of each attempt and never a refusal (strangers cannot lock the
 * owner out); a right password clears its client and is not counted.
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
	int		 i, wait, hold;

	for (i = 0; i < 10; i++)
		assert_int_equal(auth_throttle_check("192.0.2.1", T0 + i, &why, &hold), 0);
	wait = auth_throttle_check("192.0.2.1", T0 + 10, &why, &hold);
	assert_int_equal(wait, 60 - 1);
	assert_non_null(strstr(why, "this client"));
	/* another client goes on; the lock ends */
	assert_int_equal(auth_throttle_check("192.0.2.2", T0 + 10, &why, &hold), 0);
	assert_int_equal(auth_throttle_check("192.0.2.1", T0 + 9 + 60, &why, &hold), 0);
	/* a right password clears it */
	auth_throttle_done("192.0.2.1", 1);
	for (i = 0; i < 10; i++)
		assert_int_equal(auth_throttle_check("192.0.2.1", T0 + 70, &why, &hold), 0);
	assert_true(auth_throttle_check("192.0.2.1", T0 + 70, &why, &hold) > 0);
	/* no client string: one client, "?" */
	for (i = 0; i < 10; i++)
		assert_int_equal(auth_throttle_check(NULL, T0 + 70, &why, &hold), 0);
	assert_true(auth_throttle_check("", T0 + 70, &why, &hold) > 0);
	assert_true(auth_throttle_check("?", T0 + 70, &why, &hold) > 0);
}

/*
 * A new client string for every guess: past 30 failures a minute each
 * attempt is held 2 s, never refused; a fresh client still gets checked.
 */
static void
test_overall(void **state)
{
	const char	*why = NULL;
	char		 name[32];
	int		 i, held = 0, hold;

	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "invented-%d", i);
		assert_int_equal(auth_throttle_check(name, T0 + i / 100, &why,
		    &hold), 0);
		if (hold > 0) {
			assert_int_equal(hold, 2);
			held++;
		}
	}
	assert_int_equal(held, 1000 - 30);
	assert_non_null(strstr(why, "overall"));
	/* the owner, from a client that has not failed: checked, after 2 s */
	assert_int_equal(auth_throttle_check("owner", T0 + 9, &why, &hold), 0);
	assert_int_equal(hold, 2);
	/* the window moves on: no hold once the failures are a minute old */
	assert_int_equal(auth_throttle_check("fresh", T0 + 9 + 61, &why, &hold), 0);
	assert_int_equal(hold, 0);
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
