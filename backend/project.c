/*
 * The project list (project.h) and the ops about projects: hello,
 * project.get, state.get, projects.list.
 */
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "backend/docker.h"
#include "backend/git.h"
#include "backend/project.h"
#include "common/json.h"
#include "common/log.h"

struct project_list	 projects = TAILQ_HEAD_INITIALIZER(projects);

int
project_name_valid(const char *name)
{
	size_t	i, len = strlen(name);

	if (len < 1 || len > PROTO_PROJECT_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		if ((name[i] >= 'a' && name[i] <= 'z') ||
		    (name[i] >= '0' && name[i] <= '9'))
			continue;
		if (i > 0 && name[i] == '-')
			continue;
		return 0;
	}
	return 1;
}

int
project_name_from_workdir(const char *workdir, char *out, size_t outlen)
{
	const char	*base, *end;
	size_t		 n = 0;
	char		 c;

	if (outlen < PROTO_PROJECT_NAME_MAX + 1)
		return -1;
	end = workdir + strlen(workdir);
	while (end > workdir && end[-1] == '/')
		end--;
	for (base = end; base > workdir && base[-1] != '/'; base--)
		;
	for (; base < end && n < PROTO_PROJECT_NAME_MAX; base++) {
		c = *base;
		if (c >= 'A' && c <= 'Z')
			c = c - 'A' + 'a';
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			c = '-';
		if (n == 0 && c == '-')
			continue;
		out[n++] = c;
	}
	out[n] = '\0';
	if (n == 0)
		memcpy(out, "app", sizeof("app"));
	return 0;
}

void
projects_init(void)
{
	struct project	*p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		fatal("%s", __func__);
	if (project_name_from_workdir(benv->cfg.workdir, p->name,
	    sizeof(p->name)) == -1)
		fatalx("%s: project name", __func__);
	p->cfg = &benv->cfg;
	TAILQ_INSERT_TAIL(&projects, p, entry);
}

void
projects_shutdown(void)
{
	struct project	*p;

	while ((p = TAILQ_FIRST(&projects)) != NULL) {
		TAILQ_REMOVE(&projects, p, entry);
		if (p->cfg_owned) {
			config_free(p->cfg);
			free(p->cfg);
		}
		free(p->state_dir);
		free(p->config_error);
		free(p);
	}
}

struct project *
project_find(const char *name)
{
	struct project	*p;

	TAILQ_FOREACH(p, &projects, entry)
		if (!p->removed && strcmp(p->name, name) == 0)
			return p;
	return NULL;
}

size_t
projects_count(void)
{
	struct project	*p;
	size_t		 n = 0;

	TAILQ_FOREACH(p, &projects, entry)
		if (!p->removed)
			n++;
	return n;
}

struct project *
project_only(void)
{
	struct project	*p, *only = NULL;

	TAILQ_FOREACH(p, &projects, entry) {
		if (p->removed)
			continue;
		if (only != NULL)
			return NULL;
		only = p;
	}
	return only;
}

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

/* every project, in list order, with its name (the rest: issue 13) */
int
op_projects_list(struct ctl_request *cr, yajl_gen g, struct proto_error *err)
{
	struct project	*p;

	yajl_gen_map_open(g);
	json_key(g, "projects");
	yajl_gen_array_open(g);
	TAILQ_FOREACH(p, &projects, entry) {
		if (p->removed)
			continue;
		yajl_gen_map_open(g);
		json_kstr(g, "name", p->name);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
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
	git_status_gen(g, cr->project);
	json_key(g, "services");
	docker_services_gen(g, cr->project);
	json_key(g, "jobs");
	jobs_list_gen(g);
	json_key(g, "deploys");
	deploys_list_gen(g, cr->project);
	yajl_gen_map_close(g);
	return CTL_DONE;
}
