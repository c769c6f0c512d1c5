/*
 * Rollbacks: putting a kept release back.  The steps, for the deploy
 * pipeline (deploy.c, which verifies the result as a deploy's): the
 * checkout moves back to the release's commit (davit-git, op reset, as the
 * checkout's owner: no fetch, never over local changes, only along the
 * branch's history), the release's images are tagged again as the names
 * compose runs the services from (POST /images/{id}/tag, through the
 * Engine API), and compose's up -d runs without a build, recreating the
 * services whose image changed.
 *
 * Rules: nothing is built or fetched; a release whose images are gone
 * (pruned) is not offered; each chain belongs to a job and ends with it.
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "backend/project.h"
#include "backend/release.h"
#include "backend/docker_engine.h"
#include "backend/git.h"
#include "common/json.h"
#include "common/log.h"
#include "common/text.h"

struct rb_run {
	LIST_ENTRY(rb_run)	 entry;
	struct job		*j;
	struct project		*p;
	char			 commit[DEPLOY_ID_MAX];
	struct deploy_image	*images;
	size_t			 nimages, next;
	struct dreq		*req;
	void			(*done)(struct job *, int, const char *);
};

static LIST_HEAD(, rb_run) rb_runs = LIST_HEAD_INITIALIZER(rb_runs);

static int
kept_release(const struct deploy_record *r)
{
	return r->nimages > 0 && r->to[0] != '\0' && !r->pruned &&
	    strcmp(r->state, "succeeded") == 0;
}

const struct deploy_record *
rollback_previous(struct project *p, const char *commit)
{
	const struct deploy_record	*r;
	size_t				 i;

	for (i = deploy_history_count(&p->deploy->hist); i > 0; i--) {
		r = deploy_history_get(&p->deploy->hist, i - 1);
		if (kept_release(r) && strcmp(r->to, commit) != 0)
			return r;
	}
	return NULL;
}

const struct deploy_record *
rollback_release(struct project *p, long long id)
{
	const struct deploy_record	*r;
	size_t				 i;

	for (i = deploy_history_count(&p->deploy->hist); i > 0; i--) {
		r = deploy_history_get(&p->deploy->hist, i - 1);
		if (r->id == id)
			return kept_release(r) ? r : NULL;
	}
	return NULL;
}

int
rollback_was_rolled_back(struct project *p, const char *commit)
{
	const struct deploy_record	*r;
	size_t				 i;

	for (i = deploy_history_count(&p->deploy->hist); i > 0; i--) {
		r = deploy_history_get(&p->deploy->hist, i - 1);
		if (strcmp(r->to, commit) == 0)
			return strcmp(r->state, "rolled_back") == 0;
	}
	return 0;
}

static void
rb_free(struct rb_run *rb)
{
	LIST_REMOVE(rb, entry);
	if (rb->req != NULL)
		dreq_cancel(rb->req);
	free(rb->images);
	free(rb);
}

static void
rb_end(struct rb_run *rb, int ok, const char *err)
{
	void		(*done)(struct job *, int, const char *) = rb->done;
	struct job	*j = rb->j;
	char		 msg[PROTO_MAX_MESSAGE];

	snprintf(msg, sizeof(msg), "%s", err != NULL ? err : "");
	rb_free(rb);
	done(j, ok, msg);
}

/* j's rollback; NULL (logged) if it was cancelled meanwhile */
static struct rb_run *
rb_find(struct job *j)
{
	struct rb_run	*rb;

	LIST_FOREACH(rb, &rb_runs, entry)
		if (rb->j == j)
			return rb;
	log_warnx("%s: job %lld: its rollback was cancelled", __func__, j->id);
	return NULL;
}

static void
rb_composed(struct job *j, const struct compose_result *cr)
{
	struct rb_run	*rb = rb_find(j);

	if (rb == NULL)
		return;
	if (!cr->ok)
		rb_end(rb, 0, cr->err[0] != '\0' ? cr->err : "compose up failed");
	else
		rb_end(rb, 1, NULL);
}

static void	rb_next_tag(struct rb_run *);

static void
rb_tagged(struct dreq *q)
{
	struct rb_run	*rb = q->arg;
	char		 err[PROTO_MAX_MESSAGE];

	rb->req = NULL;
	if (dreq_check(q, (const long[]){ 200, 201, 0 }) == -1) {
		msgf(err, sizeof(err), "tagging %s's release image as %s: %s",
		    rb->images[rb->next].service, rb->images[rb->next].image,
		    q->err);
		job_log(rb->j, "davit: %s", err);
		rb_end(rb, 0, err);
		return;
	}
	job_log(rb->j, "rollback: %s runs %.19s again as %s",
	    rb->images[rb->next].service, rb->images[rb->next].id,
	    rb->images[rb->next].image);
	rb->next++;
	rb_next_tag(rb);
}

/* each image of the release under the name compose uses; then up -d */
static void
rb_next_tag(struct rb_run *rb)
{
	const struct deploy_image	*im;
	char				 path[DOCKER_URL_MAX], repo[DEPLOY_IMAGE_REF_MAX];
	char				 rq[DEPLOY_IMAGE_REF_MAX * 3];
	const char			*slash, *colon, *tag = "latest";
	size_t				 i, o = 0;

	if (job_is_over(rb->j)) {
		rb_end(rb, 0, "the job ended");
		return;
	}
	if (rb->next >= rb->nimages) {
		job_log(rb->j, "rollback: up -d without a build");
		compose_deploy(rb->j, 0, NULL, rb_composed);
		return;
	}
	im = &rb->images[rb->next];
	slash = strrchr(im->image, '/');
	colon = strrchr(slash != NULL ? slash : im->image, ':');
	snprintf(repo, sizeof(repo), "%.*s", colon != NULL ?
	    (int)(colon - im->image) : (int)strlen(im->image), im->image);
	if (colon != NULL)
		tag = colon + 1;
	for (i = 0; repo[i] != '\0' && o + 4 < sizeof(rq); i++) {
		if (!((repo[i] >= 'a' && repo[i] <= 'z') ||
		    (repo[i] >= 'A' && repo[i] <= 'Z') ||
		    (repo[i] >= '0' && repo[i] <= '9') ||
		    strchr("._-/:", repo[i]) != NULL) || strchr(tag, '&') ||
		    strchr(tag, '?') || strchr(im->image, '@') ||
		    strncmp(im->id, "sha256:", 7) != 0) {
			rb_end(rb, 0, "a release image with an unexpected name");
			return;
		}
		if (repo[i] == '/' || repo[i] == ':')
			o += snprintf(rq + o, sizeof(rq) - o, "%%%02X",
			    (unsigned char)repo[i]);
		else
			rq[o++] = repo[i];
	}
	rq[o] = '\0';
	api_path(path, sizeof(path), "/images/%s/tag?repo=%s&tag=%s", im->id,
	    rq, tag);
	rb->req = dreq_start(DR_ACTION, DREQ_POST, path, RELEASE_REQUEST_TIMEOUT,
	    rb_tagged, rb);
}

static void
rb_reset(struct job *j, const struct git_step_result *r)
{
	struct rb_run	*rb = rb_find(j);
	char		 err[PROTO_MAX_MESSAGE];

	if (rb == NULL)
		return;
	if (job_is_over(j)) {
		rb_end(rb, 0, "the job ended");
		return;
	}
	if (!r->ok) {
		msgf(err, sizeof(err), "the checkout could not go back to %.12s "
		    "(%s): %s", rb->commit, r->code != NULL ? r->code : "error",
		    r->message);
		rb_end(rb, 0, err);
		return;
	}
	rb_next_tag(rb);
}

void
rollback_restore(struct job *j, struct project *p,
    const struct deploy_record *rel, void (*done)(struct job *, int, const char *))
{
	struct rb_run	*rb;

	if ((rb = calloc(1, sizeof(*rb))) == NULL ||
	    (rb->images = calloc(rel->nimages, sizeof(*rb->images))) == NULL)
		fatal("%s", __func__);
	rb->j = j;
	rb->p = p;
	rb->done = done;
	snprintf(rb->commit, sizeof(rb->commit), "%s", rel->to);
	memcpy(rb->images, rel->images, rel->nimages * sizeof(*rb->images));
	rb->nimages = rel->nimages;
	LIST_INSERT_HEAD(&rb_runs, rb, entry);
	job_log(j, "rollback: to deploy #%lld's release %.12s: the checkout, "
	    "its images, up -d (no fetch, no build)", rel->id, rel->to);
	git_reset_step(j, rb->commit, rb_reset);
}

void
rollback_cancel(struct job *j)
{
	struct rb_run	*rb, *next;

	for (rb = LIST_FIRST(&rb_runs); rb != NULL; rb = next) {
		next = LIST_NEXT(rb, entry);
		if (rb->j == j)
			rb_free(rb);
	}
}

void
rollback_shutdown(void)
{
	while (!LIST_EMPTY(&rb_runs))
		rb_free(LIST_FIRST(&rb_runs));
}
