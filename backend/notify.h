/*
 * Critical failures, sent to DAVIT_NOTIFY_URL (when set) without blocking.
 * kind is a short stable tag ("deploy.failed", "docker.unreachable", ...);
 * the text must hold no secret.  One kind (for one service) is sent at most
 * once a minute; what is held back follows with its count.
 */
#ifndef DAVIT_NOTIFY_H
#define DAVIT_NOTIFY_H

void	notify_critical(const char *kind, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/*
 * The same for project p and service (NULL: none): the text names it, it goes to p's
 * DAVIT_NOTIFY_URL (else the main file's), rate-limited apart per
 * project, kind and service.
 * p NULL: the main file's URL, no project named.
 */
struct project;
void	notify_project(const struct project *p, const char *kind,
	    const char *service, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));

#endif
