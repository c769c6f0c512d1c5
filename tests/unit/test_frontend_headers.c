/*
 * Unit tests for frontend/headers.c: cookies, media types, Origin, ids, hex,
 * request lines.
 * Hostile input: huge headers, many cookies, duplicates, NULs, pairs
 * without '=', names that only look alike.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "frontend/frontend.h"

#define NAME	FE_COOKIE_NAME

static size_t
find(const char *hdr, const char **vals, size_t *lens, size_t max)
{
	return http_cookie_find(hdr, strlen(hdr), NAME, vals, lens, max);
}

static void
assert_val(const char *v, size_t len, const char *want)
{
	assert_int_equal(len, strlen(want));
	assert_memory_equal(v, want, len);
}

static void
test_cookie_basic(void **state)
{
	const char	*v[4];
	size_t		 l[4];

	assert_int_equal(find(NAME "=abc", v, l, 4), 1);
	assert_val(v[0], l[0], "abc");
	assert_int_equal(find("a=1; " NAME "=abc; b=2", v, l, 4), 1);
	assert_val(v[0], l[0], "abc");
	/* no space after ';', tabs, trailing ';' */
	assert_int_equal(find("a=1;" NAME "=x1;\t", v, l, 4), 1);
	assert_val(v[0], l[0], "x1");
	/* a quoted value loses its quotes */
	assert_int_equal(find(NAME "=\"q\"", v, l, 4), 1);
	assert_val(v[0], l[0], "q");
	/* an empty value is a value */
	assert_int_equal(find(NAME "=", v, l, 4), 1);
	assert_int_equal(l[0], 0);
	/* the value keeps '=' after the first one */
	assert_int_equal(find(NAME "=a=b", v, l, 4), 1);
	assert_val(v[0], l[0], "a=b");
}

static void
test_cookie_not_found(void **state)
{
	const char	*v[4];
	size_t		 l[4];

	assert_int_equal(find("", v, l, 4), 0);
	assert_int_equal(find(";;; ;", v, l, 4), 0);
	assert_int_equal(find("a=1; b=2", v, l, 4), 0);
	/* names that only look alike */
	assert_int_equal(find("x" NAME "=1; " NAME "x=2; " "DAVIT_SESSION=3",
	    v, l, 4), 0);
	/* no '=' at all */
	assert_int_equal(find(NAME, v, l, 4), 0);
	assert_int_equal(find(NAME "; a", v, l, 4), 0);
	/* spaces around '=' are not cookie syntax */
	assert_int_equal(find(NAME " =1", v, l, 4), 0);
	/* characters a cookie value may not hold */
	assert_int_equal(find(NAME "=a b", v, l, 4), 0);
	assert_int_equal(find(NAME "=a,b", v, l, 4), 0);
	assert_int_equal(find(NAME "=a\\b", v, l, 4), 0);
	assert_int_equal(find(NAME "=a\"b", v, l, 4), 0);
	assert_int_equal(find(NAME "=\x01", v, l, 4), 0);
	assert_int_equal(find(NAME "=\xc3\xa9", v, l, 4), 0);
	assert_int_equal(http_cookie_find(NULL, 0, NAME, v, l, 4), 0);
}

static void
test_cookie_duplicates(void **state)
{
	const char	*v[4];
	size_t		 l[4];

	assert_int_equal(find(NAME "=one; " NAME "=two; " NAME "=three", v, l, 4),
	    3);
	assert_val(v[0], l[0], "one");
	assert_val(v[1], l[1], "two");
	assert_val(v[2], l[2], "three");
	/* max is respected */
	assert_int_equal(find(NAME "=1; " NAME "=2; " NAME "=3", v, l, 2), 2);
	/* a bad duplicate does not hide a good one */
	assert_int_equal(find(NAME "=a b; " NAME "=good", v, l, 4), 1);
	assert_val(v[0], l[0], "good");
}

static void
test_cookie_nul(void **state)
{
	const char	 hdr[] = "a=1\0; " NAME "=x";
	const char	*v[4];
	size_t		 l[4];

	/* a NUL anywhere: the whole header is malformed */
	assert_int_equal(http_cookie_find(hdr, sizeof(hdr) - 1, NAME, v, l, 4), 0);
	/* the same bytes up to the NUL are fine */
	assert_int_equal(http_cookie_find(hdr, 3, NAME, v, l, 4), 0);
}

static void
test_cookie_huge(void **state)
{
	const char	*v[4];
	size_t		 l[4];
	char		*hdr;
	size_t		 len, off, i;

	/* longer than FE_MAX_COOKIE_HEADER: ignored, even if it holds ours */
	len = FE_MAX_COOKIE_HEADER + 100;
	hdr = malloc(len + 1);
	assert_non_null(hdr);
	off = (size_t)sprintf(hdr, NAME "=ok; a=");
	memset(hdr + off, 'x', len - off);
	hdr[len] = '\0';
	assert_int_equal(http_cookie_find(hdr, len, NAME, v, l, 4), 0);
	/* exactly at the limit: read */
	assert_int_equal(http_cookie_find(hdr, FE_MAX_COOKIE_HEADER, NAME, v, l, 4),
	    1);
	assert_val(v[0], l[0], "ok");
	free(hdr);

	/* many pairs: only the first FE_MAX_COOKIES are looked at */
	hdr = malloc(FE_MAX_COOKIE_HEADER);
	assert_non_null(hdr);
	off = 0;
	for (i = 0; i < FE_MAX_COOKIES; i++)
		off += (size_t)sprintf(hdr + off, "c%zu=v; ", i);
	sprintf(hdr + off, NAME "=late");
	assert_int_equal(find(hdr, v, l, 4), 0);
	off = 0;
	for (i = 0; i < FE_MAX_COOKIES - 1; i++)
		off += (size_t)sprintf(hdr + off, "c%zu=v; ", i);
	sprintf(hdr + off, NAME "=last");
	assert_int_equal(find(hdr, v, l, 4), 1);
	assert_val(v[0], l[0], "last");
	/* pairs without '=' count too */
	off = 0;
	for (i = 0; i < FE_MAX_COOKIES; i++)
		off += (size_t)sprintf(hdr + off, "junk; ");
	sprintf(hdr + off, NAME "=late");
	assert_int_equal(find(hdr, v, l, 4), 0);
	free(hdr);
}

static void
test_media_type(void **state)
{
	char	m[64];

	assert_int_equal(http_media_type("application/json", m, sizeof(m)), 0);
	assert_string_equal(m, "application/json");
	assert_int_equal(http_media_type("Application/JSON; charset=UTF-8", m,
	    sizeof(m)), 0);
	assert_string_equal(m, "application/json");
	assert_int_equal(http_media_type("  text/plain  ", m, sizeof(m)), 0);
	assert_string_equal(m, "text/plain");
	assert_int_equal(http_media_type("multipart/form-data;boundary=--x", m,
	    sizeof(m)), 0);
	assert_string_equal(m, "multipart/form-data");
	assert_int_equal(http_media_type("application/vnd.api+json", m,
	    sizeof(m)), 0);

	assert_int_equal(http_media_type("", m, sizeof(m)), -1);
	assert_int_equal(http_media_type("json", m, sizeof(m)), -1);
	assert_int_equal(http_media_type("a/b/c", m, sizeof(m)), -1);
	assert_int_equal(http_media_type("/json", m, sizeof(m)), -1);
	assert_int_equal(http_media_type("application/", m, sizeof(m)), -1);
	assert_int_equal(http_media_type("app lication/json", m, sizeof(m)), -1);
	assert_int_equal(http_media_type("application/json x", m, sizeof(m)), -1);
	assert_int_equal(http_media_type("appl\x01/json", m, sizeof(m)), -1);
	assert_int_equal(http_media_type(NULL, m, sizeof(m)), -1);
	/* does not fit */
	assert_int_equal(http_media_type("application/json", m, 16), -1);
	assert_int_equal(http_media_type("application/json", m, 17), 0);
}

static void
test_media_form(void **state)
{
	char	m[64];

	assert_true(http_media_is_form("application/x-www-form-urlencoded"));
	assert_true(http_media_is_form("multipart/form-data"));
	assert_true(http_media_is_form("text/plain"));
	assert_false(http_media_is_form("application/json"));
	assert_false(http_media_is_form("text/html"));
	assert_int_equal(http_media_type("TEXT/Plain;charset=x", m, sizeof(m)), 0);
	assert_true(http_media_is_form(m));
}

static void
test_origin(void **state)
{
	assert_true(http_origin_ok("http://127.0.0.1:8080", "127.0.0.1:8080"));
	assert_true(http_origin_ok("https://davit.example", "davit.example"));
	assert_true(http_origin_ok("HTTP://Davit.Example", "davit.example"));
	assert_true(http_origin_ok("http://[::1]:8080", "[::1]:8080"));
	assert_true(http_origin_ok("http://h:1", " h:1 "));

	assert_false(http_origin_ok("http://127.0.0.1:8081", "127.0.0.1:8080"));
	assert_false(http_origin_ok("http://127.0.0.1", "127.0.0.1:8080"));
	assert_false(http_origin_ok("http://evil.example", "davit.example"));
	assert_false(http_origin_ok("http://davit.example.evil", "davit.example"));
	assert_false(http_origin_ok("null", "davit.example"));
	assert_false(http_origin_ok("", "davit.example"));
	assert_false(http_origin_ok("http://davit.example/", "davit.example"));
	assert_false(http_origin_ok("http://davit.example/x", "davit.example"));
	assert_false(http_origin_ok("ftp://davit.example", "davit.example"));
	assert_false(http_origin_ok("davit.example", "davit.example"));
	assert_false(http_origin_ok("http://a@davit.example", "davit.example"));
	assert_false(http_origin_ok("http://a@davit.example", "a@davit.example"));
	assert_false(http_origin_ok("http://davit.example", NULL));
	assert_false(http_origin_ok("http://davit.example", ""));
	assert_false(http_origin_ok(NULL, "davit.example"));
}

static void
test_parse_id(void **state)
{
	long long	id;

	assert_int_equal(http_parse_id("1", 1, PROTO_MAX_ID, &id), 0);
	assert_int_equal(id, 1);
	assert_int_equal(http_parse_id("42", 2, PROTO_MAX_ID, &id), 0);
	assert_int_equal(id, 42);
	assert_int_equal(http_parse_id("9007199254740991", 16, PROTO_MAX_ID, &id),
	    0);
	assert_int_equal(id, PROTO_MAX_ID);

	assert_int_equal(http_parse_id("9007199254740992", 16, PROTO_MAX_ID, &id),
	    -1);
	assert_int_equal(http_parse_id("99999999999999999999", 20, PROTO_MAX_ID,
	    &id), -1);
	assert_int_equal(http_parse_id("9223372036854775807", 19, LLONG_MAX, &id),
	    0);
	assert_int_equal(http_parse_id("9223372036854775808", 19, LLONG_MAX, &id),
	    -1);
	assert_int_equal(http_parse_id("", 0, PROTO_MAX_ID, &id), -1);
	assert_int_equal(http_parse_id("0", 1, PROTO_MAX_ID, &id), -1);
	assert_int_equal(http_parse_id("01", 2, PROTO_MAX_ID, &id), -1);
	assert_int_equal(http_parse_id("-1", 2, PROTO_MAX_ID, &id), -1);
	assert_int_equal(http_parse_id("+1", 2, PROTO_MAX_ID, &id), -1);
	assert_int_equal(http_parse_id("1a", 2, PROTO_MAX_ID, &id), -1);
	assert_int_equal(http_parse_id("1/", 2, PROTO_MAX_ID, &id), -1);
	assert_int_equal(http_parse_id(" 1", 2, PROTO_MAX_ID, &id), -1);
	assert_int_equal(http_parse_id("1\0002", 3, PROTO_MAX_ID, &id), -1);
	assert_int_equal(http_parse_id("7", 1, 5, &id), -1);
}

static void
test_hex(void **state)
{
	const unsigned char	in[] = { 0x00, 0x0f, 0xa5, 0xff };
	char			out[sizeof(in) * 2 + 1];

	http_hex(in, sizeof(in), out);
	assert_string_equal(out, "000fa5ff");
	assert_true(http_is_hex(out, strlen(out)));
	assert_true(http_is_hex("", 0));
	assert_false(http_is_hex("000FA5FF", 8));
	assert_false(http_is_hex("00g0", 4));
	assert_false(http_is_hex("00\0000", 4));
}

static int
line(const char *s, size_t len, char *method, char *target)
{
	const char	*m, *t;
	size_t		 ml, tl;

	if (http_request_line(s, len, &m, &ml, &t, &tl) == -1)
		return -1;
	assert_true(m >= s && m + ml <= s + len);
	assert_true(t >= s && t + tl <= s + len);
	memcpy(method, m, ml);
	method[ml] = '\0';
	memcpy(target, t, tl);
	target[tl] = '\0';
	return 0;
}

#define LINE(s, m, t)	line(s, sizeof(s) - 1, m, t)

static void
test_request_line(void **state)
{
	char	 m[FE_MAX_HEADERS + 1], t[FE_MAX_HEADERS + 1], *big;

	assert_int_equal(LINE("POST /hooks/github HTTP/1.1", m, t), 0);
	assert_string_equal(m, "POST");
	assert_string_equal(t, "/hooks/github");
	assert_int_equal(LINE("GET http://h:1/a?b=c#d HTTP/1.0", m, t), 0);
	assert_string_equal(m, "GET");
	assert_string_equal(t, "http://h:1/a?b=c#d");
	assert_int_equal(LINE("X / Y", m, t), 0);
	assert_string_equal(t, "/");

	/* parts missing, empty, or one too many */
	assert_int_equal(LINE("", m, t), -1);
	assert_int_equal(LINE("POST", m, t), -1);
	assert_int_equal(LINE("POST /hooks/github", m, t), -1);
	assert_int_equal(LINE("POST /hooks/github ", m, t), -1);
	assert_int_equal(LINE(" /hooks/github HTTP/1.1", m, t), -1);
	assert_int_equal(LINE("POST  /hooks/github HTTP/1.1", m, t), -1);
	assert_int_equal(LINE("POST /hooks/github  HTTP/1.1", m, t), -1);
	assert_int_equal(LINE("POST /hooks/github HTTP/1.1 x", m, t), -1);
	/* NUL, CR, tab, DEL anywhere */
	assert_int_equal(LINE("POST /hooks/github\0 HTTP/1.1", m, t), -1);
	assert_int_equal(LINE("POST /hooks\0/github HTTP/1.1", m, t), -1);
	assert_int_equal(LINE("POST /hooks/github HTTP/1.1\r", m, t), -1);
	assert_int_equal(LINE("POST\t/hooks/github HTTP/1.1", m, t), -1);
	assert_int_equal(LINE("POST /hooks/github\x7f HTTP/1.1", m, t), -1);

	/* as long as headers may be, and one byte more */
	if ((big = malloc(FE_MAX_HEADERS + 2)) == NULL)
		fail();
	memset(big, 'a', FE_MAX_HEADERS + 1);
	memcpy(big, "POST /", 6);
	memcpy(big + FE_MAX_HEADERS - 9, " HTTP/1.1", 9);
	assert_int_equal(line(big, FE_MAX_HEADERS, m, t), 0);
	assert_int_equal(strlen(t), FE_MAX_HEADERS - 14);
	big[FE_MAX_HEADERS] = '1';
	assert_int_equal(line(big, FE_MAX_HEADERS + 1, m, t), -1);
	free(big);
}

/* the end of a request's head, found in pieces as the bytes come */
static void
test_head_scan(void **state)
{
	const char	*req = "GET / HTTP/1.1\r\nHost: x\r\n\r\nBODY";
	size_t		 len = strlen(req), i;
	int		 st;

	st = 0;
	assert_int_equal(http_head_scan(&st, req, len), (ssize_t)(len - 4));
	/* a byte at a time */
	st = 0;
	for (i = 0; i < len; i++)
		if (http_head_scan(&st, req + i, 1) == 1)
			break;
	assert_int_equal(i, len - 5);
	st = 0;
	assert_int_equal(http_head_scan(&st, "GET / HTTP/1.0\n\nX", 17), 16);
	st = 0;
	assert_int_equal(http_head_scan(&st, "GET / HTTP/1.1\r\nA: b\r\n", 22), -1);
	assert_int_equal(http_head_scan(&st, "\r", 1), -1);
	assert_int_equal(http_head_scan(&st, "\n", 1), 1);
	/* a bare CR inside a line is not an end */
	st = 0;
	assert_int_equal(http_head_scan(&st, "a\r\rb\r\nc\r\r\n", 10), -1);
	assert_int_equal(http_head_scan(&st, "", 0), -1);
}

/* how a request's body follows its head: Content-Length, chunked, or neither */
static int
body(const char *head, long long *clen, int *chunked)
{
	return http_head_body(head, strlen(head), clen, chunked);
}

static void
test_head_body(void **state)
{
	long long	clen;
	int		chunked;
	char		nul[] = "POST / HTTP/1.1\r\nContent-Length: 1\0 2\r\n\r\n";

	assert_int_equal(body("GET / HTTP/1.1\r\nHost: x\r\n\r\n", &clen,
	    &chunked), 0);
	assert_int_equal(clen, -1);
	assert_int_equal(chunked, 0);
	assert_int_equal(body("POST / HTTP/1.1\r\ncontent-length:  70000 \r\n"
	    "\r\n", &clen, &chunked), 0);
	assert_int_equal(clen, 70000);
	assert_int_equal(body("POST / HTTP/1.1\nContent-Length: 5\nContent-Length:"
	    " 5\n\n", &clen, &chunked), 0);
	assert_int_equal(clen, 5);
	assert_int_equal(body("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, Chunked"
	    "\r\n\r\n", &clen, &chunked), 0);
	assert_int_equal(chunked, 1);
	assert_int_equal(clen, -1);
	/* the request line is not a header */
	assert_int_equal(body("POST /Content-Length:9 HTTP/1.1\r\n\r\n", &clen,
	    &chunked), 0);
	assert_int_equal(clen, -1);
	/* refused: what evhttp and we could read differently */
	assert_int_equal(body("POST / HTTP/1.1\r\nContent-Length: 5\r\n"
	    "Content-Length: 6\r\n\r\n", &clen, &chunked), -1);
	assert_int_equal(body("POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n",
	    &clen, &chunked), -1);
	assert_int_equal(body("POST / HTTP/1.1\r\nContent-Length: 5 5\r\n\r\n",
	    &clen, &chunked), -1);
	assert_int_equal(body("POST / HTTP/1.1\r\nContent-Length:\r\n\r\n",
	    &clen, &chunked), -1);
	assert_int_equal(body("POST / HTTP/1.1\r\nContent-Length: "
	    "1234567890123456789\r\n\r\n", &clen, &chunked), -1);
	assert_int_equal(body("POST / HTTP/1.1\r\nContent-Length: 5\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", &clen, &chunked), -1);
	assert_int_equal(http_head_body(nul, sizeof(nul) - 1, &clen, &chunked),
	    -1);
	/* no line at all */
	assert_int_equal(http_head_body("GET /", 5, &clen, &chunked), -1);
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_cookie_basic),
		cmocka_unit_test(test_cookie_not_found),
		cmocka_unit_test(test_cookie_duplicates),
		cmocka_unit_test(test_cookie_nul),
		cmocka_unit_test(test_cookie_huge),
		cmocka_unit_test(test_media_type),
		cmocka_unit_test(test_media_form),
		cmocka_unit_test(test_origin),
		cmocka_unit_test(test_parse_id),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_request_line),
		cmocka_unit_test(test_head_scan),
		cmocka_unit_test(test_head_body),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
