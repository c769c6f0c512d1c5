#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/* the longest escape written for one byte or sequence: "\u202e" */
#define LOG_ESCAPE_MAX	6

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

size_t
log_unsafe_seq(const char *s, size_t left)
{
	const unsigned char	*u = (const unsigned char *)s;

	if (left >= 2 && u[0] == 0xc2 && u[1] >= 0x80 && u[1] <= 0x9f)
		return 2;
	if (left >= 3 && u[0] == 0xe2 && u[1] == 0x80 &&
	    u[2] >= 0xa8 && u[2] <= 0xae)
		return 3;	/* U+2028..U+202E */
	if (left >= 3 && u[0] == 0xe2 && u[1] == 0x81 &&
	    u[2] >= 0xa6 && u[2] <= 0xa9)
		return 3;	/* U+2066..U+2069 */
	return 0;
}

/*
 * One event, one line, shown as it is: a peer-supplied newline or control
 * must not forge a line, and a bidi control or line separator must not
 * disguise one.  Controls become '?', the Unicode ones "\uXXXX".
 */
static void
log_escape(const char *in, char *out, size_t outlen)
{
	const unsigned char	*u;
	size_t			 i, o = 0, n, len = strlen(in);
	unsigned		 cp;

	for (i = 0; i < len && o + LOG_ESCAPE_MAX < outlen; i += n) {
		u = (const unsigned char *)in + i;
		if ((n = log_unsafe_seq(in + i, len - i)) != 0) {
			cp = n == 2 ? (u[1] & 0x3fu) | 0x80u :
			    0x2000u | ((u[1] & 0x3fu) << 6) | (u[2] & 0x3fu);
			o += (size_t)snprintf(out + o, outlen - o, "\\u%04x",
			    cp);
			continue;
		}
		n = 1;
		if (u[0] < 0x20 && u[0] != '\t')
			out[o++] = '?';
		else
			out[o++] = (char)u[0];
	}
	out[o] = '\0';
}

static void
vlog(const char *level, const char *fmt, va_list ap, const char *suffix)
{
	char		 raw[LOG_MAX_LINE];
	char		 msg[LOG_MAX_LINE * 2];

	vsnprintf(raw, sizeof(raw), fmt, ap);
	log_escape(raw, msg, sizeof(msg));
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
