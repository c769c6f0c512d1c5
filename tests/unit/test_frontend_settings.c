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

#define BASE	"\"listen\":\"127.0.0.1:8080\"," \
		"\"session_idle\":3600,\"session_max\":43200,\"cookie_secure\":false"
#define GOOD	"\"listen\":\"127.0.0.1:8080\",\"single\":true,\"projects\":" \
		"[{\"name\":\"shop\",\"webhook_secret\":\"s3cret\"}]," \
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
	assert_int_equal(cfg.nprojects, 1);
	assert_int_equal(cfg.single, 1);
	assert_string_equal(cfg.projects[0].name, "shop");
	assert_string_equal(cfg.projects[0].webhook_secret, "s3cret");
	assert_int_equal(cfg.projects[0].webhook_secret_len, 6);
	assert_int_equal(cfg.session_idle, 3600);
	assert_int_equal(cfg.session_max, 43200);
	assert_int_equal(cfg.cookie_secure, 0);
	assert_string_equal(cfg.github_repo, "acme/shop");
	assert_null(cfg.www_dir);
	fe_config_free(&cfg);
	assert_null(cfg.listen);

	assert_int_equal(parse("{\"listen\":\"[::1]:80\",\"single\":true,"
	    "\"projects\":[{\"name\":\"a\",\"webhook_secret\":null}],"
	    "\"session_idle\":60,\"session_max\":60,\"cookie_secure\":true,"
	    "\"www_dir\":\"/srv/www\"}", &cfg), 0);
	assert_null(cfg.projects[0].webhook_secret);
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
	assert_null(cfg.projects);
	assert_int_equal(cfg.nprojects, 0);
}

/* several projects: names, secrets, lookups */
static void
test_projects(void **state)
{
	struct fe_config	 cfg;
	const struct fe_project	*p;

	assert_int_equal(parse("{" BASE ",\"single\":false,\"projects\":["
	    "{\"name\":\"app\",\"webhook_secret\":\"one\"},"
	    "{\"name\":\"blog-2\",\"webhook_secret\":null},"
	    "{\"name\":\"0\"},"
	    "{\"name\":\"abcdefghijklmnopqrstuvwxyz012345\","
	    "\"webhook_secret\":\"two\"}]}", &cfg), 0);
	assert_int_equal(cfg.nprojects, 4);
	assert_int_equal(cfg.single, 0);
	assert_non_null(p = fe_project_find(&cfg, "app", 3));
	assert_string_equal(p->webhook_secret, "one");
	assert_non_null(p = fe_project_find(&cfg, "blog-2", 6));
	assert_null(p->webhook_secret);
	assert_non_null(fe_project_find(&cfg, "0", 1));
	assert_non_null(p = fe_project_find(&cfg,
	    "abcdefghijklmnopqrstuvwxyz012345", 32));
	assert_int_equal(p->webhook_secret_len, 3);
	/* a prefix, a longer name, a name not there: none */
	assert_null(fe_project_find(&cfg, "ap", 2));
	assert_null(fe_project_find(&cfg, "appx", 4));
	assert_null(fe_project_find(&cfg, "app/x", 3 + 2));
	assert_null(fe_project_find(&cfg, "", 0));
	/* the length given, not the NUL: "app" of "apple" */
	assert_non_null(fe_project_find(&cfg, "apple", 3));
	fe_config_free(&cfg);
	assert_null(cfg.projects);
	assert_int_equal(cfg.nprojects, 0);

	/* none at all: every webhook is refused */
	assert_int_equal(parse("{" BASE ",\"single\":false,\"projects\":[]}",
	    &cfg), 0);
	assert_int_equal(cfg.nprojects, 0);
	assert_null(fe_project_find(&cfg, "app", 3));
	fe_config_free(&cfg);
}

static void
test_projects_bad(void **state)
{
	static const char *const bad[] = {
		/* names: syntax, length, type, missing, twice */
		"[{\"name\":\"App\"}]", "[{\"name\":\"-a\"}]",
		"[{\"name\":\"a_b\"}]", "[{\"name\":\"a.b\"}]",
		"[{\"name\":\"a b\"}]", "[{\"name\":\"\"}]",
		"[{\"name\":\"../x\"}]", "[{\"name\":\"\u00e9\"}]",
		"[{\"name\":\"abcdefghijklmnopqrstuvwxyz0123456\"}]",
		"[{\"name\":7}]", "[{}]", "[\"app\"]", "[null]",
		"[{\"name\":\"a\"},{\"name\":\"b\"},{\"name\":\"a\"}]",
		/* secrets */
		"[{\"name\":\"a\",\"webhook_secret\":\"\"}]",
		"[{\"name\":\"a\",\"webhook_secret\":5}]",
		/* the list itself */
		"{\"name\":\"a\"}", "\"a\"", "null", "7",
		NULL
	};
	struct fe_config	cfg;
	char			json[512];
	char			*many;
	size_t			i, off;

	for (i = 0; bad[i] != NULL; i++) {
		snprintf(json, sizeof(json), "{" BASE ",\"single\":false,"
		    "\"projects\":%s}", bad[i]);
		if (parse(json, &cfg) != -1)
			fail_msg("accepted %s", bad[i]);
		assert_null(cfg.projects);
	}
	/* "single": a boolean, and with exactly one project */
	assert_int_equal(parse("{" BASE ",\"projects\":[{\"name\":\"a\"}]}",
	    &cfg), -1);
	assert_int_equal(parse("{" BASE ",\"single\":1,\"projects\":"
	    "[{\"name\":\"a\"}]}", &cfg), -1);
	assert_int_equal(parse("{" BASE ",\"single\":true,\"projects\":"
	    "[{\"name\":\"a\"},{\"name\":\"b\"}]}", &cfg), -1);
	assert_int_equal(parse("{" BASE ",\"single\":true,\"projects\":[]}",
	    &cfg), -1);

	/* PROTO_MAX_PROJECTS, not one more */
	if ((many = malloc(64 * (PROTO_MAX_PROJECTS + 2))) == NULL)
		fail();
	off = (size_t)sprintf(many, "{" BASE ",\"single\":false,\"projects\":[");
	for (i = 0; i < PROTO_MAX_PROJECTS; i++)
		off += (size_t)sprintf(many + off, "%s{\"name\":\"p%zu\","
		    "\"webhook_secret\":\"s%zu\"}", i ? "," : "", i, i);
	strcpy(many + off, "]}");
	assert_int_equal(parse(many, &cfg), 0);
	assert_int_equal(cfg.nprojects, PROTO_MAX_PROJECTS);
	assert_string_equal(fe_project_find(&cfg, "p255", 4)->webhook_secret,
	    "s255");
	fe_config_free(&cfg);
	sprintf(many + off, ",{\"name\":\"p%d\"}]}", PROTO_MAX_PROJECTS);
	assert_int_equal(parse(many, &cfg), -1);
	assert_null(cfg.projects);
	free(many);
}

/*
 * The shape of before several projects ("webhook_secret" at the top, no
 * "projects"): no backend sends it any more, and it is refused.
 */
static void
test_no_projects(void **state)
{
	struct fe_config	cfg;

	assert_int_equal(parse("{" BASE ",\"webhook_secret\":\"s3cret\"}",
	    &cfg), -1);
	assert_int_equal(parse("{" BASE "}", &cfg), -1);
	assert_int_equal(parse("{" BASE ",\"single\":true,\"projects\":{}}",
	    &cfg), -1);
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
		cmocka_unit_test(test_projects),
		cmocka_unit_test(test_projects_bad),
		cmocka_unit_test(test_no_projects),
		cmocka_unit_test(test_trusted_proxies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
