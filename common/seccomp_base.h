/*
 * What every davit seccomp allowlist holds (common/seccomp_base.c): the
 * frontend's (frontend/sandbox.c) and the git child's (gitchild/sandbox.c)
 * start from it and add their own calls.
 */
#ifndef DAVIT_SECCOMP_BASE_H
#define DAVIT_SECCOMP_BASE_H

#include <stddef.h>

#include <seccomp.h>

/* an ASan build: the sanitizer runtime's calls are allowed too */
#if defined(__SANITIZE_ADDRESS__)
#define SECCOMP_SANITIZER	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SECCOMP_SANITIZER	1
#endif
#endif

/*
 * A filter that kills the process on any call not allowed, or, where the
 * seccomp() call is denied (a service manager's filter: libseccomp falls
 * back to prctl), the thread; *thread_only says which.  NULL: neither.
 */
scmp_filter_ctx	 seccomp_base_init(int *thread_only);
/* an argument comparison, all fields named (SCMP_A0's leaves one out) */
struct scmp_arg_cmp seccomp_arg(unsigned int arg, enum scmp_compare op,
		    scmp_datum_t a, scmp_datum_t b);
/* allow nr when the n comparisons hold; -1 with err set on failure */
int		 seccomp_allow(scmp_filter_ctx ctx, int nr, unsigned int n,
		    const struct scmp_arg_cmp *cmp, char *err, size_t errlen);
/* allow each of the n calls nrs[] with any arguments */
int		 seccomp_allow_list(scmp_filter_ctx ctx, const int *nrs,
		    size_t n, char *err, size_t errlen);
/*
 * The shared rules: the calls of the event loop's sockets, memory, time,
 * randomness, signals and exit; mmap and mprotect never executable and
 * tgkill only to this process (release builds); the sanitizer runtime's
 * calls (ASan builds, pipe refused so that no symbolizer is forked).
 */
int		 seccomp_base_add(scmp_filter_ctx ctx, char *err,
		    size_t errlen);

#endif
