/*
 * The CPU's copy of a secret.  memcpy and memmove move bytes through the
 * vector registers (glibc's AVX-512 routines hold the last 256 bytes they
 * copied in zmm16-zmm19), and these keep them until some later copy is as
 * long.  Whenever a signal is delivered, the kernel saves every register in
 * the signal frame, on the thread's stack, where they stay after the handler
 * returns: a wiped buffer's bytes come back in writable memory.
 *
 * So the code that handles a secret runs between secret_enter, which blocks
 * every signal for the thread (none can save registers while they hold it),
 * and secret_leave, which clears the vector registers, then restores the
 * mask: a signal that came in the meantime is delivered now, and saves
 * zeros.  Only the loop thread handles secrets; the others block every
 * signal (auth.c).
 */
#include <signal.h>
#include <pthread.h>

#include "wipe.h"

#if defined(__x86_64__)
__attribute__((target("avx512f"))) static void
wipe_avx512(void)
{
	/* vzeroall: zmm0-zmm15 entirely; zmm16-zmm31 are AVX-512's own */
	__asm__ volatile("vzeroall\n\t"
	    "vpxord %%zmm16, %%zmm16, %%zmm16\n\t"
	    "vpxord %%zmm17, %%zmm17, %%zmm17\n\t"
	    "vpxord %%zmm18, %%zmm18, %%zmm18\n\t"
	    "vpxord %%zmm19, %%zmm19, %%zmm19\n\t"
	    "vpxord %%zmm20, %%zmm20, %%zmm20\n\t"
	    "vpxord %%zmm21, %%zmm21, %%zmm21\n\t"
	    "vpxord %%zmm22, %%zmm22, %%zmm22\n\t"
	    "vpxord %%zmm23, %%zmm23, %%zmm23\n\t"
	    "vpxord %%zmm24, %%zmm24, %%zmm24\n\t"
	    "vpxord %%zmm25, %%zmm25, %%zmm25\n\t"
	    "vpxord %%zmm26, %%zmm26, %%zmm26\n\t"
	    "vpxord %%zmm27, %%zmm27, %%zmm27\n\t"
	    "vpxord %%zmm28, %%zmm28, %%zmm28\n\t"
	    "vpxord %%zmm29, %%zmm29, %%zmm29\n\t"
	    "vpxord %%zmm30, %%zmm30, %%zmm30\n\t"
	    "vpxord %%zmm31, %%zmm31, %%zmm31\n\t"
	    ::: "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6",
	    "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13",
	    "xmm14", "xmm15", "xmm16", "xmm17", "xmm18", "xmm19", "xmm20",
	    "xmm21", "xmm22", "xmm23", "xmm24", "xmm25", "xmm26", "xmm27",
	    "xmm28", "xmm29", "xmm30", "xmm31");
}

__attribute__((target("avx"))) static void
wipe_avx(void)
{
	__asm__ volatile("vzeroall" ::: "xmm0", "xmm1", "xmm2", "xmm3",
	    "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11",
	    "xmm12", "xmm13", "xmm14", "xmm15");
}

static void
wipe_sse(void)
{
	__asm__ volatile(
	    "pxor %%xmm0, %%xmm0\n\tpxor %%xmm1, %%xmm1\n\t"
	    "pxor %%xmm2, %%xmm2\n\tpxor %%xmm3, %%xmm3\n\t"
	    "pxor %%xmm4, %%xmm4\n\tpxor %%xmm5, %%xmm5\n\t"
	    "pxor %%xmm6, %%xmm6\n\tpxor %%xmm7, %%xmm7\n\t"
	    "pxor %%xmm8, %%xmm8\n\tpxor %%xmm9, %%xmm9\n\t"
	    "pxor %%xmm10, %%xmm10\n\tpxor %%xmm11, %%xmm11\n\t"
	    "pxor %%xmm12, %%xmm12\n\tpxor %%xmm13, %%xmm13\n\t"
	    "pxor %%xmm14, %%xmm14\n\tpxor %%xmm15, %%xmm15\n\t"
	    ::: "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6",
	    "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13",
	    "xmm14", "xmm15");
}
#endif

/* every vector register of the calling thread to zero */
void
wipe_cpu_registers(void)
{
#if defined(__x86_64__)
	/* the compiler's checks include the kernel's support (XCR0) */
	if (__builtin_cpu_supports("avx512f"))
		wipe_avx512();
	else if (__builtin_cpu_supports("avx"))
		wipe_avx();
	else
		wipe_sse();
#elif defined(__aarch64__)
	/* writing a V register zeroes the rest of its SVE Z register too */
	__asm__ volatile(
	    "movi v0.16b, #0\n\tmovi v1.16b, #0\n\tmovi v2.16b, #0\n\t"
	    "movi v3.16b, #0\n\tmovi v4.16b, #0\n\tmovi v5.16b, #0\n\t"
	    "movi v6.16b, #0\n\tmovi v7.16b, #0\n\tmovi v8.16b, #0\n\t"
	    "movi v9.16b, #0\n\tmovi v10.16b, #0\n\tmovi v11.16b, #0\n\t"
	    "movi v12.16b, #0\n\tmovi v13.16b, #0\n\tmovi v14.16b, #0\n\t"
	    "movi v15.16b, #0\n\tmovi v16.16b, #0\n\tmovi v17.16b, #0\n\t"
	    "movi v18.16b, #0\n\tmovi v19.16b, #0\n\tmovi v20.16b, #0\n\t"
	    "movi v21.16b, #0\n\tmovi v22.16b, #0\n\tmovi v23.16b, #0\n\t"
	    "movi v24.16b, #0\n\tmovi v25.16b, #0\n\tmovi v26.16b, #0\n\t"
	    "movi v27.16b, #0\n\tmovi v28.16b, #0\n\tmovi v29.16b, #0\n\t"
	    "movi v30.16b, #0\n\tmovi v31.16b, #0\n\t"
	    ::: "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9",
	    "v10", "v11", "v12", "v13", "v14", "v15", "v16", "v17", "v18",
	    "v19", "v20", "v21", "v22", "v23", "v24", "v25", "v26", "v27",
	    "v28", "v29", "v30", "v31");
#endif
}

/* no signal for the calling thread until secret_leave (saved: the mask) */
void
secret_enter(sigset_t *saved)
{
	sigset_t	all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, saved);
}

/* the registers cleared, then the signals back (pending ones arrive now) */
void
secret_leave(const sigset_t *saved)
{
	wipe_cpu_registers();
	pthread_sigmask(SIG_SETMASK, saved, NULL);
}
