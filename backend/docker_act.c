/*
 * The Engine API actions of the service and stack jobs: start, stop or
 * restart every container of one service, as the engine lists them now
 * (not as memory has them), one after the other, each logged into the job
 * and audited.
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "backend/docker.h"
#include "backend/project.h"
#include "backend/docker_engine.h"
#include "common/json.h"
#include "common/log.h"
#include "common/text.h"

struct docker_act_run {
	LIST_ENTRY(docker_act_run) entry;
	struct job		*j;
	char			*service;
	enum docker_act		 act;
	struct dreq		*req;
	struct docker_container	*cs;		/* the service's containers */
	size_t			 ncs, idx;
	int			 failed;
	char			 err[DOCKER_ERR_LEN];
	void			(*done)(struct job *, int, const char *);
};

static LIST_HEAD(, docker_act_run) acts = LIST_HEAD_INITIALIZER(acts);

const char *
docker_act_name(enum docker_act act)
{
	switch (act) {
	case DA_START:
		return "start";
	case DA_STOP:
		return "stop";
	case DA_RESTART:
	default:
		return "restart";
	}
}

static void
act_audit(struct docker_act_run *a, const struct docker_container *c,
    const char *result)
{
	char		kind[32];
	yajl_gen	g;

	snprintf(kind, sizeof(kind), "docker.%s", docker_act_name(a->act));
	g = audit_begin(kind);
	json_kstr(g, "project", a->j->project->name);
	json_kint(g, "job", a->j->id);
	json_kstr(g, "by", a->j->by);
	json_kstr(g, "service", a->service);
	json_kstr(g, "container", c->name[0] != '\0' ? c->name : NULL);
	json_kstr(g, "id", c->id);
	json_kstr(g, "result", result);
	audit_end(g);
}

static void
act_free(struct docker_act_run *a)
{
	LIST_REMOVE(a, entry);
	free(a->service);
	free(a->cs);
	free(a);
}

static void
act_finish(struct docker_act_run *a)
{
	void		(*done)(struct job *, int, const char *) = a->done;
	struct job	*j = a->j;
	char		 err[DOCKER_ERR_LEN];
	int		 ok = !a->failed;

	snprintf(err, sizeof(err), "%s", a->err);
	act_free(a);
	done(j, ok, ok ? NULL : err);
}

static void	act_next(struct docker_act_run *a);

static void
act_posted(struct dreq *r)
{
	static const long		 ok[] = { 204, 304, 0 };
	struct docker_act_run		*a = r->arg;
	const struct docker_container	*c = &a->cs[a->idx];
	static const char *const	 did[] = {
		[DA_START] = "started", [DA_STOP] = "stopped",
		[DA_RESTART] = "restarted"
	};

	a->req = NULL;
	if (dreq_check(r, ok) == -1) {
		job_log(a->j, "%s: %s failed: %s", a->service, docker_act_name(a->act),
		    r->err);
		act_audit(a, c, r->err);
		if (!a->failed)
			msgf(a->err, sizeof(a->err), "%s: %s", a->service, r->err);
		a->failed = 1;
	} else {
		job_log(a->j, "%s: %s %s%s", a->service, c->name, did[a->act],
		    r->status == 304 ? " already" : "");
		act_audit(a, c, r->status == 304 ? "unchanged" : "ok");
	}
	a->idx++;
	act_next(a);
}

static void
act_next(struct docker_act_run *a)
{
	const struct docker_container	*c;
	char				 path[DOCKER_URL_MAX];
	long				 timeout = DOCKER_REQUEST_TIMEOUT;
	static const char *const	 doing[] = {
		[DA_START] = "starting", [DA_STOP] = "stopping",
		[DA_RESTART] = "restarting"
	};

	if (a->idx >= a->ncs) {
		act_finish(a);
		return;
	}
	c = &a->cs[a->idx];
	switch (a->act) {
	case DA_START:
		api_path(path, sizeof(path), "/containers/%s/start", c->id);
		break;
	case DA_STOP:
	case DA_RESTART:
		api_path(path, sizeof(path), "/containers/%s/%s?t=%d", c->id,
		    docker_act_name(a->act), benv->cfg.stop_timeout);
		timeout += benv->cfg.stop_timeout;
		break;
	}
	job_log(a->j, "%s: %s %s (%.*s)", a->service, doing[a->act],
	    c->name, DOCKER_SHORT_ID, c->id);
	a->req = dreq_start(DR_ACTION, 1, path, timeout, act_posted, a);
}

static void
act_listed(struct dreq *r)
{
	struct docker_act_run	*a = r->arg;
	struct docker_container	*cs;
	char			 err[DOCKER_ERR_LEN];
	size_t			 n, i, keep = 0;

	a->req = NULL;
	if (dreq_check(r, dreq_ok_200) == -1) {
		msgf(a->err, sizeof(a->err), "cannot list the containers of %s: %s",
		    a->service, r->err);
		a->failed = 1;
		act_finish(a);
		return;
	}
	if (docker_parse_list(r->buf, r->len, a->j->project->cfg->compose_project,
	    &cs, &n,
	    err, sizeof(err)) == -1) {
		msgf(a->err, sizeof(a->err), "the engine's reply is malformed: %s",
		    err);
		a->failed = 1;
		act_finish(a);
		return;
	}
	for (i = 0; i < n; i++)
		if (!cs[i].oneoff && strcmp(cs[i].service, a->service) == 0)
			cs[keep++] = cs[i];
	a->cs = cs;
	a->ncs = keep;
	if (keep == 0) {
		if (a->act == DA_STOP) {
			job_log(a->j, "%s: no container, nothing to stop", a->service);
		} else {
			msgf(a->err, sizeof(a->err), "service %s has no container "
			    "(service.rebuild creates it)", a->service);
			job_log(a->j, "%s", a->err);
			a->failed = 1;
		}
	}
	act_next(a);
}

struct docker_act_run *
docker_service_act(struct job *j, const char *service, enum docker_act act,
    void (*done)(struct job *, int, const char *))
{
	struct docker_act_run	*a;
	char			 path[DOCKER_URL_MAX], *q;

	if ((a = calloc(1, sizeof(*a))) == NULL ||
	    (a->service = strdup(service)) == NULL)
		fatal("%s", __func__);
	a->j = j;
	a->act = act;
	a->done = done;
	LIST_INSERT_HEAD(&acts, a, entry);
	/* the engine's view now, not memory's: the ids to act on */
	q = filter_query(j->project->cfg->compose_project, service, 0);
	api_path(path, sizeof(path), "/containers/json?all=1&%s", q);
	free(q);
	a->req = dreq_start(DR_ACTION, 0, path, DOCKER_REQUEST_TIMEOUT, act_listed, a);
	return a;
}

void
docker_act_cancel(struct docker_act_run *a)
{
	if (a->req != NULL)
		dreq_cancel(a->req);
	act_free(a);
}

/* ------------------------------------------------------------ the ops -- */

void
docker_act_shutdown(void)
{
	struct docker_act_run	*a;

	while ((a = LIST_FIRST(&acts)) != NULL)
		docker_act_cancel(a);
}
