/*
 * Releases: every successful deploy keeps its images under a tag of its
 * own, IMAGE:davit-<first 12 hex of the commit>, set through the Engine
 * API (POST /images/{id}/tag) once compose has brought the new version
 * up; the deploy record keeps, per listed service, the image's name and
 * id and whether its container was recreated (compared by container id
 * before and after compose's up, which leaves unchanged services alone).
 * After a successful deploy the newest DAVIT_KEEP_RELEASES releases
 * (distinct commits) are kept, the davit- tags of older ones are removed
 * (DELETE /images/{name}), and the engine deletes an image left without a
 * name unless a container uses it (it refuses: 409, nothing is forced).
 *
 * Rules: only tags this file made for this project's records are ever
 * removed, so images of other compose projects are never touched; no
 * force, no prune of the engine's own dangling images.  Each chain of
 * calls belongs to a job and is cancelled with it.
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "backend/project.h"
#include "backend/release.h"
#include "backend/docker_engine.h"
#include "common/json.h"
#include "common/log.h"
#include "common/text.h"

#define RELEASE_MAX_CALLS	(2 * DEPLOY_HISTORY_KEEP * 4)	/* a prune's tags, bounded */

enum rel_kind {
	RK_REBUILD,
	RK_PRUNE,
};

struct rel_call {
	int		 method;		/* DREQ_* */
	char		 path[DOCKER_URL_MAX];
	char		 what[DEPLOY_IMAGE_REF_MAX + RELEASE_TAG_MAX];
	long long	 size;		/* a prune: the image's, from inspect */
};

struct rel_run {
	LIST_ENTRY(rel_run)	 entry;
	enum rel_kind		 kind;
	struct job		*j;
	struct project		*p;
	struct deploy_record	*rec;
	int			 build;
	const char *const	*run;
	struct dreq		*req;
	char			 before[CONFIG_MAX_SERVICES][65];
	int			 have_before;
	int			 listed;	/* the first list answered */
	struct rel_call		*calls;
	size_t			 ncalls, call;
	long long		 freed, deleted, untagged, refused;
	struct compose_result	 cr;
	char			 err[PROTO_MAX_MESSAGE];
	void			(*done)(struct job *, const struct compose_result *);
	void			(*pdone)(struct job *);
};

static LIST_HEAD(, rel_run) runs = LIST_HEAD_INITIALIZER(runs);

/* DAVIT_KEEP_RELEASES, within the kept[] arrays' bound whatever the config */
static size_t
release_keep(const struct project *p)
{
	int	keep = p->cfg->keep_releases;

	if (keep < 1)
		return 1;
	return keep > CONFIG_MAX_KEEP_RELEASES ? CONFIG_MAX_KEEP_RELEASES :
	    (size_t)keep;
}

static void
rel_free(struct rel_run *r)
{
	LIST_REMOVE(r, entry);
	if (r->req != NULL)
		dreq_cancel(r->req);
	free(r->calls);
	free(r);
}

static struct rel_run *
rel_new(enum rel_kind kind, struct job *j, struct project *p)
{
	struct rel_run	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		fatal("%s", __func__);
	r->kind = kind;
	r->j = j;
	r->p = p;
	LIST_INSERT_HEAD(&runs, r, entry);
	return r;
}

/* characters of an image name as compose and the engine write them */
static int
ref_safe(const char *s)
{
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || strchr("._-/:@", *s) != NULL))
			return 0;
	return 1;
}

/* percent-encodes s (a ref_safe name) for a query */
static void
qenc(const char *s, char *out, size_t outlen)
{
	size_t	o = 0;

	for (; *s != '\0' && o + 4 < outlen; s++) {
		if (*s == '/' || *s == ':' || *s == '@')
			o += snprintf(out + o, outlen - o, "%%%02X",
			    (unsigned char)*s);
		else
			out[o++] = *s;
	}
	out[o] = '\0';
}

/* GET /containers/json?all=1 of the project's label */
static void
rel_list(struct rel_run *r, void (*cb)(struct dreq *))
{
	char	path[DOCKER_URL_MAX], q[DOCKER_NAME_MAX * 3 + 128];

	qenc(r->p->cfg->compose_project, q, sizeof(q));
	api_path(path, sizeof(path), "/containers/json?all=1&filters=%%7B%%22"
	    "label%%22%%3A%%5B%%22%s%%3D%s%%22%%5D%%7D", LABEL_PROJECT, q);
	r->req = dreq_start(DR_ACTION, DREQ_GET, path, DOCKER_REQUEST_TIMEOUT,
	    cb, r);
}

/* the listed services' containers and images; -1 logged */
static int
rel_parse_list(struct rel_run *r, struct dreq *q, char (*ids)[65],
    struct deploy_image *images)
{
	const struct davit_config	*cfg = r->p->cfg;
	char				 err[DOCKER_ERR_LEN];

	if (dreq_check(q, dreq_ok_200) == -1) {
		job_log(r->j, "davit: %s", q->err);
		return -1;
	}
	if (release_parse_containers(q->buf != NULL ? q->buf : "", q->len,
	    cfg->compose_project, cfg->services, cfg->nservices, ids, images,
	    err, sizeof(err)) == -1) {
		job_log(r->j, "davit: the engine's container list: %s", err);
		return -1;
	}
	return 0;
}

/* ----------------------------------------------------------- rebuild -- */

static void	rebuild_next_tag(struct rel_run *);

static void
rebuild_report(struct rel_run *r)
{
	void			(*done)(struct job *,
				    const struct compose_result *) = r->done;
	struct job		*j = r->j;
	struct compose_result	 cr = r->cr;
	char			 err[sizeof(r->err)];

	snprintf(err, sizeof(err), "%s", r->err);
	cr.err = err;
	rel_free(r);
	done(j, &cr);
}

static void
rebuild_tagged(struct dreq *q)
{
	struct rel_run	*r = q->arg;

	r->req = NULL;
	if (dreq_check(q, (const long[]){ 200, 201, 0 }) == -1)
		job_log(r->j, "davit: tagging %s: %s", r->calls[r->call].what,
		    q->err);
	else
		job_log(r->j, "deploy: tagged %s", r->calls[r->call].what);
	r->call++;
	rebuild_next_tag(r);
}

static void
rebuild_next_tag(struct rel_run *r)
{
	struct rel_call	*c;

	if (job_is_over(r->j) || r->call >= r->ncalls) {
		rebuild_report(r);
		return;
	}
	c = &r->calls[r->call];
	r->req = dreq_start(DR_ACTION, DREQ_POST, c->path,
	    RELEASE_REQUEST_TIMEOUT, rebuild_tagged, r);
}

/* the containers after compose's up: what changed, then the tags */
static void
rebuild_after_list(struct dreq *q)
{
	struct rel_run		*r = q->arg;
	struct deploy_record	*rec = r->rec;
	size_t			 n = r->p->cfg->nservices, i, o, u;
	char			 ids[CONFIG_MAX_SERVICES][65];
	char			 repo[DEPLOY_IMAGE_REF_MAX], tag[RELEASE_TAG_MAX];
	char			 rq[DEPLOY_IMAGE_REF_MAX * 3], line[JOB_LOG_LINE_MAX];
	char			 un[JOB_LOG_LINE_MAX];
	struct deploy_image	 images[CONFIG_MAX_SERVICES];

	r->req = NULL;
	if (job_is_over(r->j) || rel_parse_list(r, q, ids, images) == -1) {
		rebuild_report(r);	/* the deploy goes on: verify says */
		return;
	}
	release_record_clear(rec);
	if ((rec->images = calloc(n, sizeof(*rec->images))) == NULL ||
	    (r->calls = calloc(n, sizeof(*r->calls))) == NULL)
		fatal("%s", __func__);
	o = snprintf(line, sizeof(line), "deploy: recreated:");
	u = snprintf(un, sizeof(un), "unchanged:");
	for (i = 0; i < n; i++) {
		if (images[i].id[0] == '\0')
			continue;	/* no container: verify will say */
		images[i].recreated = !r->have_before ||
		    strcmp(r->before[i], ids[i]) != 0;
		rec->images[rec->nimages++] = images[i];
		if (images[i].recreated && o < sizeof(line))
			o += snprintf(line + o, sizeof(line) - o, " %s",
			    images[i].service);
		else if (!images[i].recreated && u < sizeof(un))
			u += snprintf(un + u, sizeof(un) - u, " %s",
			    images[i].service);
		if (rec->to[0] == '\0' || !ref_safe(images[i].image) ||
		    release_tag_name(images[i].image, rec->to, repo,
		    sizeof(repo), tag, sizeof(tag)) == -1) {
			job_log(r->j, "davit: %s: image %s cannot be tagged",
			    images[i].service, images[i].image);
			continue;
		}
		qenc(repo, rq, sizeof(rq));
		api_path(r->calls[r->ncalls].path, sizeof(r->calls[0].path),
		    "/images/%s/tag?repo=%s&tag=%s", images[i].id, rq, tag);
		snprintf(r->calls[r->ncalls].what, sizeof(r->calls[0].what),
		    "%s:%s", repo, tag);
		r->ncalls++;
	}
	job_log(r->j, "%s%s; %s%s", line, o == strlen("deploy: recreated:") ?
	    " none" : "", un, u == strlen("unchanged:") ? " none" : "");
	rebuild_next_tag(r);
}

static void
rebuild_composed(struct job *j, const struct compose_result *cr)
{
	struct rel_run	*r;

	LIST_FOREACH(r, &runs, entry)
		if (r->j == j && r->kind == RK_REBUILD)
			break;
	if (r == NULL) {	/* cancelled with its job meanwhile */
		log_warnx("%s: job %lld: its release run was cancelled", __func__,
		    j->id);
		return;
	}
	r->cr = *cr;
	snprintf(r->err, sizeof(r->err), "%s", cr->err);
	if (!cr->ok || job_is_over(j)) {
		rebuild_report(r);
		return;
	}
	rel_list(r, rebuild_after_list);
}

/* the containers before compose: compose starts, once the rebuild did */
static void
rebuild_compose(struct rel_run *r)
{
	if (job_is_over(r->j)) {
		r->cr.ok = 0;
		r->cr.untouched = 1;
		rebuild_report(r);
		return;
	}
	compose_deploy(r->j, r->build, r->build ? r->run : NULL,
	    rebuild_composed);
}

static void
rebuild_before_list(struct dreq *q)
{
	struct rel_run		*r = q->arg;
	struct deploy_image	 images[CONFIG_MAX_SERVICES];

	r->req = NULL;
	r->listed = 1;
	r->have_before = rel_parse_list(r, q, r->before, images) == 0;
	if (r->done != NULL)	/* else prepared: release_rebuild goes on */
		rebuild_compose(r);
}

/* j's rebuild run that release_prepare made, not yet started */
static struct rel_run *
rebuild_prepared(struct job *j)
{
	struct rel_run	*r;

	LIST_FOREACH(r, &runs, entry)
		if (r->j == j && r->kind == RK_REBUILD && r->done == NULL)
			return r;
	return NULL;
}

void
release_prepare(struct job *j, struct project *p)
{
	if (rebuild_prepared(j) == NULL)
		rel_list(rel_new(RK_REBUILD, j, p), rebuild_before_list);
}

void
release_unprepare(struct job *j)
{
	struct rel_run	*r;

	if ((r = rebuild_prepared(j)) != NULL)
		rel_free(r);
}

void
release_rebuild(struct job *j, struct project *p, struct deploy_record *rec,
    int build, const char *const *run,
    void (*done)(struct job *, const struct compose_result *))
{
	struct rel_run	*r;

	if ((r = rebuild_prepared(j)) == NULL) {
		r = rel_new(RK_REBUILD, j, p);
		rel_list(r, rebuild_before_list);
	}
	r->rec = rec;
	r->build = build;
	r->run = run;
	r->done = done;
	if (r->listed)		/* prepared, and answered already */
		rebuild_compose(r);
}

/* ------------------------------------------------------------- prune -- */

static int
is_release(const struct deploy_record *r)
{
	return r->nimages > 0 && r->to[0] != '\0' &&
	    strcmp(r->state, "succeeded") == 0;
}

static int
commit_in(char (*list)[DEPLOY_ID_MAX], size_t n, const char *c)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strcmp(list[i], c) == 0)
			return 1;
	return 0;
}

/* the kept commits, newest first: newest (may be NULL), then the history's */
static size_t
kept_commits(struct project *p, const struct deploy_record *newest,
    char (*kept)[DEPLOY_ID_MAX], size_t max)
{
	const struct deploy_record	*r;
	size_t				 n = 0, i;

	if (newest != NULL && is_release(newest))
		snprintf(kept[n++], DEPLOY_ID_MAX, "%s", newest->to);
	for (i = deploy_history_count(&p->deploy->hist); i > 0 && n < max; i--) {
		r = deploy_history_get(&p->deploy->hist, i - 1);
		if (is_release(r) && !commit_in(kept, n, r->to))
			snprintf(kept[n++], DEPLOY_ID_MAX, "%s", r->to);
	}
	return n;
}

void
release_mark_kept(struct project *p, const struct deploy_record *newest)
{
	char			 kept[CONFIG_MAX_KEEP_RELEASES][DEPLOY_ID_MAX];
	size_t			 n, i;
	struct deploy_record	*r;
	n = kept_commits(p, newest, kept, release_keep(p));
	for (i = 0; i < deploy_history_count(&p->deploy->hist); i++) {
		r = deploy_history_at(&p->deploy->hist, i);
		r->pruned = is_release(r) && !commit_in(kept, n, r->to);
	}
}

static void	prune_next(struct rel_run *);

static void
prune_report(struct rel_run *r)
{
	void		(*done)(struct job *) = r->pdone;
	struct job	*j = r->j;

	if (r->ncalls > 0)
		/* an image's size counts the layers it shares with others */
		job_log(j, "deploy: pruned %lld old release tag%s: %lld image%s "
		    "deleted, up to %.1f MB freed%s", r->untagged,
		    r->untagged == 1 ? "" : "s", r->deleted,
		    r->deleted == 1 ? "" : "s",
		    (double)r->freed / 1e6, r->refused > 0 ?
		    " (images in use kept)" : "");
	else
		job_log(j, "deploy: no old release to prune (keeping %d)",
		    r->p->cfg->keep_releases);
	rel_free(r);
	done(j);
}

/* the DELETE's reply: [{"Untagged":...},{"Deleted":...}]; counts deletions */
static long long
count_deleted(const char *buf, size_t len)
{
	yajl_val	v;
	char		err[32];
	size_t		i;
	long long	n = 0;

	if (buf == NULL || memchr(buf, '\0', len) != NULL ||
	    (v = json_parse(buf, len, err, sizeof(err))) == NULL)
		return 0;
	if (YAJL_IS_ARRAY(v))
		for (i = 0; i < v->u.array.len; i++)
			if (YAJL_IS_OBJECT(v->u.array.values[i]) &&
			    json_get_str(v->u.array.values[i], "Deleted") != NULL)
				n++;
	yajl_tree_free(v);
	return n;
}

static void
prune_deleted(struct dreq *q)
{
	struct rel_run	*r = q->arg;
	struct rel_call	*c = &r->calls[r->call];
	long long	 del;

	r->req = NULL;
	if (q->err[0] == '\0' && q->status == 409) {
		r->refused++;
		job_log(r->j, "deploy: %s kept: an image in use", c->what);
	} else if (q->err[0] == '\0' && q->status == 404) {
		/* gone already */
	} else if (dreq_check(q, dreq_ok_200) == -1)
		job_log(r->j, "davit: removing %s: %s", c->what, q->err);
	else {
		r->untagged++;
		del = count_deleted(q->buf, q->len);
		if (del > 0) {
			r->deleted++;
			r->freed += c->size;
		}
	}
	r->call++;
	prune_next(r);
}

/* GET /images/{name}/json: its size, counted if the DELETE deletes it */
static void
prune_inspected(struct dreq *q)
{
	struct rel_run	*r = q->arg;
	struct rel_call	*c = &r->calls[r->call];
	yajl_val	 v, s;
	char		 err[32];
	long long	 size = 0;

	r->req = NULL;
	if (q->err[0] == '\0' && q->status == 404) {
		r->call++;
		prune_next(r);
		return;
	}
	if (dreq_check(q, dreq_ok_200) == 0 && q->buf != NULL &&
	    memchr(q->buf, '\0', q->len) == NULL &&
	    (v = json_parse(q->buf, q->len, err, sizeof(err))) != NULL) {
		if ((s = json_get(v, "Size")) != NULL && YAJL_IS_INTEGER(s) &&
		    s->u.number.i > 0)
			size = s->u.number.i;
		yajl_tree_free(v);
	}
	if (job_is_over(r->j)) {
		prune_report(r);
		return;
	}
	c->size = size;		/* counted if the DELETE deletes it */
	r->req = dreq_start(DR_ACTION, DREQ_DELETE, c->path,
	    RELEASE_REQUEST_TIMEOUT, prune_deleted, r);
}

static void
prune_next(struct rel_run *r)
{
	char	path[DOCKER_URL_MAX];

	if (job_is_over(r->j) || r->call >= r->ncalls) {
		prune_report(r);
		return;
	}
	api_path(path, sizeof(path), "/images/%s/json", r->calls[r->call].what);
	r->req = dreq_start(DR_ACTION, DREQ_GET, path, DOCKER_REQUEST_TIMEOUT,
	    prune_inspected, r);
}

void
release_prune(struct job *j, struct project *p, const struct deploy_record *rec,
    void (*done)(struct job *))
{
	struct rel_run		*r = rel_new(RK_PRUNE, j, p);
	char			 kept[CONFIG_MAX_KEEP_RELEASES][DEPLOY_ID_MAX];
	char			 repo[DEPLOY_IMAGE_REF_MAX], tag[RELEASE_TAG_MAX];
	char			 name[DEPLOY_IMAGE_REF_MAX + RELEASE_TAG_MAX];
	size_t			 n, i, k, m;
	struct deploy_record	*h;
	r->pdone = done;
	n = kept_commits(p, rec, kept, release_keep(p));
	if ((r->calls = calloc(RELEASE_MAX_CALLS, sizeof(*r->calls))) == NULL)
		fatal("%s", __func__);
	for (i = 0; i < deploy_history_count(&p->deploy->hist); i++) {
		h = deploy_history_at(&p->deploy->hist, i);
		/* releases, and the images of deploys rolled back */
		if (h->nimages == 0 || h->to[0] == '\0' || h->pruned ||
		    commit_in(kept, n, h->to))
			continue;
		h->pruned = 1;
		for (k = 0; k < h->nimages; k++) {
			if (!ref_safe(h->images[k].image) ||
			    release_tag_name(h->images[k].image, h->to, repo,
			    sizeof(repo), tag, sizeof(tag)) == -1)
				continue;
			snprintf(name, sizeof(name), "%s:%s", repo, tag);
			for (m = 0; m < r->ncalls; m++)
				if (strcmp(r->calls[m].what, name) == 0)
					break;
			if (m < r->ncalls || r->ncalls == RELEASE_MAX_CALLS)
				continue;
			snprintf(r->calls[r->ncalls].what,
			    sizeof(r->calls[0].what), "%s", name);
			api_path(r->calls[r->ncalls].path,
			    sizeof(r->calls[0].path), "/images/%s", name);
			r->ncalls++;
		}
	}
	prune_next(r);
}

void
release_cancel(struct job *j)
{
	struct rel_run	*r, *next;

	for (r = LIST_FIRST(&runs); r != NULL; r = next) {
		next = LIST_NEXT(r, entry);
		if (r->j == j)
			rel_free(r);
	}
}

void
release_shutdown(void)
{
	while (!LIST_EMPTY(&runs))
		rel_free(LIST_FIRST(&runs));
}
