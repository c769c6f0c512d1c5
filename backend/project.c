/*
 * The project list (project.h) and the ops about projects: hello,
 * project.get, state.get, projects.list.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "backend/deploy.h"
#include "backend/docker.h"
#include "backend/github_api.h"
#include "backend/git.h"
#include "backend/project.h"
#include "common/json.h"
#include "common/log.h"

#ifndef nitems
#define nitems(_a)	(sizeof((_a)) / sizeof((_a)[0]))
#endif

struct project_list	 projects = TAILQ_HEAD_INITIALIZER(projects);

int
project_name_valid(const char *name)
{
	return config_project_name_valid(name);
}

int
project_name_from_workdir(const char *workdir, char *out, size_t outlen)
{
	return config_project_name_from_workdir(workdir, out, outlen);
}

/*
 * Each concern's per-project hooks: add when a project joins the list
 * (at start, after every concern's init, by projects_start(); at a reload
 * for a new or changed project), remove before it leaves (a reload
 * removed or changed it, or the shutdown).
 *
 * Added in this order, removed in the reverse: GitHub's token waiters are
 * git runs, which git_project_remove drops; a deploy uses git and Docker.
 */
struct project_hook {
	const char	*concern;
	void		(*add)(struct project *);
	void		(*remove)(struct project *);
};
static const struct project_hook project_hooks[] = {
	{ "github",	github_project_add,	github_project_remove },
	{ "docker",	docker_project_add,	docker_project_remove },
	{ "git",	git_project_add,	git_project_remove },
	{ "deploy",	deploy_project_add,	deploy_project_remove },
	{ NULL, NULL, NULL }	/* the end */
};

/*
 * A single-project install's history moves into its project's directory
 * (once: the files of the old layout directly in DAVIT_STATE_DIR).
 */
#define PROJECT_STATE_MIGRATE	1
/* what DAVIT_STATE_DIR held before it held a directory per project */
static const char *const project_state_files[] = {
	"deploys.jsonl", "deployed-commit",
};

static void	 projects_insert(struct project *);
static struct project	*project_removed(const char *);

static void
project_hooks_add(struct project *p)
{
	size_t	 i;

	for (i = 0; project_hooks[i].concern != NULL; i++)
		project_hooks[i].add(p);
}

static void
project_hooks_remove(struct project *p)
{
	size_t	 i;

	for (i = 0; project_hooks[i].concern != NULL; i++)
		;
	for (; i > 0; i--)
		project_hooks[i - 1].remove(p);
}

/* a directory root writes in: made with mode, else root's alone; 0 or -1 */
static int
project_mkdir(const char *what, const char *dir, mode_t mode)
{
	struct stat	 st;
	char		 err[CONFIG_ERR_LEN + PATH_MAX];

	if (lstat(dir, &st) == -1) {
		if (errno != ENOENT || mkdir(dir, mode) == -1) {
			log_warn("%s %s", what, dir);
			return -1;
		}
		return 0;
	}
	if (config_root_dir(what, dir, &st, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		return -1;
	}
	return 0;
}

/*
 * Single-project mode, once: the files of the old layout directly in
 * DAVIT_STATE_DIR move into DAVIT_STATE_DIR/NAME/, where they now live;
 * one already there is left alone (and the old one with it).
 */
static void
project_state_migrate(const struct project *p)
{
	struct stat	 st;
	char		 from[PATH_MAX], to[PATH_MAX];
	size_t		 i;

	for (i = 0; i < nitems(project_state_files); i++) {
		snprintf(from, sizeof(from), "%s/%s", benv->cfg.state_dir,
		    project_state_files[i]);
		snprintf(to, sizeof(to), "%s/%s", p->state_dir,
		    project_state_files[i]);
		if (lstat(from, &st) == -1 || !S_ISREG(st.st_mode))
			continue;
		if (lstat(to, &st) == 0) {
			log_warnx("%s: %s is there already: %s is left where it "
			    "is", p->name, to, from);
			continue;
		}
		if (rename(from, to) == -1)
			log_warn("%s: rename %s to %s", p->name, from, to);
		else
			log_info("project %s: %s moved to %s", p->name, from, to);
	}
}

/* a new project from its configuration (c->cfg taken, or the main one) */
static struct project *
project_new(struct project_conf *c)
{
	struct project	*p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		fatal("%s", __func__);
	memcpy(p->name, c->name, sizeof(p->name));
	memcpy(p->path, c->path, sizeof(p->path));
	if (c->cfg != NULL) {
		p->cfg = c->cfg;
		p->cfg_owned = 1;
		c->cfg = NULL;
	} else
		p->cfg = &benv->cfg;
	if (asprintf(&p->state_dir, "%s/%s", benv->cfg.state_dir,
	    p->name) == -1)
		fatal("%s", __func__);
	if (project_mkdir("DAVIT_STATE_DIR", benv->cfg.state_dir, 0750) == -1 ||
	    project_mkdir("the project's state directory", p->state_dir,
	    0700) == -1)
		log_warnx("project %s: no state directory: its history is not "
		    "kept", p->name);
	jobs_project_add(p);
	return p;
}

static void
project_free(struct project *p)
{
	jobs_project_remove(p);
	if (p->cfg_owned) {
		config_free(p->cfg);
		free(p->cfg);
	}
	if (p->next_cfg != NULL) {
		config_free(p->next_cfg);
		free(p->next_cfg);
	}
	free(p->state_dir);
	free(p->config_error);
	free(p);
}

static void
projects_log_errors(const struct config_errors *errs)
{
	char	 err[CONFIG_ERR_LEN + 512];
	size_t	 i;

	for (i = 0; i < errs->n; i++) {
		config_error_str(&errs->e[i], err, sizeof(err));
		log_warnx("%s", err);
	}
	if (errs->dropped > 0)
		log_warnx("%zu more problems not shown", errs->dropped);
}

void
projects_init(void)
{
	struct project_confs	 pc;
	struct project		*p;
	size_t			 i, n = 0;

	if (project_confs_read(benv->config_path, &benv->cfg, &pc) == -1) {
		projects_log_errors(&pc.errs);
		for (i = 0; i < pc.n; i++) {
			projects_log_errors(pc.v[i].errs);
			n += pc.v[i].errs->n + pc.v[i].errs->dropped;
		}
		n += pc.errs.n + pc.errs.dropped;
		fatalx("%zu problem%s in the projects' configuration, not "
		    "started (davit-backend --check-config %s lists them)", n,
		    n == 1 ? "" : "s", benv->config_path);
	}
	for (i = 0; i < pc.n; i++) {
		p = project_new(&pc.v[i]);
		if (p->cfg_owned)
			config_protect(p->cfg);
		else if (PROJECT_STATE_MIGRATE)
			project_state_migrate(p);
		projects_insert(p);
		log_info("project %s: %s, %zu services", p->name, p->path,
		    p->cfg->nservices);
	}
	project_confs_free(&pc);
}

void
projects_start(void)
{
	struct project	*p;

	TAILQ_FOREACH(p, &projects, entry)
		project_hooks_add(p);
}

void
projects_shutdown(void)
{
	struct project	*p;

	while ((p = TAILQ_FIRST(&projects)) != NULL) {
		TAILQ_REMOVE(&projects, p, entry);
		project_hooks_remove(p);
		project_free(p);
	}
}

/* into the list in name order (projects.list's) */
static void
projects_insert(struct project *p)
{
	struct project	*q;

	TAILQ_FOREACH(q, &projects, entry)
		if (strcmp(q->name, p->name) > 0) {
			TAILQ_INSERT_BEFORE(q, p, entry);
			return;
		}
	TAILQ_INSERT_TAIL(&projects, p, entry);
}

/* the configuration p runs with from now on; the old one freed */
static void
project_set_cfg(struct project *p, struct davit_config *cfg, int owned)
{
	project_hooks_remove(p);
	if (p->cfg_owned) {
		config_free(p->cfg);
		free(p->cfg);
	}
	p->cfg = cfg;
	p->cfg_owned = owned;
	if (owned)
		config_protect(cfg);
	project_hooks_add(p);
	log_info("project %s: new configuration from %s", p->name, p->path);
}

/* p runs and waits for nothing: a removal or a new configuration now */
static void
project_idle(struct project *p)
{
	if (p->removed) {
		TAILQ_REMOVE(&projects, p, entry);
		project_hooks_remove(p);
		log_info("project %s: removed, its last job over", p->name);
		project_free(p);
		return;
	}
	if (p->next_cfg != NULL) {
		project_set_cfg(p, p->next_cfg, 1);
		p->next_cfg = NULL;
	}
}

void
projects_settle(void)
{
	struct project	*p, *next;

	for (p = TAILQ_FIRST(&projects); p != NULL; p = next) {
		next = TAILQ_NEXT(p, entry);
		if ((p->removed || p->next_cfg != NULL) && jobs_project_quiet(p))
			project_idle(p);	/* may free p */
	}
}

static void
project_seterror(struct project *p, const char *msg)
{
	free(p->config_error);
	p->config_error = NULL;
	if (msg != NULL && (p->config_error = strdup(msg)) == NULL)
		fatal("%s", __func__);
}

/* a reload's removal: no new work at once, freed when its job ends */
static void
project_remove(struct project *p)
{
	log_info("project %s: removed by the reload", p->name);
	p->removed = 1;
	jobs_project_drop_queued(p);
	if (jobs_project_quiet(p))
		project_idle(p);
}

/*
 * A reload's reading of one project that exists: a bad file keeps the
 * last good configuration with the error shown; a changed one replaces
 * it, now or once the project runs and waits for nothing (a waiting job,
 * a queued deploy, was made with the old one's state).  1 if anything
 * changed.
 */
static int
project_update(struct project *p, struct project_conf *c,
    struct davit_config *newmain)
{
	struct davit_config	*cfg;
	char			 msg[CONFIG_ERR_LEN + 512], key[CONFIG_ERR_KEY];
	int			 had_error = p->config_error != NULL;

	if (!c->ok) {
		project_conf_error(c, msg, sizeof(msg));
		log_warnx("project %s: %s: keeping the last good configuration",
		    p->name, msg);
		project_seterror(p, msg);
		return 1;
	}
	project_seterror(p, NULL);
	/* single-project mode: the main file's reading is the project's */
	cfg = c->cfg != NULL ? c->cfg : newmain;
	if (config_diff(p->cfg, cfg, 1, key, sizeof(key)) == 0 &&
	    strcmp(p->path, c->path) == 0)
		return had_error;
	log_info("project %s: %s changed (%s...)", p->name, c->path, key);
	if (c->cfg != NULL)
		c->cfg = NULL;		/* taken */
	else if ((cfg = calloc(1, sizeof(*cfg))) == NULL)
		fatal("%s", __func__);
	else {
		*cfg = *newmain;	/* taken whole: newmain is zeroed */
		memset(newmain, 0, sizeof(*newmain));
	}
	if (p->next_cfg != NULL) {
		config_free(p->next_cfg);
		free(p->next_cfg);
		p->next_cfg = NULL;
	}
	memcpy(p->path, c->path, sizeof(p->path));
	p->next_cfg = cfg;
	if (jobs_project_quiet(p))
		project_idle(p);
	return 1;
}

/* the main file's global keys: a change needs a restart (but TLS, audit) */
static void
projects_globals_changed(const struct davit_config *newmain)
{
	char	 key[CONFIG_ERR_KEY];
	size_t	 n;

	if ((n = config_diff(&benv->cfg, newmain, 0, key, sizeof(key))) > 0)
		log_warnx("SIGHUP: %zu global key%s changed (%s...): that needs "
		    "a restart (only the TLS files and the audit log are "
		    "re-read)", n, n == 1 ? "" : "s", key);
}

void
projects_reload(void)
{
	struct davit_config	*newmain;
	struct config_errors	*errs;
	struct project_confs	 pc;
	struct project		*p, *next;
	yajl_gen		 g;
	size_t			 i;
	int			 changed = 0;
	extern char		**environ;

	if ((newmain = calloc(1, sizeof(*newmain))) == NULL ||
	    (errs = calloc(1, sizeof(*errs))) == NULL)
		fatal("%s", __func__);
	if (config_load_all(benv->config_path, environ, newmain, errs) == -1) {
		projects_log_errors(errs);
		log_warnx("SIGHUP: %s has problems: the projects are left as "
		    "they are", benv->config_path);
		goto done;
	}
	if (newmain->multi != benv->cfg.multi) {
		log_warnx("SIGHUP: %s: DAVIT_WORKDIR %s: that needs a restart",
		    benv->config_path, newmain->multi ? "removed" : "added");
		goto done;
	}
	projects_globals_changed(newmain);
	(void)project_confs_read(benv->config_path, newmain, &pc);
	projects_log_errors(&pc.errs);
	/* gone */
	for (p = TAILQ_FIRST(&projects); p != NULL; p = next) {
		next = TAILQ_NEXT(p, entry);
		if (p->removed)
			continue;
		for (i = 0; i < pc.n; i++)
			if (strcmp(pc.v[i].name, p->name) == 0)
				break;
		if (i == pc.n) {
			project_remove(p);
			changed = 1;
		}
	}
	/* changed, new */
	for (i = 0; i < pc.n; i++) {
		if ((p = project_find(pc.v[i].name)) != NULL) {
			changed |= project_update(p, &pc.v[i], newmain);
			continue;
		}
		if (pc.v[i].ok && (p = project_removed(pc.v[i].name)) != NULL) {
			/* back while its last job runs: the same project */
			log_info("project %s: back from %s before its last job "
			    "ended", p->name, pc.v[i].path);
			p->removed = 0;
			(void)project_update(p, &pc.v[i], newmain);
			changed = 1;
			continue;
		}
		if (!pc.v[i].ok) {
			project_conf_error(&pc.v[i], errs->e[0].msg,
			    sizeof(errs->e[0].msg));
			log_warnx("project %s: not added: %s", pc.v[i].name,
			    errs->e[0].msg);
			continue;
		}
		if (pc.v[i].cfg == NULL) {	/* single mode, renamed */
			if ((pc.v[i].cfg = calloc(1, sizeof(*newmain))) == NULL)
				fatal("%s", __func__);
			*pc.v[i].cfg = *newmain;
			memset(newmain, 0, sizeof(*newmain));
		}
		p = project_new(&pc.v[i]);
		config_protect(p->cfg);
		projects_insert(p);
		project_hooks_add(p);
		log_info("project %s: added from %s", p->name, p->path);
		changed = 1;
	}
	project_confs_free(&pc);
	if (changed) {
		g = events_begin(EV_PROJECTS_CHANGED);
		yajl_gen_map_open(g);
		yajl_gen_map_close(g);
		events_publish(g);
	}
 done:
	config_free(newmain);
	free(newmain);
	free(errs);
}

/*
 * A project a reload removed whose last job still runs: a later reload
 * that finds its file again takes it back, rather than a second project
 * of that name beside it (the same state directory, compose project and
 * deploy ids).
 */
static struct project *
project_removed(const char *name)
{
	struct project	*p;

	TAILQ_FOREACH(p, &projects, entry)
		if (p->removed && strcmp(p->name, name) == 0)
			return p;
	return NULL;
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
project_gen(yajl_gen g, const struct project *p)
{
	const struct davit_config	*cfg = p->cfg;
	char				 repo[2048];
	size_t				 i;

	config_repo_display(cfg, repo, sizeof(repo));
	yajl_gen_map_open(g);
	json_kstr(g, "name", p->name);
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
	project_gen(g, cr->project);
	return CTL_DONE;
}

/* projects.list's view of p beyond its configuration, from each concern */
static void
project_summary_fill(const struct project *p, struct project_summary *s)
{
	const char	*local = NULL, *origin = NULL, *state = NULL, *why;
	long long	 id = 0, ms = 0;
	int		 upd = -1, running = -1, total = -1;

	git_project_summary(p, &local, &origin, &upd);
	if (local != NULL)
		snprintf(s->local, sizeof(s->local), "%s", local);
	if (origin != NULL)
		snprintf(s->origin, sizeof(s->origin), "%s", origin);
	s->update_available = upd;
	docker_project_counts(p, &running, &total);
	s->running = running;
	if (total >= 0)
		s->total = total;
	deploy_project_last(p, &id, &state, &ms);
	if (id > 0) {
		s->deploy_id = id;
		snprintf(s->deploy_state, sizeof(s->deploy_state), "%s",
		    state != NULL ? state : "");
		s->deploy_ms = ms;
	}
	/* the first problem to fix first: the file, the checkout, the engine */
	if (p->config_error != NULL)
		why = p->config_error;
	else if ((why = project_last_error_git(p)) == NULL)
		why = project_last_error_docker(p);
	if (why != NULL)
		snprintf(s->error, sizeof(s->error), "%s", why);
}

static void
project_summary_gen(yajl_gen g, const struct project *p)
{
	struct project_summary	 s;
	char			 repo[2048];

	memset(&s, 0, sizeof(s));
	s.update_available = s.running = -1;
	s.deploy_id = -1;
	s.total = (int)p->cfg->nservices;
	project_summary_fill(p, &s);

	config_repo_display(p->cfg, repo, sizeof(repo));
	yajl_gen_map_open(g);
	json_kstr(g, "name", p->name);
	json_kstr(g, "repo", repo[0] != '\0' ? repo : NULL);
	json_kstr(g, "branch", p->cfg->branch);
	json_kstr(g, "local", s.local[0] != '\0' ? s.local : NULL);
	json_kstr(g, "origin", s.origin[0] != '\0' ? s.origin : NULL);
	json_key(g, "update_available");
	if (s.update_available == -1)
		yajl_gen_null(g);
	else
		yajl_gen_bool(g, s.update_available);
	json_key(g, "services");
	yajl_gen_map_open(g);
	json_key(g, "running");
	if (s.running == -1)
		yajl_gen_null(g);
	else
		yajl_gen_integer(g, s.running);
	json_kint(g, "total", s.total);
	yajl_gen_map_close(g);
	json_key(g, "last_deploy");
	if (s.deploy_id == -1)
		yajl_gen_null(g);
	else {
		yajl_gen_map_open(g);
		json_kint(g, "id", s.deploy_id);
		json_kstr(g, "state", s.deploy_state);
		json_ktime(g, "time", s.deploy_ms);
		yajl_gen_map_close(g);
	}
	json_kstr(g, "error", s.error[0] != '\0' ? s.error : NULL);
	yajl_gen_map_close(g);
}

/* every live project, in name order */
int
op_projects_list(struct ctl_request *cr, yajl_gen g, struct proto_error *err)
{
	struct project	*p;

	yajl_gen_map_open(g);
	json_key(g, "projects");
	yajl_gen_array_open(g);
	TAILQ_FOREACH(p, &projects, entry)
		if (!p->removed)
			project_summary_gen(g, p);
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
	project_gen(g, cr->project);
	json_key(g, "git");
	git_status_gen(g, cr->project);
	json_key(g, "services");
	docker_services_gen(g, cr->project);
	json_key(g, "jobs");
	jobs_list_gen(g, cr->project);
	json_key(g, "deploys");
	deploys_list_gen(g, cr->project);
	yajl_gen_map_close(g);
	return CTL_DONE;
}
