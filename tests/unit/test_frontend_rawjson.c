/* frontend/rawjson.c: a member's bytes in a JSON object, as written */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "frontend/frontend.h"

/* the member's bytes as a string, or NULL */
static char *
member(const char *s, const char *key)
{
	static char	 out[256];
	const char	*v;
	size_t		 len;

	if (json_raw_member(s, strlen(s), key, &v, &len) == -1)
		return NULL;
	assert_true(len < sizeof(out));
	memcpy(out, v, len);
	out[len] = '\0';
	return out;
}

static void
test_reply(void **state)
{
	const char	*reply = "{\"id\":7,\"ok\":true,\"result\":{\"job\":12,"
	    "\"s\":\"a}\\\"b\",\"l\":[1,{\"x\":[]}]}}";

	assert_string_equal(member(reply, "result"),
	    "{\"job\":12,\"s\":\"a}\\\"b\",\"l\":[1,{\"x\":[]}]}");
	assert_string_equal(member(reply, "id"), "7");
	assert_string_equal(member(reply, "ok"), "true");
	assert_null(member(reply, "job"));	/* not at the top */
	assert_null(member(reply, "error"));
}

static void
test_scalars_and_space(void **state)
{
	assert_string_equal(member(" { \"a\" : null , \"data\" : \"x,}\" } ",
	    "data"), "\"x,}\"");
	assert_string_equal(member("{\"a\":[],\"b\":-1.5e3}", "b"), "-1.5e3");
	assert_string_equal(member("{\"a\":[],\"b\":[]}", "b"), "[]");
	/* an escaped key is not taken for another */
	assert_null(member("{\"d\\u0061ta\":1}", "data"));
	assert_null(member("{\"dat\":1}", "data"));
}

static void
test_hostile(void **state)
{
	const char	*v;
	size_t		 len;
	char		 deep[4000];
	char		 nul[] = "{\"a\":1,\"data\":\"x\0y\"}";

	/* cut anywhere: never found past the end, never read past it */
	assert_int_equal(json_raw_member("{\"data\":{\"a\":1", 14, "data",
	    &v, &len), -1);
	assert_int_equal(json_raw_member("{\"data\":\"abc", 12, "data", &v,
	    &len), -1);
	assert_int_equal(json_raw_member("{\"data\":\"a\\", 11, "data", &v,
	    &len), -1);
	assert_null(member("", "data"));
	assert_null(member("[\"data\",1]", "data"));
	assert_null(member("{\"data\"}", "data"));
	assert_null(member("{\"data\":}", "data"));
	assert_null(member("{\"a\":1 \"data\":2}", "data"));
	assert_null(member("{\"a\":]}", "data"));
	/* an embedded NUL: bounded by len, not by the NUL */
	assert_int_equal(json_raw_member(nul, sizeof(nul) - 1, "data", &v,
	    &len), 0);
	assert_int_equal(len, 5);
	/* nesting past the bound */
	memset(deep, '[', sizeof(deep));
	memcpy(deep, "{\"data\":", 8);
	assert_int_equal(json_raw_member(deep, sizeof(deep), "data", &v, &len),
	    -1);
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_reply),
		cmocka_unit_test(test_scalars_and_space),
		cmocka_unit_test(test_hostile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
