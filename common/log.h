/*
 * Logging to stderr (journald picks it up), OpenBSD style:
 * log_warn appends strerror(errno), log_warnx does not; fatal exits.
 * Never pass a secret to any of these.
 */
#ifndef DAVIT_LOG_H
#define DAVIT_LOG_H

#include <stdarg.h>

void	log_init(const char *procname, int verbose);
void	log_setverbose(int verbose);
int	log_getverbose(void);
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
