/*
 * Webhook signature and push parsing, with GitHub's documented example and
 * real deliveries (tests/fixtures/github, from octokit/webhooks).
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

#include "frontend/webhook.h"

#define SECRET	"test-secret-for-davit"

static char *
fixture(const char *name, size_t *len)
{
	char	 path[512];
	FILE	*f;
	char	*buf;

	snprintf(path, sizeof(path), "%s/github/%s", DAVIT_FIXTURES, name);
	f = fopen(path, "r");
	if (f == NULL)
		fail_msg("cannot open %s", path);
	buf = malloc(65536);
	assert_non_null(buf);
	*len = fread(buf, 1, 65535, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

/* https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries */
static void
test_github_doc_example(void **state)
{
	const char	*key = "It's a Secret to Everybody";
	const char	*body = "Hello, World!";
	const char	*sig = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
	char		 out[7 + 64 + 1];

	webhook_sign((const unsigned char *)key, strlen(key), body, strlen(body), out);
	assert_string_equal(out, sig);
	assert_true(webhook_signature_ok((const unsigned char *)key, strlen(key),
	    body, strlen(body), sig));
	/* one bit off anywhere: refused */
	assert_false(webhook_signature_ok((const unsigned char *)key, strlen(key),
	    "Hello, World?", 13, sig));
	assert_false(webhook_signature_ok((const unsigned char *)"It's a secret to everybody",
	    26, body, strlen(body), sig));
}

static void
test_malformed_signatures(void **state)
{
	const unsigned char	*k = (const unsigned char *)SECRET;
	char			 good[7 + 64 + 1], bad[100];

	webhook_sign(k, strlen(SECRET), "x", 1, good);
	assert_true(webhook_signature_ok(k, strlen(SECRET), "x", 1, good));
	assert_false(webhook_signature_ok(k, strlen(SECRET), "x", 1, NULL));
	assert_false(webhook_signature_ok(k, strlen(SECRET), "x", 1, ""));
	assert_false(webhook_signature_ok(k, strlen(SECRET), "x", 1, good + 7));	/* no prefix */
	snprintf(bad, sizeof(bad), "sha1=%s", good + 7);
	assert_false(webhook_signature_ok(k, strlen(SECRET), "x", 1, bad));
	snprintf(bad, sizeof(bad), "%.*s", 70, good);				/* short */
	assert_false(webhook_signature_ok(k, strlen(SECRET), "x", 1, bad));
	snprintf(bad, sizeof(bad), "%s0", good);				/* long */
	assert_false(webhook_signature_ok(k, strlen(SECRET), "x", 1, bad));
	snprintf(bad, sizeof(bad), "%s", good);
	bad[20] = 'g';								/* not hex */
	assert_false(webhook_signature_ok(k, strlen(SECRET), "x", 1, bad));
	/* a long key, longer than a SHA-256 block */
	{
		unsigned char	longkey[300];
		char		sig[7 + 64 + 1];

		memset(longkey, 'k', sizeof(longkey));
		webhook_sign(longkey, sizeof(longkey), "body", 4, sig);
		assert_true(webhook_signature_ok(longkey, sizeof(longkey), "body", 4, sig));
		assert_false(webhook_signature_ok(longkey, sizeof(longkey) - 1, "body", 4, sig));
	}
}

static void
test_push_new_branch(void **state)
{
	struct webhook_push	 p;
	char			 err[256], *body, *json, sig[7 + 64 + 1];
	size_t			 len, jlen;
	int			 unsup;

	body = fixture("push-with-new-branch.payload.json", &len);
	webhook_sign((const unsigned char *)SECRET, strlen(SECRET), body, len, sig);
	assert_true(webhook_signature_ok((const unsigned char *)SECRET,
	    strlen(SECRET), body, len, sig));
	assert_int_equal(webhook_payload("application/json", body, len, &json,
	    &jlen, &unsup, err, sizeof(err)), 0);
	assert_int_equal(webhook_parse_push(json, jlen, &p, err, sizeof(err)), 0);
	assert_string_equal(p.ref, "refs/heads/master");
	assert_string_equal(p.after, "6113728f27ae82c7b1a177c8d03f9e96e0adf246");
	assert_string_equal(p.before, "0000000000000000000000000000000000000000");
	assert_string_equal(p.repository, "Codertocat/Hello-World");
	assert_false(p.deleted);
	assert_int_equal(p.npaths, 1);
	assert_string_equal(p.paths[0], "README.md");
	webhook_push_free(&p);
	free(json);
	free(body);
}

static void
test_deleted_tag(void **state)
{
	static const char *const files[] = {
		"push-payload.json", "push-1.payload.json",
		"push-with-installation.payload.json",
		"push-with-organization.payload.json",
	};
	struct webhook_push	 p;
	char			 err[256], *body;
	size_t			 len, i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		body = fixture(files[i], &len);
		assert_int_equal(webhook_parse_push(body, len, &p, err, sizeof(err)), 0);
		assert_true(p.deleted);
		assert_string_equal(p.ref, "refs/tags/simple-tag");
		assert_string_equal(p.after, "0000000000000000000000000000000000000000");
		webhook_push_free(&p);
		free(body);
	}
}

static void
test_ping_is_not_a_push(void **state)
{
	struct webhook_push	 p;
	char			 err[256], *body;
	size_t			 len;

	body = fixture("ping-payload.json", &len);
	assert_int_equal(webhook_parse_push(body, len, &p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "ref"));
	free(body);
}

static void
test_form_encoded(void **state)
{
	const char	*form = "x=1&payload=%7B%22ref%22%3A%22refs%2Fheads%2Fmain%22%2C%22after%22%3A%22"
	    "0123456789abcdef0123456789abcdef01234567%22%2C%22repository%22%3A%7B%22full_name%22%3A"
	    "%22acme%2Fshop%22%7D%2C%22commits%22%3A%5B%7B%22added%22%3A%5B%22a+b.txt%22%5D%7D%5D%7D&y=2";
	struct webhook_push	 p;
	char			 err[256], *json;
	size_t			 jlen;
	int			 unsup;

	assert_int_equal(webhook_payload("application/x-www-form-urlencoded; charset=utf-8",
	    form, strlen(form), &json, &jlen, &unsup, err, sizeof(err)), 0);
	assert_int_equal(webhook_parse_push(json, jlen, &p, err, sizeof(err)), 0);
	assert_string_equal(p.ref, "refs/heads/main");
	assert_string_equal(p.repository, "acme/shop");
	assert_int_equal(p.npaths, 1);
	assert_string_equal(p.paths[0], "a b.txt");
	webhook_push_free(&p);
	free(json);

	/* no payload field, bad escapes, an encoded NUL */
	assert_int_equal(webhook_payload("application/x-www-form-urlencoded", "a=1",
	    3, &json, &jlen, &unsup, err, sizeof(err)), -1);
	assert_false(unsup);
	assert_int_equal(webhook_payload("application/x-www-form-urlencoded",
	    "payload=%7", 10, &json, &jlen, &unsup, err, sizeof(err)), -1);
	assert_int_equal(webhook_payload("application/x-www-form-urlencoded",
	    "payload=%zz", 11, &json, &jlen, &unsup, err, sizeof(err)), -1);
	assert_int_equal(webhook_payload("application/x-www-form-urlencoded",
	    "payload=%00", 11, &json, &jlen, &unsup, err, sizeof(err)), -1);
	/* other content types: unsupported */
	assert_int_equal(webhook_payload("text/plain", "{}", 2, &json, &jlen,
	    &unsup, err, sizeof(err)), -1);
	assert_true(unsup);
	assert_int_equal(webhook_payload(NULL, "{}", 2, &json, &jlen,
	    &unsup, err, sizeof(err)), -1);
	assert_true(unsup);
	assert_int_equal(webhook_payload("application/jsonx", "{}", 2, &json, &jlen,
	    &unsup, err, sizeof(err)), -1);
	assert_true(unsup);
}

static void
test_hostile_pushes(void **state)
{
	static const char *const bad[] = {
		"",
		"not json",
		"[]",
		"{\"ref\":\"refs/heads/main\"",					/* truncated */
		"{\"ref\":7,\"after\":\"0123456789abcdef0123456789abcdef01234567\",\"repository\":{\"full_name\":\"a/b\"}}",
		"{\"ref\":\"refs/heads/main\",\"after\":\"XYZ\",\"repository\":{\"full_name\":\"a/b\"}}",
		"{\"ref\":\"refs/heads/main\",\"after\":\"0123456789ABCDEF0123456789abcdef01234567\",\"repository\":{\"full_name\":\"a/b\"}}",
		"{\"ref\":\"refs/heads/main\",\"after\":\"0123456789abcdef0123456789abcdef01234567\"}",
		"{\"ref\":\"refs/heads/main\",\"after\":\"0123456789abcdef0123456789abcdef01234567\",\"repository\":{\"full_name\":\"a\\nb\"}}",
		"{\"ref\":\"refs/heads/\\u0000main\",\"after\":\"0123456789abcdef0123456789abcdef01234567\",\"repository\":{\"full_name\":\"a/b\"}}",
		"{\"ref\":\"\",\"after\":\"0123456789abcdef0123456789abcdef01234567\",\"repository\":{\"full_name\":\"a/b\"}}",
	};
	struct webhook_push	p;
	char			err[256];
	size_t			i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (webhook_parse_push(bad[i], strlen(bad[i]), &p, err, sizeof(err)) != -1)
			fail_msg("accepted: %s", bad[i]);
		assert_true(err[0] != '\0');
	}
}

static void
test_paths_bounded(void **state)
{
	struct webhook_push	 p;
	char			 err[256], *json, *o;
	size_t			 i;

	json = malloc(1024 * 1024);
	assert_non_null(json);
	o = json + sprintf(json, "{\"ref\":\"refs/heads/main\",\"after\":"
	    "\"0123456789abcdef0123456789abcdef01234567\",\"repository\":"
	    "{\"full_name\":\"a/b\"},\"commits\":[{\"added\":[");
	for (i = 0; i < 500; i++)
		o += sprintf(o, "%s\"file%zu\"", i ? "," : "", i);
	o += sprintf(o, ",\"dup\",\"dup\",1,\"");
	memset(o, 'x', 400);
	o += 400;
	o += sprintf(o, "\"]}]}");
	assert_int_equal(webhook_parse_push(json, o - json, &p, err, sizeof(err)), 0);
	assert_int_equal(p.npaths, WEBHOOK_MAX_PATHS);
	assert_true(p.paths_dropped >= 400);
	webhook_push_free(&p);
	free(json);
}

static void
test_delivery_ids(void **state)
{
	assert_true(webhook_delivery_ok("72d3162e-cc78-11e3-81ab-4c9367dc0958"));
	assert_false(webhook_delivery_ok(NULL));
	assert_false(webhook_delivery_ok(""));
	assert_false(webhook_delivery_ok("-x"));
	assert_false(webhook_delivery_ok("a b"));
	assert_false(webhook_delivery_ok("a/../b"));
	assert_false(webhook_delivery_ok("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_github_doc_example),
		cmocka_unit_test(test_malformed_signatures),
		cmocka_unit_test(test_push_new_branch),
		cmocka_unit_test(test_deleted_tag),
		cmocka_unit_test(test_ping_is_not_a_push),
		cmocka_unit_test(test_form_encoded),
		cmocka_unit_test(test_hostile_pushes),
		cmocka_unit_test(test_paths_bounded),
		cmocka_unit_test(test_delivery_ids),
	};

	if (sodium_init() == -1)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
