/*
 * Unit tests for frontend/client.c: DAVIT_TRUSTED_PROXIES parsed, the
 * client behind trusted proxies from X-Forwarded-For (right-most untrusted
 * address), the /64 key, loopback listen addresses.
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

static struct fe_proxies	P;

static void
proxies(const char *s)
{
	char	err[128];

	assert_int_equal(client_proxies_parse(s, &P, err, sizeof(err)), 0);
}

static void
test_proxies_parse(void **state)
{
	struct fe_proxies	p;
	char			err[128];
	char			many[2048];
	size_t			i;
	const char		*bad[] = {
		",", "10.0.0.1,", ",10.0.0.1", "10.0.0.1,,10.0.0.2",
		"10.0.0.1/33", "::1/129", "10.0.0/8", "10.0.0.1/", "10.0.0.1/a",
		"example.com", "10.0.0.1:80", "10.0.0.1/0008", " , ",
		"1.2.3.4 5.6.7.8", "10.0.0.1/-1",
	};

	assert_int_equal(client_proxies_parse(NULL, &p, err, sizeof(err)), 0);
	assert_int_equal(p.n, 0);
	assert_int_equal(client_proxies_parse("", &p, err, sizeof(err)), 0);
	assert_int_equal(p.n, 0);
	assert_int_equal(client_proxies_parse("10.0.0.1, 192.168.0.0/16 ,"
	    "2001:db8::/32,::1", &p, err, sizeof(err)), 0);
	assert_int_equal(p.n, 4);
	assert_int_equal(p.net[1].bits, 16);
	assert_int_equal(p.net[0].bits, 32);
	assert_int_equal(p.net[3].bits, 128);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (client_proxies_parse(bad[i], &p, err, sizeof(err)) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_true(strlen(err) > 0);
	}
	/* bounded */
	many[0] = '\0';
	for (i = 0; i <= FE_MAX_PROXIES; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many),
		    "%s10.0.0.%zu", i ? "," : "", i);
	assert_int_equal(client_proxies_parse(many, &p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "more than"));
}

static void
test_trusted(void **state)
{
	proxies("10.0.0.1,192.168.0.0/16,2001:db8::/32,172.16.0.0/12");
	assert_true(client_addr_trusted(&P, "10.0.0.1"));
	assert_false(client_addr_trusted(&P, "10.0.0.2"));
	assert_true(client_addr_trusted(&P, "192.168.200.3"));
	assert_true(client_addr_trusted(&P, "::ffff:192.168.1.1"));
	assert_true(client_addr_trusted(&P, "2001:db8:ffff::1"));
	assert_false(client_addr_trusted(&P, "2001:db9::1"));
	assert_true(client_addr_trusted(&P, "172.31.255.255"));
	assert_false(client_addr_trusted(&P, "172.32.0.0"));
	assert_false(client_addr_trusted(&P, "?"));
	assert_false(client_addr_trusted(&P, ""));
	proxies(NULL);
	assert_false(client_addr_trusted(&P, "10.0.0.1"));
}

static void
check_fwd(const char *xff, const char *want)
{
	char	out[FE_ADDR_MAX];
	int	r;

	r = client_forwarded(xff, strlen(xff), &P, out, sizeof(out));
	if (want == NULL) {
		if (r != -1)
			fail_msg("\"%s\": got %s", xff, out);
		return;
	}
	if (r != 0)
		fail_msg("\"%s\": refused, want %s", xff, want);
	assert_string_equal(out, want);
}

static void
test_forwarded(void **state)
{
	proxies("10.0.0.1,10.0.0.2,2001:db8::/64");
	/* the right-most address not a proxy: what a client writes is left of it */
	check_fwd("203.0.113.9", "203.0.113.9");
	check_fwd("1.1.1.1, 203.0.113.9", "203.0.113.9");
	check_fwd("1.1.1.1, 203.0.113.9, 10.0.0.2", "203.0.113.9");
	check_fwd("1.1.1.1,203.0.113.9,10.0.0.2,10.0.0.1", "203.0.113.9");
	check_fwd("garbage, 203.0.113.9", "203.0.113.9");
	check_fwd("  203.0.113.9  ", "203.0.113.9");
	check_fwd("203.0.113.9, , 10.0.0.1", "203.0.113.9");
	check_fwd("2001:DB8:1::5", "2001:db8:1::5");
	check_fwd("[2001:db8:1::5]:4711", "2001:db8:1::5");
	check_fwd("203.0.113.9:4711", "203.0.113.9");
	check_fwd("::ffff:203.0.113.9", "203.0.113.9");
	check_fwd("1.2.3.4, 2001:db8::77", "1.2.3.4");
	/* every one a proxy: the left-most */
	check_fwd("10.0.0.2, 10.0.0.1", "10.0.0.2");
	/* malformed where it matters, or nothing at all */
	check_fwd("1.1.1.1, garbage", NULL);
	check_fwd("203.0.113.9, unknown, 10.0.0.1", NULL);
	check_fwd("", NULL);
	check_fwd(" , ,", NULL);
	check_fwd("[::1", NULL);
	check_fwd("[::1]x", NULL);
	check_fwd("1.2.3.4:", NULL);
	check_fwd("1.2.3.4:x", NULL);
	check_fwd("01.2.3.4", NULL);
	check_fwd("1.2.3.4\n", NULL);
}

static void
test_key(void **state)
{
	char	k[FE_ADDR_MAX];

	client_key("192.0.2.1", k, sizeof(k));
	assert_string_equal(k, "192.0.2.1");
	client_key("::ffff:192.0.2.1", k, sizeof(k));
	assert_string_equal(k, "192.0.2.1");
	client_key("2001:db8:1:2:3:4:5:6", k, sizeof(k));
	assert_string_equal(k, "2001:db8:1:2::/64");
	client_key("2001:0DB8:1:2::ff", k, sizeof(k));
	assert_string_equal(k, "2001:db8:1:2::/64");
	client_key("::1", k, sizeof(k));
	assert_string_equal(k, "::/64");
	client_key("?", k, sizeof(k));
	assert_string_equal(k, "?");
	client_key("", k, sizeof(k));
	assert_string_equal(k, "?");
	client_key(NULL, k, sizeof(k));
	assert_string_equal(k, "?");
}

static void
test_loopback(void **state)
{
	assert_true(client_listen_is_loopback("127.0.0.1:8080"));
	assert_true(client_listen_is_loopback("127.1.2.3:1"));
	assert_true(client_listen_is_loopback("[::1]:8080"));
	assert_true(client_listen_is_loopback("localhost:8080"));
	assert_false(client_listen_is_loopback("0.0.0.0:8080"));
	assert_false(client_listen_is_loopback("[::]:8080"));
	assert_false(client_listen_is_loopback("192.168.1.2:8080"));
	assert_false(client_listen_is_loopback("example.com:80"));
	assert_false(client_listen_is_loopback("nonsense"));
	assert_false(client_listen_is_loopback(NULL));
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_proxies_parse),
		cmocka_unit_test(test_trusted),
		cmocka_unit_test(test_forwarded),
		cmocka_unit_test(test_key),
		cmocka_unit_test(test_loopback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
