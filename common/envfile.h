/*
 * A parser for .env files in the syntax docker compose accepts:
 * KEY=VALUE, # comments, blank lines, 'single' (literal) or "double" quotes
 * (with \n \t \r \\ \" \$ escapes), an optional "export " prefix, unquoted
 * values with trailing " #comment" stripped and surrounding blanks trimmed.
 */
#ifndef DAVIT_ENVFILE_H
#define DAVIT_ENVFILE_H

#include <stddef.h>

#define ENVFILE_MAX_KEY		128

/* Called for every assignment; return -1 to stop parsing (err already set). */
typedef int (*envfile_cb)(const char *key, const char *value, size_t valuelen,
    int lineno, void *arg, char *err, size_t errlen);

/*
 * Parses buf (not NUL-terminated, may contain anything). Returns 0, or -1 with
 * a message in err that names the line (never the value). A NUL byte in the
 * input, an invalid key, an unterminated quote or an over-long value is an error.
 */
int	 envfile_parse(const char *buf, size_t len, envfile_cb cb, void *arg,
	    char *err, size_t errlen);

#endif
