/*
 * Unit tests for frontend/tls.c's tls_bundle_parse: the backend's bundle,
 * "davit-tls CERTLEN KEYLEN\n" then the bytes; partial input waits, a bad
 * header or a length over its bound is refused.
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

static ssize_t
parse(const char *s, size_t len, size_t *h, size_t *c, size_t *k)
{
	return tls_bundle_parse(s, len, h, c, k);
}

static void
test_bundle_whole(void **state)
{
	const char	b[] = "davit-tls 3 2\nCRTKYnext";
	size_t		h, c, k;

	assert_int_equal(parse(b, sizeof(b) - 1, &h, &c, &k), 19);
	assert_int_equal(h, 14);
	assert_int_equal(c, 3);
	assert_int_equal(k, 2);
}

static void
test_bundle_partial(void **state)
{
	const char	b[] = "davit-tls 3 2\nCRTK";
	size_t		h, c, k, i;

	for (i = 0; i < sizeof(b) - 1; i++)
		assert_int_equal(parse(b, i, &h, &c, &k), 0);
}

static void
test_bundle_bad(void **state)
{
	static const char	*bad[] = {
		"davit-tlx 3 2\n", "davit-tls 0 2\n", "davit-tls 3 0\n",
		"davit-tls 3\n", "davit-tls 3 2 1\n", "davit-tls -3 2\n",
		"davit-tls 3  2\n", "davit-tls 65537 2\n", "davit-tls 3 16385\n",
		"davit-tls 99999999999999999999999 2\n", "GET / HTTP/1.1\r\n",
		"davit-tls\n",
	};
	char		 big[128];
	size_t		 h, c, k, i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse(bad[i], strlen(bad[i]), &h, &c, &k), -1);
	/* no newline within the header's bound */
	memset(big, '1', sizeof(big));
	memcpy(big, "davit-tls ", 10);
	assert_int_equal(parse(big, sizeof(big), &h, &c, &k), -1);
	/* the largest lengths allowed */
	snprintf(big, sizeof(big), "davit-tls %d %d\n", FE_TLS_CERT_MAX,
	    FE_TLS_KEY_MAX);
	assert_int_equal(parse(big, strlen(big), &h, &c, &k), 0);
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_bundle_whole),
		cmocka_unit_test(test_bundle_partial),
		cmocka_unit_test(test_bundle_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
