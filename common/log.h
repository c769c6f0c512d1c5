/*
 * Logging to stderr (journald picks it up), OpenBSD style:
 * log_warn appends strerror(errno), log_warnx does not; fatal exits.
 * Never pass a secret to any of these.
 */
#ifndef DAVIT_LOG_H
#define DAVIT_LOG_H

#include <stdarg.h>
#include <stddef.h>

#define LOG_MAX_LINE	2048	/* one message, before escaping */

void	log_init(const char *procname, int verbose);
void	log_setverbose(int verbose);
int	log_getverbose(void);
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

/*
 * Length of the UTF-8 sequence at s (left bytes) when it is a character that
 * can forge or disguise a line: a C1 control (U+0080..U+009F), a bidi
 * control (U+202A..U+202E, U+2066..U+2069) or U+2028/U+2029; else 0.
 * proto.c refuses them in text fields; log lines escape them.
 */
size_t	log_unsafe_seq(const char *s, size_t left);

#endif
