/*
 * The frontend's own confinement, entered once it holds everything it
 * will ever open (the listener, its own or systemd's; the backend
 * connection; the www directory), after the drop to DAVIT_USER and
 * no_new_privs, before it reads the first byte from the network.  It holds
 * without systemd too, and under systemd it adds to the unit's filter.
 *
 * 1. Landlock (common/landlock.c): file access is limited to reading the
 *    www directory the frontend serves; TCP bind/connect are denied (ABI 4)
 *    and signals and abstract sockets scoped (ABI 6).  A kernel without
 *    Landlock is logged and the frontend goes on: seccomp still holds.
 * 2. seccomp-bpf (libseccomp): an allowlist of the system calls the event
 *    loop makes (measured with strace -f and SCMP_ACT_LOG under t_40,
 *    t_41, the browser tests and the system test), some with their
 *    arguments pinned: socket only AF_UNIX (reconnecting to the backend),
 *    ioctl only FIONREAD (libevent), openat only read-only (Landlock
 *    decides where), mmap and mprotect never executable, tgkill only to
 *    itself (abort).  Anything else kills the whole process
 *    (SCMP_ACT_KILL_PROCESS, SIGSYS): its supervisor (supervise.c, or
 *    systemd's Restart=) logs the signal and starts it again.
 *    /proc/PID/status then shows "Seccomp: 2".  Under a service manager
 *    whose own filter denies seccomp() or Landlock's calls (EPERM), this
 *    still works as well as it can (see seccomp_enter; davit's unit lets
 *    them through).
 * 3. Sanitizer builds (ASan/UBSan, the tests' build-asan) get what their
 *    runtime needs at exit and in a report: LeakSanitizer stops the world
 *    with a clone()d process that ptrace()s the others and reads
 *    /proc/self/{maps,task}; a report checks isatty and reads
 *    /proc/self/exe.  None of that is in a release build.
 *
 * With -Dsandbox_test_trigger=true (tests only; off by default, so never in
 * a release build) SIGUSR1 makes it try to open a file outside www and one
 * inside and log both results, and SIGUSR2 makes it call execve, which the
 * filter answers by killing it (tests/integration/t_43_frontend_sandbox.sh).
 */
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <seccomp.h>

#include "common/landlock.h"
#include "common/log.h"
#include "frontend/sandbox.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_SANITIZER	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_SANITIZER	1
#endif
#endif

/*
 * The system calls allowed with any arguments: what was measured (release
 * and ASan builds), and a few with no effect outside the process that libc
 * or libevent make on other paths (epoll_pwait: libc's epoll_wait where
 * there is no such call, e.g. arm64; getsockopt SO_ERROR: a connect to the
 * backend that did not complete at once; munmap, mremap, madvise: malloc's
 * large blocks; clock_gettime, gettimeofday: when the vDSO cannot answer;
 * rt_sigprocmask: abort).
 */
static const int sandbox_allowed[] = {
	/* the event loop, its sockets, the backend's (reconnecting) */
	SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_ctl),
	SCMP_SYS(accept4), SCMP_SYS(connect), SCMP_SYS(shutdown),
	SCMP_SYS(close), SCMP_SYS(read), SCMP_SYS(readv), SCMP_SYS(write),
	SCMP_SYS(lseek),	/* libc, once, measured under the systemd unit */
	SCMP_SYS(writev), SCMP_SYS(setsockopt),
	SCMP_SYS(sendto),	/* conn.c's own 413, send(MSG_NOSIGNAL) */
	SCMP_SYS(recvfrom),	/* conn.c's http_peek: recv(MSG_PEEK), HTTPS */
	SCMP_SYS(getsockopt), SCMP_SYS(getsockname), SCMP_SYS(getpeername),
	/* static files: openat below, fstat of what it opened */
	SCMP_SYS(fstat), SCMP_SYS(newfstatat),
	/* memory */
	SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise),
	/* time, randomness (libsodium), signals (SIGTERM, SIGINT), exit */
	SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday), SCMP_SYS(getrandom),
	SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigaction),
	SCMP_SYS(restart_syscall), SCMP_SYS(getpid),
	SCMP_SYS(exit), SCMP_SYS(exit_group),
};

#ifdef SANDBOX_SANITIZER
/*
 * measured: LeakSanitizer's StopTheWorld at exit (clone, ptrace, ...) and
 * an ASan report (isatty, readlink of /proc/self/exe, futex); its external
 * symbolizer is refused (pipe: EPERM, so no fork and exec), and the report
 * shows module+offset frames, for addr2line afterwards.
 */
static const int sandbox_sanitizer[] = {
	SCMP_SYS(clone), SCMP_SYS(ptrace), SCMP_SYS(wait4), SCMP_SYS(prctl),
	SCMP_SYS(getppid), SCMP_SYS(sched_yield), SCMP_SYS(getdents),
	SCMP_SYS(getdents64), SCMP_SYS(sigaltstack), SCMP_SYS(gettid),
	SCMP_SYS(mmap), SCMP_SYS(mprotect), SCMP_SYS(futex),
	SCMP_SYS(readlink),
};
#endif

static void
seccomp_add(scmp_filter_ctx ctx, int nr, unsigned int n,
    const struct scmp_arg_cmp *cmp)
{
	int	rc;

	if ((rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, n, cmp)) < 0)
		fatalx("%s: seccomp_rule_add %d: %s", __func__, nr, strerror(-rc));
}

/* an argument comparison, all fields named (SCMP_A0's leaves one out) */
static struct scmp_arg_cmp
arg_cmp(unsigned int arg, enum scmp_compare op, scmp_datum_t a,
    scmp_datum_t b)
{
	struct scmp_arg_cmp	cmp;

	cmp.arg = arg;
	cmp.op = op;
	cmp.datum_a = a;
	cmp.datum_b = b;
	return cmp;
}

static void
seccomp_enter(void)
{
	scmp_filter_ctx		ctx;
	struct scmp_arg_cmp	cmp;
	size_t			i;
	int			rc;

	/*
	 * libseccomp knows SCMP_ACT_KILL_PROCESS only through the seccomp()
	 * call; where a service manager's own filter denies that call (and
	 * libseccomp falls back to prctl), kill the thread: the frontend has
	 * only one, so it dies of SIGSYS all the same.
	 */
	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL) {
		log_warnx("sandbox: no seccomp() call (a service manager's "
		    "filter?): the allowlist kills the thread");
		if ((ctx = seccomp_init(SCMP_ACT_KILL_THREAD)) == NULL)
			fatalx("%s: seccomp_init", __func__);
	}
	for (i = 0; i < sizeof(sandbox_allowed) / sizeof(sandbox_allowed[0]);
	    i++)
		seccomp_add(ctx, sandbox_allowed[i], 0, NULL);
#ifdef SANDBOX_SANITIZER
	for (i = 0; i < sizeof(sandbox_sanitizer) /
	    sizeof(sandbox_sanitizer[0]); i++)
		seccomp_add(ctx, sandbox_sanitizer[i], 0, NULL);
	cmp = arg_cmp(1, SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT, O_RDONLY);
	seccomp_add(ctx, SCMP_SYS(open), 1, &cmp);	/* its /proc/self/... */
	cmp = arg_cmp(1, SCMP_CMP_EQ, TCGETS, 0);	/* isatty(2) */
	seccomp_add(ctx, SCMP_SYS(ioctl), 1, &cmp);
	if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(pipe),
	    0) < 0 || seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
	    SCMP_SYS(pipe2), 0) < 0)
		fatalx("%s: seccomp_rule_add pipe", __func__);
#else
	cmp = arg_cmp(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0);
	seccomp_add(ctx, SCMP_SYS(mmap), 1, &cmp);
	seccomp_add(ctx, SCMP_SYS(mprotect), 1, &cmp);
#endif
	cmp = arg_cmp(0, SCMP_CMP_EQ, AF_UNIX, 0);
	seccomp_add(ctx, SCMP_SYS(socket), 1, &cmp);
	cmp = arg_cmp(1, SCMP_CMP_EQ, FIONREAD, 0);
	seccomp_add(ctx, SCMP_SYS(ioctl), 1, &cmp);
	/* conn.c's plain-HTTP refusal on the HTTPS port: a duplicate socket */
	cmp = arg_cmp(1, SCMP_CMP_EQ, F_DUPFD_CLOEXEC, 0);
	seccomp_add(ctx, SCMP_SYS(fcntl), 1, &cmp);
	cmp = arg_cmp(2, SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT, O_RDONLY);
	seccomp_add(ctx, SCMP_SYS(openat), 1, &cmp);
	cmp = arg_cmp(0, SCMP_CMP_EQ, (scmp_datum_t)getpid(), 0);
	seccomp_add(ctx, SCMP_SYS(tgkill), 1, &cmp);
	if ((rc = seccomp_load(ctx)) < 0)
		fatalx("%s: seccomp_load: %s", __func__, strerror(-rc));
	seccomp_release(ctx);
}

#ifdef DAVIT_SANDBOX_TEST_TRIGGER
#define SANDBOX_TEST_OUTSIDE	"/etc/passwd"
#define SANDBOX_TEST_INSIDE	"index.html"

static int		 sandbox_www_fd = -1;
/* for the life of the process: kept (volatile: the stores stay), so that
 * LeakSanitizer does not count them lost */
static struct event	*volatile sandbox_ev_open, *volatile sandbox_ev_violate;

static void
sandbox_test_open(evutil_socket_t sig, short ev, void *arg)
{
	int	fd;

	if ((fd = open(SANDBOX_TEST_OUTSIDE, O_RDONLY | O_CLOEXEC)) == -1)
		log_warn("sandbox test: open %s", SANDBOX_TEST_OUTSIDE);
	else {
		log_warnx("sandbox test: open %s: allowed", SANDBOX_TEST_OUTSIDE);
		close(fd);
	}
	if ((fd = openat(sandbox_www_fd, SANDBOX_TEST_INSIDE,
	    O_RDONLY | O_CLOEXEC)) == -1)
		log_warn("sandbox test: open www/%s", SANDBOX_TEST_INSIDE);
	else {
		log_warnx("sandbox test: open www/%s: allowed",
		    SANDBOX_TEST_INSIDE);
		close(fd);
	}
}

static void
sandbox_test_violate(evutil_socket_t sig, short ev, void *arg)
{
	char	*const argv[] = { "true", NULL };

	log_warnx("sandbox test: calling execve, which the filter forbids");
	execve("/bin/true", argv, argv + 1);
	log_warn("sandbox test: execve returned");
}

static void
sandbox_test_trigger(struct event_base *base, int www_fd)
{
	sandbox_www_fd = www_fd;
	if ((sandbox_ev_open = evsignal_new(base, SIGUSR1, sandbox_test_open,
	    NULL)) == NULL || evsignal_add(sandbox_ev_open, NULL) == -1)
		fatalx("%s: SIGUSR1", __func__);
	if ((sandbox_ev_violate = evsignal_new(base, SIGUSR2,
	    sandbox_test_violate, NULL)) == NULL ||
	    evsignal_add(sandbox_ev_violate, NULL) == -1)
		fatalx("%s: SIGUSR2", __func__);
	log_warnx("sandbox test trigger built in (-Dsandbox_test_trigger): "
	    "SIGUSR1 probes files, SIGUSR2 calls execve");
}
#endif

void
sandbox_enter(struct event_base *base, int www_fd)
{
	struct landlock_rule	rules[2];
	char			err[256], what[64];
	size_t			n = 0;
	int			abi;

	if (www_fd != -1) {
		rules[n].fd = www_fd;
		rules[n].path = NULL;
		rules[n++].writable = 0;
	}
#ifdef SANDBOX_SANITIZER
	/* LeakSanitizer reads /proc/self/maps and lists /proc/self/task */
	rules[n].fd = -1;
	rules[n].path = "/proc/self";
	rules[n++].writable = 0;
#endif
	if ((abi = landlock_confine(rules, n, err, sizeof(err))) == -1)
		fatalx("sandbox: Landlock: %s", err);
	if (abi == 0) {
		log_warn("sandbox: no Landlock (not in this kernel, or a filter "
		    "denies it): file access not confined (seccomp still is)");
		snprintf(what, sizeof(what), "no Landlock: files not confined");
	} else
		snprintf(what, sizeof(what), "Landlock ABI %d: reading only the "
		    "www directory", abi);
#ifdef DAVIT_SANDBOX_TEST_TRIGGER
	sandbox_test_trigger(base, www_fd);
#endif
	seccomp_enter();
	log_info("sandbox: seccomp allowlist (violation kills), %s", what);
}
