/*
 * common/wipe.c: a signal frame saves the vector registers on the stack
 * (here an alternate stack, scanned after the handler returned).  After a
 * memcpy of a secret they hold its bytes (checked, where this CPU's memcpy
 * does so: the condition the wipe is for); after wipe_cpu_registers, and
 * after secret_enter ... secret_leave with the signal raised in between,
 * no 16 bytes of it are in the frame.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/wipe.h"

#define SECRET_LEN	256		/* glibc keeps the last 4 vectors */
#define ALTSTACK_LEN	(256 * 1024)	/* the frame, whatever the xsave size */
#define WINDOW		16		/* a register's smallest part */

static unsigned char	 secret[SECRET_LEN], copy[SECRET_LEN];
static unsigned char	*altstack;
static volatile sig_atomic_t handled;

/* not inlined: the library's copy, as the backend's */
static void *(*volatile copy_fn)(void *, const void *, size_t) = memcpy;

static void
on_usr1(int sig)
{
	handled = 1;
}

static int
setup(void **state)
{
	struct sigaction	sa;
	stack_t			ss;
	size_t			i;

	for (i = 0; i < SECRET_LEN; i++)	/* every 16-byte window distinct */
		secret[i] = (unsigned char)(i * 37 + 11);
	if ((altstack = malloc(ALTSTACK_LEN)) == NULL)
		return -1;
	ss.ss_sp = altstack;
	ss.ss_size = ALTSTACK_LEN;
	ss.ss_flags = 0;
	if (sigaltstack(&ss, NULL) == -1)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	return sigaction(SIGUSR1, &sa, NULL);
}

/* whether a 16-byte window of the secret is in the alternate stack */
static int
frame_holds_secret(void)
{
	size_t	i;

	for (i = 0; i + WINDOW <= SECRET_LEN; i++)
		if (memmem(altstack, ALTSTACK_LEN, secret + i, WINDOW) != NULL)
			return 1;
	return 0;
}

static void
copy_secret(void)
{
	memset(altstack, 0, ALTSTACK_LEN);
	handled = 0;
	copy_fn(copy, secret, SECRET_LEN);
}

static void
test_frame_without_wipe(void **state)
{
	copy_secret();
	raise(SIGUSR1);
	assert_int_equal(handled, 1);
	if (!frame_holds_secret())
		skip();		/* this memcpy leaves nothing in the registers */
}

static void
test_frame_after_wipe(void **state)
{
	copy_secret();
	wipe_cpu_registers();
	raise(SIGUSR1);
	assert_int_equal(handled, 1);
	assert_false(frame_holds_secret());
}

static void
test_signal_during_secret(void **state)
{
	sigset_t	saved, now;

	copy_secret();
	secret_enter(&saved);
	raise(SIGUSR1);			/* pending: blocked */
	assert_int_equal(handled, 0);
	secret_leave(&saved);		/* delivered here, registers cleared */
	assert_int_equal(handled, 1);
	assert_false(frame_holds_secret());
	/* the mask is the one before */
	pthread_sigmask(SIG_SETMASK, NULL, &now);
	assert_int_equal(sigismember(&now, SIGUSR1), 0);
	assert_int_equal(sigismember(&now, SIGTERM), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame_without_wipe),
		cmocka_unit_test(test_frame_after_wipe),
		cmocka_unit_test(test_signal_during_secret),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
