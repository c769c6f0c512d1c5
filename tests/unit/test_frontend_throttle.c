/*
 * Unit tests for frontend/throttle.c: failures per client (IPv6 by /64),
 * the growing delays and then the refusals with their Retry-After, success
 * and cancel, failures of strangers that never slow down or refuse a client
 * that has not failed, the login and webhook tables apart, the bounded table.
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

/* an attempt let through: its delay; -1 when refused (retry in *retry) */
static int
attempt(const char *addr, time_t now, int *retry)
{
	int	delay, r;

	r = throttle_check(THROTTLE_LOGIN, addr, now, &delay);
	if (retry != NULL)
		*retry = r;
	return r > 0 ? -1 : delay;
}

static void
test_growing_delays_then_refused(void **state)
{
	int	i, retry;

	for (i = 0; i < FE_THROTTLE_FREE; i++)
		assert_int_equal(attempt("10.0.0.1", T0, NULL), 0);
	assert_int_equal(attempt("10.0.0.1", T0, NULL), 1);
	assert_int_equal(attempt("10.0.0.1", T0 + 1, NULL), 2);
	/* FE_THROTTLE_PER_ADDR failures: refused, even the right password */
	assert_int_equal(attempt("10.0.0.1", T0 + 3, &retry), -1);
	assert_int_equal(retry, FE_THROTTLE_LOCK - 2);
	assert_int_equal(attempt("10.0.0.1", T0 + 30, &retry), -1);
	assert_int_equal(retry, FE_THROTTLE_LOCK - 29);
	/* another address is not touched, nor is another /64 */
	assert_int_equal(attempt("10.0.0.2", T0 + 3, NULL), 0);
	assert_int_equal(attempt("2001:db8:1:2::1", T0 + 3, NULL), 0);
	/* the lock over: one more try, then locked twice as long */
	assert_int_equal(attempt("10.0.0.1", T0 + 1 + FE_THROTTLE_LOCK, NULL), 0);
	assert_int_equal(attempt("10.0.0.1", T0 + 2 + FE_THROTTLE_LOCK, &retry), -1);
	assert_int_equal(retry, 2 * FE_THROTTLE_LOCK - 1);
	/* forgotten after FE_THROTTLE_FORGET */
	assert_int_equal(attempt("10.0.0.1", T0 + 1 + FE_THROTTLE_LOCK +
	    FE_THROTTLE_FORGET, NULL), 0);
}

static void
test_lock_capped(void **state)
{
	time_t	now = T0;
	int	i, retry;

	/* each try let through the moment the lock is over */
	for (i = 0; i < 40; i++)
		if (attempt("10.0.0.9", now, &retry) == -1)
			now += retry;
	assert_int_equal(attempt("10.0.0.9", now, &retry), 0);
	assert_int_equal(attempt("10.0.0.9", now, &retry), -1);
	assert_int_equal(retry, FE_THROTTLE_LOCK_MAX);
}

static void
test_ipv6_by_64(void **state)
{
	int	i;

	for (i = 0; i < FE_THROTTLE_PER_ADDR; i++) {
		char	a[64];

		/* a different host of the same /64 each time */
		snprintf(a, sizeof(a), "2001:db8:aa:bb::%x", i + 1);
		assert_true(attempt(a, T0, NULL) >= 0);
	}
	assert_int_equal(attempt("2001:db8:aa:bb:ffff:1:2:3", T0, NULL), -1);
	assert_int_equal(attempt("2001:db8:aa:bc::1", T0, NULL), 0);
	/* IPv4-mapped is IPv4 */
	for (i = 0; i < FE_THROTTLE_PER_ADDR; i++)
		assert_true(attempt("::ffff:192.0.2.7", T0, NULL) >= 0);
	assert_int_equal(attempt("192.0.2.7", T0, NULL), -1);
}

static void
test_success_and_cancel(void **state)
{
	int	i;

	for (i = 0; i < FE_THROTTLE_PER_ADDR - 1; i++)
		assert_true(attempt("a", T0, NULL) >= 0);
	assert_true(attempt("a", T0, NULL) >= 0);
	throttle_success(THROTTLE_LOGIN, "a");
	/* a right password: a clean slate */
	assert_int_equal(attempt("a", T0 + 1, NULL), 0);
	throttle_success(THROTTLE_LOGIN, "a");
	/* cancelled attempts (the backend did not answer) do not count */
	for (i = 0; i < 3 * FE_THROTTLE_PER_ADDR; i++) {
		assert_int_equal(attempt("b", T0, NULL), 0);
		throttle_cancel(THROTTLE_LOGIN, "b");
	}
	throttle_success(THROTTLE_LOGIN, "nobody");
	throttle_cancel(THROTTLE_LOGIN, "nobody");
}

/* parallel guesses: each counts from the moment it is let through */
static void
test_in_flight_count(void **state)
{
	int	i, n = 0;

	for (i = 0; i < 50; i++)
		if (attempt("10.1.1.1", T0, NULL) >= 0)
			n++;
	assert_int_equal(n, FE_THROTTLE_PER_ADDR);
}

/*
 * Failures from many other addresses: an address that has not failed is
 * neither refused nor held here (the one global hold is the backend's).
 */
static void
test_strangers_never_lock_out(void **state)
{
	char	a[32];
	int	i, j, d;

	for (i = 0; i < 200; i++) {
		snprintf(a, sizeof(a), "198.51.100.%d", i);
		for (j = 0; j < 3 * FE_THROTTLE_PER_ADDR; j++)
			(void)attempt(a, T0 + i / 10, NULL);
	}
	d = attempt("203.0.113.5", T0 + 20, NULL);
	assert_int_equal(d, 0);
	throttle_success(THROTTLE_LOGIN, "203.0.113.5");
}

/* the two tables are apart: bad webhooks do not lock logins out */
static void
test_kinds_apart(void **state)
{
	int	i, delay;

	for (i = 0; i < FE_THROTTLE_PER_ADDR; i++)
		assert_int_equal(throttle_check(THROTTLE_WEBHOOK, "10.9.9.9",
		    T0, &delay), 0);
	assert_true(throttle_check(THROTTLE_WEBHOOK, "10.9.9.9", T0,
	    &delay) > 0);
	assert_int_equal(attempt("10.9.9.9", T0, NULL), 0);
}

/* more clients than slots: the oldest goes, the table holds */
static void
test_table_bounded(void **state)
{
	char	a[32];
	int	i;

	for (i = 0; i < FE_THROTTLE_PER_ADDR; i++)
		assert_true(attempt("10.200.0.1", T0, NULL) >= 0);
	for (i = 0; i < FE_THROTTLE_ADDRS + 10; i++) {
		snprintf(a, sizeof(a), "10.%d.%d.%d", (i >> 16) & 0xff,
		    (i >> 8) & 0xff, i & 0xff);
		(void)attempt(a, T0 + 160, NULL);
	}
	/* evicted: the oldest failure */
	assert_true(attempt("10.200.0.1", T0 + 161, NULL) >= 0);
}

static void
test_odd_addresses(void **state)
{
	char	longaddr[400];
	int	i;

	memset(longaddr, 'x', sizeof(longaddr) - 1);
	longaddr[sizeof(longaddr) - 1] = '\0';
	for (i = 0; i < FE_THROTTLE_PER_ADDR; i++)
		assert_true(attempt(longaddr, T0, NULL) >= 0);
	assert_int_equal(attempt(longaddr, T0, NULL), -1);
	/* cut to the slot: the same prefix is the same client */
	longaddr[300] = 'y';
	assert_int_equal(attempt(longaddr, T0, NULL), -1);
	for (i = 0; i < FE_THROTTLE_PER_ADDR; i++)
		assert_true(attempt("", T0, NULL) >= 0);
	assert_int_equal(attempt("", T0, NULL), -1);
	assert_int_equal(attempt("?", T0, NULL), -1);
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test_setup(test_growing_delays_then_refused, setup),
		cmocka_unit_test_setup(test_lock_capped, setup),
		cmocka_unit_test_setup(test_ipv6_by_64, setup),
		cmocka_unit_test_setup(test_success_and_cancel, setup),
		cmocka_unit_test_setup(test_in_flight_count, setup),
		cmocka_unit_test_setup(test_strangers_never_lock_out, setup),
		cmocka_unit_test_setup(test_kinds_apart, setup),
		cmocka_unit_test_setup(test_table_bounded, setup),
		cmocka_unit_test_setup(test_odd_addresses, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
