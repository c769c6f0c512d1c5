/*
 * Git, the parent's side: what the backend knows of the checkout and how
 * the rest of it asks for git.  Every libgit2 operation runs in davit-git
 * ("davit-git --git-child UID GID", gitchild/), a small program of its own
 * that drops itself to the uid and gid of DAVIT_WORKDIR's owner (never
 * root: a checkout, or a clone's place, that belongs to root is refused
 * with the chown that fixes it, shown as the git.status error) and gets
 * the token on its stdin; davit-backend does not link libgit2.
 * git_run.c starts those children, validates their lines and retries
 * transient failures.  This file keeps each project's last git.status in
 * memory (struct git_project, p->git; answered from there), offers the
 * fetch and pull steps and the git.fetch and git.pull jobs, polls each
 * project's origin every DAVIT_POLL_INTERVAL seconds (its own) and
 * publishes git.state with the project's name.  Every project key is read
 * from p->cfg, never from benv->cfg.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "backend/backend.h"
#include "backend/project.h"
#include "backend/git.h"
#include "backend/git_run.h"
#include "backend/github_api.h"
#include "gitchild/wire.h"
#include "common/json.h"
#include "common/log.h"
#include "common/text.h"

char	*git_child_exe;

void
git_commit_clear(struct git_commit *c)
{
	free(c->summary);
	free(c->author);
	memset(c, 0, sizeof(*c));
}

void
git_view_clear(struct git_view *v)
{
	size_t	i;

	free(v->branch);
	git_commit_clear(&v->local);
	git_commit_clear(&v->remote);
	for (i = 0; i < v->nincoming; i++)
		git_commit_clear(&v->incoming[i]);
	for (i = 0; i < v->ndirty; i++)
		free(v->dirty[i]);
	memset(v, 0, sizeof(*v));
}

void
git_files_free(struct git_file *files, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(files[i].path);
		free(files[i].old_path);
	}
	free(files);
}

static void
commit_gen(yajl_gen g, const struct git_commit *c)
{
	if (!c->present) {
		yajl_gen_null(g);
		return;
	}
	yajl_gen_map_open(g);
	json_kstr(g, "id", c->id);
	json_kstr(g, "summary", c->summary);
	json_kstr(g, "author", c->author);
	json_ktime(g, "time", c->time * 1000);
	yajl_gen_map_close(g);
}

void
git_files_gen(yajl_gen g, const struct git_file *files, size_t n)
{
	size_t	i;

	yajl_gen_array_open(g);
	for (i = 0; i < n; i++) {
		yajl_gen_map_open(g);
		json_kstr(g, "status", files[i].status);
		json_kstr(g, "path", files[i].path);
		if (files[i].old_path != NULL)
			json_kstr(g, "old_path", files[i].old_path);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
}

void
git_status_gen(yajl_gen g, const struct project *p)
{
	const struct git_project	*gp = p->git;
	const struct git_view		*v = &gp->view;
	size_t				 i;

	yajl_gen_map_open(g);
	json_kstr(g, "project", p->name);
	json_kstr(g, "branch", v->branch);
	json_key(g, "local");
	commit_gen(g, &v->local);
	json_key(g, "remote");
	commit_gen(g, &v->remote);
	json_kint(g, "ahead", v->ahead);
	json_kint(g, "behind", v->behind);
	json_kbool(g, "update_available", v->behind > 0 || gp->origin_moved);
	json_key(g, "incoming");
	yajl_gen_array_open(g);
	for (i = 0; i < v->nincoming; i++)
		commit_gen(g, &v->incoming[i]);
	yajl_gen_array_close(g);
	json_key(g, "dirty");
	yajl_gen_array_open(g);
	for (i = 0; i < v->ndirty; i++)
		json_str(g, v->dirty[i]);
	yajl_gen_array_close(g);
	json_kint(g, "dirty_total", v->dirty_total);
	json_kbool(g, "detached", v->detached);
	json_ktime(g, "fetched_at", gp->fetched_ms);
	json_ktime(g, "polled_at", gp->polled_ms);
	json_kstr(g, "polled_id", gp->polled_id[0] != '\0' ? gp->polled_id : NULL);
	json_kstr(g, "error", gp->error);
	json_key(g, "auth");
	github_auth_gen(g, p);
	yajl_gen_map_close(g);
}

void
git_publish(struct project *p)
{
	yajl_gen	g;

	if (p->git == NULL)
		return;		/* github_api.c's news of a project being made */
	g = events_begin(EV_GIT_STATE);
	git_status_gen(g, p);
	events_publish(g);
}

void
git_set_error(struct git_project *gp, const char *fmt, ...)
{
	char	buf[PROTO_MAX_MESSAGE];
	va_list	ap;

	free(gp->error);
	gp->error = NULL;
	if (fmt == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	gp->error = xstrdup(buf);
}

const char *
git_head_id(const struct project *p)
{
	const struct git_view	*v = &p->git->view;

	return v->local.present ? v->local.id : NULL;
}

const char *
git_remote_id(const struct project *p)
{
	const struct git_view	*v = &p->git->view;

	return v->remote.present ? v->remote.id : NULL;
}

void
git_project_summary(const struct project *p, const char **local,
    const char **origin, int *update_available)
{
	const struct git_project	*gp = p->git;

	*local = git_head_id(p);
	*origin = gp->polled_id[0] != '\0' ? gp->polled_id : git_remote_id(p);
	*update_available = gp->view.behind > 0 || gp->origin_moved;
}

const char *
project_last_error_git(const struct project *p)
{
	return p->git != NULL ? p->git->error : NULL;
}

/* ------------------------------------------------------------ the steps -- */

/* a job's git step: a run of op, with a clone first where there is none */
static void
git_step(struct job *j, enum gc_op op, enum git_run_kind kind,
    git_step_done done)
{
	struct git_run	*r;

	r = git_run_new(j->project, git_needs_clone(j->project) ? GC_CLONE : op,
	    kind, j);
	r->done = done;
	git_run_try(r);
}

void
git_fetch_step(struct job *j, git_step_done done)
{
	git_step(j, GC_FETCH, RUN_FETCH, done);
}

void
git_fetch_pull_step(struct job *j, git_step_done done)
{
	git_step(j, GC_FETCH_PULL, RUN_FETCH, done);
}

void
git_pull_step(struct job *j, git_step_done done)
{
	struct git_run	*r;

	if (git_run_adopt_pull(j, done))
		return;		/* fetch_pull's child pulls already */
	r = git_run_new(j->project, GC_PULL, RUN_PULL, j);
	r->done = done;
	git_run_try(r);
}

void
git_reset_step(struct job *j, const char *commit, git_step_done done)
{
	struct git_run	*r;

	r = git_run_new(j->project, GC_RESET, RUN_PULL, j);
	snprintf(r->commit, sizeof(r->commit), "%s", commit);
	r->done = done;
	git_run_try(r);
}

/* git.fetch and git.pull jobs: the step is the whole job */
static void
git_job_step_done(struct job *j, const struct git_step_result *r)
{
	if (job_is_over(j))
		return;
	if (r->ok)
		job_done(j, 0, NULL);
	else
		job_done(j, 1, "%s", r->message);
}

static void
git_job_fetch(struct job *j)
{
	git_fetch_step(j, git_job_step_done);
}

static void
git_job_pull(struct job *j)
{
	git_pull_step(j, git_job_step_done);
}

/* ------------------------------------------------------------ the ops -- */

int
op_git_status(struct ctl_request *cr, yajl_gen g, struct proto_error *err)
{
	git_status_gen(g, cr->project);
	return CTL_DONE;
}

int
op_git_job(struct ctl_request *cr, yajl_gen g, struct proto_error *err)
{
	switch (cr->req.op->id) {
	case OP_GIT_FETCH:
		if (cr->project->cfg->repo_url == NULL) {
			proto_seterr(err, PE_UNAVAILABLE, "DAVIT_REPO_URL is not set: "
			    "there is nothing to fetch from");
			return CTL_FAIL;
		}
		return jobs_submit(cr->project, &cr->req, git_job_fetch, NULL, NULL, g, err);
	case OP_GIT_PULL:
		return jobs_submit(cr->project, &cr->req, git_job_pull, NULL, NULL, g, err);
	default:
		proto_seterr(err, PE_INTERNAL, "op %s is not a git job",
		    cr->req.op->name);
		return CTL_FAIL;
	}
}

/* ------------------------------------------------ background: status, poll -- */

static void
git_bg_start(struct project *p, enum gc_op op)
{
	struct git_run	*r;

	r = git_run_new(p, op, RUN_BG, NULL);
	p->git->bg = r;
	git_run_try(r);
}

static void
git_poll(evutil_socket_t fd, short ev, void *arg)
{
	struct project	*p = arg;

	if (p->removed)
		return;
	if (p->git->bg != NULL || job_running(p) != NULL) {
		log_debug("git poll %s: skipped (%s)", p->name, p->git->bg != NULL ?
		    "a status refresh runs" : "a job runs");
		return;
	}
	git_bg_start(p, GC_LSREMOTE);
}

/*
 * A project's git: its status read in the background (or its clone
 * queued), its poll timer.  Called for each project at start and by a
 * reload for a project it adds.
 */
void
git_project_add(struct project *p)
{
	const struct davit_config	*cfg = p->cfg;
	struct git_project		*gp;
	struct proto_error		 err;
	struct timeval			 tv;
	char				 repo[GC_MAX_URL + 1];

	if ((gp = calloc(1, sizeof(*gp))) == NULL)
		fatal("%s", __func__);
	gp->p = p;
	LIST_INIT(&gp->runs);
	p->git = gp;
	if (git_needs_clone(p)) {
		if (cfg->repo_url == NULL)
			git_set_error(gp, "DAVIT_WORKDIR %s is missing or empty and "
			    "DAVIT_REPO_URL is not set", cfg->workdir);
		else {
			config_repo_display(cfg, repo, sizeof(repo));
			log_info("%s: DAVIT_WORKDIR %s is missing or empty: "
			    "cloning %s", p->name, cfg->workdir, repo);
			if (jobs_submit_internal(p, OP_GIT_FETCH, "{}",
			    "davit:clone", git_job_fetch, NULL, NULL, &err) == NULL)
				log_warnx("%s: %s: cannot queue the clone: %s",
				    __func__, p->name, err.message);
		}
	} else
		git_bg_start(p, GC_STATUS);
	if (cfg->poll_interval > 0 && cfg->repo_url != NULL) {
		if ((gp->poll_ev = event_new(benv->base, -1, EV_PERSIST, git_poll,
		    p)) == NULL)
			fatalx("%s: event_new", __func__);
		tv.tv_sec = cfg->poll_interval;
		tv.tv_usec = 0;
		event_add(gp->poll_ev, &tv);
	}
}

/* frees p's git state; its children are left to finish unheard */
void
git_project_remove(struct project *p)
{
	struct git_project	*gp = p->git;
	struct git_run		*r;

	if (gp == NULL)
		return;
	if (gp->poll_ev != NULL)
		event_free(gp->poll_ev);
	while ((r = LIST_FIRST(&gp->runs)) != NULL) {
		if (r->proc != NULL) {
			proc_forget(r->proc);
			if (r->job != NULL && r->job->proc == r->proc)
				r->job->proc = NULL;
		}
		git_run_free(r);
	}
	git_view_clear(&gp->view);
	git_files_free(gp->files, gp->nfiles);
	git_set_error(gp, NULL);
	free(gp);
	p->git = NULL;
}

void
git_init(void)
{
	if ((git_child_exe = git_child_find()) == NULL)
		fatalx("davit-git not found next to %s, in ../gitchild or in %s: "
		    "install it with davit-backend (meson install)", benv->self_exe,
		    DAVIT_LIBEXECDIR);
	log_debug("git child: %s", git_child_exe);
}

void
git_shutdown(void)
{
	struct project	*p;

	TAILQ_FOREACH(p, &projects, entry)
		git_project_remove(p);
	git_spare_shutdown();
	free(git_child_exe);
	git_child_exe = NULL;
}
