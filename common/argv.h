/*
 * Splitting a command line from the root-owned configuration into words
 * (DAVIT_DEPLOY_RUN), with the quoting rules of the .env files
 * (common/envfile.c): blanks separate words, 'single quotes' are literal,
 * "double quotes" take \n \t \r \\ \" \$ escapes.  Never a shell: no
 * variables, no globs, no operators.  Pure: no I/O.
 */
#ifndef DAVIT_ARGV_H
#define DAVIT_ARGV_H

#include <stddef.h>

#define ARGV_MAX_WORDS	32		/* words of DAVIT_DEPLOY_RUN */
#define ARGV_MAX_LEN	1024		/* its bytes */

/*
 * Splits s into words written NUL-terminated into buf (buflen >= strlen(s)
 * + 1 is enough), pointers into argv (maxwords of them, then a NULL: argv
 * holds maxwords + 1).  Returns the number of words, or -1 with a message
 * in err (an unterminated quote, too many words, a control character, buf
 * too small).
 */
int	 argv_split(const char *s, char *buf, size_t buflen, char **argv,
	    size_t maxwords, char *err, size_t errlen);

#endif
