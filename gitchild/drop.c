/*
 * The drop: exec'd as root (so that the checkout's owner cannot attach to
 * it yet), the child makes itself undumpable and refuses to run traced,
 * becomes UID and GID for good (one group, no way back to root, checked
 * with getresuid and getresgid), hardens itself again and sets
 * no_new_privs, all before it reads the token.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "gitchild/gitchild.h"

/*
 * No core dumps, no ptrace by the owner's other processes: the token will
 * be here.  Called as root before the drop, and again after it (changing
 * uids resets the dumpable flag to fs.suid_dumpable).
 */
static int
gc_harden(void)
{
	struct rlimit	 rl = { 0, 0 };
	FILE		*f;
	char		*line = NULL;
	size_t		 cap = 0;
	int		 traced = 0;

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1 ||
	    prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0 ||
	    setrlimit(RLIMIT_CORE, &rl) == -1)
		return -1;
	if ((f = fopen("/proc/self/status", "re")) != NULL) {
		while (getline(&line, &cap, f) != -1)
			if (strncmp(line, "TracerPid:", 10) == 0 &&
			    strtol(line + 10, NULL, 10) != 0)
				traced = 1;
		free(line);
		fclose(f);
	}
	return traced ? -1 : 0;
}

/* a uid or gid from argv: decimal, not root's, not -1 */
int
gc_parse_id(const char *s, unsigned *out)
{
	unsigned long	v = 0;
	const char	*p;

	if (*s == '\0' || strlen(s) > 10)
		return -1;
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p - '0');
	}
	if (v == 0 || v >= (unsigned long)(uid_t)-1)
		return -1;
	*out = (unsigned)v;
	return 0;
}

/*
 * Exec'd as root (so that the owner cannot attach to it yet), the child
 * hardens itself, then becomes the owner of DAVIT_WORKDIR for good, and
 * checks it, before it reads the token or touches the repository.
 */
int
gc_drop(uid_t uid, gid_t gid)
{
	uid_t	ruid, euid, suid;
	gid_t	rgid, egid, sgid;

	if (gc_harden() == -1) {
		gc_fail("internal", 0, "cannot protect the git child (ptrace or "
		    "core dumps)");
		return -1;
	}
	if (geteuid() != uid) {
		if (setgroups(1, &gid) == -1 ||
		    setresgid(gid, gid, gid) == -1 ||
		    setresuid(uid, uid, uid) == -1) {
			gc_fail("internal", 0, "the git child cannot become uid %u "
			    "gid %u: %s", (unsigned)uid, (unsigned)gid,
			    strerror(errno));
			return -1;
		}
	}
	if (getresuid(&ruid, &euid, &suid) == -1 ||
	    getresgid(&rgid, &egid, &sgid) == -1 ||
	    ruid != uid || euid != uid || suid != uid ||
	    rgid != gid || egid != gid || sgid != gid ||
	    setuid(0) != -1) {
		gc_fail("internal", 0, "the git child did not become uid %u gid %u",
		    (unsigned)uid, (unsigned)gid);
		return -1;
	}
	if (gc_harden() == -1 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		gc_fail("internal", 0, "cannot protect the git child (ptrace or "
		    "core dumps)");
		return -1;
	}
	return 0;
}
