/*
 * The jobs of the service and stack ops.  Start, stop and restart go
 * through the Engine API (docker_act.c), one service after the other, the
 * stack's in DAVIT_SERVICES' order; a failed service does not stop the
 * others.  Rebuilds go through compose (compose.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "backend/docker.h"
#include "backend/project.h"
#include "common/log.h"

/* the state of one service.* or stack.* job */
struct djob {
	struct job		*j;
	size_t			 idx;		/* stack: the service being acted on */
	int			 nfailed;
	char			 failed[PROTO_MAX_MESSAGE];
	char			 err[PROTO_MAX_MESSAGE];
	struct docker_act_run	*act;
};

static void
djob_free(void *arg)
{
	free(arg);
}

/* the job timed out between processes: an Engine API call is in flight */
static void
djob_cancel(struct job *j)
{
	struct djob	*d = j->arg;

	if (d->act != NULL)
		docker_act_cancel(d->act);
	d->act = NULL;
	j->cancel = NULL;
	job_done(j, -1, NULL);
}

static void	djob_act_next(struct djob *d);

static void
djob_act_done(struct job *j, int ok, const char *err)
{
	struct djob	*d = j->arg;
	const char	*svc = j->service != NULL ? j->service :
			    j->project->cfg->services[d->idx];
	size_t		 o;

	d->act = NULL;
	if (!ok) {
		if (d->nfailed++ == 0)
			snprintf(d->err, sizeof(d->err), "%s", err);
		o = strlen(d->failed);
		snprintf(d->failed + o, sizeof(d->failed) - o, "%s%s",
		    o > 0 ? ", " : "", svc);
	}
	d->idx++;
	djob_act_next(d);
}

static enum docker_act
op_act(enum proto_op_id op)
{
	switch (op) {
	case OP_SERVICE_START:
	case OP_STACK_START:
		return DA_START;
	case OP_SERVICE_STOP:
	case OP_STACK_STOP:
		return DA_STOP;
	default:
		return DA_RESTART;
	}
}

static void
djob_act_next(struct djob *d)
{
	struct job	*j = d->j;
	size_t		 n = j->service != NULL ? 1 : j->project->cfg->nservices;
	const char	*svc;

	if (d->idx >= n) {
		j->cancel = NULL;
		if (d->nfailed == 0)
			job_done(j, 0, NULL);
		else if (j->service != NULL)
			job_done(j, 1, "%s", d->err);
		else
			job_done(j, 1, "%s failed for %s (first: %s)",
			    docker_act_name(op_act(j->op)), d->failed, d->err);
		return;
	}
	svc = j->service != NULL ? j->service : j->project->cfg->services[d->idx];
	j->cancel = djob_cancel;
	d->act = docker_service_act(j, svc, op_act(j->op), djob_act_done);
}

static void
djob_rebuilt(struct job *j, const struct compose_result *r)
{
	char		 err[PROTO_MAX_MESSAGE];
	const char	*kind = j->op == OP_STACK_REBUILD ? "docker.stack_rebuild" :
			    "docker.rebuild";

	snprintf(err, sizeof(err), "%s", r->err[0] != '\0' ? r->err :
	    "compose failed");
	if (j->op == OP_STACK_REBUILD && !r->ok && r->untouched && !j->timed_out) {
		snprintf(err + strlen(err), sizeof(err) - strlen(err),
		    "; the running containers were left alone");
	}
	compose_audit(j, kind, j->service, r->ok ? "ok" : j->timed_out ?
	    "timed out" : err);
	if (r->ok)
		job_done(j, 0, NULL);
	else if (j->timed_out)
		job_done(j, -1, NULL);
	else
		job_done(j, 1, "%s", err);
}

void
docker_job_start(struct job *j)
{
	struct djob	*d;

	/* a reload may have changed the project's list since it was queued */
	if (j->service != NULL &&
	    !config_has_service(j->project->cfg, j->service)) {
		job_done(j, 1, "service \"%s\" is no longer in DAVIT_SERVICES",
		    j->service);
		return;
	}
	switch (j->op) {
	case OP_SERVICE_START:
	case OP_SERVICE_STOP:
	case OP_SERVICE_RESTART:
	case OP_STACK_START:
	case OP_STACK_STOP:
	case OP_STACK_RESTART:
		if ((d = calloc(1, sizeof(*d))) == NULL)
			fatal("%s", __func__);
		d->j = j;
		j->arg = d;
		j->arg_free = djob_free;
		djob_act_next(d);
		return;
	case OP_SERVICE_REBUILD:
		compose_rebuild(j, j->service, djob_rebuilt);
		return;
	case OP_STACK_REBUILD:
		compose_rebuild(j, NULL, djob_rebuilt);
		return;
	default:
		fatalx("%s: job %lld: op %d is not a Docker op", __func__, j->id,
		    (int)j->op);
	}
}

