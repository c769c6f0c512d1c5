/*
 * A child that must not outlive the process that started it: the parent
 * death signal, armed in the child after fork and re-armed after a
 * credential change (which clears it).  See common/pdeath.c.
 */
#ifndef DAVIT_PDEATH_H
#define DAVIT_PDEATH_H

#include <sys/types.h>

#define PDEATH_SIGNAL	SIGTERM	/* to the child when its parent dies */

int	pdeath_arm(pid_t parent);	/* in the child, after fork; -1: parent gone */
void	pdeath_save(void);		/* at start, before any credential change */
void	pdeath_rearm(void);		/* after the drop; fatal if the parent is gone */

#endif
