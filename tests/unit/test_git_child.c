/*
 * The git child's codec (gitchild.c): where a URL leads and whether the
 * token may go there, URL credential stripping and token
 * scrubbing, the classification of libgit2 errors (retry or not), the
 * request-line parser against hostile input, and the reply lines, built and
 * decoded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <git2.h>

#include "gitchild/gitchild.h"

#define TOKEN	"ghp_unitTestToken0123456789"

/* ------------------------------------------------- where the token goes -- */

static void
authority(const char *url, const char *scheme, const char *host, unsigned port)
{
	struct gc_authority	a;

	assert_int_equal(gc_url_authority(url, &a), 0);
	assert_string_equal(a.scheme, scheme);
	assert_string_equal(a.host, host);
	assert_int_equal(a.port, port);
}

static void
test_url_authority(void **state)
{
	struct gc_authority	a;

	authority("https://github.com/acme/shop.git", "https", "github.com", 443);
	authority("HTTPS://GitHub.COM:443/a", "https", "github.com", 443);
	authority("http://127.0.0.1:8080/app.git", "http", "127.0.0.1", 8080);
	authority("http://u:p@ss@host:81?x", "http", "host", 81);
	authority("https://[::1]:8443/r", "https", "::1", 8443);
	authority("https://[::1]/r", "https", "::1", 443);
	authority("ssh://git@github.com:2222/a.git", "ssh", "github.com", 2222);
	authority("git@github.com:acme/shop.git", "ssh", "github.com", 22);
	authority("http://h", "http", "h", 80);
	assert_int_equal(gc_url_authority("file:///srv/app.git", &a), -1);
	assert_int_equal(gc_url_authority("ftp://h/x", &a), -1);
	assert_int_equal(gc_url_authority("https://h:0/x", &a), -1);
	assert_int_equal(gc_url_authority("https://h:65536/x", &a), -1);
	assert_int_equal(gc_url_authority("https://h:80a/x", &a), -1);
	assert_int_equal(gc_url_authority("https://h:123456/x", &a), -1);
	assert_int_equal(gc_url_authority("https:///x", &a), -1);
	assert_int_equal(gc_url_authority("https://u@/x", &a), -1);
	assert_int_equal(gc_url_authority("https://[::1/x", &a), -1);
	assert_int_equal(gc_url_authority("https://[::1]x/", &a), -1);
	assert_int_equal(gc_url_authority("https://h\n/x", &a), -1);
	assert_int_equal(gc_url_authority("/srv/app.git", &a), -1);
	assert_int_equal(gc_url_authority("", &a), -1);
}

static void
test_token_allowed(void **state)
{
	const char	*gh = "https://github.com/acme/shop.git";
	const char	*lo = "http://127.0.0.1:8080/app.git";
	struct gc_authority	o;

	assert_true(gc_token_allowed(gh, gh));
	assert_true(gc_token_allowed(gh, "https://GITHUB.com:443/other/repo"));
	assert_true(gc_token_allowed(lo, "http://127.0.0.1:8080/moved.git"));
	assert_true(gc_token_allowed("http://localhost:9/a", "http://localhost:9/b"));
	assert_true(gc_token_allowed("http://[::1]:9/a", "http://[::1]:9/b"));
	/* another host, port or scheme */
	assert_false(gc_token_allowed(gh, "https://elsewhere.example/acme/shop.git"));
	assert_false(gc_token_allowed(gh, "https://github.com:8443/acme/shop.git"));
	assert_false(gc_token_allowed(gh, "http://github.com/acme/shop.git"));
	assert_false(gc_token_allowed(lo, "http://127.0.0.1:8081/app.git"));
	assert_false(gc_token_allowed(lo, "https://127.0.0.1:8080/app.git"));
	assert_false(gc_token_allowed(gh, "https://github.com.evil.example/x"));
	assert_false(gc_token_allowed(gh, "https://github.com@evil.example/x"));
	/* plain http only on loopback */
	assert_false(gc_token_allowed("http://github.com/a", "http://github.com/a"));
	assert_false(gc_token_allowed("http://10.0.0.1/a", "http://10.0.0.1/a"));
	assert_false(gc_token_allowed("http://127.0.0.1.evil/a",
	    "http://127.0.0.1.evil/a"));
	/* no token over ssh or file, nor for what does not parse */
	assert_false(gc_token_allowed("ssh://git@github.com/a", "ssh://git@github.com/a"));
	assert_false(gc_token_allowed("file:///a", "file:///a"));
	assert_false(gc_token_allowed(gh, NULL));
	assert_false(gc_token_allowed(gh, "garbage"));
	assert_true(gc_host_is_loopback("127.1.2.3"));
	assert_false(gc_host_is_loopback("127.0.0.1.nip.io"));
	assert_false(gc_host_is_loopback("128.0.0.1"));
	/* the stream's check: host as libgit2 gives it, bracketed or not */
	assert_int_equal(gc_url_authority("https://[::1]:8443/r", &o), 0);
	assert_true(gc_same_server(&o, "[::1]", 8443));
	assert_true(gc_same_server(&o, "::1", 8443));
	assert_false(gc_same_server(&o, "::1", 443));
	assert_int_equal(gc_url_authority(gh, &o), 0);
	assert_true(gc_same_server(&o, "GitHub.com", 443));
	assert_false(gc_same_server(&o, "github.com", 80));
	assert_false(gc_same_server(&o, "api.github.com", 443));
}

/* ---------------------------------------------------------- stripping -- */

static void
strip(const char *in, const char *want)
{
	char	buf[512];

	snprintf(buf, sizeof(buf), "%s", in);
	gc_strip_userinfo(buf);
	assert_string_equal(buf, want);
}

static void
test_strip_userinfo(void **state)
{
	strip("https://x-access-token:ghp_abc@github.com/acme/shop.git",
	    "https://github.com/acme/shop.git");
	strip("https://user@github.com/a.git", "https://github.com/a.git");
	strip("http://u:p@127.0.0.1:8080", "http://127.0.0.1:8080");
	strip("failed to connect to https://a:b@h/x and https://c:d@i/y: boom",
	    "failed to connect to https://h/x and https://i/y: boom");
	strip("unexpected 'https://u:p@h/r' here", "unexpected 'https://h/r' here");
	/* an @ in the path is not userinfo */
	strip("https://github.com/a@b/c.git", "https://github.com/a@b/c.git");
	/* a password holding an @: the last one ends the userinfo */
	strip("https://u:p@ss@host/r", "https://host/r");
	strip("git@github.com:acme/shop.git", "git@github.com:acme/shop.git");
	strip("no url at all", "no url at all");
	strip("", "");
	strip("://@", "://");
	strip("https://", "https://");
}

static void
test_scrub(void **state)
{
	char	buf[256];

	snprintf(buf, sizeof(buf), "token %s and again %s!", TOKEN, TOKEN);
	gc_scrub(buf, sizeof(buf), TOKEN);
	assert_string_equal(buf, "token *** and again ***!");

	snprintf(buf, sizeof(buf), "%s", TOKEN);
	gc_scrub(buf, sizeof(buf), TOKEN);
	assert_string_equal(buf, "***");

	snprintf(buf, sizeof(buf), "https://x-access-token:%s@h/r\nline2\ttab\x7f",
	    TOKEN);
	gc_scrub(buf, sizeof(buf), TOKEN);
	assert_string_equal(buf, "https://h/r line2 tab ");

	snprintf(buf, sizeof(buf), "nothing secret");
	gc_scrub(buf, sizeof(buf), NULL);
	assert_string_equal(buf, "nothing secret");
	gc_scrub(buf, sizeof(buf), "");
	assert_string_equal(buf, "nothing secret");

	/* a short token grows the text: bounded by the buffer */
	snprintf(buf, 8, "aaaaaaa");
	gc_scrub(buf, 8, "a");
	assert_string_equal(buf, "*******");
	assert_null(strstr(buf, "a"));
}

/* ------------------------------------------------------- classification -- */

struct klass_case {
	int		 rc;
	int		 klass;
	const char	*msg;
	enum gc_auth	 auth;
	const char	*code;
	int		 retry;
};

static void
test_classify(void **state)
{
	static const struct klass_case cases[] = {
		{ -1, GIT_ERROR_OS, "failed to connect to 127.0.0.1: Connection refused",
		    GC_AUTH_NONE, "unavailable", 1 },
		{ -1, GIT_ERROR_NET, "failed to resolve address for github.invalid: "
		    "Name or service not known", GC_AUTH_NONE, "unavailable", 1 },
		{ -1, GIT_ERROR_NET, "failed to resolve address for x: Temporary "
		    "failure in name resolution", GC_AUTH_NONE, "unavailable", 1 },
		{ -1, GIT_ERROR_OS, "could not read from socket: Connection reset by "
		    "peer", GC_AUTH_NONE, "unavailable", 1 },
		{ -1, GIT_ERROR_NET, "connection timed out", GC_AUTH_NONE,
		    "unavailable", 1 },
		{ -1, GIT_ERROR_HTTP, "unexpected http status code: 502",
		    GC_AUTH_NONE, "unavailable", 1 },
		{ -1, GIT_ERROR_HTTP, "unexpected http status code: 503",
		    GC_AUTH_NONE, "unavailable", 1 },
		{ -1, GIT_ERROR_HTTP, "unexpected http status code: 429",
		    GC_AUTH_NONE, "unavailable", 1 },
		{ -1, GIT_ERROR_HTTP, "unexpected http status code: 400",
		    GC_AUTH_NONE, "unavailable", 0 },
		{ -1, GIT_ERROR_HTTP, "unexpected http status code: 401",
		    GC_AUTH_NONE, "unauthorized", 0 },
		{ -1, GIT_ERROR_HTTP, "unexpected http status code: 403",
		    GC_AUTH_NONE, "unauthorized", 0 },
		{ -1, GIT_ERROR_HTTP, "unexpected http status code: 404",
		    GC_AUTH_NONE, "not_found", 0 },
		{ GIT_EAUTH, GIT_ERROR_NET, "authentication required but no "
		    "callback set", GC_AUTH_NONE, "unauthorized", 0 },
		{ -1, GIT_ERROR_HTTP, "too many redirects or authentication replays",
		    GC_AUTH_NONE, "unauthorized", 0 },
		/* our credential callback's verdict wins over the message */
		{ -1, GIT_ERROR_NET, "connection reset", GC_AUTH_REJECTED,
		    "unauthorized", 0 },
		{ -1, GIT_ERROR_NET, "whatever", GC_AUTH_MISSING, "unauthorized", 0 },
		{ GIT_ECERTIFICATE, GIT_ERROR_SSL, "the SSL certificate is invalid",
		    GC_AUTH_NONE, "unavailable", 0 },
		{ GIT_ENOTFOUND, GIT_ERROR_NET, "could not find repository at "
		    "'/srv/nope.git'", GC_AUTH_NONE, "not_found", 0 },
		{ -1, GIT_ERROR_OS, "failed to resolve path '/srv/nope.git': No such "
		    "file or directory", GC_AUTH_NONE, "not_found", 0 },
		{ -1, GIT_ERROR_SSH, "ERROR: Repository not found.", GC_AUTH_NONE,
		    "not_found", 0 },
		{ GIT_EEOF, GIT_ERROR_NET, "early EOF", GC_AUTH_NONE, "unavailable", 1 },
		{ -1, GIT_ERROR_HTTP, "http parser error: stream ended at an "
		    "unexpected time", GC_AUTH_NONE, "unavailable", 1 },
		{ -1, GIT_ERROR_NET, "invalid packet line", GC_AUTH_NONE,
		    "unavailable", 1 },
		{ -1, GIT_ERROR_ODB, "object not found - no match for id",
		    GC_AUTH_NONE, "unavailable", 0 },
		{ -1, GIT_ERROR_NOMEMORY, "out of memory", GC_AUTH_NONE, "internal", 0 },
		{ GIT_ENOTFOUND, GIT_ERROR_REFERENCE, "reference 'refs/remotes/origin/"
		    "x' not found", GC_AUTH_NONE, "not_found", 0 },
		{ -1, 0, NULL, GC_AUTH_NONE, "unavailable", 0 },
	};
	struct gc_class	c;
	size_t		i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		gc_classify(cases[i].rc, cases[i].klass, cases[i].msg, cases[i].auth,
		    &c);
		if (strcmp(c.code, cases[i].code) != 0 || c.retry != cases[i].retry)
			fail_msg("case %zu (%s): got %s/%d, want %s/%d", i,
			    cases[i].msg ? cases[i].msg : "NULL", c.code, c.retry,
			    cases[i].code, cases[i].retry);
	}
}

/* ------------------------------------------------------------ requests -- */

static int
parse(const char *line, struct gc_request *req, char *err, size_t errlen)
{
	return gc_request_parse(line, strlen(line), req, err, errlen);
}

#define GC_TEST_OID	"0123456789abcdef0123456789abcdef01234567"

static void	bad(const char *, const char *);

static void
test_request_valid(void **state)
{
	struct gc_request	req, back;
	char			err[256], *line;
	size_t			len;

	assert_int_equal(parse("{\"op\":\"fetch\",\"workdir\":\"/srv/app\","
	    "\"url\":\"https://github.com/acme/shop.git\",\"branch\":\"main\","
	    "\"token\":\"" TOKEN "\"}", &req, err, sizeof(err)), 0);
	assert_int_equal(req.op, GC_FETCH);
	assert_string_equal(req.workdir, "/srv/app");
	assert_string_equal(req.url, "https://github.com/acme/shop.git");
	assert_string_equal(req.branch, "main");
	assert_string_equal(req.token, TOKEN);

	/* encode and parse again: the same request */
	line = gc_request_encode(&req, &len);
	assert_int_equal(line[len - 1], '\n');
	assert_int_equal(gc_request_parse(line, len - 1, &back, err,
	    sizeof(err)), 0);
	assert_int_equal(back.op, req.op);
	assert_string_equal(back.workdir, req.workdir);
	assert_string_equal(back.url, req.url);
	assert_string_equal(back.branch, req.branch);
	assert_string_equal(back.token, req.token);
	free(line);
	gc_request_free(&back);
	gc_request_free(&req);
	assert_null(req.token);

	assert_int_equal(parse("{\"op\":\"status\",\"workdir\":\"/srv/app\","
	    "\"branch\":\"feature/x-1.2\"}", &req, err, sizeof(err)), 0);
	assert_int_equal(req.op, GC_STATUS);
	assert_null(req.url);
	assert_null(req.token);
	gc_request_free(&req);

	assert_int_equal(parse("{\"op\":\"ls-remote\",\"workdir\":\"/a b/c\","
	    "\"url\":\"git@github.com:acme/shop.git\",\"branch\":\"main\"}", &req,
	    err, sizeof(err)), 0);
	gc_request_free(&req);
	assert_int_equal(parse("{\"op\":\"clone\",\"workdir\":\"/srv/x\","
	    "\"url\":\"file:///srv/origin.git\",\"branch\":\"main\"}", &req,
	    err, sizeof(err)), 0);
	gc_request_free(&req);

	/* a rollback's reset: a commit, no url */
	assert_int_equal(parse("{\"op\":\"reset\",\"workdir\":\"/srv/x\","
	    "\"branch\":\"main\",\"commit\":\"" GC_TEST_OID "\"}", &req, err,
	    sizeof(err)), 0);
	assert_int_equal(req.op, GC_RESET);
	assert_string_equal(req.commit, GC_TEST_OID);
	line = gc_request_encode(&req, &len);
	assert_int_equal(gc_request_parse(line, len - 1, &back, err,
	    sizeof(err)), 0);
	assert_string_equal(back.commit, GC_TEST_OID);
	free(line);
	gc_request_free(&back);
	gc_request_free(&req);
	bad("{\"op\":\"reset\",\"workdir\":\"/srv/x\",\"branch\":\"main\"}",
	    "commit");
	bad("{\"op\":\"reset\",\"workdir\":\"/srv/x\",\"branch\":\"main\","
	    "\"commit\":\"HEAD~1\"}", "commit");
	bad("{\"op\":\"pull\",\"workdir\":\"/srv/x\",\"branch\":\"main\","
	    "\"commit\":\"" GC_TEST_OID "\"}", "commit");
}

static void
bad(const char *line, const char *want_in_err)
{
	struct gc_request	req;
	char			err[256];

	if (gc_request_parse(line, strlen(line), &req, err, sizeof(err)) != -1)
		fail_msg("accepted: %s", line);
	assert_null(req.workdir);
	assert_null(req.token);
	assert_null(strstr(err, TOKEN));	/* the secret is never quoted */
	if (want_in_err != NULL && strstr(err, want_in_err) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", err, want_in_err);
}

static void
test_request_hostile(void **state)
{
	char	*big, *p;
	size_t	 i;

	bad("", "request");
	bad("not json", "invalid JSON");
	bad("[]", "not a JSON object");
	bad("{\"op\":\"fetch\"", "invalid JSON");
	bad("{}", "required");
	bad("{\"workdir\":\"/a\",\"branch\":\"main\"}", "required");
	bad("{\"op\":\"status\",\"branch\":\"main\"}", "required");
	bad("{\"op\":\"status\",\"workdir\":\"/a\"}", "required");
	bad("{\"op\":\"rm -rf\",\"workdir\":\"/a\",\"branch\":\"main\"}", "unknown op");
	bad("{\"op\":\"status\",\"workdir\":\"/a\",\"branch\":\"main\",\"x\":1}",
	    "unknown member");
	bad("{\"op\":\"status\",\"op\":\"fetch\",\"workdir\":\"/a\",\"branch\":\"m\"}",
	    "twice");
	bad("{\"op\":1,\"workdir\":\"/a\",\"branch\":\"main\"}", "string");
	bad("{\"op\":\"status\",\"workdir\":null,\"branch\":\"main\"}", "string");
	bad("{\"op\":\"status\",\"workdir\":[\"/a\"],\"branch\":\"main\"}", "string");
	bad("{\"op\":\"status\",\"workdir\":\"relative\",\"branch\":\"main\"}",
	    "absolute");
	bad("{\"op\":\"status\",\"workdir\":\"/a\\nb\",\"branch\":\"main\"}",
	    "absolute");
	bad("{\"op\":\"status\",\"workdir\":\"/a\\u0000b\",\"branch\":\"main\"}",
	    "\\u0000");
	bad("{\"op\":\"fetch\",\"workdir\":\"/a\",\"branch\":\"main\"}", "needs");
	/* branch names git would refuse, or that read as options */
	bad("{\"op\":\"status\",\"workdir\":\"/a\",\"branch\":\"..\"}", "branch");
	bad("{\"op\":\"status\",\"workdir\":\"/a\",\"branch\":\"-x\"}", "branch");
	bad("{\"op\":\"status\",\"workdir\":\"/a\",\"branch\":\"a b\"}", "branch");
	bad("{\"op\":\"status\",\"workdir\":\"/a\",\"branch\":\"a~1\"}", "branch");
	bad("{\"op\":\"status\",\"workdir\":\"/a\",\"branch\":\"x.lock\"}", "branch");
	bad("{\"op\":\"status\",\"workdir\":\"/a\",\"branch\":\"a/\"}", "branch");
	bad("{\"op\":\"status\",\"workdir\":\"/a\",\"branch\":\"a@{1}\"}", "branch");
	bad("{\"op\":\"status\",\"workdir\":\"/a\",\"branch\":\"\"}", "branch");
	/* URLs: other schemes, option-like, blanks */
	bad("{\"op\":\"fetch\",\"workdir\":\"/a\",\"branch\":\"m\",\"url\":"
	    "\"git://h/r\"}", "url");
	bad("{\"op\":\"fetch\",\"workdir\":\"/a\",\"branch\":\"m\",\"url\":"
	    "\"-oProxyCommand=x\"}", "url");
	bad("{\"op\":\"fetch\",\"workdir\":\"/a\",\"branch\":\"m\",\"url\":"
	    "\"https://h/a b\"}", "url");
	bad("{\"op\":\"fetch\",\"workdir\":\"/a\",\"branch\":\"m\",\"url\":"
	    "\"https://\"}", "url");
	bad("{\"op\":\"fetch\",\"workdir\":\"/a\",\"branch\":\"m\",\"url\":\"\"}",
	    "url");
	/* a bad token: refused without being quoted */
	bad("{\"op\":\"fetch\",\"workdir\":\"/a\",\"branch\":\"m\",\"url\":"
	    "\"https://h/r\",\"token\":\"" TOKEN " \"}", "token");
	bad("{\"op\":\"fetch\",\"workdir\":\"/a\",\"branch\":\"m\",\"url\":"
	    "\"https://h/r\",\"token\":\"\"}", "token");
	bad("{\"op\":\"fetch\",\"workdir\":\"/a\",\"branch\":\"m\",\"url\":"
	    "\"https://h/r\",\"token\":\"" TOKEN "\",\"extra\":\"" TOKEN "\"}",
	    "unknown member");

	/* huge values: each field over its bound, and the line over its own */
	big = malloc(8192);
	assert_non_null(big);
	p = big + snprintf(big, 8192, "{\"op\":\"status\",\"branch\":\"m\","
	    "\"workdir\":\"/");
	for (i = 0; i < GC_MAX_WORKDIR + 1; i++)
		*p++ = 'w';
	strcpy(p, "\"}");
	bad(big, "workdir");
	p = big + snprintf(big, 8192, "{\"op\":\"status\",\"workdir\":\"/a\","
	    "\"branch\":\"");
	for (i = 0; i < GC_MAX_BRANCH + 1; i++)
		*p++ = 'b';
	strcpy(p, "\"}");
	bad(big, "branch");
	p = big + snprintf(big, 8192, "{\"op\":\"fetch\",\"workdir\":\"/a\","
	    "\"branch\":\"m\",\"url\":\"https://h/r\",\"token\":\"");
	for (i = 0; i < GC_MAX_TOKEN + 1; i++)
		*p++ = 't';
	strcpy(p, "\"}");
	bad(big, "token");
	p = big + snprintf(big, 8192, "{\"op\":\"status\",\"workdir\":\"/a\","
	    "\"branch\":\"m\",\"pad\":\"");
	for (i = 0; i < GC_MAX_REQUEST; i++)
		*p++ = 'p';
	strcpy(p, "\"}");
	bad(big, "longer than");
	/* deep nesting */
	p = big;
	for (i = 0; i < 100; i++)
		*p++ = '[';
	*p = '\0';
	bad(big, "deeper");
	free(big);
}

static void
test_request_nul(void **state)
{
	static const char	line[] = "{\"op\":\"status\",\"workdir\":\"/a\0b\","
	    "\"branch\":\"main\"}";
	struct gc_request	req;
	char			err[128];

	/* a raw NUL inside the line: the whole length is looked at */
	assert_int_equal(gc_request_parse(line, sizeof(line) - 1, &req, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "NUL"));
}

static void
test_urls(void **state)
{
	assert_true(gc_url_valid("https://github.com/a/b.git"));
	assert_true(gc_url_valid("HTTP://h/r"));
	assert_true(gc_url_valid("ssh://git@github.com/a/b.git"));
	assert_true(gc_url_valid("file:///srv/r.git"));
	assert_true(gc_url_valid("git@github.com:a/b.git"));
	assert_false(gc_url_valid("git://github.com/a/b.git"));
	assert_false(gc_url_valid("/srv/r.git"));
	assert_false(gc_url_valid("-u"));
	assert_false(gc_url_valid("h/r:x"));
	assert_false(gc_url_valid(""));
	assert_true(gc_url_is_http("https://h/r"));
	assert_true(gc_url_is_http("http://h/r"));
	assert_false(gc_url_is_http("ssh://h/r"));
	assert_false(gc_url_is_http("file:///r"));
}

static int
known(const char *hosts, const char *name)
{
	char	buf[256];

	snprintf(buf, sizeof(buf), "%s", hosts);
	return gc_known_host_match(buf, name);
}

static void
test_known_hosts(void **state)
{
	assert_int_equal(known("github.com", "github.com"), 1);
	assert_int_equal(known("gitlab.com,github.com", "github.com"), 1);
	assert_int_equal(known("GitHub.com", "github.com"), 1);
	assert_int_equal(known("*.example.org", "git.example.org"), 1);
	assert_int_equal(known("*.example.org,!bad.example.org", "bad.example.org"), 0);
	assert_int_equal(known("[git.example.org]:2222", "[git.example.org]:2222"), 1);
	assert_int_equal(known("git.example.org", "[git.example.org]:2222"), 0);
	assert_int_equal(known("github.com", "evilgithub.com"), 0);
	assert_int_equal(known("|1|c2FsdA==|aGFzaA==", "github.com"), -1);
	assert_int_equal(known("|1|c2FsdA==|aGFzaA==,github.com", "github.com"), 1);
	assert_int_equal(known("", "github.com"), 0);
}

/* ---------------------------------------------------------------- cuts -- */

static void
test_cuts(void **state)
{
	const char	*e = "h\xc3\xa9llo";	/* héllo: é is 2 bytes */

	assert_int_equal(gc_cut_utf8(e, 6, 10), 6);
	assert_int_equal(gc_cut_utf8(e, 6, 2), 1);	/* not inside é */
	assert_int_equal(gc_cut_utf8(e, 6, 3), 3);
	assert_int_equal(gc_cut_utf8("\xe2\x82\xac", 3, 2), 0);
	assert_int_equal(gc_cut_json("abc", 3, 3), 3);
	assert_int_equal(gc_cut_json("a\"c", 3, 3), 2);	/* the quote costs 2 */
	assert_int_equal(gc_cut_json("a\x01" "c", 3, 6), 1);	/* \u0001 costs 6 */
	assert_int_equal(gc_cut_json("a\x01" "c", 3, 8), 3);
	assert_int_equal(gc_cut_json(e, 6, 2), 1);
}

/* ------------------------------------------------------- reply lines -- */

static void
decode_ok(const char *line, size_t len, struct gc_line *l)
{
	char	err[128];

	if (gc_line_decode(line, len, l, err, sizeof(err)) == -1)
		fail_msg("decode failed (%s): %.*s", err, (int)len, line);
}

static void
test_reply_log_fail(void **state)
{
	struct gc_line	 l;
	char		*line, msg[4096];
	size_t		 len;

	line = gc_fmt_log("fetching from https://x-access-token:" TOKEN
	    "@github.com/a.git with " TOKEN, TOKEN, &len);
	assert_null(strstr(line, TOKEN));
	assert_null(strstr(line, "x-access-token"));
	decode_ok(line, len, &l);
	assert_int_equal(l.type, GL_LOG);
	assert_string_equal(l.text, "fetching from https://github.com/a.git with ***");
	gc_line_free(&l);
	free(line);

	/* a long message with control characters stays within one line */
	memset(msg, '\x01', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	line = gc_fmt_fail("unavailable", msg, 1, NULL, &len);
	assert_true(len <= GC_MAX_LINE);
	decode_ok(line, len, &l);
	assert_int_equal(l.type, GL_FAIL);
	assert_string_equal(l.code, "unavailable");
	assert_int_equal(l.retry, 1);
	assert_false(l.status.present);
	gc_line_free(&l);
	free(line);

	memset(msg, '"', sizeof(msg) - 1);
	line = gc_fmt_log(msg, NULL, &len);
	assert_true(len <= GC_MAX_LINE);
	decode_ok(line, len, &l);
	assert_int_equal(l.type, GL_LOG);
	gc_line_free(&l);
	free(line);
}

static void
test_reply_items(void **state)
{
	const char	*id = "0123456789abcdef0123456789abcdef01234567";
	struct gc_line	 l;
	char		*line, big[8192];
	size_t		 len;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	line = gc_fmt_commit("incoming", id, big, big, 1700000000, &len);
	assert_true(len <= GC_MAX_LINE);
	decode_ok(line, len, &l);
	assert_int_equal(l.type, GL_COMMIT);
	assert_int_equal(l.kind, GC_COMMIT_INCOMING);
	assert_string_equal(l.id, id);
	assert_int_equal(strlen(l.summary), GC_MAX_SUMMARY);
	assert_memory_equal(l.summary + GC_MAX_SUMMARY - 3, "...", 3);
	assert_int_equal(l.time, 1700000000);
	gc_line_free(&l);
	free(line);

	line = gc_fmt_commit("local", id, NULL, "A. Author", -5, &len);
	decode_ok(line, len, &l);
	assert_int_equal(l.kind, GC_COMMIT_LOCAL);
	assert_string_equal(l.summary, "");
	assert_string_equal(l.author, "A. Author");
	gc_line_free(&l);
	free(line);

	/* a path of control characters: 6 bytes each once encoded */
	memset(big, '\x02', sizeof(big) - 1);
	line = gc_fmt_dirty(big, &len);
	assert_true(len <= GC_MAX_LINE);
	decode_ok(line, len, &l);
	assert_int_equal(l.type, GL_DIRTY);
	assert_true(strlen(l.path) > 0);
	gc_line_free(&l);
	free(line);

	memset(big, 'p', sizeof(big) - 1);
	line = gc_fmt_file("renamed", big, big, &len);
	assert_true(len <= GC_MAX_LINE);
	decode_ok(line, len, &l);
	assert_int_equal(l.type, GL_FILE);
	assert_string_equal(l.fstatus, "renamed");
	assert_non_null(l.old_path);
	gc_line_free(&l);
	free(line);

	line = gc_fmt_file("added", "src/new file.txt", NULL, &len);
	decode_ok(line, len, &l);
	assert_string_equal(l.path, "src/new file.txt");
	assert_null(l.old_path);
	gc_line_free(&l);
	free(line);
}

static void
test_reply_final(void **state)
{
	static const char ok[] = "{\"ok\":true,\"result\":{\"status\":{\"branch\":"
	    "\"main\",\"detached\":false,\"unborn\":false,\"ahead\":1,\"behind\":2,"
	    "\"dirty_total\":3},\"fetched\":\"0123456789abcdef0123456789abcdef01234567\","
	    "\"origin\":null,\"pull\":{\"from\":null,\"to\":"
	    "\"89abcdef0123456789abcdef0123456789abcdef\",\"commits\":7,"
	    "\"files_total\":9,\"up_to_date\":false}}}\n";
	struct gc_status st = { 1, "main", 0, 0, 0, 4, 0 };
	struct gc_line	 l;
	char		*line;
	size_t		 len;

	decode_ok(ok, sizeof(ok) - 1, &l);
	assert_int_equal(l.type, GL_OK);
	assert_true(l.status.present);
	assert_string_equal(l.status.branch, "main");
	assert_int_equal(l.status.ahead, 1);
	assert_int_equal(l.status.behind, 2);
	assert_int_equal(l.status.dirty_total, 3);
	assert_true(l.has_fetched);
	assert_string_equal(l.fetched, "0123456789abcdef0123456789abcdef01234567");
	assert_true(l.has_origin);
	assert_null(l.origin);
	assert_true(l.pull.present);
	assert_null(l.pull.from);
	assert_int_equal(l.pull.commits, 7);
	assert_int_equal(l.pull.files_total, 9);
	gc_line_free(&l);

	line = gc_fmt_fail_status("conflict", "diverged", 0, NULL, &st, &len);
	decode_ok(line, len, &l);
	assert_int_equal(l.type, GL_FAIL);
	assert_string_equal(l.code, "conflict");
	assert_string_equal(l.text, "diverged");
	assert_true(l.status.present);
	assert_int_equal(l.status.behind, 4);
	gc_line_free(&l);
	free(line);
}

static void
decode_bad(const char *line)
{
	struct gc_line	l;
	char		err[128];

	if (gc_line_decode(line, strlen(line), &l, err, sizeof(err)) != -1)
		fail_msg("accepted: %s", line);
	assert_null(l.tree);
}

static void
test_reply_hostile(void **state)
{
	char	*big;

	decode_bad("");
	decode_bad("\n");
	decode_bad("plain text from a crash");
	decode_bad("{");
	decode_bad("[1]");
	decode_bad("{}");
	decode_bad("{\"log\":1}");
	decode_bad("{\"log\":\"x\",\"extra\":1}");
	decode_bad("{\"item\":\"local\",\"id\":\"xyz\",\"summary\":\"\",\"author\":\"\","
	    "\"time\":1}");
	decode_bad("{\"item\":\"local\",\"id\":\"0123456789ABCDEF0123456789abcdef01234567\","
	    "\"summary\":\"\",\"author\":\"\",\"time\":1}");
	decode_bad("{\"item\":\"local\",\"id\":\"0123456789abcdef0123456789abcdef01234567\","
	    "\"summary\":\"\",\"author\":\"\",\"time\":1.5}");
	decode_bad("{\"item\":\"local\",\"id\":\"0123456789abcdef0123456789abcdef01234567\","
	    "\"summary\":\"\",\"author\":\"\"}");
	decode_bad("{\"item\":\"other\",\"path\":\"a\"}");
	decode_bad("{\"item\":1}");
	decode_bad("{\"item\":\"dirty\",\"path\":\"\"}");
	decode_bad("{\"item\":\"file\",\"status\":\"exploded\",\"path\":\"a\"}");
	decode_bad("{\"item\":\"file\",\"status\":\"added\",\"path\":\"a\","
	    "\"old_path\":\"\"}");
	decode_bad("{\"ok\":false,\"code\":\"pwned\",\"message\":\"\",\"retry\":false}");
	decode_bad("{\"ok\":false,\"code\":\"conflict\",\"message\":\"m\"}");
	decode_bad("{\"ok\":false,\"code\":\"conflict\",\"message\":\"m\","
	    "\"retry\":\"yes\"}");
	decode_bad("{\"ok\":true}");
	decode_bad("{\"ok\":true,\"result\":[]}");
	decode_bad("{\"ok\":true,\"result\":{\"status\":{\"branch\":\"m\","
	    "\"detached\":false,\"unborn\":false,\"ahead\":-1,\"behind\":0,"
	    "\"dirty_total\":0}}}");
	decode_bad("{\"ok\":true,\"result\":{\"status\":{}}}");
	decode_bad("{\"ok\":true,\"result\":{\"fetched\":\"abc\"}}");
	decode_bad("{\"ok\":true,\"result\":{\"pull\":{\"to\":null,\"commits\":0,"
	    "\"files_total\":0,\"up_to_date\":true}}}");
	decode_bad("{\"ok\":true,\"result\":{\"token\":\"x\"}}");
	decode_bad("{\"ok\":\"true\",\"result\":{}}");
	decode_bad("{\"log\":\"a\\u0000b\"}");
	big = malloc(GC_MAX_LINE + 64);
	assert_non_null(big);
	memset(big, ' ', GC_MAX_LINE + 63);
	memcpy(big, "{\"log\":\"", 8);
	strcpy(big + GC_MAX_LINE + 50, "\"}");
	decode_bad(big);
	free(big);
}

/* fetch_pull: a request that needs a url; its step line, and no other */
static void
test_fetch_pull(void **state)
{
	struct gc_status st = { 1, "main", 0, 0, 0, 2, 0 };
	struct gc_request req, back;
	struct gc_line	 l;
	char		 err[256], *line;
	size_t		 len;

	assert_int_equal(parse("{\"op\":\"fetch_pull\",\"workdir\":\"/srv/app\","
	    "\"url\":\"file:///srv/origin.git\",\"branch\":\"main\"}", &req,
	    err, sizeof(err)), 0);
	assert_int_equal(req.op, GC_FETCH_PULL);
	assert_string_equal(gc_op_name(req.op), "fetch_pull");
	line = gc_request_encode(&req, &len);
	assert_int_equal(gc_request_parse(line, len - 1, &back, err,
	    sizeof(err)), 0);
	assert_int_equal(back.op, GC_FETCH_PULL);
	free(line);
	gc_request_free(&back);
	gc_request_free(&req);
	assert_int_equal(parse("{\"op\":\"fetch_pull\",\"workdir\":\"/a\","
	    "\"branch\":\"main\"}", &req, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "needs"));

	/* the fetch's result, as the child writes it */
	line = gc_fmt_step_fetch(&st, 1, "0123456789abcdef0123456789abcdef01234567",
	    1, NULL, &len);
	assert_non_null(strstr(line, "\"step\":\"fetch\""));
	decode_ok(line, len, &l);
	assert_int_equal(l.type, GL_STEP);
	assert_true(l.status.present);
	assert_int_equal(l.status.behind, 2);
	assert_true(l.has_fetched);
	assert_string_equal(l.fetched, "0123456789abcdef0123456789abcdef01234567");
	assert_true(l.has_origin);
	assert_null(l.origin);
	assert_false(l.pull.present);
	gc_line_free(&l);
	free(line);

	decode_bad("{\"step\":\"pull\",\"result\":{}}");
	decode_bad("{\"step\":1,\"result\":{}}");
	decode_bad("{\"step\":\"fetch\"}");
	decode_bad("{\"step\":\"fetch\",\"ok\":true,\"result\":{}}");
	decode_bad("{\"step\":\"fetch\",\"result\":{\"pull\":{\"from\":null,"
	    "\"to\":\"89abcdef0123456789abcdef0123456789abcdef\",\"commits\":0,"
	    "\"files_total\":0,\"up_to_date\":true}}}");
	decode_bad("{\"step\":\"fetch\",\"result\":{\"fetched\":\"abc\"}}");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_authority),
		cmocka_unit_test(test_token_allowed),
		cmocka_unit_test(test_strip_userinfo),
		cmocka_unit_test(test_scrub),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_request_valid),
		cmocka_unit_test(test_request_hostile),
		cmocka_unit_test(test_request_nul),
		cmocka_unit_test(test_urls),
		cmocka_unit_test(test_known_hosts),
		cmocka_unit_test(test_cuts),
		cmocka_unit_test(test_reply_log_fail),
		cmocka_unit_test(test_reply_items),
		cmocka_unit_test(test_reply_final),
		cmocka_unit_test(test_reply_hostile),
		cmocka_unit_test(test_fetch_pull),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
