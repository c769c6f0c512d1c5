/*
 * Small text helpers shared by both processes (common/text.h): no I/O;
 * only xstrdup allocates.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/text.h"

void
msgf(char *buf, size_t len, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

char *
xstrdup(const char *s)
{
	char	*p;

	if (s == NULL)
		return NULL;
	if ((p = strdup(s)) == NULL)
		fatal("%s", __func__);
	return p;
}

int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
is_commit_id(const char *s)
{
	size_t	n = strlen(s), i;

	if (n != TEXT_SHA1_HEX && n != TEXT_SHA256_HEX)
		return 0;
	for (i = 0; i < n; i++)
		if (hexval((unsigned char)s[i]) == -1 ||
		    (s[i] >= 'A' && s[i] <= 'F'))
			return 0;
	return 1;
}
