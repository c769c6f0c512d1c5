#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const char	*log_procname = "davit";
static int		 log_verbose;

void
log_init(const char *procname, int verbose)
{
	log_procname = procname;
	log_verbose = verbose;
}

void
log_setverbose(int verbose)
{
	log_verbose = verbose;
}

int
log_getverbose(void)
{
	return log_verbose;
}

static void
vlog(const char *level, const char *fmt, va_list ap, const char *suffix)
{
	char		 msg[2048];
	size_t		 i;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* one event, one line: a peer-supplied newline must not forge a line */
	for (i = 0; msg[i] != '\0'; i++)
		if (msg[i] == '\n' || msg[i] == '\r' ||
		    ((unsigned char)msg[i] < 0x20 && msg[i] != '\t'))
			msg[i] = '?';
	if (suffix != NULL)
		fprintf(stderr, "%s[%d]: %s%s: %s\n", log_procname,
		    (int)getpid(), level, msg, suffix);
	else
		fprintf(stderr, "%s[%d]: %s%s\n", log_procname, (int)getpid(),
		    level, msg);
	fflush(stderr);
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	vlog("", fmt, ap, strerror(saved));
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog("", fmt, ap, NULL);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog("", fmt, ap, NULL);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	vlog("debug: ", fmt, ap, NULL);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	vlog("fatal: ", fmt, ap, strerror(saved));
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog("fatal: ", fmt, ap, NULL);
	va_end(ap);
	exit(1);
}
