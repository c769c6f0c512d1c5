/*
 * Small text helpers shared by both processes: no I/O; only xstrdup
 * allocates.
 */
#ifndef DAVIT_TEXT_H
#define DAVIT_TEXT_H

#include <stddef.h>

#define TEXT_SHA1_HEX		40	/* a SHA-1 commit id in hex */
#define TEXT_SHA256_HEX		64	/* a SHA-256 commit id in hex */

/* a message cut to fit its buffer: words from outside may be long */
void	msgf(char *buf, size_t len, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* strdup that dies when memory is out; NULL stays NULL */
char	*xstrdup(const char *s);
/* the value of one hex digit (either case), -1 if c is none */
int	hexval(int c);
/* 1 if s is a commit id as git prints it: 40 or 64 lowercase hex digits */
int	is_commit_id(const char *s);

#endif
