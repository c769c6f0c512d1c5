/*
 * Docker's ops (services.list, service.*, stack.*) and the lifecycle of
 * the Docker concern: the transport (docker_engine.c), the services' state
 * (docker_state.c), the actions (docker_act.c) and compose (compose.c).
 * The jobs the ops queue run in docker_jobs.c.
 */
#include <stdio.h>

#include "backend/backend.h"
#include "backend/docker.h"
#include "backend/docker_engine.h"
#include "backend/project.h"
#include "common/log.h"

int
op_services_list(struct ctl_request *cr, yajl_gen g, struct proto_error *err)
{
	docker_services_gen(g, cr->project);
	return CTL_DONE;
}

/* what an op needs before it is queued: the engine, and compose for rebuilds */
static int
op_available(enum proto_op_id op, struct proto_error *err)
{
	char	why[DOCKER_ERR_LEN];

	if ((op == OP_SERVICE_REBUILD || op == OP_STACK_REBUILD) &&
	    compose_available(why, sizeof(why)) == -1) {
		proto_seterr(err, PE_UNAVAILABLE, "no compose command: %s", why);
		return -1;
	}
	if (docker_engine_down(why, sizeof(why))) {
		proto_seterr(err, PE_UNAVAILABLE, "the Docker engine is unreachable: %s",
		    why);
		return -1;
	}
	return 0;
}

int
op_service_action(struct ctl_request *cr, yajl_gen g, struct proto_error *err)
{
	const char	*service = proto_arg_str(&cr->req, "service");

	/* the table checked its characters; davit checks that it manages it */
	if (service == NULL || !config_has_service(cr->project->cfg, service)) {
		proto_seterr(err, PE_NOT_ALLOWED, "service \"%s\" is not in "
		    "DAVIT_SERVICES", service != NULL ? service : "");
		return CTL_FAIL;
	}
	if (op_available(cr->req.op->id, err) == -1)
		return CTL_FAIL;
	return jobs_submit(cr->project, &cr->req, docker_job_start, NULL, NULL, g, err);
}

int
op_stack_action(struct ctl_request *cr, yajl_gen g, struct proto_error *err)
{
	if (op_available(cr->req.op->id, err) == -1)
		return CTL_FAIL;
	return jobs_submit(cr->project, &cr->req, docker_job_start, NULL, NULL, g, err);
}

/* --------------------------------------------------------- lifecycle -- */

void
docker_init(void)
{
	docker_engine_init();
	docker_state_init();
	compose_detect();
	log_debug("docker: socket %s", benv->cfg.docker_socket);
}

void
docker_shutdown(void)
{
	compose_shutdown();
	docker_act_shutdown();
	docker_engine_shutdown();
	docker_state_shutdown();
}
