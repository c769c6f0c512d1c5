/*
 * A project's GitHub App (github_int.h): its JWT, the installation on its
 * DAVIT_GITHUB_REPO, installation tokens limited to that repository and
 * the permissions davit needs (fetched by the worker thread, github_api.c),
 * the loop's copy for that project's git child; git.status's "auth"; a
 * personal token's expiry, notified once when near.
 *
 * Each project has its own cache (struct gh_project, p->gh): a token is
 * asked for with that project's App and key and offered to that project's
 * git child only, even when two projects share an App and installation.
 *
 * Failures say what to do (401: the App ID and the clock, with the skew
 * from GitHub's Date; 404: the App is not installed; 422: permissions); a
 * refused JWT is not retried (no storm of requests with a wrong key).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <sodium.h>
#include <yajl/yajl_tree.h>

#include "backend/backend.h"
#include "backend/github_int.h"
#include "backend/github_jwt.h"
#include "backend/notify.h"
#include "backend/project.h"
#include "common/json.h"
#include "common/log.h"

/* "Bearer JWT" in sodium memory, or NULL with why */
static char *
gh_bearer(struct gh_project *gp, char *why, size_t whylen)
{
	char	*jwt, *b;
	size_t	 len;

	if ((jwt = gh_jwt_sign(gp->key, gp->app_id,
	    (int64_t)gh_now(), why, whylen)) == NULL)
		return NULL;
	len = strlen("Bearer ") + strlen(jwt) + 1;
	if ((b = sodium_malloc(len)) != NULL)
		snprintf(b, len, "Bearer %s", jwt);
	else
		snprintf(why, whylen, "out of memory");
	gh_jwt_free(jwt);
	return b;
}

/* worker: the installation on owner/name (GET /repos/../installation) */
static int
gh_find_installation(CURL *curl, struct gh_project *gp, const char *bearer,
    char *why, size_t whylen)
{
	static const char	*idpath[] = { "id", NULL };
	struct gh_reply		 r;
	char			 path[512];
	yajl_val		 doc = NULL, v;
	int			 ret = -1;

	memset(&r, 0, sizeof(r));
	snprintf(path, sizeof(path), "/repos/%s/%s/installation", gp->owner,
	    gp->name);
	if (gh_request(curl, gp, "GET", path, bearer, NULL, &r, why,
	    whylen) == -1)
		goto done;
	if (r.code == 401) {
		gh_why_401(&r, why, whylen);
		goto done;
	}
	if (r.code == 404) {
		snprintf(why, whylen, "the App is not installed on %s/%s: "
		    "install it on that repository (the App's settings on "
		    "GitHub, Install App)", gp->owner, gp->name);
		goto done;
	}
	if (r.code != 200) {
		gh_why_other("finding the App's installation", &r, why, whylen);
		goto done;
	}
	if (r.body == NULL || r.truncated ||
	    (doc = yajl_tree_parse(r.body, NULL, 0)) == NULL ||
	    (v = yajl_tree_get(doc, idpath, yajl_t_number)) == NULL ||
	    !YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) <= 0) {
		snprintf(why, whylen, "finding the App's installation: GitHub's "
		    "reply has no installation id");
		goto done;
	}
	gp->installation = YAJL_GET_INTEGER(v);
	log_info("GitHub App %s: installation %lld on %s/%s (project %s)",
	    gp->app_id, gp->installation, gp->owner, gp->name, gp->pname);
	ret = 0;
 done:
	if (doc != NULL)
		yajl_tree_free(doc);
	gh_reply_reset(&r);
	return ret;
}

/* worker: a new installation token into gp->gw_tok; 0, or -1 and why */
int
gh_refresh(CURL *curl, struct gh_project *gp, char *why, size_t whylen)
{
	static const char	*tokpath[] = { "token", NULL };
	static const char	*exppath[] = { "expires_at", NULL };
	struct gh_reply		 r;
	char			 path[128], body[GH_BODY_MAX];
	char			*bearer = NULL;
	yajl_val		 doc = NULL, t, e;
	char			*ts;
	time_t			 exp;
	size_t			 len;
	int			 ret = -1;

	memset(&r, 0, sizeof(r));
	if ((bearer = gh_bearer(gp, why, whylen)) == NULL)
		goto done;
	if (gp->installation == 0 &&
	    gh_find_installation(curl, gp, bearer, why, whylen) == -1)
		goto done;
	snprintf(path, sizeof(path), "/app/installations/%lld/access_tokens",
	    gp->installation);
	/* owner/name were checked by the config: [A-Za-z0-9_.-] only */
	snprintf(body, sizeof(body), "{\"repositories\":[\"%s\"],"
	    "\"permissions\":{\"contents\":\"read\"%s}}", gp->name,
	    gp->status ? ",\"statuses\":\"write\"" : "");
	if (gh_request(curl, gp, "POST", path, bearer, body, &r, why,
	    whylen) == -1)
		goto done;
	if (r.code == 401) {
		gh_why_401(&r, why, whylen);
		goto done;
	}
	if (r.code == 404) {
		snprintf(why, whylen, "installation %lld not found: the App is "
		    "not installed on %s/%s%s", gp->installation, gp->owner,
		    gp->name, gp->installation_fixed ?
		    ", or DAVIT_GITHUB_INSTALLATION_ID is wrong" : "");
		if (!gp->installation_fixed)
			gp->installation = 0;	/* look it up again next time */
		goto done;
	}
	if (r.code == 422 || r.code == 403) {
		gh_why_other("GitHub refused the token request (the App needs "
		    "Contents: read, and Commit statuses: write for "
		    "DAVIT_GITHUB_STATUS, on this repository)", &r, why, whylen);
		goto done;
	}
	if (r.code != 201 && r.code != 200) {
		gh_why_other("requesting an installation token", &r, why,
		    whylen);
		goto done;
	}
	if (r.body == NULL || r.truncated ||
	    (doc = yajl_tree_parse(r.body, NULL, 0)) == NULL ||
	    (t = yajl_tree_get(doc, tokpath, yajl_t_string)) == NULL ||
	    (e = yajl_tree_get(doc, exppath, yajl_t_string)) == NULL ||
	    (exp = gh_parse_time(YAJL_GET_STRING(e))) == -1) {
		snprintf(why, whylen, "requesting an installation token: "
		    "GitHub's reply has no token or expiry");
		goto done;
	}
	ts = YAJL_GET_STRING(t);
	len = ts != NULL ? strlen(ts) : 0;
	if (len == 0 || len >= GH_TOKEN_MAX ||
	    strspn(ts, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") != len) {
		snprintf(why, whylen, "requesting an installation token: "
		    "GitHub's token is empty, too long or not printable");
		goto done;
	}
	pthread_mutex_lock(&gh_lock);
	memcpy(gp->gw_tok, ts, len + 1);
	gp->gw_exp = exp;
	gp->gr_installation = gp->installation;
	pthread_mutex_unlock(&gh_lock);
	log_info("GitHub App %s: installation %lld: a new token for %s/%s "
	    "(project %s), valid until %s", gp->app_id, gp->installation,
	    gp->owner, gp->name, gp->pname, YAJL_GET_STRING(e));
	ret = 0;
 done:
	if (doc != NULL) {
		if ((t = yajl_tree_get(doc, tokpath, yajl_t_string)) != NULL &&
		    (ts = YAJL_GET_STRING(t)) != NULL)
			sodium_memzero(ts, strlen(ts));
		yajl_tree_free(doc);
	}
	if (r.body != NULL)
		sodium_memzero(r.body, r.len);
	gh_reply_reset(&r);
	if (bearer != NULL)
		sodium_free(bearer);
	return ret;
}

int
gh_worker_fresh(struct gh_project *gp)
{
	int	fresh;

	pthread_mutex_lock(&gh_lock);
	fresh = gp->gw_tok[0] != '\0' && gp->gw_exp - gh_now() > GH_REFRESH_MARGIN;
	pthread_mutex_unlock(&gh_lock);
	return fresh;
}

/*
 * GitHub's github-authentication-token-expiration, "2031-01-02 03:04:05 UTC"
 * (or with a "+0100"-style offset), as seconds since the epoch, or -1
 */
time_t
github_parse_expiration(const char *s)
{
	struct tm	 tm;
	const char	*end;
	time_t		 t;
	int		 off;

	memset(&tm, 0, sizeof(tm));
	if (s == NULL || (end = strptime(s, "%Y-%m-%d %H:%M:%S", &tm)) == NULL)
		return -1;
	if ((t = timegm(&tm)) == -1)
		return -1;
	while (*end == ' ')
		end++;
	if (*end == '\0' || strcmp(end, "UTC") == 0 || strcmp(end, "GMT") == 0 ||
	    strcmp(end, "Z") == 0)
		return t;
	if ((end[0] == '+' || end[0] == '-') && strlen(end) == 5 &&
	    strspn(end + 1, "0123456789") == 4) {
		off = ((end[1] - '0') * 10 + (end[2] - '0')) * 3600 +
		    ((end[3] - '0') * 10 + (end[4] - '0')) * 60;
		return end[0] == '+' ? t - off : t + off;
	}
	return -1;
}

/* loop: a personal token expiring within GH_EXPIRY_NOTICE is notified, once */
void
gh_expiry_check(struct gh_project *gp)
{
	time_t		 t;
	long long	 left;

	if (gp->app || gp->gl_pat_exp[0] == '\0' || gp->p == NULL ||
	    strcmp(gp->gl_notified, gp->gl_pat_exp) == 0 ||
	    (t = github_parse_expiration(gp->gl_pat_exp)) == -1)
		return;
	left = (long long)t - (long long)gh_now();
	if (left > GH_EXPIRY_NOTICE)
		return;
	snprintf(gp->gl_notified, sizeof(gp->gl_notified), "%s", gp->gl_pat_exp);
	if (left <= 0)
		notify_project(gp->p, "github.token_expiring", NULL, "the "
		    "personal token (DAVIT_GITHUB_TOKEN) for %s/%s expired %s: "
		    "replace it, or git and commit statuses fail", gp->owner,
		    gp->name, gp->gl_pat_exp);
	else
		notify_project(gp->p, "github.token_expiring", NULL, "the "
		    "personal token (DAVIT_GITHUB_TOKEN) for %s/%s expires %s "
		    "(in %lld days %lld hours): replace it before then",
		    gp->owner, gp->name, gp->gl_pat_exp, left / 86400,
		    (left % 86400) / 3600);
}

/* loop: the last error of the client, for git.status's auth */
void
gh_set_error(struct gh_project *gp, const char *why)
{
	if (why == NULL) {
		gp->gl_err[0] = '\0';
		gp->gl_err_ms = 0;
		return;
	}
	snprintf(gp->gl_err, sizeof(gp->gl_err), "%s", why);
	gp->gl_err_ms = json_now_ms();
}

void
github_auth_gen(yajl_gen g, const struct project *p)
{
	const struct davit_config	*cfg = p->cfg;
	const struct gh_project		*gp = p->gh;
	time_t				 t;

	yajl_gen_map_open(g);
	if (cfg->github_app_id != NULL) {
		json_kstr(g, "mode", "app");
		json_kstr(g, "app_id", cfg->github_app_id);
		if (gp != NULL && gp->gl_installation > 0)
			json_kint(g, "installation", gp->gl_installation);
		else if (cfg->github_installation_id != NULL)
			json_kint(g, "installation",
			    strtoll(cfg->github_installation_id, NULL, 10));
		else
			json_knull(g, "installation");
		json_ktime(g, "token_expires_at", gp != NULL &&
		    gp->gl_tok != NULL && gp->gl_tok[0] != '\0' ?
		    (long long)gp->gl_exp * 1000 : 0);
	} else if (cfg->github_token != NULL) {
		json_kstr(g, "mode", "token");
		t = gp != NULL ? github_parse_expiration(gp->gl_pat_exp) : -1;
		json_ktime(g, "expires_at", t > 0 ? (long long)t * 1000 : 0);
	} else
		json_kstr(g, "mode", "none");
	json_kstr(g, "error", gp != NULL && gp->gl_err[0] != '\0' ?
	    gp->gl_err : NULL);
	json_ktime(g, "error_at", gp != NULL ? gp->gl_err_ms : 0);
	yajl_gen_map_close(g);
}

int
github_is_app(const struct project *p)
{
	return p->cfg->github_app_id != NULL;
}

/* the App's token is p's own: no other project's is ever offered */
int
github_token_wait(struct project *p, void (*cb)(void *, const char *),
    void *arg)
{
	struct gh_project	*gp = p->gh;

	if (gp == NULL || !gp->app)
		return 0;
	if (gp->key == NULL) {
		cb(arg, "DAVIT_GITHUB_APP_KEY could not be read: see the log");
		return 1;
	}
	if (gp->gl_tok[0] != '\0' && gp->gl_exp - gh_now() > GH_REFRESH_MARGIN)
		return 0;
	if (gp->gl_nwait == GH_WAITERS_MAX) {
		cb(arg, "too many git steps wait for a GitHub App token");
		return 1;
	}
	gp->gl_wait[gp->gl_nwait].cb = cb;
	gp->gl_wait[gp->gl_nwait].arg = arg;
	gp->gl_nwait++;
	if (!gp->gl_fetching) {
		gp->gl_fetching = 1;
		pthread_mutex_lock(&gh_lock);
		gp->refresh_wanted = 1;
		pthread_mutex_unlock(&gh_lock);
		gh_wake();
	}
	return 1;
}

const char *
github_git_token(const struct project *p)
{
	const struct gh_project	*gp = p->gh;

	if (gp != NULL && gp->app)
		return gp->gl_tok[0] != '\0' ? gp->gl_tok : NULL;
	return p->cfg->github_token;
}

void
github_token_invalidate(struct project *p)
{
	struct gh_project	*gp = p->gh;

	if (gp == NULL || !gp->app)
		return;
	sodium_memzero(gp->gl_tok, GH_TOKEN_MAX);
	gp->gl_exp = 0;
}
