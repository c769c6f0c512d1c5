/*
 * systemd's readiness and watchdog protocol, our own (no libsystemd): see
 * backend/sdnotify.c.
 */
#ifndef DAVIT_SDNOTIFY_H
#define DAVIT_SDNOTIFY_H

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include <event2/event.h>

#define SDNOTIFY_MAX_MSG	256
#define SDNOTIFY_MIN_WATCHDOG	1000000LL	/* µs: below this, refused */
#define SDNOTIFY_MAX_WATCHDOG	(86400LL * 1000000LL)

/* pure parsers: the environment's values in, no I/O */
int		 sdnotify_addr(const char *env, struct sockaddr_un *sun,
		    socklen_t *len);		/* -1: not a usable address */
long long	 sdnotify_watchdog_usec(const char *usec, const char *pid,
		    pid_t self);		/* 0: none for us, -1: bad */

void	 sdnotify_ready(struct event_base *base);	/* READY=1 + watchdog */
void	 sdnotify_stopping(void);			/* STOPPING=1 */

#endif
