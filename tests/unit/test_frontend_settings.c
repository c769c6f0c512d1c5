/*
 * Unit tests for frontend/settings.c: the frontend.config reply is checked
 * even though the backend made it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/json.h"
#include "frontend/frontend.h"

#define GOOD	"\"listen\":\"127.0.0.1:8080\",\"webhook_secret\":\"s3cret\"," \
		"\"session_idle\":3600,\"session_max\":43200,\"cookie_secure\":false," \
		"\"github_repo\":\"acme/shop\",\"branch\":\"main\",\"www_dir\":null"

static int
parse(const char *json, struct fe_config *cfg)
{
	char		 err[256], perr[128];
	yajl_val	 tree;
	int		 rv;

	tree = json_parse(json, strlen(json), perr, sizeof(perr));
	assert_non_null(tree);
	err[0] = '\0';
	rv = fe_config_parse(tree, cfg, err, sizeof(err));
	if (rv == -1)
		assert_true(err[0] != '\0');
	yajl_tree_free(tree);
	return rv;
}

static void
test_good(void **state)
{
	struct fe_config	cfg;

	assert_int_equal(parse("{" GOOD "}", &cfg), 0);
	assert_string_equal(cfg.listen, "127.0.0.1:8080");
	assert_string_equal(cfg.webhook_secret, "s3cret");
	assert_int_equal(cfg.webhook_secret_len, 6);
	assert_int_equal(cfg.session_idle, 3600);
	assert_int_equal(cfg.session_max, 43200);
	assert_int_equal(cfg.cookie_secure, 0);
	assert_string_equal(cfg.github_repo, "acme/shop");
	assert_null(cfg.www_dir);
	fe_config_free(&cfg);
	assert_null(cfg.listen);

	assert_int_equal(parse("{\"listen\":\"[::1]:80\",\"webhook_secret\":null,"
	    "\"session_idle\":60,\"session_max\":60,\"cookie_secure\":true,"
	    "\"www_dir\":\"/srv/www\"}", &cfg), 0);
	assert_null(cfg.webhook_secret);
	assert_int_equal(cfg.cookie_secure, 1);
	assert_string_equal(cfg.www_dir, "/srv/www");
	fe_config_free(&cfg);
}

static void
test_bad(void **state)
{
	struct fe_config	cfg;

	assert_int_equal(parse("[]", &cfg), -1);
	assert_int_equal(parse("{}", &cfg), -1);
	/* a key given twice: the first counts */
	assert_int_equal(parse("{" GOOD ",\"listen\":\"\"}", &cfg), 0);
	assert_string_equal(cfg.listen, "127.0.0.1:8080");
	fe_config_free(&cfg);
	assert_int_equal(parse("{\"listen\":\"\",\"session_idle\":60,"
	    "\"session_max\":60,\"cookie_secure\":true}", &cfg), -1);
	assert_int_equal(parse("{\"listen\":1,\"session_idle\":60,"
	    "\"session_max\":60,\"cookie_secure\":true}", &cfg), -1);
	assert_int_equal(parse("{\"listen\":\"h:1\",\"session_idle\":59,"
	    "\"session_max\":60,\"cookie_secure\":true}", &cfg), -1);
	assert_int_equal(parse("{\"listen\":\"h:1\",\"session_idle\":60,"
	    "\"session_max\":2592001,\"cookie_secure\":true}", &cfg), -1);
	assert_int_equal(parse("{\"listen\":\"h:1\",\"session_idle\":\"60\","
	    "\"session_max\":60,\"cookie_secure\":true}", &cfg), -1);
	assert_int_equal(parse("{\"listen\":\"h:1\",\"session_idle\":60,"
	    "\"session_max\":60,\"cookie_secure\":1}", &cfg), -1);
	assert_int_equal(parse("{\"listen\":\"h:1\",\"session_idle\":60,"
	    "\"session_max\":60,\"cookie_secure\":true,\"www_dir\":\"rel\"}",
	    &cfg), -1);
	assert_int_equal(parse("{\"listen\":\"h:1\",\"session_idle\":60,"
	    "\"session_max\":60,\"cookie_secure\":true,\"webhook_secret\":5}",
	    &cfg), -1);
	/* a failure leaves nothing allocated */
	assert_null(cfg.listen);
	assert_null(cfg.webhook_secret);
}

/* trusted_proxies: absent or null is none; a bad list refuses the reply */
static void
test_trusted_proxies(void **state)
{
	struct fe_config	cfg;

	assert_int_equal(parse("{" GOOD "}", &cfg), 0);
	assert_int_equal(cfg.proxies.n, 0);
	fe_config_free(&cfg);
	assert_int_equal(parse("{" GOOD ",\"trusted_proxies\":null}", &cfg), 0);
	assert_int_equal(cfg.proxies.n, 0);
	fe_config_free(&cfg);
	assert_int_equal(parse("{" GOOD ",\"trusted_proxies\":"
	    "\"10.0.0.1, 2001:db8::/48\"}", &cfg), 0);
	assert_int_equal(cfg.proxies.n, 2);
	assert_int_equal(cfg.proxies.net[1].bits, 48);
	fe_config_free(&cfg);
	assert_int_equal(parse("{" GOOD ",\"trusted_proxies\":\"proxy\"}",
	    &cfg), -1);
	assert_null(cfg.listen);
	assert_int_equal(parse("{" GOOD ",\"trusted_proxies\":7}", &cfg), -1);
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_trusted_proxies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
