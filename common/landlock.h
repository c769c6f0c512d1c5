/*
 * Landlock, by raw system calls (common/landlock.c): a process restricts
 * its own file access to a few directories or files, for good.
 */
#ifndef DAVIT_LANDLOCK_H
#define DAVIT_LANDLOCK_H

#include <stddef.h>

struct landlock_rule {
	int		 fd;		/* a directory or file, or -1: path */
	const char	*path;		/* opened here (O_PATH) when fd is -1 */
	int		 writable;	/* read-write, else read-only */
};

/* the kernel's Landlock ABI version, 0 if it has none (errno says why) */
int	landlock_abi(void);
/*
 * Restricts the calling thread (single-threaded processes: the process) to
 * the rules, and denies TCP bind/connect (ABI >= 4), signals and abstract
 * Unix sockets out of the domain (ABI >= 6).  Needs no_new_privs.  Returns
 * the ABI in force, 0 (nothing done, errno set) when the kernel has no
 * Landlock, -1 (errno set, err filled) on failure.
 */
int	landlock_confine(const struct landlock_rule *, size_t, char *, size_t);
/*
 * The same, but TCP connect is allowed to the nports ports (ABI >= 4; an
 * older kernel cannot restrict TCP, and the ports are not needed there).
 */
int	landlock_confine_net(const struct landlock_rule *, size_t,
	    const unsigned *ports, size_t nports, char *, size_t);

#endif
