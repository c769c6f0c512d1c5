/*
 * Landlock (Documentation/userspace-api/landlock.rst) by raw system calls,
 * for the processes that confine themselves: the frontend (its www
 * directory, read-only) and the git child (gitchild/sandbox.c: its workdir
 * read-write, what libgit2 reads read-only, TCP to origin's port).  Rules:
 * - the kernel's ABI is probed (LANDLOCK_CREATE_RULESET_VERSION) and only
 *   the rights it knows are handled, so one binary runs on 5.13 to today's
 *   kernels; a kernel without Landlock is not an error here, the caller
 *   logs it and goes on (seccomp still holds);
 * - every file-system right the ABI knows is handled, so anything not
 *   granted by a rule is denied: read-only rules grant reading files and
 *   listing directories, read-write ones everything but execution;
 * - from ABI 4 TCP bind and connect are handled: bind is denied, connect
 *   too but to the ports the caller names (landlock_confine_net),
 *   from ABI 6 signals and abstract Unix sockets are scoped to the domain;
 * - the structures and constants are our own copies of the kernel's UAPI,
 *   sized per ABI, so that an older <linux/landlock.h> does not matter.
 */
#include <sys/stat.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/landlock.h"

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset	444
#define SYS_landlock_add_rule		445
#define SYS_landlock_restrict_self	446
#endif

#define LL_CREATE_RULESET_VERSION	(1U << 0)
#define LL_RULE_PATH_BENEATH		1
#define LL_RULE_NET_PORT		2	/* ABI 4 */

#define LL_FS_EXECUTE		(1ULL << 0)
#define LL_FS_WRITE_FILE	(1ULL << 1)
#define LL_FS_READ_FILE		(1ULL << 2)
#define LL_FS_READ_DIR		(1ULL << 3)
#define LL_FS_ABI1		((1ULL << 13) - 1)	/* EXECUTE..MAKE_SYM */
#define LL_FS_REFER		(1ULL << 13)		/* ABI 2 */
#define LL_FS_TRUNCATE		(1ULL << 14)		/* ABI 3 */
#define LL_FS_IOCTL_DEV		(1ULL << 15)		/* ABI 5 */
/* the rights a rule on a file (not a directory) may carry */
#define LL_FS_FILE		(LL_FS_EXECUTE | LL_FS_WRITE_FILE | \
				 LL_FS_READ_FILE | LL_FS_TRUNCATE | LL_FS_IOCTL_DEV)
#define LL_FS_READ		(LL_FS_READ_FILE | LL_FS_READ_DIR)

#define LL_NET_BIND_TCP		(1ULL << 0)		/* ABI 4 */
#define LL_NET_CONNECT_TCP	(1ULL << 1)
#define LL_SCOPE_ABSTRACT_UNIX	(1ULL << 0)		/* ABI 6 */
#define LL_SCOPE_SIGNAL		(1ULL << 1)

#define LL_ATTR_SIZE_ABI1	8	/* handled_access_fs */
#define LL_ATTR_SIZE_ABI4	16	/* + handled_access_net */
#define LL_ATTR_SIZE_ABI6	24	/* + scoped */

struct ll_ruleset_attr {
	uint64_t	handled_access_fs;
	uint64_t	handled_access_net;
	uint64_t	scoped;
};

struct ll_path_beneath_attr {
	uint64_t	allowed_access;
	int32_t		parent_fd;
} __attribute__((packed));

struct ll_net_port_attr {
	uint64_t	allowed_access;
	uint64_t	port;
} __attribute__((packed));

int
landlock_abi(void)
{
	long	abi;

	abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LL_CREATE_RULESET_VERSION);
	if (abi <= 0)
		return 0;
	return (int)abi;
}

static uint64_t
fs_handled(int abi)
{
	uint64_t	fs = LL_FS_ABI1;

	if (abi >= 2)
		fs |= LL_FS_REFER;
	if (abi >= 3)
		fs |= LL_FS_TRUNCATE;
	if (abi >= 5)
		fs |= LL_FS_IOCTL_DEV;
	return fs;
}

int
landlock_confine(const struct landlock_rule *rules, size_t n, char *err,
    size_t errlen)
{
	return landlock_confine_net(rules, n, NULL, 0, err, errlen);
}

int
landlock_confine_net(const struct landlock_rule *rules, size_t n,
    const unsigned *ports, size_t nports, char *err, size_t errlen)
{
	struct ll_net_port_attr		np;
	struct ll_ruleset_attr		attr;
	struct ll_path_beneath_attr	pb;
	struct stat			st;
	size_t				i = 0, attr_size;
	int				abi, rfd = -1, fd = -1, e;

	if ((abi = landlock_abi()) == 0)
		return 0;
	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = fs_handled(abi);
	attr_size = LL_ATTR_SIZE_ABI1;
	if (abi >= 4) {
		attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
		attr_size = LL_ATTR_SIZE_ABI4;
	}
	if (abi >= 6) {
		attr.scoped = LL_SCOPE_ABSTRACT_UNIX | LL_SCOPE_SIGNAL;
		attr_size = LL_ATTR_SIZE_ABI6;
	}
	if ((rfd = (int)syscall(SYS_landlock_create_ruleset, &attr, attr_size,
	    0)) == -1) {
		snprintf(err, errlen, "landlock_create_ruleset: %s",
		    strerror(errno));
		goto fail;
	}
	for (i = 0; i < n; i++) {
		fd = rules[i].fd;
		if (fd == -1 && (fd = open(rules[i].path,
		    O_PATH | O_CLOEXEC)) == -1) {
			snprintf(err, errlen, "%s: %s", rules[i].path,
			    strerror(errno));
			goto fail;
		}
		if (fstat(fd, &st) == -1) {
			snprintf(err, errlen, "%s: fstat: %s", rules[i].path ?
			    rules[i].path : "rule", strerror(errno));
			goto fail;
		}
		memset(&pb, 0, sizeof(pb));
		pb.allowed_access = rules[i].writable ?
		    attr.handled_access_fs & ~LL_FS_EXECUTE : LL_FS_READ;
		if (!S_ISDIR(st.st_mode))
			pb.allowed_access &= LL_FS_FILE;
		pb.allowed_access &= attr.handled_access_fs;
		pb.parent_fd = fd;
		if (syscall(SYS_landlock_add_rule, rfd, LL_RULE_PATH_BENEATH,
		    &pb, 0) == -1) {
			snprintf(err, errlen, "landlock_add_rule %s: %s",
			    rules[i].path ? rules[i].path : "(fd)",
			    strerror(errno));
			goto fail;
		}
		if (fd != rules[i].fd)
			close(fd);
		fd = -1;
	}
	/* TCP connect to these ports only (ABI >= 4; before, TCP is free) */
	for (i = 0; abi >= 4 && i < nports; i++) {
		memset(&np, 0, sizeof(np));
		np.allowed_access = LL_NET_CONNECT_TCP;
		np.port = ports[i];
		if (syscall(SYS_landlock_add_rule, rfd, LL_RULE_NET_PORT, &np,
		    0) == -1) {
			snprintf(err, errlen, "landlock_add_rule port %u: %s",
			    ports[i], strerror(errno));
			goto fail;
		}
	}
	if (syscall(SYS_landlock_restrict_self, rfd, 0) == -1) {
		snprintf(err, errlen, "landlock_restrict_self: %s",
		    strerror(errno));
		goto fail;
	}
	close(rfd);
	return abi;

fail:
	e = errno;
	if (fd != -1 && (i >= n || fd != rules[i].fd))
		close(fd);
	if (rfd != -1)
		close(rfd);
	errno = e;
	return -1;
}
