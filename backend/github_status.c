/*
 * Commit statuses (github_int.h): each deploy's pending, success, failure
 * or error, posted by the worker thread (github_api.c) to the deploy's
 * project's DAVIT_GITHUB_REPO with that project's App token or personal
 * token, in that project's context; never blocks or fails a deploy.  Each
 * posted (or failed) status is logged and audited with its project.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <sodium.h>

#include "backend/backend.h"
#include "backend/github_int.h"
#include "backend/project.h"
#include "common/json.h"
#include "common/log.h"

/* worker: posts one status; 0 or -1 with why */
int
gh_post_status(CURL *curl, struct gh_status *s, char *why, size_t whylen)
{
	struct gh_project *gp = s->gp;
	struct gh_reply	 r;
	yajl_gen	 g;
	char		 path[512], url[GH_URL_MAX + 64], *body, *auth;
	size_t		 alen;
	int		 ret = -1;

	memset(&r, 0, sizeof(r));
	if (gp->app && (gp->key == NULL || (!gh_worker_fresh(gp) &&
	    gh_refresh(curl, gp, why, whylen) == -1))) {
		if (gp->key == NULL)
			snprintf(why, whylen, "DAVIT_GITHUB_APP_KEY could not be read");
		return -1;
	}
	alen = strlen("token ") + GH_TOKEN_MAX;
	if ((auth = sodium_malloc(alen)) == NULL) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	pthread_mutex_lock(&gh_lock);
	snprintf(auth, alen, "token %s", gp->app ? gp->gw_tok :
	    gp->pat != NULL ? gp->pat : "");
	pthread_mutex_unlock(&gh_lock);

	g = json_gen_new();
	yajl_gen_map_open(g);
	json_kstr(g, "state", s->state);
	json_kstr(g, "context", gp->context);
	json_kstr(g, "description", s->desc);
	if (benv->cfg.public_url != NULL) {
		snprintf(url, sizeof(url), "%s%s#deploy-%lld",
		    benv->cfg.public_url,
		    benv->cfg.public_url[strlen(benv->cfg.public_url) - 1] ==
		    '/' ? "" : "/", s->deploy);
		json_kstr(g, "target_url", url);
	}
	yajl_gen_map_close(g);
	body = json_gen_take(g, NULL);
	yajl_gen_free(g);

	snprintf(path, sizeof(path), "/repos/%s/%s/statuses/%s", gp->owner,
	    gp->name, s->sha);
	if (gh_request(curl, gp, "POST", path, auth, body, &r, why,
	    whylen) == 0) {
		if (r.code == 201 || r.code == 200)
			ret = 0;
		else {
			gh_why_other("posting the commit status", &r, why,
			    whylen);
			if (r.code == 401 && gp->app) {
				pthread_mutex_lock(&gh_lock);
				gp->gw_tok[0] = '\0';
				pthread_mutex_unlock(&gh_lock);
			}
		}
	}
	free(body);
	sodium_free(auth);
	gh_reply_reset(&r);
	return ret;
}

/* loop: what became of a status: a log line, an audit record, auth's error */
void
gh_status_done(struct gh_status *s)
{
	struct gh_project	*gp = s->gp;
	char			 why[GH_ERR_MAX];
	yajl_gen		 g;

	if (s->ok)
		log_info("GitHub: %s: commit status %s for %.12s posted "
		    "(deploy #%lld)", gp->pname, s->state, s->sha, s->deploy);
	else
		log_warnx("GitHub: %s: commit status %s for %.12s not posted: "
		    "%s", gp->pname, s->state, s->sha, s->why);
	g = audit_begin("github.status");
	json_kstr(g, "project", gp->pname);
	json_kint(g, "deploy", s->deploy);
	json_kstr(g, "sha", s->sha);
	json_kstr(g, "state", s->state);
	json_kstr(g, "context", gp->context);
	json_kstr(g, "description", s->desc);
	json_kstr(g, "result", s->ok ? "posted" : "failed");
	if (!s->ok)
		json_kstr(g, "error", s->why);
	audit_end(g);
	if (s->ok)
		gh_set_error(gp, NULL);
	else {
		snprintf(why, sizeof(why), "commit status: %.600s", s->why);
		gh_set_error(gp, why);
	}
}

void
github_deploy_status(struct project *p, long long deploy_id, const char *sha,
    const char *state, const char *description)
{
	struct gh_project	*gp = p->gh;
	struct gh_status	*s;

	if (gp == NULL || !gp->status || !gh.on)
		return;
	if (sha == NULL || strlen(sha) != 40 ||
	    strspn(sha, "0123456789abcdef") != 40) {
		log_warnx("GitHub: no commit status %s for deploy #%lld: no "
		    "commit id", state, deploy_id);
		return;
	}
	pthread_mutex_lock(&gh_lock);
	if (gh.qcount == GH_STATUS_QUEUE) {
		pthread_mutex_unlock(&gh_lock);
		log_warnx("GitHub: status queue full: %s for %.12s dropped",
		    state, sha);
		return;
	}
	s = &gh.q[(gh.qhead + gh.qcount) % GH_STATUS_QUEUE];
	memset(s, 0, sizeof(*s));
	s->gp = gp;
	gp->refs++;
	s->deploy = deploy_id;
	snprintf(s->sha, sizeof(s->sha), "%s", sha);
	snprintf(s->state, sizeof(s->state), "%s", state);
	gh_clean(s->desc, sizeof(s->desc), description, GH_DESC_MAX);
	gh.qcount++;
	pthread_cond_signal(&gh_cond);
	pthread_mutex_unlock(&gh_lock);
}

void
github_deploy_result(struct project *p, long long deploy_id, const char *sha,
    int ok, int timed_out, long long ms, const char *error)
{
	char	desc[GH_DESC_MAX + 1];

	if (ok)
		snprintf(desc, sizeof(desc), "deployed in %lld s",
		    (ms + 500) / 1000);
	else
		snprintf(desc, sizeof(desc), "%s", error != NULL ? error :
		    "deploy failed");
	github_deploy_status(p, deploy_id, sha, ok ? "success" : timed_out ?
	    "error" : "failure", desc);
}
