/*
 * Copyright (c) 2024 The davit authors
 *
 * Permission to use, copy, modify, and distribute this software for any
 * purpose with or without fee is hereby granted, provided that the above
 * copyright notice and this permission notice appear in all copies.
 *
 * THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES
 * WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF
 * MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR
 * ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES
 * WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN
 * ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF
 * OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.
 */

/*
 * .env parser. Grammar, one assignment per line:
 *
 *	[export] KEY [blanks] = [blanks] VALUE [blanks] [#...]
 *
 * with blanks allowed before "export" and required after it.
 *
 * KEY is [A-Za-z_][A-Za-z0-9_.-]*, at most ENVFILE_MAX_KEY bytes.
 * VALUE is one of
 *	'literal'	nothing is special but the closing quote
 *	"escaped"	\n \t \r \\ \" \$ are escapes, any other
 *			backslash is kept as is
 *	unquoted	up to the end of the line or a '#' that follows a
 *			blank; trailing blanks are trimmed
 * Quoted values may span lines (as in compose). Blank lines and lines whose
 * first non-blank is '#' are skipped; a trailing CR (CRLF files) is dropped.
 * There is no ${VAR} interpolation: values are taken literally.
 *
 * Error messages are "line N: what" and never quote the input, since a
 * malformed line may well be a secret.
 */

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "envfile.h"

#define ENVFILE_MAX_VALUE	CONFIG_MAX_VALUE	/* after unquoting */
#define ENVFILE_EXPORT		"export"

struct envfile_value {
	char	*buf;		/* ENVFILE_MAX_VALUE + 1 bytes */
	size_t	 len;
};

static int	 is_blank(char);
static int	 is_keystart(char);
static int	 is_keychar(char);
static int	 val_put(struct envfile_value *, char);
static void	 seterr(char *, size_t, int, const char *);

static int
is_blank(char c)
{
	return (c == ' ' || c == '\t');
}

static int
is_keystart(char c)
{
	return ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_');
}

static int
is_keychar(char c)
{
	return (is_keystart(c) || (c >= '0' && c <= '9') || c == '.' ||
	    c == '-');
}

static int
val_put(struct envfile_value *v, char c)
{
	if (v->len >= ENVFILE_MAX_VALUE)
		return (-1);
	v->buf[v->len++] = c;
	return (0);
}

static void
seterr(char *err, size_t errlen, int lineno, const char *what)
{
	if (err != NULL && errlen > 0)
		(void)snprintf(err, errlen, "line %d: %s", lineno, what);
}

int
envfile_parse(const char *buf, size_t len, envfile_cb cb, void *arg,
    char *err, size_t errlen)
{
	struct envfile_value	 v = { NULL, 0 };
	char			 key[ENVFILE_MAX_KEY + 1];
	const char		*nul, *what = NULL;
	size_t			 pos, eol, next, i, klen, j, kstart;
	int			 lineno = 0, startline, blank_before;
	int			 ret = -1;
	char			 q, c;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (buf == NULL && len != 0) {
		seterr(err, errlen, 0, "no input");
		return (-1);
	}

	/* a NUL byte is never valid: report it with its line */
	if (len > 0 && (nul = memchr(buf, '\0', len)) != NULL) {
		lineno = 1;
		for (i = 0; i < (size_t)(nul - buf); i++)
			if (buf[i] == '\n')
				lineno++;
		seterr(err, errlen, lineno, "NUL byte in input");
		return (-1);
	}

	if ((v.buf = malloc(ENVFILE_MAX_VALUE + 1)) == NULL) {
		seterr(err, errlen, 0, "out of memory");
		return (-1);
	}

	pos = 0;
	while (pos < len) {
		lineno++;
		startline = lineno;
		for (eol = pos; eol < len && buf[eol] != '\n'; eol++)
			;
		next = eol < len ? eol + 1 : len;
		if (eol > pos && buf[eol - 1] == '\r')
			eol--;

		i = pos;
		while (i < eol && is_blank(buf[i]))
			i++;
		if (i == eol || buf[i] == '#') {
			pos = next;
			continue;
		}

		/* "export KEY=..." but not "export=..." or "exported=..." */
		if (eol - i > strlen(ENVFILE_EXPORT) &&
		    strncmp(buf + i, ENVFILE_EXPORT,
		    strlen(ENVFILE_EXPORT)) == 0 &&
		    is_blank(buf[i + strlen(ENVFILE_EXPORT)])) {
			j = i + strlen(ENVFILE_EXPORT);
			while (j < eol && is_blank(buf[j]))
				j++;
			if (j < eol && buf[j] != '=')
				i = j;
		}

		kstart = i;
		if (i == eol || !is_keystart(buf[i])) {
			what = "invalid key";
			goto bad;
		}
		while (i < eol && is_keychar(buf[i]))
			i++;
		klen = i - kstart;
		if (klen > ENVFILE_MAX_KEY) {
			what = "key too long";
			goto bad;
		}
		if (i < eol && buf[i] != '=' && !is_blank(buf[i])) {
			what = "invalid character in key";
			goto bad;
		}
		memcpy(key, buf + kstart, klen);
		key[klen] = '\0';

		while (i < eol && is_blank(buf[i]))
			i++;
		if (i == eol) {
			what = "missing '=' after key";
			goto bad;
		}
		if (buf[i] != '=') {
			what = "expected '=' after key";
			goto bad;
		}
		i++;
		j = i;
		while (i < eol && is_blank(buf[i]))
			i++;
		blank_before = (i > j);

		v.len = 0;
		if (i < eol && (buf[i] == '\'' || buf[i] == '"')) {
			q = buf[i++];
			/* may run past eol: quoted values can span lines */
			for (;;) {
				if (i >= len) {
					lineno = startline;
					what = "unterminated quote";
					goto bad;
				}
				c = buf[i];
				if (c == q)
					break;
				if (c == '\r' && i + 1 < len &&
				    buf[i + 1] == '\n') {
					i++;
					continue;
				}
				if (c == '\n')
					lineno++;
				if (q == '"' && c == '\\' && i + 1 < len) {
					switch (buf[i + 1]) {
					case 'n':
						c = '\n';
						break;
					case 't':
						c = '\t';
						break;
					case 'r':
						c = '\r';
						break;
					case '\\':
					case '"':
					case '$':
						c = buf[i + 1];
						break;
					default:
						c = 0;	/* kept as is */
						break;
					}
					if (c != 0) {
						if (val_put(&v, c) == -1)
							goto toolong;
						i += 2;
						continue;
					}
					c = '\\';
				}
				if (val_put(&v, c) == -1)
					goto toolong;
				i++;
			}
			i++;	/* closing quote */

			/* the rest of the line the quote closed on */
			for (eol = i; eol < len && buf[eol] != '\n'; eol++)
				;
			next = eol < len ? eol + 1 : len;
			if (eol > i && buf[eol - 1] == '\r')
				eol--;
			while (i < eol && is_blank(buf[i]))
				i++;
			if (i < eol && buf[i] != '#') {
				what = "unexpected characters after closing "
				    "quote";
				goto bad;
			}
		} else {
			size_t	 end;

			for (end = i; end < eol; end++) {
				if (buf[end] != '#')
					continue;
				if (end == i ? blank_before :
				    is_blank(buf[end - 1]))
					break;
			}
			while (end > i && is_blank(buf[end - 1]))
				end--;
			if (end - i > ENVFILE_MAX_VALUE) {
				what = "value too long";
				goto bad;
			}
			memcpy(v.buf, buf + i, end - i);
			v.len = end - i;
		}
		v.buf[v.len] = '\0';

		if (cb != NULL && cb(key, v.buf, v.len, startline, arg, err,
		    errlen) == -1) {
			if (err != NULL && errlen > 0 && err[0] == '\0')
				seterr(err, errlen, startline, "rejected");
			goto done;
		}
		explicit_bzero(v.buf, v.len);
		pos = next;
	}
	ret = 0;
	goto done;

 toolong:
	lineno = startline;
	what = "value too long";
 bad:
	seterr(err, errlen, lineno, what);
 done:
	explicit_bzero(v.buf, ENVFILE_MAX_VALUE + 1);
	free(v.buf);
	return (ret);
}
