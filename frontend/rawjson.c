/*
 * The bytes of one member's value in a JSON object: how the frontend passes
 * the backend's results and event data on as the backend wrote them,
 * instead of rebuilding them from the parsed tree.  A pure reader, no I/O,
 * fuzzed (tests/fuzz/fuzz_frontend.c).  Its input has been parsed already
 * (proto_reply_decode), but it trusts nothing: every step is bounded by
 * len, and anything it does not expect is -1.
 */
#include <string.h>

#include "frontend/frontend.h"

#define RAWJSON_MAX_DEPTH	1024	/* nesting skipped inside a value */

static void
ws(const char *s, size_t len, size_t *i)
{
	while (*i < len && (s[*i] == ' ' || s[*i] == '\t' || s[*i] == '\r' ||
	    s[*i] == '\n'))
		(*i)++;
}

/* past a string that starts at s[*i] ('"'); *esc set if it has escapes */
static int
skip_string(const char *s, size_t len, size_t *i, int *esc)
{
	if (*i >= len || s[*i] != '"')
		return -1;
	for ((*i)++; *i < len; (*i)++) {
		if (s[*i] == '\\') {
			*esc = 1;
			if (++(*i) >= len)
				return -1;
		} else if (s[*i] == '"') {
			(*i)++;
			return 0;
		}
	}
	return -1;
}

/* past the value that starts at s[*i] */
static int
skip_value(const char *s, size_t len, size_t *i)
{
	size_t	depth = 0, start = *i;
	int	esc;

	if (*i >= len)
		return -1;
	if (s[*i] != '{' && s[*i] != '[' && s[*i] != '"') {
		/* a number, true, false or null: up to a delimiter (or a NUL) */
		while (*i < len && strchr(",}] \t\r\n", s[*i]) == NULL)
			(*i)++;
		return *i > start ? 0 : -1;
	}
	for (;;) {
		if (*i >= len)
			return -1;
		switch (s[*i]) {
		case '"':
			if (skip_string(s, len, i, &esc) == -1)
				return -1;
			if (depth == 0)
				return 0;
			continue;
		case '{':
		case '[':
			if (++depth > RAWJSON_MAX_DEPTH)
				return -1;
			break;
		case '}':
		case ']':
			if (depth == 0)
				return -1;
			if (--depth == 0) {
				(*i)++;
				return 0;
			}
			break;
		}
		(*i)++;
	}
}

int
json_raw_member(const char *s, size_t len, const char *key, const char **val,
    size_t *vlen)
{
	size_t	i = 0, k0, k1, v0, klen = strlen(key);
	int	esc;

	ws(s, len, &i);
	if (i >= len || s[i++] != '{')
		return -1;
	for (;;) {
		ws(s, len, &i);
		k0 = i;
		esc = 0;
		if (skip_string(s, len, &i, &esc) == -1)
			return -1;
		k1 = i;
		ws(s, len, &i);
		if (i >= len || s[i++] != ':')
			return -1;
		ws(s, len, &i);
		v0 = i;
		if (skip_value(s, len, &i) == -1)
			return -1;
		if (!esc && k1 - k0 - 2 == klen &&
		    memcmp(s + k0 + 1, key, klen) == 0) {
			*val = s + v0;
			*vlen = i - v0;
			return 0;
		}
		ws(s, len, &i);
		if (i >= len || s[i] != ',')
			return -1;
		i++;
	}
}
