/*
 * The base of every davit seccomp allowlist (common/seccomp_base.h): the
 * calls both confined programs make (measured under strace -f for each:
 * see frontend/sandbox.c and gitchild/sandbox.c), written once.  A call
 * goes here only if both need it; each sandbox adds its own, with the
 * arguments it pins.  Pure rule building: nothing is loaded here.
 */
#include <sys/mman.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/seccomp_base.h"

/*
 * With any arguments: what both programs were measured to call, and a
 * few with no effect outside the process that libc makes on other paths
 * (munmap, mremap, madvise: malloc's large blocks; clock_gettime,
 * gettimeofday: when the vDSO cannot answer; rt_sigprocmask: abort).
 */
static const int seccomp_base_allowed[] = {
	/* descriptors and sockets: what each program opened before */
	SCMP_SYS(close), SCMP_SYS(read), SCMP_SYS(readv), SCMP_SYS(write),
	SCMP_SYS(writev), SCMP_SYS(lseek), SCMP_SYS(connect),
	SCMP_SYS(shutdown), SCMP_SYS(sendto), SCMP_SYS(recvfrom),
	SCMP_SYS(setsockopt), SCMP_SYS(getsockopt), SCMP_SYS(getsockname),
	SCMP_SYS(getpeername), SCMP_SYS(fstat), SCMP_SYS(newfstatat),
	/* memory */
	SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise),
	/* time, randomness (libsodium), signals, exit */
	SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday), SCMP_SYS(getrandom),
	SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(rt_sigaction), SCMP_SYS(restart_syscall), SCMP_SYS(getpid),
	SCMP_SYS(exit), SCMP_SYS(exit_group),
};

#ifdef SECCOMP_SANITIZER
/*
 * measured: LeakSanitizer's StopTheWorld at exit (clone, ptrace, ...) and
 * an ASan report (readlink of /proc/self/exe, futex); its external
 * symbolizer is refused (pipe: EPERM, so no fork and exec), and a report
 * shows module+offset frames, for addr2line afterwards.
 */
static const int seccomp_base_sanitizer[] = {
	SCMP_SYS(clone), SCMP_SYS(ptrace), SCMP_SYS(wait4), SCMP_SYS(prctl),
	SCMP_SYS(getppid), SCMP_SYS(sched_yield), SCMP_SYS(getdents),
	SCMP_SYS(getdents64), SCMP_SYS(sigaltstack), SCMP_SYS(gettid),
	SCMP_SYS(mmap), SCMP_SYS(mprotect), SCMP_SYS(futex),
	SCMP_SYS(readlink),
};
#endif

scmp_filter_ctx
seccomp_base_init(int *thread_only)
{
	scmp_filter_ctx	ctx;

	*thread_only = 0;
	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) != NULL)
		return ctx;
	*thread_only = 1;
	return seccomp_init(SCMP_ACT_KILL_THREAD);
}

struct scmp_arg_cmp
seccomp_arg(unsigned int arg, enum scmp_compare op, scmp_datum_t a,
    scmp_datum_t b)
{
	struct scmp_arg_cmp	cmp;

	cmp.arg = arg;
	cmp.op = op;
	cmp.datum_a = a;
	cmp.datum_b = b;
	return cmp;
}

int
seccomp_allow(scmp_filter_ctx ctx, int nr, unsigned int n,
    const struct scmp_arg_cmp *cmp, char *err, size_t errlen)
{
	int	rc;

	if ((rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, n,
	    cmp)) < 0) {
		snprintf(err, errlen, "seccomp_rule_add %d: %s", nr,
		    strerror(-rc));
		return -1;
	}
	return 0;
}

int
seccomp_allow_list(scmp_filter_ctx ctx, const int *nrs, size_t n, char *err,
    size_t errlen)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (seccomp_allow(ctx, nrs[i], 0, NULL, err, errlen) == -1)
			return -1;
	return 0;
}

int
seccomp_base_add(scmp_filter_ctx ctx, char *err, size_t errlen)
{
	struct scmp_arg_cmp	cmp;

	if (seccomp_allow_list(ctx, seccomp_base_allowed,
	    sizeof(seccomp_base_allowed) / sizeof(seccomp_base_allowed[0]),
	    err, errlen) == -1)
		return -1;
#ifdef SECCOMP_SANITIZER
	if (seccomp_allow_list(ctx, seccomp_base_sanitizer,
	    sizeof(seccomp_base_sanitizer) / sizeof(seccomp_base_sanitizer[0]),
	    err, errlen) == -1)
		return -1;
	if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(pipe),
	    0) < 0 || seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
	    SCMP_SYS(pipe2), 0) < 0) {
		snprintf(err, errlen, "seccomp_rule_add pipe");
		return -1;
	}
#else
	/* never executable memory made here (a file's mapping: see callers) */
	cmp = seccomp_arg(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0);
	if (seccomp_allow(ctx, SCMP_SYS(mmap), 1, &cmp, err, errlen) == -1 ||
	    seccomp_allow(ctx, SCMP_SYS(mprotect), 1, &cmp, err, errlen) == -1)
		return -1;
#endif
	/* abort()'s signal, to this process only */
	cmp = seccomp_arg(0, SCMP_CMP_EQ, (scmp_datum_t)getpid(), 0);
	return seccomp_allow(ctx, SCMP_SYS(tgkill), 1, &cmp, err, errlen);
}
