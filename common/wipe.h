#ifndef DAVIT_WIPE_H
#define DAVIT_WIPE_H

#include <signal.h>

void	wipe_cpu_registers(void);
void	secret_enter(sigset_t *saved);
void	secret_leave(const sigset_t *saved);

#endif
