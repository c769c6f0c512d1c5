/*
 * Words of a configured command line (argv.h): a small state machine over
 * the bytes, no I/O, every bound checked before a byte is written.
 */
#include <stdio.h>
#include <string.h>

#include "argv.h"

static int
argv_esc(char c)
{
	switch (c) {
	case 'n':
		return '\n';
	case 't':
		return '\t';
	case 'r':
		return '\r';
	case '\\':
	case '"':
	case '$':
		return c;
	default:
		return -1;
	}
}

int
argv_split(const char *s, char *buf, size_t buflen, char **argv,
    size_t maxwords, char *err, size_t errlen)
{
	size_t		 o = 0, n = 0;
	int		 inword = 0, e;
	char		 q = 0;
	unsigned char	 c;

	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f) {
			if (q == 0 && (c == '\t'))
				goto blank;
			snprintf(err, errlen, "a control character");
			return -1;
		}
		if (q == 0 && c == ' ') {
blank:
			if (inword) {
				buf[o++] = '\0';
				inword = 0;
			}
			continue;
		}
		if (!inword) {
			if (n == maxwords) {
				snprintf(err, errlen, "more than %zu words",
				    maxwords);
				return -1;
			}
			argv[n++] = buf + o;
			inword = 1;
		}
		/* room for this byte and the word's NUL */
		if (o + 2 > buflen) {
			snprintf(err, errlen, "too long");
			return -1;
		}
		if (q == 0 && (c == '\'' || c == '"')) {
			q = (char)c;
			continue;
		}
		if (q != 0 && c == (unsigned char)q) {
			q = 0;
			continue;
		}
		if (q == '"' && c == '\\') {
			if ((e = argv_esc(s[1])) == -1) {
				snprintf(err, errlen, "an unknown escape in "
				    "double quotes");
				return -1;
			}
			buf[o++] = (char)e;
			s++;
			continue;
		}
		buf[o++] = (char)c;
	}
	if (q != 0) {
		snprintf(err, errlen, "an unterminated %s quote", q == '"' ?
		    "double" : "single");
		return -1;
	}
	if (inword) {
		if (o + 1 > buflen) {
			snprintf(err, errlen, "too long");
			return -1;
		}
		buf[o++] = '\0';
	}
	argv[n] = NULL;
	return (int)n;
}
