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
 * 2. seccomp-bpf (libseccomp): an allowlist (common/seccomp_base.c's base,
 *    shared with the git child, and the calls below) of the system calls the event
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
#include "common/seccomp_base.h"
#include "common/log.h"
#include "frontend/sandbox.h"

/*
 * The system calls allowed with any arguments beyond the base's
 * (common/seccomp_base.c): what was measured (release and ASan builds),
 * and epoll_pwait, libc's epoll_wait where there is no such call (arm64).
 * Of the base's, the frontend's uses: sendto, conn.c's own 413
 * (send(MSG_NOSIGNAL)); recvfrom, conn.c's http_peek (recv(MSG_PEEK),
 * HTTPS); lseek, libc's, once, under the systemd unit; fstat, of the
 * static files openat (below) opened.  futex: OpenSSL's locks in its
 * clean-up at exit (a release build with TLS was killed by SIGSYS at
 * SIGTERM, after its last log line).
 */
static const int sandbox_allowed[] = {
	/* the event loop, its sockets, the backend's (reconnecting) */
	SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_ctl),
	SCMP_SYS(accept4),
	SCMP_SYS(futex),
};

/* one rule with one argument pinned; a failure is davit's own bug */
static void
allow(scmp_filter_ctx ctx, int nr, const struct scmp_arg_cmp *cmp)
{
	char	err[128];

	if (seccomp_allow(ctx, nr, 1, cmp, err, sizeof(err)) == -1)
		fatalx("sandbox: %s", err);
}

static void
seccomp_enter(void)
{
	scmp_filter_ctx		ctx;
	struct scmp_arg_cmp	cmp;
	char			err[128];
	int			rc, thread_only;

	/*
	 * libseccomp knows SCMP_ACT_KILL_PROCESS only through the seccomp()
	 * call; where a service manager's own filter denies that call (and
	 * libseccomp falls back to prctl), kill the thread: the frontend has
	 * only one, so it dies of SIGSYS all the same.
	 */
	if ((ctx = seccomp_base_init(&thread_only)) == NULL)
		fatalx("%s: seccomp_init", __func__);
	if (thread_only)
		log_warnx("sandbox: no seccomp() call (a service manager's "
		    "filter?): the allowlist kills the thread");
	if (seccomp_base_add(ctx, err, sizeof(err)) == -1 ||
	    seccomp_allow_list(ctx, sandbox_allowed, sizeof(sandbox_allowed) /
	    sizeof(sandbox_allowed[0]), err, sizeof(err)) == -1)
		fatalx("%s: %s", __func__, err);
#ifdef SECCOMP_SANITIZER
	cmp = seccomp_arg(1, SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT, O_RDONLY);
	allow(ctx, SCMP_SYS(open), &cmp);	/* its /proc/self/... */
	cmp = seccomp_arg(1, SCMP_CMP_EQ, TCGETS, 0);	/* isatty(2) */
	allow(ctx, SCMP_SYS(ioctl), &cmp);
#endif
	cmp = seccomp_arg(0, SCMP_CMP_EQ, AF_UNIX, 0);
	allow(ctx, SCMP_SYS(socket), &cmp);
	cmp = seccomp_arg(1, SCMP_CMP_EQ, FIONREAD, 0);
	allow(ctx, SCMP_SYS(ioctl), &cmp);
	/* conn.c's plain-HTTP refusal on the HTTPS port: a duplicate socket */
	cmp = seccomp_arg(1, SCMP_CMP_EQ, F_DUPFD_CLOEXEC, 0);
	allow(ctx, SCMP_SYS(fcntl), &cmp);
	cmp = seccomp_arg(2, SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT, O_RDONLY);
	allow(ctx, SCMP_SYS(openat), &cmp);
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
#ifdef SECCOMP_SANITIZER
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
