/*
 * The frontend's own confinement (frontend/sandbox.c): Landlock to its www
 * directory, then a seccomp-bpf allowlist that kills on violation.
 */
#ifndef DAVIT_FRONTEND_SANDBOX_H
#define DAVIT_FRONTEND_SANDBOX_H

struct event_base;

/* after the drop and no_new_privs, before the first network input */
void	sandbox_enter(struct event_base *, int www_fd);

#endif
