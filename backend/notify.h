/*
 * Critical failures, sent to DAVIT_NOTIFY_URL (when set) without blocking.
 * kind is a short stable tag ("deploy.failed", "docker.unreachable", ...);
 * the text must hold no secret.
 */
#ifndef DAVIT_NOTIFY_H
#define DAVIT_NOTIFY_H

void	notify_critical(const char *kind, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

#endif
