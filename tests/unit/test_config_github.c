/*
 * common/config.c, the GitHub App and commit-status keys: their validators,
 * defaults, and the checks across keys (a token and an App together, an App
 * without its key or repository, statuses without a way to post them).
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

#include "common/config.h"

#define F	"t.env"

static char			 hash[crypto_pwhash_STRBYTES];
static struct davit_config	 C;
static char			 E[CONFIG_ERR_LEN];

static int
parse(const char *extra)
{
	char	text[8192];

	snprintf(text, sizeof(text), "DAVIT_PASSWORD_HASH='%s'\n"
	    "DAVIT_WORKDIR=/srv/app\nDAVIT_SERVICES=web\n"
	    "DAVIT_REPO_URL=https://github.com/acme/shop.git\n%s", hash, extra);
	config_free(&C);
	return config_parse(F, text, strlen(text), &C, E, sizeof(E));
}

static void
test_defaults(void **state)
{
	assert_int_equal(parse(""), 0);
	assert_null(C.github_app_id);
	assert_null(C.github_app_key);
	assert_null(C.github_installation_id);
	assert_string_equal(C.github_api_url, "https://api.github.com");
	assert_null(C.github_ca_file);
	assert_int_equal(C.github_status, 0);
	assert_string_equal(C.github_status_context, "davit/deploy");
	assert_null(C.public_url);
}

static void
test_app(void **state)
{
	assert_int_equal(parse("DAVIT_GITHUB_APP_ID=123456\n"
	    "DAVIT_GITHUB_APP_KEY=/etc/davit/app.pem\n"
	    "DAVIT_GITHUB_INSTALLATION_ID=987654321\n"
	    "DAVIT_GITHUB_API_URL=https://ghes.example.com/api/v3\n"
	    "DAVIT_GITHUB_CA_FILE=/etc/davit/ghes-ca.pem\n"
	    "DAVIT_GITHUB_STATUS=1\n"
	    "DAVIT_GITHUB_STATUS_CONTEXT=ci/davit prod\n"
	    "DAVIT_PUBLIC_URL=https://deploy.example.com\n"), 0);
	assert_string_equal(C.github_app_id, "123456");
	assert_string_equal(C.github_app_key, "/etc/davit/app.pem");
	assert_string_equal(C.github_installation_id, "987654321");
	assert_string_equal(C.github_api_url, "https://ghes.example.com/api/v3");
	assert_string_equal(C.github_ca_file, "/etc/davit/ghes-ca.pem");
	assert_int_equal(C.github_status, 1);
	assert_string_equal(C.github_status_context, "ci/davit prod");
	assert_string_equal(C.public_url, "https://deploy.example.com");
	assert_string_equal(C.github_repo, "acme/shop");

	assert_int_equal(parse("DAVIT_GITHUB_APP_ID=Iv23liAbC.dEf1\n"
	    "DAVIT_GITHUB_APP_KEY=/k.pem\n"), 0);
	assert_string_equal(C.github_app_id, "Iv23liAbC.dEf1");
}

static void
test_bad_values(void **state)
{
	static const char *bad[] = {
		"DAVIT_GITHUB_APP_ID=0123\n",
		"DAVIT_GITHUB_APP_ID=abc\n",
		"DAVIT_GITHUB_APP_ID=12 3\n",
		"DAVIT_GITHUB_APP_ID=Iv\n",
		"DAVIT_GITHUB_APP_ID=\"Iv1\\\"x\"\n",
		"DAVIT_GITHUB_APP_KEY=relative.pem\n",
		"DAVIT_GITHUB_INSTALLATION_ID=-1\n",
		"DAVIT_GITHUB_INSTALLATION_ID=0\n",
		"DAVIT_GITHUB_INSTALLATION_ID=12a\n",
		"DAVIT_GITHUB_INSTALLATION_ID=12345678901234567890\n",
		"DAVIT_GITHUB_API_URL=http://api.github.com\n",
		"DAVIT_GITHUB_API_URL=http://10.0.0.1:8080\n",
		"DAVIT_GITHUB_API_URL=http://127.0.0.1.evil.com/\n",
		"DAVIT_GITHUB_API_URL=http://localhost.evil.com/\n",
		"DAVIT_GITHUB_API_URL=https://user:pw@api.github.com\n",
		"DAVIT_GITHUB_API_URL=https://api.github.com/?x=1\n",
		"DAVIT_GITHUB_API_URL=ftp://api.github.com\n",
		"DAVIT_GITHUB_API_URL=https://\n",
		"DAVIT_GITHUB_STATUS=maybe\n",
		"DAVIT_GITHUB_STATUS_CONTEXT=\"a\\tb\"\n",
		"DAVIT_PUBLIC_URL=javascript:alert(1)\n",
	};
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i]) != -1)
			fail_msg("accepted: %s", bad[i]);
		assert_non_null(strstr(E, "DAVIT_"));
	}
	assert_int_equal(parse("DAVIT_GITHUB_STATUS_CONTEXT=" "0123456789"
	    "0123456789" "0123456789" "0123456789" "0123456789" "0123456789"
	    "0123456789" "0123456789" "0123456789" "0123456789" "x\n"), -1);
	assert_non_null(strstr(E, "too long (max 100"));
}

static void
test_loopback_http(void **state)
{
	static const char *good[] = {
		"http://127.0.0.1:8080",
		"http://127.0.0.1:8080/api/v3",
		"http://localhost:1234/",
		"http://[::1]:99",
		"https://10.0.0.1/api/v3",
	};
	char	 line[256];
	size_t	 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(line, sizeof(line), "DAVIT_GITHUB_API_URL=%s\n",
		    good[i]);
		if (parse(line) != 0)
			fail_msg("refused %s: %s", good[i], E);
		assert_string_equal(C.github_api_url, good[i]);
	}
	assert_int_equal(parse("DAVIT_GITHUB_API_URL=http://10.1.2.3\n"), -1);
	assert_string_equal(E, F ":5: DAVIT_GITHUB_API_URL: must be an https:// "
	    "URL (http:// only to a loopback address)");
}

static void
test_cross_checks(void **state)
{
	assert_int_equal(parse("DAVIT_GITHUB_TOKEN=ghp_secretvalue\n"
	    "DAVIT_GITHUB_APP_ID=1\nDAVIT_GITHUB_APP_KEY=/k.pem\n"), -1);
	assert_string_equal(E, F ": DAVIT_GITHUB_TOKEN and DAVIT_GITHUB_APP_ID "
	    "are both set: use a personal token or a GitHub App, not both");
	assert_null(strstr(E, "ghp_secretvalue"));

	assert_int_equal(parse("DAVIT_GITHUB_APP_ID=1\n"), -1);
	assert_non_null(strstr(E, "needs both DAVIT_GITHUB_APP_ID and "
	    "DAVIT_GITHUB_APP_KEY"));
	assert_int_equal(parse("DAVIT_GITHUB_APP_KEY=/k.pem\n"), -1);
	assert_non_null(strstr(E, "needs both"));
	assert_int_equal(parse("DAVIT_GITHUB_INSTALLATION_ID=5\n"), -1);
	assert_non_null(strstr(E, "without DAVIT_GITHUB_APP_ID"));

	/* no repository to ask for */
	assert_int_equal(parse("DAVIT_REPO_URL=\nDAVIT_GITHUB_APP_ID=1\n"
	    "DAVIT_GITHUB_APP_KEY=/k.pem\n"), -1);
	assert_non_null(strstr(E, "set DAVIT_GITHUB_REPO"));

	assert_int_equal(parse("DAVIT_GITHUB_STATUS=1\n"), -1);
	assert_non_null(strstr(E, "DAVIT_GITHUB_STATUS=1 needs "
	    "DAVIT_GITHUB_TOKEN or a GitHub App"));
	assert_int_equal(parse("DAVIT_GITHUB_STATUS=1\n"
	    "DAVIT_GITHUB_TOKEN=t\n"), 0);
	assert_int_equal(parse("DAVIT_REPO_URL=\nDAVIT_GITHUB_STATUS=1\n"
	    "DAVIT_GITHUB_TOKEN=t\n"), -1);
	assert_non_null(strstr(E, "DAVIT_GITHUB_STATUS=1 needs the repository"));
}

static int
setup(void **state)
{
	if (sodium_init() == -1)
		return -1;
	/* any valid argon2id string will do: the cheapest to make */
	return crypto_pwhash_str(hash, "x", 1,
	    crypto_pwhash_argon2id_OPSLIMIT_MIN,
	    crypto_pwhash_argon2id_MEMLIMIT_MIN) == 0 ? 0 : -1;
}

static int
teardown(void **state)
{
	config_free(&C);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_app),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_loopback_http),
		cmocka_unit_test(test_cross_checks),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
