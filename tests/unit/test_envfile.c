/*
 * Unit tests for common/envfile.c: the .env syntax, good and malformed.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/envfile.h"
#include "common/config.h"

#define MAX_REC		16

struct rec {
	char	 key[ENVFILE_MAX_KEY + 1];
	char	*value;
	size_t	 len;
	int	 line;
};

struct recs {
	struct rec	 r[MAX_REC];
	size_t		 n;
	int		 stop_at;	/* fail on this record, 1-based */
};

static struct recs	 R;
static char		 E[256];

static int
record(const char *key, const char *value, size_t valuelen, int lineno,
    void *arg, char *err, size_t errlen)
{
	struct recs	*rs = arg;
	struct rec	*r;

	assert_true(rs->n < MAX_REC);
	/* the value is always NUL-terminated at valuelen */
	assert_int_equal(value[valuelen], '\0');
	r = &rs->r[rs->n++];
	assert_true(strlen(key) <= ENVFILE_MAX_KEY);
	strcpy(r->key, key);
	r->value = malloc(valuelen + 1);
	assert_non_null(r->value);
	memcpy(r->value, value, valuelen + 1);
	r->len = valuelen;
	r->line = lineno;
	if (rs->stop_at != 0 && (size_t)rs->stop_at == rs->n) {
		snprintf(err, errlen, "stopped by callback");
		return (-1);
	}
	return (0);
}

static void
reset(void)
{
	size_t	 i;

	for (i = 0; i < R.n; i++)
		free(R.r[i].value);
	memset(&R, 0, sizeof(R));
	memset(E, 0, sizeof(E));
}

static int
parse_len(const char *buf, size_t len)
{
	reset();
	return (envfile_parse(buf, len, record, &R, E, sizeof(E)));
}

static int
parse(const char *s)
{
	return (parse_len(s, strlen(s)));
}

static int
teardown(void **state)
{
	(void)state;
	reset();
	return (0);
}

static void
assert_rec(size_t i, const char *key, const char *value, int line)
{
	assert_true(i < R.n);
	assert_string_equal(R.r[i].key, key);
	assert_string_equal(R.r[i].value, value);
	assert_int_equal(R.r[i].len, strlen(value));
	assert_int_equal(R.r[i].line, line);
}

static void
t_simple(void **state)
{
	assert_int_equal(parse("KEY=value\n"), 0);
	assert_int_equal(R.n, 1);
	assert_rec(0, "KEY", "value", 1);
	assert_string_equal(E, "");
}

static void
t_no_trailing_newline(void **state)
{
	assert_int_equal(parse("A=1\nB=2"), 0);
	assert_int_equal(R.n, 2);
	assert_rec(0, "A", "1", 1);
	assert_rec(1, "B", "2", 2);
}

static void
t_multiple_lines(void **state)
{
	assert_int_equal(parse("A=1\nB=two\nC=three 3\n"), 0);
	assert_int_equal(R.n, 3);
	assert_rec(0, "A", "1", 1);
	assert_rec(1, "B", "two", 2);
	assert_rec(2, "C", "three 3", 3);
}

static void
t_empty_input(void **state)
{
	assert_int_equal(parse(""), 0);
	assert_int_equal(R.n, 0);
	assert_int_equal(parse_len(NULL, 0), 0);
	assert_int_equal(R.n, 0);
}

static void
t_comments_and_blank_lines(void **state)
{
	assert_int_equal(parse("# a comment\n\n   \n\t# indented\nA=1\n"
	    "#B=2\n\nC=3\n"), 0);
	assert_int_equal(R.n, 2);
	assert_rec(0, "A", "1", 5);
	assert_rec(1, "C", "3", 8);
}

static void
t_crlf(void **state)
{
	assert_int_equal(parse("A=1\r\nB='two'\r\n# c\r\nC=\"3\"\r\nD=4\r"), 0);
	assert_int_equal(R.n, 4);
	assert_rec(0, "A", "1", 1);
	assert_rec(1, "B", "two", 2);
	assert_rec(2, "C", "3", 4);
	assert_rec(3, "D", "4", 5);
}

static void
t_crlf_error_line(void **state)
{
	assert_int_equal(parse("A=1\r\nB=2\r\nBROKEN\r\n"), -1);
	assert_string_equal(E, "line 3: missing '=' after key");
}

static void
t_export_prefix(void **state)
{
	assert_int_equal(parse("export A=1\nexport\tB=2\n  export   C = 3\n"),
	    0);
	assert_int_equal(R.n, 3);
	assert_rec(0, "A", "1", 1);
	assert_rec(1, "B", "2", 2);
	assert_rec(2, "C", "3", 3);
}

static void
t_export_as_key(void **state)
{
	assert_int_equal(parse("export=1\nexported=2\nexport =3\n"), 0);
	assert_int_equal(R.n, 3);
	assert_rec(0, "export", "1", 1);
	assert_rec(1, "exported", "2", 2);
	assert_rec(2, "export", "3", 3);
	assert_int_equal(parse("export\n"), -1);
	assert_string_equal(E, "line 1: missing '=' after key");
}

static void
t_single_quotes_literal(void **state)
{
	assert_int_equal(parse("A='a\\nb $X \"q\" # not a comment'\n"), 0);
	assert_rec(0, "A", "a\\nb $X \"q\" # not a comment", 1);
}

static void
t_double_quote_escapes(void **state)
{
	assert_int_equal(parse("A=\"a\\nb\\tc\\rd\\\\e\\\"f\\$g\"\n"), 0);
	assert_rec(0, "A", "a\nb\tc\rd\\e\"f$g", 1);
}

static void
t_double_quote_unknown_escape(void **state)
{
	assert_int_equal(parse("A=\"\\q\\x41\"\nB=\"end\\\\\"\n"), 0);
	assert_rec(0, "A", "\\q\\x41", 1);
	assert_rec(1, "B", "end\\", 2);
}

static void
t_single_quote_in_double(void **state)
{
	assert_int_equal(parse("A=\"it's\"\nB='say \"hi\"'\nC=it's\n"), 0);
	assert_rec(0, "A", "it's", 1);
	assert_rec(1, "B", "say \"hi\"", 2);
	assert_rec(2, "C", "it's", 3);
}

static void
t_unterminated_double(void **state)
{
	assert_int_equal(parse("A=1\nB=\"open\nC=3\n"), -1);
	assert_string_equal(E, "line 2: unterminated quote");
	/* the callback saw only what came before */
	assert_int_equal(R.n, 1);
}

static void
t_unterminated_single(void **state)
{
	assert_int_equal(parse("A='open"), -1);
	assert_string_equal(E, "line 1: unterminated quote");
	assert_int_equal(R.n, 0);
}

static void
t_escaped_quote_does_not_close(void **state)
{
	assert_int_equal(parse("A=\"abc\\\"\n"), -1);
	assert_string_equal(E, "line 1: unterminated quote");
}

static void
t_inline_comment_unquoted(void **state)
{
	assert_int_equal(parse("A=foo # comment\nB=bar\t# tab comment\n"
	    "C= # only a comment\n"), 0);
	assert_int_equal(R.n, 3);
	assert_rec(0, "A", "foo", 1);
	assert_rec(1, "B", "bar", 2);
	assert_rec(2, "C", "", 3);
}

static void
t_hash_without_blank_is_value(void **state)
{
	assert_int_equal(parse("A=foo#bar\nB=#x\nC=a#b #c\n"), 0);
	assert_rec(0, "A", "foo#bar", 1);
	assert_rec(1, "B", "#x", 2);
	assert_rec(2, "C", "a#b", 3);
}

static void
t_hash_inside_quotes(void **state)
{
	assert_int_equal(parse("A=\"foo # bar\"\nB='x #y'\n"), 0);
	assert_rec(0, "A", "foo # bar", 1);
	assert_rec(1, "B", "x #y", 2);
}

static void
t_comment_after_quoted(void **state)
{
	assert_int_equal(parse("A=\"x\" # c\nB='y'#c\nC=\"z\"   \n"), 0);
	assert_rec(0, "A", "x", 1);
	assert_rec(1, "B", "y", 2);
	assert_rec(2, "C", "z", 3);
}

static void
t_garbage_after_quoted(void **state)
{
	assert_int_equal(parse("A=1\nB=\"x\" y\n"), -1);
	assert_string_equal(E,
	    "line 2: unexpected characters after closing quote");
	assert_int_equal(parse("B='x'y\n"), -1);
	assert_string_equal(E,
	    "line 1: unexpected characters after closing quote");
}

static void
t_empty_values(void **state)
{
	assert_int_equal(parse("A=\nB=\"\"\nC=''\nD=   \n"), 0);
	assert_int_equal(R.n, 4);
	assert_rec(0, "A", "", 1);
	assert_rec(1, "B", "", 2);
	assert_rec(2, "C", "", 3);
	assert_rec(3, "D", "", 4);
}

static void
t_invalid_key_chars(void **state)
{
	assert_int_equal(parse("A$B=1\n"), -1);
	assert_string_equal(E, "line 1: invalid character in key");
	assert_int_equal(parse("OK=1\nA:B=1\n"), -1);
	assert_string_equal(E, "line 2: invalid character in key");
	assert_int_equal(parse("K\xc3\xa9=1\n"), -1);
	assert_string_equal(E, "line 1: invalid character in key");
}

static void
t_invalid_key_start(void **state)
{
	assert_int_equal(parse("1A=1\n"), -1);
	assert_string_equal(E, "line 1: invalid key");
	assert_int_equal(parse("=value\n"), -1);
	assert_string_equal(E, "line 1: invalid key");
	assert_int_equal(parse("-A=1\n"), -1);
	assert_string_equal(E, "line 1: invalid key");
}

static void
t_key_dots_dashes(void **state)
{
	assert_int_equal(parse("a.b-c_D9=1\n_X=2\n"), 0);
	assert_rec(0, "a.b-c_D9", "1", 1);
	assert_rec(1, "_X", "2", 2);
}

static void
t_missing_equals(void **state)
{
	assert_int_equal(parse("A=1\nJUSTAKEY\n"), -1);
	assert_string_equal(E, "line 2: missing '=' after key");
	assert_int_equal(parse("A B=1\n"), -1);
	assert_string_equal(E, "line 1: expected '=' after key");
}

static void
t_nul_byte(void **state)
{
	static const char	 in[] = "A=1\nB=2\nC=x\0y\nD=4\n";

	assert_int_equal(parse_len(in, sizeof(in) - 1), -1);
	assert_string_equal(E, "line 3: NUL byte in input");
	/* refused before any callback */
	assert_int_equal(R.n, 0);
}

static void
t_value_length_limit(void **state)
{
	static char	 buf[CONFIG_MAX_VALUE + 16];
	size_t		 max = CONFIG_MAX_VALUE;

	memcpy(buf, "A=", 2);
	memset(buf + 2, 'v', max);
	buf[2 + max] = '\0';
	assert_int_equal(parse(buf), 0);
	assert_int_equal(R.r[0].len, max);

	memset(buf + 2, 'v', max + 1);
	buf[2 + max + 1] = '\0';
	assert_int_equal(parse(buf), -1);
	assert_string_equal(E, "line 1: value too long");

	/* after unquoting: escapes count once */
	buf[2] = '"';
	memset(buf + 3, 'v', max);
	buf[3 + max] = '"';
	buf[4 + max] = '\0';
	assert_int_equal(parse(buf), 0);
	assert_int_equal(R.r[0].len, max);
	buf[3 + max] = 'v';
	buf[4 + max] = '"';
	buf[5 + max] = '\0';
	assert_int_equal(parse(buf), -1);
	assert_string_equal(E, "line 1: value too long");

	/* a long trailing comment is not part of the value */
	memcpy(buf, "A=x #", 5);
	memset(buf + 5, 'c', max + 8);
	buf[5 + max + 8] = '\0';
	assert_int_equal(parse(buf), 0);
	assert_rec(0, "A", "x", 1);
}

static void
t_key_length_limit(void **state)
{
	char	 buf[ENVFILE_MAX_KEY + 16];

	memset(buf, 'K', ENVFILE_MAX_KEY);
	memcpy(buf + ENVFILE_MAX_KEY, "=1", 3);
	assert_int_equal(parse(buf), 0);
	assert_int_equal(strlen(R.r[0].key), ENVFILE_MAX_KEY);

	memset(buf, 'K', ENVFILE_MAX_KEY + 1);
	memcpy(buf + ENVFILE_MAX_KEY + 1, "=1", 3);
	assert_int_equal(parse(buf), -1);
	assert_string_equal(E, "line 1: key too long");
}

static void
t_whitespace_around_equals(void **state)
{
	assert_int_equal(parse("  A  =  b  \n\tB\t=\tc d\t\nC= \" x \" \n"), 0);
	assert_rec(0, "A", "b", 1);
	assert_rec(1, "B", "c d", 2);
	assert_rec(2, "C", " x ", 3);
}

static void
t_equals_in_value(void **state)
{
	assert_int_equal(parse("A=b=c\nB===\n"), 0);
	assert_rec(0, "A", "b=c", 1);
	assert_rec(1, "B", "==", 2);
}

static void
t_utf8_values(void **state)
{
	assert_int_equal(parse("A=h\xc3\xa9llo w\xc3\xb6rld\n"
	    "B=\"\xe2\x82\xac 5\"\nC='\xf0\x9f\x90\xb3'\n"), 0);
	assert_rec(0, "A", "h\xc3\xa9llo w\xc3\xb6rld", 1);
	assert_rec(1, "B", "\xe2\x82\xac 5", 2);
	assert_rec(2, "C", "\xf0\x9f\x90\xb3", 3);
}

static void
t_multiline_quoted(void **state)
{
	assert_int_equal(parse("A=\"one\ntwo\r\nthree\"\nB='x\ny'\nC=3\n"), 0);
	assert_int_equal(R.n, 3);
	assert_rec(0, "A", "one\ntwo\nthree", 1);
	assert_rec(1, "B", "x\ny", 4);
	assert_rec(2, "C", "3", 6);
	assert_int_equal(parse("A=\"one\ntwo\" junk\n"), -1);
	assert_string_equal(E,
	    "line 2: unexpected characters after closing quote");
}

static void
t_callback_stops(void **state)
{
	reset();
	R.stop_at = 2;
	assert_int_equal(envfile_parse("A=1\nB=2\nC=3\n", 12, record, &R, E,
	    sizeof(E)), -1);
	assert_int_equal(R.n, 2);
	assert_string_equal(E, "stopped by callback");
}

static void
t_errors_never_quote_input(void **state)
{
	static const char	*bad[] = {
		"PASSWORD=\"s3cr3tXYZ\n",
		"s3cr3tXYZ\n",
		"A='s3cr3tXYZ' s3cr3tXYZ\n",
		"s3cr3tXYZ s3cr3tXYZ\n",
		"K$s3cr3tXYZ=1\n",
	};
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(bad[i]), -1);
		assert_true(strncmp(E, "line 1: ", 8) == 0);
		assert_null(strstr(E, "s3cr3t"));
	}
}

static void
t_raw_control_chars_passed(void **state)
{
	/* the parser is byte-transparent; types are checked by config.c */
	assert_int_equal(parse("A=a\x01" "b\tc\n"), 0);
	assert_rec(0, "A", "a\x01" "b\tc", 1);
}

static void
t_small_error_buffer(void **state)
{
	char	 small[8];

	memset(small, 'X', sizeof(small));
	assert_int_equal(envfile_parse("BROKEN", 6, NULL, NULL, small,
	    sizeof(small)), -1);
	assert_string_equal(small, "line 1:");
	/* and none at all */
	assert_int_equal(envfile_parse("BROKEN", 6, NULL, NULL, NULL, 0), -1);
	assert_int_equal(envfile_parse("A=1", 3, NULL, NULL, NULL, 0), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(t_simple, teardown),
		cmocka_unit_test_teardown(t_no_trailing_newline, teardown),
		cmocka_unit_test_teardown(t_multiple_lines, teardown),
		cmocka_unit_test_teardown(t_empty_input, teardown),
		cmocka_unit_test_teardown(t_comments_and_blank_lines, teardown),
		cmocka_unit_test_teardown(t_crlf, teardown),
		cmocka_unit_test_teardown(t_crlf_error_line, teardown),
		cmocka_unit_test_teardown(t_export_prefix, teardown),
		cmocka_unit_test_teardown(t_export_as_key, teardown),
		cmocka_unit_test_teardown(t_single_quotes_literal, teardown),
		cmocka_unit_test_teardown(t_double_quote_escapes, teardown),
		cmocka_unit_test_teardown(t_double_quote_unknown_escape,
		    teardown),
		cmocka_unit_test_teardown(t_single_quote_in_double, teardown),
		cmocka_unit_test_teardown(t_unterminated_double, teardown),
		cmocka_unit_test_teardown(t_unterminated_single, teardown),
		cmocka_unit_test_teardown(t_escaped_quote_does_not_close,
		    teardown),
		cmocka_unit_test_teardown(t_inline_comment_unquoted, teardown),
		cmocka_unit_test_teardown(t_hash_without_blank_is_value,
		    teardown),
		cmocka_unit_test_teardown(t_hash_inside_quotes, teardown),
		cmocka_unit_test_teardown(t_comment_after_quoted, teardown),
		cmocka_unit_test_teardown(t_garbage_after_quoted, teardown),
		cmocka_unit_test_teardown(t_empty_values, teardown),
		cmocka_unit_test_teardown(t_invalid_key_chars, teardown),
		cmocka_unit_test_teardown(t_invalid_key_start, teardown),
		cmocka_unit_test_teardown(t_key_dots_dashes, teardown),
		cmocka_unit_test_teardown(t_missing_equals, teardown),
		cmocka_unit_test_teardown(t_nul_byte, teardown),
		cmocka_unit_test_teardown(t_value_length_limit, teardown),
		cmocka_unit_test_teardown(t_key_length_limit, teardown),
		cmocka_unit_test_teardown(t_whitespace_around_equals, teardown),
		cmocka_unit_test_teardown(t_equals_in_value, teardown),
		cmocka_unit_test_teardown(t_utf8_values, teardown),
		cmocka_unit_test_teardown(t_multiline_quoted, teardown),
		cmocka_unit_test_teardown(t_callback_stops, teardown),
		cmocka_unit_test_teardown(t_errors_never_quote_input, teardown),
		cmocka_unit_test_teardown(t_raw_control_chars_passed, teardown),
		cmocka_unit_test_teardown(t_small_error_buffer, teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
