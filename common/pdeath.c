/*
 * Parent death: a process started by davit-backend (the frontend, the git
 * child, compose) gets PDEATH_SIGNAL when the backend dies, so that a
 * kill -9 of the backend leaves nothing behind holding its port or its
 * workdir.
 *
 * Rules: the kernel sends the signal when the *thread* that forked exits,
 * so only the main thread forks (proc_start runs on the event loop).  The
 * setting is cleared by any change of credentials (setresuid, seteuid), so
 * it is armed after the drop, and a process that drops privileges itself
 * (the frontend) saves it at start and re-arms it after.  After arming,
 * getppid() is checked: a parent that died before the prctl is not waited
 * for.  A process whose starter did not arm it (systemd, a shell) is left
 * alone.
 */
#include <sys/prctl.h>

#include <signal.h>
#include <unistd.h>

#include "common/log.h"
#include "common/pdeath.h"

static int	pdeath_sig;	/* what the starter armed, 0: nothing */
static pid_t	pdeath_parent;

/* async-signal-safe: runs between fork and exec */
int
pdeath_arm(pid_t parent)
{
	if (prctl(PR_SET_PDEATHSIG, PDEATH_SIGNAL, 0, 0, 0) == -1)
		return -1;
	if (getppid() != parent)
		return -1;
	return 0;
}

void
pdeath_save(void)
{
	int	sig = 0;

	if (prctl(PR_GET_PDEATHSIG, &sig, 0, 0, 0) == -1)
		fatal("prctl(PR_GET_PDEATHSIG)");
	pdeath_sig = sig;
	pdeath_parent = getppid();
}

void
pdeath_rearm(void)
{
	if (pdeath_sig == 0)
		return;
	if (prctl(PR_SET_PDEATHSIG, pdeath_sig, 0, 0, 0) == -1)
		fatal("prctl(PR_SET_PDEATHSIG)");
	if (getppid() != pdeath_parent)
		fatalx("the process that started me (pid %d) is gone",
		    (int)pdeath_parent);
}
