/*
 * hello and project.get: what any peer may know about this davit.
 */
#include "backend/backend.h"
#include "backend/docker.h"
#include "backend/git.h"
#include "common/json.h"

int
op_hello(struct ctl_request *cr, yajl_gen g, struct proto_error *err)
{
	yajl_gen_map_open(g);
	json_kint(g, "protocol", PROTO_VERSION);
	json_kstr(g, "version", DAVIT_VERSION);
	json_kstr(g, "role", cr->caller == PROTO_CALLER_ROOT ? "root" : "frontend");
	yajl_gen_map_close(g);
	return CTL_DONE;
}

void
project_gen(yajl_gen g)
{
	const struct davit_config	*cfg = &benv->cfg;
	char				 repo[2048];
	size_t				 i;

	config_repo_display(cfg, repo, sizeof(repo));
	yajl_gen_map_open(g);
	json_kstr(g, "repo", repo[0] != '\0' ? repo : NULL);
	json_kstr(g, "github_repo", cfg->github_repo);
	json_kstr(g, "branch", cfg->branch);
	json_kstr(g, "workdir", cfg->workdir);
	json_key(g, "services");
	yajl_gen_array_open(g);
	for (i = 0; i < cfg->nservices; i++)
		json_str(g, cfg->services[i]);
	yajl_gen_array_close(g);
	json_kstr(g, "compose_project", cfg->compose_project);
	json_kbool(g, "webhook", cfg->webhook_secret != NULL);
	json_kint(g, "poll_interval", cfg->poll_interval);
	yajl_gen_map_close(g);
}

int
op_project_get(struct ctl_request *cr, yajl_gen g, struct proto_error *err)
{
	project_gen(g);
	return CTL_DONE;
}

/* the dashboard's whole state in one reply: each part as its own op has it */
int
op_state_get(struct ctl_request *cr, yajl_gen g, struct proto_error *err)
{
	yajl_gen_map_open(g);
	json_key(g, "project");
	project_gen(g);
	json_key(g, "git");
	git_status_gen(g);
	json_key(g, "services");
	docker_services_gen(g);
	json_key(g, "jobs");
	jobs_list_gen(g);
	json_key(g, "deploys");
	deploys_list_gen(g);
	yajl_gen_map_close(g);
	return CTL_DONE;
}
