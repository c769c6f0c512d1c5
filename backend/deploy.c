/*
 * Deploys: fetch -> fast-forward pull -> rebuild (build first; down and
 * up -d only when the build succeeded, or by name when the project has
 * services outside DAVIT_SERVICES: compose.c) -> verify that every listed
 * service runs, and is healthy where it has a healthcheck, within
 * DAVIT_DEPLOY_VERIFY.  This file is the pipeline and the deploy ops (the
 * verify step and the rollback after a failed one: deploy_verify.c); see
 * deploy.h for the other roles.
 *
 * A deploy is a job (op "deploy").  It comes from the dashboard, from the
 * socket, or from a verified GitHub push (webhook.push, which
 * deploy_webhook.c filters first).  Pushes that arrive while a deploy waits
 * in the queue are merged into it; one that arrives while a deploy runs
 * queues one follow-up, into which later ones merge: the newest commit is
 * what gets deployed.
 *
 * Each step's result comes in its callback's arguments; the deploy's
 * record (struct deploy_record) is what is published, listed and stored.
 *
 * Every project has its own deploys (struct deploy_project, p->deploy):
 * its queued and running one (merging stays within a project), its ids,
 * its history and replay set in its state directory (p->state_dir, or
 * DAVIT_STATE_DIR).  A deploy reads its project's keys only (d->p->cfg).
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/backend.h"
#include "backend/project.h"
#include "backend/deploy.h"
#include "backend/deploy_int.h"
#include "backend/docker.h"
#include "backend/git.h"
#include "backend/github_api.h"
#include "backend/notify.h"
#include "backend/release.h"
#include "common/argv.h"
#include "common/clock.h"
#include "common/text.h"
#include "common/json.h"
#include "common/log.h"

#define DEPLOY_INTERRUPTED	"davit stopped before the deploy ended"

static void	deploy_step_start(struct job *j, enum deploy_step step);
static void	deploy_manual_start(struct job *j);

static void
deploy_free(void *arg)
{
	struct deploy	*d = arg;

	if (d == NULL)
		return;
	/* its project's deploy state went first (the shutdown) */
	if (d->dp != NULL && d->p->deploy != d->dp)
		d->dp = NULL;
	if (d->dp != NULL && d->dp->queued == d)
		d->dp->queued = NULL;
	if (d->dp != NULL && d->dp->current == d)
		d->dp->current = NULL;
	if (d->verify_timer != NULL)
		event_free(d->verify_timer);
	deploy_record_clear(&d->rec);
	free(d);
}

/* the record's fields that the job holds, as of now */
static const struct deploy_record *
deploy_record(struct deploy *d)
{
	const struct job	*j = d->job;
	const char		*error = d->interrupted ? DEPLOY_INTERRUPTED : j->error;

	d->rec.job = j->id;
	snprintf(d->rec.state, sizeof(d->rec.state), "%s", d->interrupted ?
	    "interrupted" : d->rolled_back && job_is_over(j) ? "rolled_back" :
	    job_state_name(j->state));
	d->rec.created_ms = j->created_ms;
	d->rec.started_ms = j->started_ms;
	d->rec.ended_ms = d->interrupted ? json_now_ms() : j->ended_ms;
	free(d->rec.error);
	d->rec.error = NULL;
	if (error != NULL && (d->rec.error = strdup(error)) == NULL)
		fatal("%s", __func__);
	return &d->rec;
}

static void
deploy_publish(struct deploy *d)
{
	yajl_gen	g = events_begin(EV_DEPLOY_STATE);

	deploy_record_gen_project(g, deploy_record(d), d->p->name);
	events_publish(g);
}

/*
 * The running deploy's record as of now, in its crash-safe journal.  On the
 * way to the first compose command it is written just after the next step
 * started (the git child forked, the engine's request sent), while that
 * step runs: its fsyncs then cost the deploy nothing.  Nothing the step
 * does can be acted on before: its results come back through this loop,
 * which is busy writing the journal until it is on disk.
 */
static void
deploy_journal(struct deploy *d)
{
	if (d->dp != NULL)
		deploy_journal_write(&d->dp->hist, deploy_record(d));
}

int
deploy_pending_has(const struct deploy_project *dp, const char *delivery,
    const char *body)
{
	return (dp->queued != NULL && deploy_record_has_delivery(
	    &dp->queued->rec, delivery, body)) || (dp->current != NULL &&
	    deploy_record_has_delivery(&dp->current->rec, delivery, body));
}

void
deploy_finish(struct job *j, const char *fmt, const char *arg)
{
	struct deploy	*d = j->arg;

	release_unprepare(j);	/* no rebuild came */
	if (fmt != NULL)
		job_done(j, 1, fmt, arg);
	else
		job_done(j, 0, NULL);
	if (j->state == JOB_SUCCEEDED)
		deploy_replay_remember(&d->dp->replay, &d->rec);
	github_deploy_result(d->p, d->rec.id, d->rec.to[0] ? d->rec.to : d->rec.pushed,
	    j->state == JOB_SUCCEEDED, j->timed_out, j->ended_ms - j->started_ms,
	    j->error);
	deploy_history_append(&d->dp->hist, deploy_record(d));
	deploy_journal_end(&d->dp->hist);
	deploy_publish(d);
	if (d->dp->current == d)
		d->dp->current = NULL;
	d->dp = NULL;	/* ended: the project may go before its job is freed */
}

/* the step's end in the record and published; the caller journals it */
static void
deploy_step_record(struct job *j, enum deploy_step step, int ok, int skipped)
{
	struct deploy	*d = j->arg;

	d->rec.steps[step].done = 1;
	d->rec.steps[step].ok = ok;
	d->rec.steps[step].skipped = skipped;
	d->rec.steps[step].ms = clock_mono_ms() - d->step_started_ms;
	job_log(j, "deploy: %s %s in %lld ms", deploy_step_names[step],
	    skipped ? "skipped" : ok ? "done" : "FAILED", d->rec.steps[step].ms);
	deploy_publish(d);
}

void
deploy_step_end(struct job *j, enum deploy_step step, int ok, int skipped)
{
	deploy_step_record(j, step, ok, skipped);
	deploy_journal(j->arg);
}

static void
deploy_after_rebuild(struct job *j, const struct compose_result *r)
{
	if (!r->ok && r->err[0] != '\0')
		job_log(j, "davit: %s%s", r->err, r->untouched ?
		    "; the running containers were left alone" : "");
	compose_audit(j, "docker.stack_rebuild", NULL, r->ok ? "ok" :
	    j->timed_out ? "timed out" : r->err[0] != '\0' ? r->err :
	    "compose failed");
	if (job_is_over(j))
		return;
	deploy_step_end(j, STEP_REBUILD, r->ok, 0);
	if (!r->ok) {
		deploy_finish(j, "%s", "rebuild failed: see the log (a failed "
		    "build leaves the running app untouched)");
		return;
	}
	deploy_step_start(j, STEP_VERIFY);
}

static void
deploy_after_pull(struct job *j, const struct git_step_result *r)
{
	struct deploy	*d = j->arg;
	char		 why[128];
	const char	*head;

	if (job_is_over(j))
		return;
	/* journaled with from and to, once the rebuild started (or finished) */
	deploy_step_record(j, STEP_PULL, r->ok, 0);
	if (!r->ok) {
		deploy_finish(j, "pull refused or failed (%s): the running app is "
		    "untouched", r->code != NULL ? r->code : "error");
		return;
	}
	if (r->from != NULL)
		snprintf(d->rec.from, sizeof(d->rec.from), "%s", r->from);
	if (r->to != NULL)
		snprintf(d->rec.to, sizeof(d->rec.to), "%s", r->to);
	else if ((head = git_head_id(d->p)) != NULL)
		snprintf(d->rec.to, sizeof(d->rec.to), "%s", head);
	github_deploy_status(d->p, d->rec.id, d->rec.to, "pending", "deploying");
	deploy_record_set_files(&d->rec, r->files, r->nfiles);
	if (d->rec.pushed[0] != '\0' && d->rec.to[0] != '\0' &&
	    strcmp(d->rec.pushed, d->rec.to) != 0)
		job_log(j, "deploy: origin is at %.12s (the push named %.12s)",
		    d->rec.to, d->rec.pushed);
	/* nothing new, and the app already runs it: no rebuild */
	if (d->rec.to[0] != '\0' &&
	    strcmp(d->rec.to, deploy_commit_get(&d->dp->hist)) == 0 &&
	    docker_services_ready(d->p, why, sizeof(why))) {
		d->step_started_ms = clock_mono_ms();
		deploy_step_end(j, STEP_REBUILD, 1, 1);
		job_log(j, "deploy: %.12s is already deployed and running", d->rec.to);
		deploy_finish(j, NULL, NULL);
		return;
	}
	deploy_step_start(j, STEP_REBUILD);
	deploy_journal(d);	/* from and to: what a crash from here would leave */
}

static void
deploy_after_fetch(struct job *j, const struct git_step_result *r)
{
	if (job_is_over(j))
		return;
	if (r->ok)	/* the containers before compose, listed as the pull runs */
		release_prepare(j, j->project);
	deploy_step_end(j, STEP_FETCH, r->ok, 0);
	if (!r->ok) {
		deploy_finish(j, "%s", "fetch failed: the running app is untouched");
		return;
	}
	deploy_step_start(j, STEP_PULL);
}

static void
deploy_step_start(struct job *j, enum deploy_step step)
{
	struct deploy	*d = j->arg;

	d->step_started_ms = clock_mono_ms();
	job_log(j, "deploy: %s", deploy_step_names[step]);
	switch (step) {
	case STEP_FETCH:
		/* the pull step takes the same child's pull (one exec, not two) */
		git_fetch_pull_step(j, deploy_after_fetch);
		break;
	case STEP_PULL:
		git_pull_step(j, deploy_after_pull);
		break;
	case STEP_REBUILD:
		/* up -d without down: compose recreates what changed */
		release_rebuild(j, j->project, &d->rec, 1,
		    (const char *const *)(d->run[0] != NULL ? d->run : NULL),
		    deploy_after_rebuild);
		break;
	case STEP_VERIFY:
		deploy_verify_begin(d);
		break;
	}
}

/* the job timed out outside a child process: in the verify step */
static void
deploy_cancel(struct job *j)
{
	struct deploy	*d = j->arg;

	evtimer_del(d->verify_timer);
	release_cancel(j);
	rollback_cancel(j);
	deploy_finish(j, "%s", "timed out");
}

/* a manual rollback's release is back: verified as a deploy is */
static void
deploy_manual_restored(struct job *j, int ok, const char *err)
{
	if (job_is_over(j))
		return;
	deploy_step_end(j, STEP_REBUILD, ok, 0);
	if (!ok) {
		deploy_finish(j, "rollback failed: %s", err);
		return;
	}
	deploy_step_start(j, STEP_VERIFY);
}

/*
 * deploy.rollback: deploy #release_of's release back, as the rebuild step
 * (no fetch, no pull, no build); the record is a release of its commit.
 */
static void
deploy_manual_start(struct job *j)
{
	struct deploy			*d = j->arg;
	const struct deploy_record	*rel;
	const char			*head = git_head_id(j->project);

	if ((rel = rollback_release(j->project, d->rec.release_of)) == NULL) {
		msgf(d->rb_why, sizeof(d->rb_why), "deploy #%lld is not a kept "
		    "release (any more)", d->rec.release_of);
		deploy_finish(j, "%s", d->rb_why);
		return;
	}
	snprintf(d->rec.from, sizeof(d->rec.from), "%s", head != NULL ? head : "");
	snprintf(d->rec.to, sizeof(d->rec.to), "%s", rel->to);
	release_record_clear(&d->rec);
	release_record_copy(&d->rec, rel);
	deploy_journal(d);
	d->step_started_ms = clock_mono_ms();
	job_log(j, "deploy: rebuild");
	rollback_restore(j, j->project, rel, deploy_manual_restored);
}

/* DAVIT_DEPLOY_RUN's words (config.c checked them) */
static void
deploy_run_words(struct deploy *d, struct project *p)
{
	const char	*run = p->cfg->deploy_run;
	char		 err[128];

	d->run[0] = NULL;
	if (run != NULL && argv_split(run, d->runbuf, sizeof(d->runbuf), d->run,
	    ARGV_MAX_WORDS, err, sizeof(err)) < 1) {
		log_warnx("DAVIT_DEPLOY_RUN: %s", err);
		d->run[0] = NULL;
	}
}

static void
deploy_start(struct job *j)
{
	struct deploy	*d = j->arg;

	if (d->dp->queued == d)
		d->dp->queued = NULL;
	d->dp->current = d;
	d->job = j;
	j->cancel = deploy_cancel;
	if ((d->verify_timer = evtimer_new(benv->base, deploy_verify_tick, j)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	deploy_run_words(d, j->project);
	job_log(j, "deploy #%lld: started by %s%s%s", d->rec.id, d->rec.trigger,
	    d->rec.by && strcmp(d->rec.by, d->rec.trigger) != 0 ? " " : "",
	    d->rec.by && strcmp(d->rec.by, d->rec.trigger) != 0 ? d->rec.by : "");
	deploy_publish(d);
	if (d->rec.release_of > 0) {
		deploy_journal(d);
		deploy_manual_start(j);
		return;
	}
	deploy_step_start(j, STEP_FETCH);
	deploy_journal(d);
}

/*
 * Queues a deploy, or merges into the one already waiting.  Returns its job,
 * NULL with err set when the queue is full.
 */
struct job *
deploy_submit(struct project *p, const char *trigger, const char *by,
    const char *delivery, const char *body, const char *after, int *merged,
    struct proto_error *err)
{
	struct deploy_project	*dp = p->deploy;
	struct deploy		*d;
	struct job		*j;
	char			 args[64];

	*merged = 0;
	if (dp->queued != NULL) {
		deploy_record_add_delivery(&dp->queued->rec, delivery, body, after);
		job_log(dp->queued->job, "deploy: merged a request from %s%s%s",
		    trigger, by && strcmp(by, trigger) != 0 ? " " : "",
		    by && strcmp(by, trigger) != 0 ? by : "");
		*merged = 1;
		deploy_publish(dp->queued);
		return dp->queued->job;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL)
		fatal("%s", __func__);
	d->p = p;
	d->dp = dp;
	snprintf(d->rec.trigger, sizeof(d->rec.trigger), "%s", trigger);
	if (by != NULL && (d->rec.by = strdup(by)) == NULL)
		fatal("%s", __func__);
	deploy_record_add_delivery(&d->rec, delivery, body, after);
	d->rec.id = dp->next_id;
	/* its own arguments: the job queue never takes it for another one */
	snprintf(args, sizeof(args), "{\"deploy\":%lld}", d->rec.id);
	if ((j = jobs_submit_internal(p, OP_DEPLOY, args, by, deploy_start, d,
	    deploy_free, err)) == NULL)
		return NULL;	/* d freed by jobs_submit_internal */
	dp->next_id++;
	d->job = j;
	dp->queued = d;
	deploy_publish(d);
	return j;
}

/* deploy.rollback {"deploy":N}: a job of its own, never merged with pushes */
int
op_deploy_rollback(struct ctl_request *cr, yajl_gen g, struct proto_error *err)
{
	long long			 n = proto_arg_int(&cr->req, "deploy", 0);
	const char			*by = proto_arg_str(&cr->req, "by");
	const struct deploy_record	*rel;
	struct deploy			*d;
	struct job			*j;
	char				 args[64];

	if ((rel = rollback_release(cr->project, n)) == NULL) {
		proto_seterr(err, PE_NOT_ALLOWED, "deploy #%lld is not a kept "
		    "release: see deploys.list's \"kept\"", n);
		return CTL_FAIL;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL)
		fatal("%s", __func__);
	snprintf(d->rec.trigger, sizeof(d->rec.trigger), "%s",
	    cr->caller == PROTO_CALLER_FRONTEND ? "dashboard" : "socket");
	if (by != NULL && (d->rec.by = strdup(by)) == NULL)
		fatal("%s", __func__);
	d->p = cr->project;
	d->dp = cr->project->deploy;
	d->rec.release_of = n;
	d->rec.id = d->dp->next_id;
	snprintf(args, sizeof(args), "{\"deploy\":%lld}", d->rec.id);
	if ((j = jobs_submit_internal(cr->project, OP_DEPLOY_ROLLBACK, args, by,
	    deploy_start, d, deploy_free, err)) == NULL)
		return CTL_FAIL;
	d->dp->next_id++;
	d->job = j;
	job_log(j, "deploy: roll back to deploy #%lld's release %.12s", n, rel->to);
	deploy_publish(d);
	yajl_gen_map_open(g);
	json_kint(g, "job", j->id);
	yajl_gen_map_close(g);
	return CTL_DONE;
}

int
op_deploy(struct ctl_request *cr, yajl_gen g, struct proto_error *err)
{
	struct job	*j;
	const char	*by = proto_arg_str(&cr->req, "by");
	int		 merged;

	if (cr->project->cfg->repo_url == NULL) {
		proto_seterr(err, PE_UNAVAILABLE, "no DAVIT_REPO_URL: nothing to deploy from");
		return CTL_FAIL;
	}
	j = deploy_submit(cr->project, cr->caller == PROTO_CALLER_FRONTEND ? "dashboard" :
	    "socket", by, NULL, NULL, NULL, &merged, err);
	if (j == NULL)
		return CTL_FAIL;
	yajl_gen_map_open(g);
	json_kint(g, "job", j->id);
	json_kbool(g, "merged", merged);
	yajl_gen_map_close(g);
	return CTL_DONE;
}

/* the length of r's JSON */
static size_t
record_len(const struct deploy_record *r)
{
	yajl_gen		 g = json_gen_new();
	const unsigned char	*buf;
	size_t			 len;

	deploy_record_gen(g, r);
	yajl_gen_get_buf(g, &buf, &len);
	yajl_gen_free(g);
	return len;
}

/* newest first: p's running and queued deploys, then its history */
void
deploys_list_gen(yajl_gen g, const struct project *p)
{
	const struct deploy_project	*dp = p->deploy;
	const struct deploy_record	*r;
	size_t				 i, bytes;

	yajl_gen_array_open(g);
	if (dp->queued != NULL)
		deploy_record_gen(g, deploy_record(dp->queued));
	if (dp->current != NULL)
		deploy_record_gen(g, deploy_record(dp->current));
	/* the newest ones, within DEPLOY_LIST_MAX bytes */
	for (i = deploy_history_count(&dp->hist), bytes = 0; i > 0; i--) {
		r = deploy_history_get(&dp->hist, i - 1);
		if ((bytes += record_len(r)) > DEPLOY_LIST_MAX)
			break;
		deploy_record_gen(g, r);
	}
	yajl_gen_array_close(g);
}

int
op_deploys_list(struct ctl_request *cr, yajl_gen g, struct proto_error *err)
{
	deploys_list_gen(g, cr->project);
	return CTL_DONE;
}

void
deploy_project_last(const struct project *p, long long *id, const char **state,
    long long *time_ms)
{
	const struct deploy_project	*dp = p->deploy;
	const struct deploy		*d;
	const struct deploy_record	*r = NULL;
	size_t				 n;

	*id = 0;
	*state = NULL;
	*time_ms = 0;
	if (dp == NULL)
		return;
	if ((d = dp->current) != NULL || (d = dp->queued) != NULL) {
		*id = d->rec.id;
		*state = job_state_name(d->job->state);
		*time_ms = d->job->started_ms != 0 ? d->job->started_ms :
		    d->job->created_ms;
		return;
	}
	if ((n = deploy_history_count(&dp->hist)) > 0)
		r = deploy_history_get(&dp->hist, n - 1);
	if (r == NULL)
		return;
	*id = r->id;
	*state = r->state;
	*time_ms = r->ended_ms != 0 ? r->ended_ms : r->started_ms;
}

/*
 * A state directory davit may write in: root's, writable by root only
 * (another user could plant links to files root then writes); made when
 * missing.
 */
static void
deploy_state_dir(const char *dir, mode_t mode)
{
	struct stat	 st;

	if (lstat(dir, &st) == -1) {
		if (errno != ENOENT || mkdir(dir, mode) == -1)
			fatal("DAVIT_STATE_DIR %s", dir);
	} else if (!S_ISDIR(st.st_mode))
		fatalx("DAVIT_STATE_DIR %s is not a directory", dir);
	else if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)))
		fatalx("DAVIT_STATE_DIR %s must belong to root and be writable "
		    "by root only (it is uid %u, mode %04o)", dir,
		    (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
}

void
deploy_project_add(struct project *p)
{
	struct deploy_project	*dp;
	const char		*dir;

	if ((dp = calloc(1, sizeof(*dp))) == NULL)
		fatal("%s", __func__);
	dp->p = p;
	/* DAVIT_STATE_DIR/NAME (project.c made it); DAVIT_STATE_DIR in tests */
	dir = p->state_dir != NULL ? p->state_dir : benv->cfg.state_dir;
	if (p->state_dir != NULL)
		deploy_state_dir(p->state_dir, 0700);
	deploy_history_open(&dp->hist, dir);
	dp->next_id = deploy_history_load(&dp->hist, &dp->replay);
	dp->next_id = deploy_journal_recover(&dp->hist, dp->next_id);
	p->deploy = dp;
	release_mark_kept(p, NULL);
}

/* recorded as interrupted: their deliveries may come again */
void
deploy_project_remove(struct project *p)
{
	struct deploy_project	*dp = p->deploy;
	struct deploy		*ds[2];
	size_t			 i;

	if (dp == NULL)
		return;
	ds[0] = dp->current;
	ds[1] = dp->queued;
	for (i = 0; i < 2; i++) {
		if (ds[i] == NULL)
			continue;
		if (ds[i]->job != NULL) {
			ds[i]->interrupted = 1;
			log_warnx("%s: deploy #%lld (%s) interrupted", p->name,
			    ds[i]->rec.id, ds[i] == dp->current ? "running" :
			    "queued");
			deploy_history_append(&dp->hist, deploy_record(ds[i]));
			if (ds[i] == dp->current)
				deploy_journal_end(&dp->hist);
		}
		ds[i]->dp = NULL;
	}
	deploy_history_close(&dp->hist);
	deploy_replay_clear(&dp->replay);
	free(dp);
	p->deploy = NULL;
}

void
deploy_init(void)
{
	deploy_state_dir(benv->cfg.state_dir, 0750);
}

void
deploy_shutdown(void)
{
	struct project	*p;

	TAILQ_FOREACH(p, &projects, entry)
		deploy_project_remove(p);
	release_shutdown();
	rollback_shutdown();
}
