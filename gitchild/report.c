/*
 * What the child tells the parent, on stdout: progress lines, and exactly
 * one final line (gc_finish), the success's or the first recorded
 * failure's.  A failed libgit2 call is classified here (gc_classify: the
 * code and whether a retry may help) and given a message that says what
 * to check.  Every line goes through wire.c's encoders, which scrub the
 * token and userinfo.  The connect and stall alarms write a final line
 * prepared beforehand and exit.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "gitchild/gitchild.h"

struct gc_ctx		 gc;

/* written by the SIGALRM handler: prepared before the alarm is armed */
static char		 gc_alarm_connect[GC_MAX_LINE + 1];
static char		 gc_alarm_stall[GC_MAX_LINE + 1];
static size_t		 gc_alarm_connect_len, gc_alarm_stall_len;
static volatile sig_atomic_t gc_alarm_which;	/* 0 connect, 1 stall */

void
gc_write(char *line)
{
	size_t	len = strlen(line), off = 0;
	ssize_t	n;

	while (off < len) {
		if ((n = write(STDOUT_FILENO, line + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			_exit(1);	/* the parent is gone */
		}
		off += n;
	}
	free(line);
}

void __attribute__((format(printf, 1, 2)))
gc_log(const char *fmt, ...)
{
	char	buf[GC_FMT_BUF];
	va_list	ap;
	size_t	len;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	gc_write(gc_fmt_log(buf, gc.req.token, &len));
}

/* records the failure; the final line is written by gc_finish */
void __attribute__((format(printf, 3, 4)))
gc_fail(const char *code, int retry, const char *fmt, ...)
{
	va_list	ap;

	if (gc.failed)
		return;
	alarm(0);
	va_start(ap, fmt);
	vsnprintf(gc.fail_msg, sizeof(gc.fail_msg), fmt, ap);
	va_end(ap);
	snprintf(gc.fail_code, sizeof(gc.fail_code), "%s", code);
	gc.fail_retry = retry;
	gc.failed = 1;
}

/* the one final line */
void
gc_finish(void)
{
	size_t	len;

	alarm(0);
	if (gc.failed) {
		gc_write(gc_fmt_fail_status(gc.fail_code, gc.fail_msg, gc.fail_retry,
		    gc.req.token, gc.st.present ? &gc.st : NULL, &len));
		explicit_bzero(gc.fail_msg, sizeof(gc.fail_msg));
	} else
		gc_write(gc_fmt_ok(&gc.st, gc.has_fetched, gc.fetched,
		    gc.has_origin, gc.has_origin && gc.origin[0] ? gc.origin : NULL,
		    &gc.pull, &len));
}

const char *
gc_git_message(void)
{
	const git_error	*e = git_error_last();

	return (e != NULL && e->message != NULL) ? e->message : "unknown error";
}

/* a failed libgit2 call: classified, with a message that says what to check */
void
gc_fail_git(int rc, const char *what)
{
	const git_error	*e = git_error_last();
	struct gc_class	 c;
	char		 url[GC_MAX_URL + 1];

	gc_classify(rc, e != NULL ? e->klass : 0, e != NULL ? e->message : NULL,
	    gc.auth, &c);
	gc_strlcpy(url, gc.req.url != NULL ? gc.req.url : "", sizeof(url));
	gc_strip_userinfo(url);
	if (gc.refused[0] != '\0') {
		if (gc.refused_token)
			gc_fail("unauthorized", 0, "%s asked for the token: it goes "
			    "only to origin (%s://%s:%u, over https; http only on "
			    "loopback)", gc.refused, gc.osrv.scheme,
			    gc.osrv.host, gc.osrv.port);
		else
			gc_fail("unavailable", 0, "refused to contact %s: davit "
			    "talks only to origin (%s://%s:%u); a redirect to "
			    "another host or port is not followed", gc.refused,
			    gc.osrv.scheme, gc.osrv.host, gc.osrv.port);
		return;
	}
	if (strcmp(c.code, "unauthorized") == 0) {
		if (gc.auth == GC_AUTH_MISSING)
			gc_fail(c.code, 0, "%s asks for credentials: set "
			    "DAVIT_GITHUB_TOKEN (or an ssh key for ssh URLs)", url);
		else if (gc_url_is_http(url))
			gc_fail(c.code, 0, "%s refused the credentials: check "
			    "DAVIT_GITHUB_TOKEN (its value, its expiry and its "
			    "access to this repository)", url);
		else
			gc_fail(c.code, 0, "%s refused the credentials: %s", url,
			    gc_git_message());
	} else if (strcmp(c.code, "not_found") == 0 && gc.req.url != NULL &&
	    rc != GIT_ENOTFOUND)
		gc_fail(c.code, 0, "no repository at %s: check DAVIT_REPO_URL (and "
		    "that the token may read it) (%s)", url, gc_git_message());
	else
		gc_fail(c.code, c.retry, "%s: %s", what, gc_git_message());
}

static void
gc_on_alarm(int sig)
{
	ssize_t	n;

	if (gc_alarm_which == 0)
		n = write(STDOUT_FILENO, gc_alarm_connect, gc_alarm_connect_len);
	else
		n = write(STDOUT_FILENO, gc_alarm_stall, gc_alarm_stall_len);
	(void)n;
	_exit(1);
}

/* an alarm's failure line, made beforehand into dst (GC_MAX_LINE + 1) */
static size_t
gc_alarm_line(char *dst, const char *msg)
{
	char	*line;
	size_t	 len;

	line = gc_fmt_fail("unavailable", msg, 1, NULL, &len);
	memcpy(dst, line, len);
	free(line);
	return len;
}

void
gc_alarm_prepare(void)
{
	struct sigaction	 sa;
	char			 msg[256];

	snprintf(msg, sizeof(msg), "no answer from the remote within %d s "
	    "(connect timeout)", GC_CONNECT_TIMEOUT);
	gc_alarm_connect_len = gc_alarm_line(gc_alarm_connect, msg);
	snprintf(msg, sizeof(msg), "the transfer stalled: no data for %d s "
	    "(transfer timeout)", GC_STALL_TIMEOUT);
	gc_alarm_stall_len = gc_alarm_line(gc_alarm_stall, msg);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = gc_on_alarm;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
}

void
gc_alarm(int which, unsigned secs)
{
	gc_alarm_which = which;
	alarm(secs);
}

void
gc_classify(int rc, int klass, const char *msg, enum gc_auth auth,
    struct gc_class *out)
{
	static const char *const transient[] = {
		"connection refused", "connection reset", "connection timed out",
		"timed out", "timeout", "network is unreachable", "no route to host",
		"host is unreachable", "broken pipe", "early eof", "unexpected eof",
		"failed to resolve address", "name or service not known",
		"temporary failure in name resolution", "could not resolve",
		"no address associated", "failed to connect", "failed to send",
		"failed to receive", "connection closed", "ssl error", "tls error",
	};
	const char	*m = msg != NULL ? msg : "";
	const char	*p;
	size_t		 i;

	out->retry = 0;
	if (auth != GC_AUTH_NONE || rc == GIT_EAUTH) {
		out->code = "unauthorized";
		return;
	}
	if (rc == GIT_ECERTIFICATE) {
		out->code = "unavailable";	/* a bad certificate is not transient */
		return;
	}
	if ((p = strcasestr(m, "status code: ")) != NULL) {
		p += strlen("status code: ");
		if (strncmp(p, "401", 3) == 0 || strncmp(p, "403", 3) == 0 ||
		    strncmp(p, "407", 3) == 0) {
			out->code = "unauthorized";
			return;
		}
		if (strncmp(p, "404", 3) == 0 || strncmp(p, "410", 3) == 0) {
			out->code = "not_found";
			return;
		}
		out->code = "unavailable";
		/* 5xx and 429 are the server's passing trouble */
		out->retry = p[0] == '5' || strncmp(p, "429", 3) == 0 ||
		    strncmp(p, "408", 3) == 0;
		return;
	}
	if (strcasestr(m, "authentication") != NULL ||
	    strcasestr(m, "too many redirects or authentication replays") != NULL) {
		out->code = "unauthorized";
		return;
	}
	if (strcasestr(m, "could not find repository") != NULL ||
	    strcasestr(m, "repository not found") != NULL ||
	    strcasestr(m, "failed to resolve path") != NULL ||
	    strcasestr(m, "does not appear to be a git repository") != NULL) {
		out->code = "not_found";
		return;
	}
	for (i = 0; i < sizeof(transient) / sizeof(transient[0]); i++)
		if (strcasestr(m, transient[i]) != NULL) {
			out->code = "unavailable";
			out->retry = 1;
			return;
		}
	if (rc == GIT_EEOF) {
		out->code = "unavailable";
		out->retry = 1;
		return;
	}
	switch (klass) {
	case GIT_ERROR_NET:
	case GIT_ERROR_HTTP:
	case GIT_ERROR_SSL:
	case GIT_ERROR_SSH:
		/* the network's other troubles: a cut or garbled transfer */
		out->code = "unavailable";
		out->retry = 1;
		return;
	case GIT_ERROR_NOMEMORY:
	case GIT_ERROR_INTERNAL:
		out->code = "internal";
		return;
	default:
		break;
	}
	if (rc == GIT_ENOTFOUND && (klass == GIT_ERROR_REPOSITORY ||
	    klass == GIT_ERROR_REFERENCE)) {
		out->code = "not_found";
		return;
	}
	out->code = "unavailable";
}
