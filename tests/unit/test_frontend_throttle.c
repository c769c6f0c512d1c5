/*
 * Unit tests for frontend/throttle.c: failed logins per address and
 * overall, Retry-After values, success and cancel, the bounded table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "frontend/frontend.h"

#define T0	100000

static int
setup(void **state)
{
	throttle_reset();
	return 0;
}

static void
test_per_address(void **state)
{
	int	i;

	for (i = 0; i < FE_THROTTLE_PER_ADDR; i++)
		assert_int_equal(throttle_check("10.0.0.1", T0 + i), 0);
	/* the sixth within the minute: wait until the first leaves the window */
	assert_int_equal(throttle_check("10.0.0.1", T0 + 5),
	    FE_THROTTLE_WINDOW - 5);
	assert_int_equal(throttle_check("10.0.0.1", T0 + 30),
	    FE_THROTTLE_WINDOW - 30);
	/* refused attempts do not count: the wait does not grow */
	assert_int_equal(throttle_check("10.0.0.1", T0 + 59), 1);
	/* once the first failure is a window old, one more is allowed */
	assert_int_equal(throttle_check("10.0.0.1", T0 + FE_THROTTLE_WINDOW), 0);
	assert_true(throttle_check("10.0.0.1", T0 + FE_THROTTLE_WINDOW) > 0);
	/* another address is not affected */
	assert_int_equal(throttle_check("10.0.0.2", T0 + 5), 0);
	assert_int_equal(throttle_check("::1", T0 + 5), 0);
}

static void
test_success_and_cancel(void **state)
{
	int	i;

	for (i = 0; i < FE_THROTTLE_PER_ADDR - 1; i++)
		assert_int_equal(throttle_check("a", T0), 0);
	/* the right password forgets the address's failures */
	assert_int_equal(throttle_check("a", T0), 0);
	throttle_success("a");
	for (i = 0; i < FE_THROTTLE_PER_ADDR; i++)
		assert_int_equal(throttle_check("a", T0 + 1), 0);
	assert_true(throttle_check("a", T0 + 1) > 0);

	/* an attempt that never reached a verdict does not count */
	for (i = 0; i < 3 * FE_THROTTLE_PER_ADDR; i++) {
		assert_int_equal(throttle_check("b", T0), 0);
		throttle_cancel("b");
	}
	/* unknown addresses: nothing to undo, no harm */
	throttle_success("nobody");
	throttle_cancel("nobody");
}

static void
test_in_flight_count(void **state)
{
	int	i;

	/* parallel guesses count before their answer */
	for (i = 0; i < FE_THROTTLE_PER_ADDR; i++)
		assert_int_equal(throttle_check("p", T0), 0);
	assert_true(throttle_check("p", T0) > 0);
}

static void
test_global(void **state)
{
	char	addr[32];
	int	i;

	for (i = 0; i < FE_THROTTLE_GLOBAL; i++) {
		snprintf(addr, sizeof(addr), "192.0.2.%d", i);
		assert_int_equal(throttle_check(addr, T0 + 1), 0);
	}
	/* a fresh address still waits: the overall cap */
	assert_int_equal(throttle_check("198.51.100.1", T0 + 1),
	    FE_THROTTLE_WINDOW);
	assert_int_equal(throttle_check("198.51.100.1", T0 + FE_THROTTLE_WINDOW),
	    1);
	assert_int_equal(throttle_check("198.51.100.1",
	    T0 + 1 + FE_THROTTLE_WINDOW), 0);
}

static void
test_table_bounded(void **state)
{
	char	addr[32];
	int	i;

	/* far more addresses than slots, spread out so the cap does not bite */
	for (i = 0; i < 4 * FE_THROTTLE_ADDRS; i++) {
		snprintf(addr, sizeof(addr), "10.%d.%d.1", i / 256, i % 256);
		assert_int_equal(throttle_check(addr, T0 + (time_t)i * 3), 0);
	}
	/*
	 * The overall cap keeps fewer addresses active than there are slots,
	 * so an address with recent failures is never pushed out.
	 */
	assert_true(FE_THROTTLE_GLOBAL < FE_THROTTLE_ADDRS);
	throttle_reset();
	for (i = 0; i < FE_THROTTLE_PER_ADDR; i++)
		assert_int_equal(throttle_check("attacker", T0 + 5000), 0);
	for (i = 0; i < FE_THROTTLE_GLOBAL - FE_THROTTLE_PER_ADDR - 1; i++) {
		snprintf(addr, sizeof(addr), "172.16.0.%d", i);
		assert_int_equal(throttle_check(addr, T0 + 5000), 0);
	}
	assert_int_equal(throttle_check("attacker", T0 + 5001),
	    FE_THROTTLE_WINDOW - 1);
}

static void
test_odd_addresses(void **state)
{
	char	longaddr[512];
	int	i;

	memset(longaddr, 'x', sizeof(longaddr) - 1);
	longaddr[sizeof(longaddr) - 1] = '\0';
	for (i = 0; i < FE_THROTTLE_PER_ADDR; i++)
		assert_int_equal(throttle_check(longaddr, T0), 0);
	assert_true(throttle_check(longaddr, T0) > 0);
	/* cut to the slot: the same prefix is the same client */
	longaddr[300] = 'y';
	assert_true(throttle_check(longaddr, T0) > 0);
	for (i = 0; i < FE_THROTTLE_PER_ADDR; i++)
		assert_int_equal(throttle_check("", T0), 0);
	assert_true(throttle_check("", T0) > 0);
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test_setup(test_per_address, setup),
		cmocka_unit_test_setup(test_success_and_cancel, setup),
		cmocka_unit_test_setup(test_in_flight_count, setup),
		cmocka_unit_test_setup(test_global, setup),
		cmocka_unit_test_setup(test_table_bounded, setup),
		cmocka_unit_test_setup(test_odd_addresses, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
