/*
 * A run of davit-git's result, the backend's side: the child's decoded
 * lines turned into the run's view (commits, status, changed files), and a
 * run's result applied to its project's state in memory (r->gp: the view,
 * the origin polled, the last pull and its git.pull audit record) and to
 * its job's result.  git_run.c reads the lines and ends the runs; nothing
 * here starts a child or touches the loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "backend/project.h"
#include "backend/git.h"
#include "backend/git_run.h"
#include "gitchild/wire.h"
#include "common/json.h"
#include "common/log.h"
#include "common/text.h"

void
commit_from_line(struct git_commit *c, const struct gc_line *l)
{
	git_commit_clear(c);
	c->present = 1;
	snprintf(c->id, sizeof(c->id), "%s", l->id);
	c->summary = xstrdup(l->summary);
	c->author = xstrdup(l->author);
	c->time = l->time;
}

char
file_letter(const char *status)
{
	switch (status[0]) {
	case 'a':
		return 'A';
	case 'd':
		return 'D';
	case 'r':
		return 'R';
	default:
		return 'M';
	}
}

void
view_from_status(struct git_view *v, const struct gc_status *st)
{
	if (!st->present)
		return;
	free(v->branch);
	v->present = 1;
	v->branch = xstrdup(st->branch);
	v->detached = st->detached;
	v->unborn = st->unborn;
	v->ahead = st->ahead;
	v->behind = st->behind;
	v->dirty_total = st->dirty_total;
}

static void
run_apply_origin(struct git_run *r)
{
	const struct git_view	*v = &r->gp->view;

	r->gp->polled_ms = json_now_ms();
	if (r->origin[0] == '\0') {
		r->gp->polled_id[0] = '\0';
		r->gp->origin_moved = 0;
		return;
	}
	snprintf(r->gp->polled_id, sizeof(r->gp->polled_id), "%s", r->origin);
	if ((v->remote.present && strcmp(v->remote.id, r->origin) == 0) ||
	    (v->local.present && strcmp(v->local.id, r->origin) == 0)) {
		r->gp->origin_moved = 0;
		return;
	}
	if (!r->gp->origin_moved)
		log_info("origin/%s moved to %.12s: an update is available",
		    r->p->cfg->branch, r->origin);
	r->gp->origin_moved = 1;
}

static void
run_apply_pull(struct git_run *r)
{
	yajl_gen	 g;

	r->gp->pull_valid = 1;
	snprintf(r->gp->pull_from, sizeof(r->gp->pull_from), "%s", r->from);
	snprintf(r->gp->pull_to, sizeof(r->gp->pull_to), "%s", r->to);
	git_files_free(r->gp->files, r->gp->nfiles);
	r->gp->files = r->files;
	r->gp->nfiles = r->nfiles;
	r->gp->files_total = r->files_total;
	r->files = NULL;
	r->nfiles = 0;
	if (r->up_to_date)
		return;
	/* the record of file synchronisation */
	g = audit_begin("git.pull");
	json_kstr(g, "project", r->p->name);
	if (r->job != NULL) {
		json_kint(g, "job", r->job->id);
		json_kstr(g, "by", r->job->by);
	}
	json_kstr(g, "workdir", r->p->cfg->workdir);
	json_kstr(g, "branch", r->p->cfg->branch);
	json_kstr(g, "from", r->gp->pull_from[0] != '\0' ? r->gp->pull_from : NULL);
	json_kstr(g, "to", r->gp->pull_to);
	json_kint(g, "commits", r->commits);
	json_kint(g, "files_total", r->gp->files_total);
	json_key(g, "files");
	git_files_gen(g, r->gp->files, r->gp->nfiles);
	audit_end(g);
}

void
run_apply_view(struct git_run *r)
{
	if (r->view.present && r->seq > r->gp->status_seq) {
		git_view_clear(&r->gp->view);
		r->gp->view = r->view;
		memset(&r->view, 0, sizeof(r->view));
		/*
		 * A fetch's or a pull's view is as new as its end: a status
		 * refresh that started while it ran may have read the refs
		 * before it moved them, and must not undo it when it ends.
		 */
		r->gp->status_seq = r->kind == RUN_BG ? r->seq : ++r->gp->seq;
	}
}

void
run_apply(struct git_run *r)
{
	run_apply_view(r);
	if (r->has_fetched) {
		r->gp->fetched_ms = json_now_ms();
		r->gp->origin_moved = 0;
		r->gp->polled_id[0] = '\0';
	}
	if (r->has_origin)
		run_apply_origin(r);
	if (r->has_pull)
		run_apply_pull(r);
}

/* a job result: the pull's, or the failure's code */
void
run_job_result(struct git_run *r)
{
	yajl_gen	 g;
	struct job	*j = r->job;

	if (j == NULL || (r->kind == RUN_PULL && j->op != OP_GIT_PULL) ||
	    (r->kind == RUN_FETCH && j->op != OP_GIT_FETCH))
		return;	/* someone else's job (a deploy) keeps its own result */
	g = json_gen_new();
	yajl_gen_map_open(g);
	if (!r->ok) {
		json_kstr(g, "code", r->code);
		json_kint(g, "tries", r->attempt);
	} else if (r->kind == RUN_PULL) {
		json_kstr(g, "from", r->gp->pull_from[0] != '\0' ?
		    r->gp->pull_from : NULL);
		json_kstr(g, "to", r->gp->pull_to[0] != '\0' ? r->gp->pull_to : NULL);
		json_kint(g, "commits", r->commits);
		json_kbool(g, "up_to_date", r->up_to_date);
		json_kint(g, "files_total", r->gp->files_total);
		json_key(g, "files");
		git_files_gen(g, r->gp->files, r->gp->nfiles);
	} else {
		json_kstr(g, "remote", git_remote_id(r->p));
		json_kint(g, "behind", r->gp->view.behind);
		json_kbool(g, "cloned", r->op == GC_CLONE);
		json_kint(g, "tries", r->attempt);
	}
	yajl_gen_map_close(g);
	free(j->result_json);
	j->result_json = json_gen_take(g, NULL);
	yajl_gen_free(g);
}
