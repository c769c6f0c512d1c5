/*
 * The git child's own confinement, entered in two steps (main.c), both
 * before libgit2 starts or anything touches the checkout or the network:
 * the seccomp filter right after the drop to the checkout's owner and
 * no_new_privs (drop.c), before the request line is read (a spare child,
 * backend/git_spare.c, waits for it confined); Landlock once the request
 * (the root parent's) has named the workdir and origin, which its rules
 * need.
 *
 * 1. Landlock (common/landlock.c), for good:
 *    - read-write: the workdir (objects, index, refs, the checked-out
 *      files); a clone's missing workdir is made first (an empty directory
 *      is what the parent takes for "clone here" too), so that its parent
 *      directory stays out of reach;
 *    - read-only: a file:// origin's repository; the owner's git config
 *      (~/.gitconfig, ~/.config/git) and /etc/gitconfig, which libgit2
 *      reads; for https the CA bundle (or directory); for ssh the owner's
 *      ~/.ssh (keys, known_hosts), /etc/ssh/ssh_known_hosts and
 *      /etc/ssl/openssl.cnf (libssh2's libcrypto); for
 *      network URLs what getaddrinfo reads (/etc/hosts, resolv.conf,
 *      nsswitch.conf, host.conf, gai.conf) and the library directories
 *      (NSS modules it may dlopen); /etc/localtime; /dev/urandom;
 *      /dev/null read-write;
 *    - TCP connect only to origin's port and 53 (DNS over TCP), bind never
 *      (ABI 4); signals and abstract sockets scoped (ABI 6).
 *    Paths missing here are skipped.  A kernel without Landlock is logged
 *    in the job's log and the child goes on: seccomp still holds.
 * 2. seccomp-bpf (libseccomp): an allowlist measured with strace -f under
 *    t_30, t_31 (its https server runs mbedTLS's handshake up to the
 *    certificate check), t_32, t_33 and t_60 (ASan build; t_30 and t_31
 *    then pass against a release build too) and a name lookup through
 *    nsswitch's modules and DNS by hand; no ssh server there, so libssh2's
 *    calls are not measured.  Arguments pinned where that is simple:
 *    socket only AF_UNIX, AF_INET, AF_INET6, AF_NETLINK (getaddrinfo's
 *    address sorting), mmap and mprotect never make anonymous memory
 *    executable (a file mapping may be: an NSS module, read through
 *    Landlock), ioctl only FIONREAD,
 *    FIONBIO, TCGETS, tgkill only to itself, clone only for a thread
 *    (libgit2's pack builder has threads; clone3, whose flags a filter
 *    cannot see, gets ENOSYS and glibc falls back to clone).  No execve,
 *    no fork, no ptrace: anything else kills the process
 *    (SCMP_ACT_KILL_PROCESS, SIGSYS), and the backend fails the job with
 *    "the git child was killed by signal 31".
 *    /proc/PID/status shows "Seccomp: 2".  davit-backend.service lets
 *    seccomp() and Landlock's calls through systemd's own filter for it.
 * 3. Sanitizer builds (build-asan) get what their runtime needs, as the
 *    frontend's (frontend/sandbox.c); none of it in a release build.
 *
 * With -Dsandbox_test_trigger=true (tests only, never a release build) the
 * file .git/davit-sandbox-test in the workdir makes the child, once
 * confined, act on its first word: "probe [PORT]" logs the result of
 * opening a file outside the allowed set (/etc/passwd) and one inside
 * (.git/HEAD), and of a TCP connection to 127.0.0.1:PORT (not origin's);
 * "violate" calls execve, which the filter answers by killing it
 * (tests/integration/t_34_git_sandbox.sh).
 */
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <seccomp.h>

#include "common/landlock.h"
#include "common/seccomp_base.h"
#include "common/log.h"
#include "gitchild/gitchild.h"

#define GC_SANDBOX_MAX_RULES	32
#define GC_SANDBOX_MAX_PORTS	2
#define GC_DNS_PORT		53

/* read by getaddrinfo and the NSS modules it may load */
static const char *const gc_sandbox_resolver[] = {
	"/etc/hosts", "/etc/resolv.conf", "/etc/nsswitch.conf",
	"/etc/host.conf", "/etc/gai.conf", "/etc/ld.so.cache",
	"/lib", "/usr/lib", "/lib64",
};

/*
 * The system calls allowed with any arguments beyond the base's
 * (common/seccomp_base.c): what strace showed, and a few libc makes on
 * other paths (epoll_pwait, poll's ppoll).
 */
static const int gc_sandbox_allowed[] = {
	/* files: Landlock decides which */
	SCMP_SYS(openat), SCMP_SYS(open), SCMP_SYS(pread64), SCMP_SYS(pwrite64),
	SCMP_SYS(stat), SCMP_SYS(lstat),
	SCMP_SYS(statx), SCMP_SYS(access), SCMP_SYS(faccessat),
	SCMP_SYS(faccessat2), SCMP_SYS(readlink), SCMP_SYS(readlinkat),
	SCMP_SYS(getdents64), SCMP_SYS(getcwd), SCMP_SYS(fcntl),
	SCMP_SYS(mkdir), SCMP_SYS(mkdirat), SCMP_SYS(rmdir),
	SCMP_SYS(unlink), SCMP_SYS(unlinkat), SCMP_SYS(rename),
	SCMP_SYS(renameat), SCMP_SYS(renameat2), SCMP_SYS(link),
	SCMP_SYS(linkat), SCMP_SYS(symlink), SCMP_SYS(symlinkat),
	SCMP_SYS(chmod), SCMP_SYS(fchmod), SCMP_SYS(fchmodat),
	SCMP_SYS(ftruncate), SCMP_SYS(fsync), SCMP_SYS(fdatasync),
	SCMP_SYS(utimensat), SCMP_SYS(umask), SCMP_SYS(dup), SCMP_SYS(dup2),
	SCMP_SYS(dup3),
	/* the network, beyond the base's (stream.c, libssh2) */
	SCMP_SYS(sendmsg), SCMP_SYS(recvmsg), SCMP_SYS(sendmmsg),
	SCMP_SYS(bind), SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(select),
	SCMP_SYS(pselect6),
	/* identity, the alarms */
	SCMP_SYS(alarm), SCMP_SYS(setitimer), SCMP_SYS(gettid),
	SCMP_SYS(getuid), SCMP_SYS(geteuid), SCMP_SYS(getgid),
	SCMP_SYS(getegid), SCMP_SYS(uname), SCMP_SYS(sysinfo),
	/*
	 * threads: libgit2's pack builder (a file:// fetch) starts one per
	 * CPU (sched_getaffinity); clone only with CLONE_THREAD, below
	 */
	SCMP_SYS(futex), SCMP_SYS(set_robust_list), SCMP_SYS(rseq),
	SCMP_SYS(sched_getaffinity), SCMP_SYS(sched_yield),
	/* Landlock, entered after this filter: it only confines further */
	SCMP_SYS(landlock_create_ruleset), SCMP_SYS(landlock_add_rule),
	SCMP_SYS(landlock_restrict_self),
};

struct gc_rules {
	struct landlock_rule	 r[GC_SANDBOX_MAX_RULES];
	size_t			 n;
};

/* a rule for path if it exists (opened here, O_PATH; closed by the caller) */
static void
gc_rule(struct gc_rules *rs, const char *path, int writable)
{
	int	fd;

	if (rs->n == GC_SANDBOX_MAX_RULES)
		fatalx("%s: more than %d rules", __func__, GC_SANDBOX_MAX_RULES);
	if ((fd = open(path, O_PATH | O_CLOEXEC)) == -1)
		return;		/* missing: nothing to read there */
	rs->r[rs->n].fd = fd;
	rs->r[rs->n].path = NULL;
	rs->r[rs->n++].writable = writable;
}

static void
gc_rule_home(struct gc_rules *rs, const char *rel, int writable)
{
	char	path[PATH_MAX];

	if (gc.home[0] == '\0' || (size_t)snprintf(path, sizeof(path), "%s/%s",
	    gc.home, rel) >= sizeof(path))
		return;
	gc_rule(rs, path, writable);
}

/* a file:// origin's path: "file:///srv/x.git" or "file://localhost/..." */
static void
gc_rule_file_origin(struct gc_rules *rs, const char *url)
{
	const char	*p;

	if (!gc_prefix(url, "file://"))
		return;
	p = url + strlen("file://");
	if (gc_prefix(p, "localhost/"))
		p += strlen("localhost");
	if (*p == '/')
		gc_rule(rs, p, 0);
}

static int
gc_landlock(void)
{
	struct gc_rules		 rs;
	struct gc_authority	 osrv;
	struct stat		 st;
	unsigned		 ports[GC_SANDBOX_MAX_PORTS];
	char			 err[256];
	size_t			 i, nports = 0;
	int			 abi, network, rv = -1;

	memset(&rs, 0, sizeof(rs));
	/* file:// has no authority: no network at all */
	network = gc.req.url != NULL && gc_url_authority(gc.req.url, &osrv) == 0;
	/* a clone's place: made here, so that the rule is the workdir alone */
	if (gc.req.op == GC_CLONE && stat(gc.req.workdir, &st) == -1 &&
	    errno == ENOENT && mkdir(gc.req.workdir, 0777) == -1) {
		gc_fail("unavailable", 0, "cannot create DAVIT_WORKDIR %s: %s",
		    gc.req.workdir, strerror(errno));
		return -1;
	}
	gc_rule(&rs, gc.req.workdir, 1);
	if (rs.n == 0) {
		gc_fail("unavailable", 0, "DAVIT_WORKDIR %s: %s", gc.req.workdir,
		    strerror(errno));
		return -1;
	}
	if (gc.req.url != NULL)
		gc_rule_file_origin(&rs, gc.req.url);
	gc_rule_home(&rs, ".gitconfig", 0);
	gc_rule_home(&rs, ".config/git", 0);
	gc_rule(&rs, "/etc/gitconfig", 0);
	gc_rule(&rs, "/dev/null", 1);
	gc_rule(&rs, "/dev/urandom", 0);
	gc_rule(&rs, "/etc/localtime", 0);	/* the reflog's time zone */
	if (network) {
		for (i = 0; i < sizeof(gc_sandbox_resolver) /
		    sizeof(gc_sandbox_resolver[0]); i++)
			gc_rule(&rs, gc_sandbox_resolver[i], 0);
		ports[nports++] = osrv.port;
		if (osrv.port != GC_DNS_PORT)
			ports[nports++] = GC_DNS_PORT;
	}
	if (network && strcmp(osrv.scheme, "https") == 0) {
		if (access(GC_CERT_FILE, R_OK) == 0)
			gc_rule(&rs, GC_CERT_FILE, 0);
		else {
			gc_rule(&rs, GC_CERT_DIR, 0);
			/* where its links lead */
			gc_rule(&rs, "/usr/share/ca-certificates", 0);
			gc_rule(&rs, "/usr/local/share/ca-certificates", 0);
		}
	}
	if (network && strcmp(osrv.scheme, "ssh") == 0) {
		gc_rule_home(&rs, ".ssh", 0);
		gc_rule(&rs, "/etc/ssh/ssh_known_hosts", 0);
		/* libssh2's libcrypto reads its configuration (not measured:
		 * the tests have no ssh server) */
		gc_rule(&rs, "/etc/ssl/openssl.cnf", 0);
	}
#ifdef SECCOMP_SANITIZER
	/* LeakSanitizer reads /proc/self/maps and lists /proc/self/task */
	gc_rule(&rs, "/proc/self", 0);
#endif
	if ((abi = landlock_confine_net(rs.r, rs.n, ports, nports, err,
	    sizeof(err))) == -1) {
		gc_fail("internal", 0, "sandbox: Landlock: %s", err);
		goto done;
	}
	if (abi == 0)
		gc_log("sandbox: no Landlock in this kernel (or a filter denies "
		    "it): file access not confined, seccomp still is");
	rv = 0;
 done:
	for (i = 0; i < rs.n; i++)
		close(rs.r[i].fd);
	return rv;
}

static int
gc_seccomp(void)
{
	static const int	 families[] = {
		AF_UNIX, AF_INET, AF_INET6, AF_NETLINK
	};
	static const unsigned long ioctls[] = { FIONREAD, FIONBIO, TCGETS };
	scmp_filter_ctx		 ctx;
	struct scmp_arg_cmp	 cmp;
	char			 err[128];
	size_t			 i;
	int			 rc, rv = -1, thread_only;

	if ((ctx = seccomp_base_init(&thread_only)) == NULL) {
		gc_fail("internal", 0, "sandbox: seccomp_init failed");
		return -1;
	}
	if (seccomp_base_add(ctx, err, sizeof(err)) == -1 ||
	    seccomp_allow_list(ctx, gc_sandbox_allowed,
	    sizeof(gc_sandbox_allowed) / sizeof(gc_sandbox_allowed[0]), err,
	    sizeof(err)) == -1)
		goto fail;
#ifndef SECCOMP_SANITIZER
	/* a file's mapping may be executable (dlopen), never anonymous memory */
	cmp = seccomp_arg(3, SCMP_CMP_MASKED_EQ, MAP_ANONYMOUS, 0);
	if (seccomp_allow(ctx, SCMP_SYS(mmap), 1, &cmp, err, sizeof(err)) == -1)
		goto fail;
	/* a thread, never a process (fork): clone3's flags are out of reach */
	cmp = seccomp_arg(0, SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD);
	if (seccomp_allow(ctx, SCMP_SYS(clone), 1, &cmp, err,
	    sizeof(err)) == -1)
		goto fail;
#endif
	for (i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		cmp = seccomp_arg(0, SCMP_CMP_EQ, families[i], 0);
		if (seccomp_allow(ctx, SCMP_SYS(socket), 1, &cmp, err,
		    sizeof(err)) == -1)
			goto fail;
	}
	for (i = 0; i < sizeof(ioctls) / sizeof(ioctls[0]); i++) {
		cmp = seccomp_arg(1, SCMP_CMP_EQ, ioctls[i], 0);
		if (seccomp_allow(ctx, SCMP_SYS(ioctl), 1, &cmp, err,
		    sizeof(err)) == -1)
			goto fail;
	}
	/* glibc's pthread_create falls back to clone on ENOSYS */
	if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3),
	    0) < 0) {
		snprintf(err, sizeof(err), "seccomp_rule_add clone3");
		goto fail;
	}
	if ((rc = seccomp_load(ctx)) < 0) {
		gc_fail("internal", 0, "sandbox: seccomp_load: %s", strerror(-rc));
		goto done;
	}
	rv = 0;
	goto done;
 fail:
	gc_fail("internal", 0, "sandbox: %s", err);
 done:
	seccomp_release(ctx);
	return rv;
}

#ifdef DAVIT_SANDBOX_TEST_TRIGGER
#define GC_SANDBOX_TEST_FILE	".git/davit-sandbox-test"
#define GC_SANDBOX_TEST_OUTSIDE	"/etc/passwd"
#define GC_SANDBOX_TEST_INSIDE	".git/HEAD"

/* path: absolute, or in the workdir */
static void
gc_sandbox_probe(const char *path)
{
	char	full[PATH_MAX];
	int	fd;

	if (path[0] == '/')
		gc_strlcpy(full, path, sizeof(full));
	else
		snprintf(full, sizeof(full), "%s/%s", gc.req.workdir, path);
	if ((fd = open(full, O_RDONLY | O_CLOEXEC)) == -1)
		gc_log("sandbox test: open %s: %s", path, strerror(errno));
	else {
		gc_log("sandbox test: open %s: allowed", path);
		close(fd);
	}
}

/* a TCP connection to 127.0.0.1:port, which Landlock denies (EACCES) */
static void
gc_sandbox_probe_port(const char *arg)
{
	struct sockaddr_in	 sin;
	char			*end;
	long			 port;
	int			 fd;

	port = strtol(arg, &end, 10);
	if (end == arg || port <= 0 || port > 65535)
		return;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		gc_log("sandbox test: socket: %s", strerror(errno));
		return;
	}
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		gc_log("sandbox test: connect to port %ld: %s", port,
		    strerror(errno));
	else
		gc_log("sandbox test: connect to port %ld: allowed", port);
	close(fd);
}

static void
gc_sandbox_test(void)
{
	char	 path[PATH_MAX], word[32];
	char	*const argv[] = { "true", NULL };
	ssize_t	 n;
	int	 fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", gc.req.workdir,
	    GC_SANDBOX_TEST_FILE) >= sizeof(path) ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return;
	n = read(fd, word, sizeof(word) - 1);
	close(fd);
	if (n <= 0)
		return;
	word[n] = '\0';
	if (strncmp(word, "probe", 5) == 0) {
		gc_sandbox_probe(GC_SANDBOX_TEST_OUTSIDE);
		gc_sandbox_probe(GC_SANDBOX_TEST_INSIDE);
		gc_sandbox_probe_port(word + 5);
	} else if (strncmp(word, "violate", 7) == 0) {
		gc_log("sandbox test: calling execve, which the filter forbids");
		execve("/bin/true", argv, argv + 1);
		gc_log("sandbox test: execve returned: %s", strerror(errno));
	}
}
#endif

/* the system calls: nothing of the request's, so before it is read */
int
gc_sandbox_syscalls(void)
{
	return gc_seccomp();
}

/* the paths and ports: the request's workdir and origin */
int
gc_sandbox_paths(void)
{
	if (gc_landlock() == -1)
		return -1;
#ifdef DAVIT_SANDBOX_TEST_TRIGGER
	gc_sandbox_test();
#endif
	return 0;
}
