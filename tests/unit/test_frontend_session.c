/*
 * Unit tests for frontend/session.c: create, lookup, idle and absolute
 * expiry, logout, the bounded table, CSRF tokens.  The clock is passed in.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "frontend/frontend.h"

#define T0	1000

static int
setup(void **state)
{
	session_clear();
	session_limits(3600, 43200);
	return 0;
}

static struct session *
lookup(const char *id, time_t now)
{
	return session_lookup(id, strlen(id), now);
}

static void
test_create_lookup(void **state)
{
	struct session	*s, *t;
	char		 id[FE_TOKEN_HEX + 1], other[FE_TOKEN_HEX + 1];

	s = session_create(T0);
	assert_non_null(s);
	assert_int_equal(strlen(s->id), FE_TOKEN_HEX);
	assert_int_equal(strlen(s->csrf), FE_TOKEN_HEX);
	assert_true(http_is_hex(s->id, FE_TOKEN_HEX));
	assert_true(http_is_hex(s->csrf, FE_TOKEN_HEX));
	assert_string_not_equal(s->id, s->csrf);
	memcpy(id, s->id, sizeof(id));

	assert_ptr_equal(lookup(id, T0 + 1), s);
	t = session_create(T0 + 2);
	assert_ptr_not_equal(t, s);
	assert_string_not_equal(t->id, id);
	assert_ptr_equal(lookup(id, T0 + 3), s);
	assert_ptr_equal(lookup(t->id, T0 + 3), t);
	assert_int_equal(session_count(T0 + 3), 2);

	/* one character off, case, length, not hex */
	memcpy(other, id, sizeof(other));
	other[10] = other[10] == 'a' ? 'b' : 'a';
	assert_null(lookup(other, T0 + 4));
	memcpy(other, id, sizeof(other));
	other[0] = 'A';
	assert_null(lookup(other, T0 + 4));
	assert_null(session_lookup(id, FE_TOKEN_HEX - 1, T0 + 4));
	assert_null(session_lookup(id, 0, T0 + 4));
	memset(other, 'z', FE_TOKEN_HEX);
	assert_null(lookup(other, T0 + 4));
	/* a prefix of a real id padded out */
	memcpy(other, id, sizeof(other));
	other[FE_TOKEN_HEX - 1] = '\0';
	assert_null(session_lookup(other, FE_TOKEN_HEX, T0 + 4));
}

static void
test_idle_expiry(void **state)
{
	struct session	*s;
	char		 id[FE_TOKEN_HEX + 1];

	session_limits(60, 3600);
	s = session_create(T0);
	memcpy(id, s->id, sizeof(id));
	/* each use moves the idle deadline */
	assert_non_null(lookup(id, T0 + 59));
	assert_non_null(lookup(id, T0 + 118));
	assert_non_null(lookup(id, T0 + 177));
	/* 60 s without use: gone, and it stays gone */
	assert_null(lookup(id, T0 + 237));
	assert_null(lookup(id, T0 + 238));
	assert_int_equal(session_count(T0 + 238), 0);
}

static void
test_peek_does_not_touch(void **state)
{
	struct session	*s;
	char		 id[FE_TOKEN_HEX + 1];

	session_limits(60, 3600);
	s = session_create(T0);
	memcpy(id, s->id, sizeof(id));
	assert_ptr_equal(session_peek(id, FE_TOKEN_HEX, T0 + 50), s);
	assert_int_equal(s->last, T0);
	assert_null(lookup(id, T0 + 60));
}

static void
test_absolute_expiry(void **state)
{
	struct session	*s;
	char		 id[FE_TOKEN_HEX + 1];
	time_t		 t;

	session_limits(100, 300);
	s = session_create(T0);
	memcpy(id, s->id, sizeof(id));
	assert_int_equal(session_expires(s), T0 + 300);
	/* used often, it still ends session_max after login */
	for (t = T0 + 50; t < T0 + 300; t += 50)
		assert_non_null(lookup(id, t));
	assert_null(lookup(id, T0 + 300));
}

static void
test_clock_backwards(void **state)
{
	struct session	*s;
	char		 id[FE_TOKEN_HEX + 1];

	s = session_create(T0);
	memcpy(id, s->id, sizeof(id));
	assert_null(lookup(id, T0 - 1));
}

static void
test_logout(void **state)
{
	struct session	*s, *t;
	char		 id[FE_TOKEN_HEX + 1], tid[FE_TOKEN_HEX + 1];

	s = session_create(T0);
	memcpy(id, s->id, sizeof(id));
	t = session_create(T0);
	memcpy(tid, t->id, sizeof(tid));
	session_destroy(s);
	assert_null(lookup(id, T0 + 1));
	assert_non_null(lookup(tid, T0 + 1));
	assert_int_equal(session_count(T0 + 1), 1);
	/* its memory holds nothing of it */
	assert_int_equal(s->used, 0);
	assert_int_equal(s->id[0], '\0');
	assert_int_equal(s->csrf[0], '\0');
}

static void
test_bounded(void **state)
{
	struct session	*first, *second, *s;
	char		 id1[FE_TOKEN_HEX + 1], id2[FE_TOKEN_HEX + 1];
	size_t		 i;

	first = session_create(T0);
	memcpy(id1, first->id, sizeof(id1));
	second = session_create(T0 + 1);
	memcpy(id2, second->id, sizeof(id2));
	for (i = 2; i < FE_MAX_SESSIONS; i++)
		assert_non_null(session_create(T0 + 1 + (time_t)i));
	assert_int_equal(session_count(T0 + 100), FE_MAX_SESSIONS);
	/* the first is used again: the second is now the least recently used */
	assert_non_null(lookup(id1, T0 + 100));
	s = session_create(T0 + 101);
	assert_non_null(s);
	assert_int_equal(session_count(T0 + 101), FE_MAX_SESSIONS);
	assert_null(lookup(id2, T0 + 102));
	assert_non_null(lookup(id1, T0 + 102));
	/* many more: still bounded, the newest always there */
	for (i = 0; i < 3 * FE_MAX_SESSIONS; i++) {
		s = session_create(T0 + 200 + (time_t)i);
		assert_ptr_equal(lookup(s->id, T0 + 200 + (time_t)i), s);
	}
	assert_int_equal(session_count(T0 + 400), FE_MAX_SESSIONS);
	/* expired ones make room first */
	session_limits(60, 43200);
	assert_int_equal(session_count(T0 + 10000), 0);
}

static void
test_csrf(void **state)
{
	struct session	*s, *t;
	char		 tok[FE_TOKEN_HEX + 1];

	s = session_create(T0);
	t = session_create(T0);
	assert_true(session_csrf_ok(s, s->csrf));
	assert_false(session_csrf_ok(s, t->csrf));
	assert_false(session_csrf_ok(s, s->id));
	assert_false(session_csrf_ok(s, NULL));
	assert_false(session_csrf_ok(s, ""));
	memcpy(tok, s->csrf, sizeof(tok));
	tok[FE_TOKEN_HEX - 1] = '\0';
	assert_false(session_csrf_ok(s, tok));
	memcpy(tok, s->csrf, sizeof(tok));
	tok[5] = tok[5] == '0' ? '1' : '0';
	assert_false(session_csrf_ok(s, tok));
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test_setup(test_create_lookup, setup),
		cmocka_unit_test_setup(test_idle_expiry, setup),
		cmocka_unit_test_setup(test_peek_does_not_touch, setup),
		cmocka_unit_test_setup(test_absolute_expiry, setup),
		cmocka_unit_test_setup(test_clock_backwards, setup),
		cmocka_unit_test_setup(test_logout, setup),
		cmocka_unit_test_setup(test_bounded, setup),
		cmocka_unit_test_setup(test_csrf, setup),
	};

	if (sodium_init() == -1)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
