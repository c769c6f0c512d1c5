/*
 * A listening socket handed over by systemd (socket activation): see
 * frontend/listenfd.c.
 */
#ifndef DAVIT_LISTENFD_H
#define DAVIT_LISTENFD_H

#include <sys/types.h>

#define LISTENFD_FIRST	3	/* SD_LISTEN_FDS_START */
#define LISTENFD_MAX	64	/* more than this in LISTEN_FDS: refused */

int	listenfd_count(const char *pid, const char *fds, pid_t self);
int	listenfd_take(void);	/* the fd, or -1: none given, bind DAVIT_LISTEN */

#endif
