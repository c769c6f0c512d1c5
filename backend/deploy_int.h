/*
 * Private to the deploy pipeline (deploy.c: the steps, the ops, the job's
 * end; deploy_verify.c: the verify step and the rollback after a failed
 * one): one deploy, the job's argument.
 */
#ifndef DAVIT_DEPLOY_INT_H
#define DAVIT_DEPLOY_INT_H

#include <event2/event.h>

#include "backend/backend.h"
#include "backend/deploy.h"
#include "common/argv.h"

struct deploy {
	struct deploy_record	 rec;		/* what is published and stored */
	struct project		*p;
	struct deploy_project	*dp;		/* p->deploy; NULL once p is gone */
	int			 interrupted;	/* davit stopped before it ended */
	struct job		*job;
	long long		 step_started_ms;	/* monotonic */
	struct event		*verify_timer;
	long long		 verify_deadline_ms;	/* monotonic */
	long long		 verify_stable_ms;	/* ready, unchanged, since; 0 if not */
	unsigned long long	 verify_print;	/* the containers then */
	char			 verify_why[256];
	char			 runbuf[ARGV_MAX_LEN + 1];	/* DAVIT_DEPLOY_RUN's words */
	char			*run[ARGV_MAX_WORDS + 1];	/* NULL: none */
	int			 rollback;	/* putting the previous release back */
	int			 rolled_back;	/* and it runs again */
	char			 rb_why[256];	/* why the verify failed */
};

/* deploy.c */
/* the job ends: fmt NULL for a success, else its error */
void	 deploy_finish(struct job *j, const char *fmt, const char *arg);
void	 deploy_step_end(struct job *j, enum deploy_step step, int ok,
	    int skipped);

/* deploy_verify.c */
void	 deploy_verify_begin(struct deploy *d);
/* d->verify_timer's callback; arg is the job */
void	 deploy_verify_tick(evutil_socket_t fd, short ev, void *arg);

#endif /* DAVIT_DEPLOY_INT_H */
