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
/* the same, rate-limited apart for each service (NULL: none) */
void	notify_critical_service(const char *kind, const char *service,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * The same for project p: the text names it, it goes to p's
 * DAVIT_NOTIFY_URL (else the main file's), rate-limited apart per project.
 * p NULL: as notify_critical_service.
 */
struct project;
void	notify_project(const struct project *p, const char *kind,
	    const char *service, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));

#endif
