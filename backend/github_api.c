/*
 * GitHub's REST API, from the backend: installation tokens for each
 * project's GitHub App and commit statuses for its deploys (github_api.h).
 * This file is the worker thread and the projects' lifecycle; the HTTP
 * layer is github_http.c, the App's tokens github_app.c, the statuses
 * github_status.c (github_int.h holds what they share).
 *
 * Threads: one worker thread does all HTTP, for every project, with
 * libcurl's easy interface.  The event loop hands it work under gh_lock (a
 * project's refresh_wanted, a status in gh.q) and is told of results by
 * gh.ev (event_active from the worker, safe with evthread_use_pthreads).
 * The loop keeps each project's copy of its current token for its git
 * child (gl_tok); the worker keeps one for statuses (gw_tok).  Both live in
 * sodium_malloc'd memory and are wiped.
 *
 * Projects: each has its own struct gh_project (p->gh), reference-counted
 * so that one removed by a reload while the worker works for it is freed
 * when the worker is done.  A project with neither an App nor
 * DAVIT_GITHUB_STATUS still has one (its personal token's expiry and
 * auth's error); the thread starts with the first project that needs it.
 *
 * Secrets: the JWT and tokens go only into the Authorization header of a
 * request to DAVIT_GITHUB_API_URL; never into a log line, an error, a URL
 * or an argv.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <sodium.h>

#include "backend/backend.h"
#include "backend/github_int.h"
#include "backend/github_jwt.h"
#include "backend/git.h"
#include "backend/project.h"
#include "common/log.h"

struct gh_state		 gh;
pthread_mutex_t		 gh_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_cond_t		 gh_cond = PTHREAD_COND_INITIALIZER;

static void	gh_thread_start(void);

static void
gh_project_free(struct gh_project *gp)
{
	gh_key_free(gp->key);
	free(gp->app_id);
	if (gp->pat != NULL)
		sodium_free(gp->pat);
	sodium_free(gp->gw_tok);
	sodium_free(gp->gl_tok);
	free(gp);
}

void
gh_project_unref(struct gh_project *gp)
{
	if (--gp->refs == 0)
		gh_project_free(gp);
}

void
gh_wake(void)
{
	pthread_mutex_lock(&gh_lock);
	pthread_cond_signal(&gh_cond);
	pthread_mutex_unlock(&gh_lock);
}

/* under gh_lock: a project whose token the loop waits for, with a reference */
static struct gh_project *
gh_refresh_next(void)
{
	struct gh_project	*gp;

	TAILQ_FOREACH(gp, &gh.projects, entry)
		if (gp->refresh_wanted && !gp->gone) {
			gp->refresh_wanted = 0;
			gp->refs++;
			return gp;
		}
	return NULL;
}

static void *
gh_worker(void *arg)
{
	struct gh_project	*gp;
	struct gh_status	 s;
	CURL			*curl;
	char			 why[GH_ERR_MAX];
	int			 ok;

	if ((curl = curl_easy_init()) == NULL)
		fatalx("%s: curl_easy_init", __func__);
	for (;;) {
		pthread_mutex_lock(&gh_lock);
		gp = NULL;
		while (!gh.stop && (gp = gh_refresh_next()) == NULL &&
		    gh.qcount == 0)
			pthread_cond_wait(&gh_cond, &gh_lock);
		if (gh.stop) {
			if (gp != NULL)
				gh_project_unref(gp);
			pthread_mutex_unlock(&gh_lock);
			break;
		}
		if (gp != NULL) {
			pthread_mutex_unlock(&gh_lock);
			why[0] = '\0';
			ok = gh_refresh(curl, gp, why, sizeof(why)) == 0;
			pthread_mutex_lock(&gh_lock);
			gp->gr_ready = 1;
			gp->gr_ok = ok;
			snprintf(gp->gr_why, sizeof(gp->gr_why), "%s", why);
			gh_project_unref(gp);
			pthread_mutex_unlock(&gh_lock);
			event_active(gh.ev, EV_READ, 0);
			continue;
		}
		s = gh.q[gh.qhead];	/* its reference comes along */
		gh.qhead = (gh.qhead + 1) % GH_STATUS_QUEUE;
		gh.qcount--;
		pthread_mutex_unlock(&gh_lock);
		s.why[0] = '\0';
		if (s.gp->gone) {
			s.ok = 0;
			snprintf(s.why, sizeof(s.why), "the project was removed");
		} else
			s.ok = gh_post_status(curl, &s, s.why, sizeof(s.why)) == 0;
		pthread_mutex_lock(&gh_lock);
		if (gh.ndone < GH_STATUS_QUEUE)
			gh.done[gh.ndone++] = s;
		else
			gh_project_unref(s.gp);
		pthread_mutex_unlock(&gh_lock);
		event_active(gh.ev, EV_READ, 0);
	}
	curl_easy_cleanup(curl);
	return NULL;
}

/* loop: one project's refresh result and announced expiry; 1 if auth changed */
static int
gh_result_project(struct gh_project *gp)
{
	char	why[GH_ERR_MAX];
	size_t	i, nwait;
	int	ready, ok, changed = 0;
	typeof(gp->gl_wait) wait;

	pthread_mutex_lock(&gh_lock);
	ready = gp->gr_ready;
	ok = gp->gr_ok;
	gp->gr_ready = 0;
	snprintf(why, sizeof(why), "%s", gp->gr_why);
	if (ready && ok) {
		memcpy(gp->gl_tok, gp->gw_tok, GH_TOKEN_MAX);
		gp->gl_exp = gp->gw_exp;
		gp->gl_installation = gp->gr_installation;
	}
	if (strcmp(gp->gl_pat_exp, gp->pat_expiration) != 0) {
		snprintf(gp->gl_pat_exp, sizeof(gp->gl_pat_exp), "%s",
		    gp->pat_expiration);
		changed = 1;
	}
	pthread_mutex_unlock(&gh_lock);
	gh_expiry_check(gp);
	if (!ready)
		return changed;
	gp->gl_fetching = 0;
	if (ok)
		gh_set_error(gp, NULL);
	else {
		gh_set_error(gp, why);
		log_warnx("GitHub App: %s: %s", gp->pname, why);
	}
	/* the callbacks may wait again: call them from a copy */
	nwait = gp->gl_nwait;
	memcpy(wait, gp->gl_wait, sizeof(wait));
	gp->gl_nwait = 0;
	if (gp->p != NULL)
		git_publish(gp->p);	/* git.status's auth */
	for (i = 0; i < nwait; i++)
		wait[i].cb(wait[i].arg, ok ? NULL : why);
	return 0;
}

/* loop: refreshes ended, or statuses were posted */
static void
gh_result(evutil_socket_t fd, short ev, void *arg)
{
	struct gh_status	 done[GH_STATUS_QUEUE];
	struct project		*p;
	size_t			 i, n;

	pthread_mutex_lock(&gh_lock);
	n = gh.ndone;
	memcpy(done, gh.done, n * sizeof(done[0]));
	gh.ndone = 0;
	pthread_mutex_unlock(&gh_lock);
	for (i = 0; i < n; i++) {
		if (done[i].gp->p != NULL) {
			gh_status_done(&done[i]);
			git_publish(done[i].gp->p);
		}
		pthread_mutex_lock(&gh_lock);
		gh_project_unref(done[i].gp);
		pthread_mutex_unlock(&gh_lock);
	}
	TAILQ_FOREACH(p, &projects, entry)
		if (p->gh != NULL && gh_result_project(p->gh))
			git_publish(p);
}

/* loop: every hour, the personal tokens' expiry */
static void
gh_expiry_timer(evutil_socket_t fd, short ev, void *arg)
{
	struct project	*p;

	TAILQ_FOREACH(p, &projects, entry)
		if (p->gh != NULL)
			gh_expiry_check(p->gh);
}

/* a project's client from its keys; fatal only at start (a reload logs) */
void
github_project_add(struct project *p)
{
	const struct davit_config	*cfg = p->cfg;
	struct gh_project		*gp;
	const char			*slash;
	char				 why[GH_ERR_MAX];

	if ((gp = calloc(1, sizeof(*gp))) == NULL)
		fatal("%s", __func__);
	gp->refs = 1;
	gp->p = p;
	snprintf(gp->pname, sizeof(gp->pname), "%s", p->name);
	gp->app = cfg->github_app_id != NULL;
	gp->status = cfg->github_status;
	snprintf(gp->context, sizeof(gp->context), "%s",
	    cfg->github_status_context != NULL ? cfg->github_status_context : "");
	if (cfg->github_repo != NULL &&
	    (slash = strchr(cfg->github_repo, '/')) != NULL) {
		snprintf(gp->owner, sizeof(gp->owner), "%.*s",
		    (int)(slash - cfg->github_repo), cfg->github_repo);
		snprintf(gp->name, sizeof(gp->name), "%s", slash + 1);
	} else if (gp->app || gp->status)
		fatalx("%s: %s: no DAVIT_GITHUB_REPO (the config checks this)",
		    __func__, p->name);
	if ((gp->gw_tok = sodium_malloc(GH_TOKEN_MAX)) == NULL ||
	    (gp->gl_tok = sodium_malloc(GH_TOKEN_MAX)) == NULL)
		fatal("%s: sodium_malloc", __func__);
	sodium_memzero(gp->gw_tok, GH_TOKEN_MAX);
	sodium_memzero(gp->gl_tok, GH_TOKEN_MAX);
	if (cfg->github_token != NULL) {
		if ((gp->pat = sodium_malloc(strlen(cfg->github_token) + 1)) == NULL)
			fatal("%s: sodium_malloc", __func__);
		memcpy(gp->pat, cfg->github_token, strlen(cfg->github_token) + 1);
	}
	if (gp->app) {
		if ((gp->app_id = strdup(cfg->github_app_id)) == NULL)
			fatal("%s", __func__);
		if (gh_key_load(cfg->github_app_key, 0, &gp->key, why,
		    sizeof(why)) == -1) {
			if (!gh.on && projects_count() <= 1)
				fatalx("DAVIT_GITHUB_APP_KEY %s: %s",
				    cfg->github_app_key, why);
			log_warnx("%s: DAVIT_GITHUB_APP_KEY %s: %s", p->name,
			    cfg->github_app_key, why);
			gh_set_error(gp, "DAVIT_GITHUB_APP_KEY could not be read");
		}
		if (cfg->github_installation_id != NULL) {
			gp->installation_fixed = 1;
			gp->installation = strtoll(cfg->github_installation_id,
			    NULL, 10);
		}
		log_info("GitHub: %s: App %s, installation %s, repository "
		    "%s/%s", p->name, gp->app_id, gp->installation_fixed ?
		    cfg->github_installation_id : "found by repository",
		    gp->owner, gp->name);
	}
	if (gp->status)
		log_info("GitHub: %s: deploys post commit statuses (%s) to %s/%s",
		    p->name, gp->context, gp->owner, gp->name);
	p->gh = gp;
	pthread_mutex_lock(&gh_lock);
	TAILQ_INSERT_TAIL(&gh.projects, gp, entry);
	pthread_mutex_unlock(&gh_lock);
	if (gp->app || gp->status)
		gh_thread_start();
}

/*
 * No new work for it; its queued statuses are dropped (their references
 * with them), and it is freed now or when the worker is done with it.
 * Its waiters are the git runs git_project_remove freed: not called.
 */
void
github_project_remove(struct project *p)
{
	struct gh_project	*gp = p->gh;
	struct gh_status	 keep[GH_STATUS_QUEUE];
	size_t			 i, n = 0;

	if (gp == NULL)
		return;
	p->gh = NULL;
	gp->p = NULL;
	gp->gl_nwait = 0;
	pthread_mutex_lock(&gh_lock);
	gp->gone = 1;
	TAILQ_REMOVE(&gh.projects, gp, entry);
	for (i = 0; i < gh.qcount; i++) {
		struct gh_status *s = &gh.q[(gh.qhead + i) % GH_STATUS_QUEUE];

		if (s->gp == gp)
			gh_project_unref(gp);
		else
			keep[n++] = *s;
	}
	for (i = 0; i < n; i++)
		gh.q[(gh.qhead + i) % GH_STATUS_QUEUE] = keep[i];
	gh.qcount = n;
	gh_project_unref(gp);
	pthread_mutex_unlock(&gh_lock);
}

int
github_check_config(const struct davit_config *cfg, char *err, size_t errlen)
{
	struct gh_key	*k;
	char		 why[GH_ERR_MAX];

	if (cfg->github_app_key == NULL)
		return 0;
	if (gh_key_load(cfg->github_app_key, 0, &k, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "DAVIT_GITHUB_APP_KEY %s: %s",
		    cfg->github_app_key, why);
		return -1;
	}
	gh_key_free(k);
	return 0;
}

static void
gh_thread_start(void)
{
	if (gh.on)
		return;
	if (pthread_create(&gh.thread, NULL, gh_worker, NULL) != 0)
		fatalx("%s: pthread_create", __func__);
	gh.on = 1;
}

void
github_init(void)
{
	struct timeval	 tv = { GH_EXPIRY_CHECK, 0 };
	size_t		 n;

	TAILQ_INIT(&gh.projects);
	snprintf(gh.api, sizeof(gh.api), "%s", benv->cfg.github_api_url != NULL ?
	    benv->cfg.github_api_url : "");
	n = strlen(gh.api);
	while (n > 0 && gh.api[n - 1] == '/')
		gh.api[--n] = '\0';
	if ((gh.ev = event_new(benv->base, -1, 0, gh_result, NULL)) == NULL ||
	    (gh.expiry_ev = event_new(benv->base, -1, EV_PERSIST,
	    gh_expiry_timer, NULL)) == NULL)
		fatalx("%s: event_new", __func__);
	event_add(gh.expiry_ev, &tv);
}

void
github_shutdown(void)
{
	struct project	*p;
	size_t		 i;

	if (gh.on) {
		pthread_mutex_lock(&gh_lock);
		__atomic_store_n(&gh.stop, 1, __ATOMIC_RELAXED);
		pthread_cond_broadcast(&gh_cond);
		pthread_mutex_unlock(&gh_lock);
		pthread_join(gh.thread, NULL);
	}
	/* the worker is gone: what it left holds references */
	pthread_mutex_lock(&gh_lock);
	for (i = 0; i < gh.ndone; i++)
		gh_project_unref(gh.done[i].gp);
	gh.ndone = 0;
	pthread_mutex_unlock(&gh_lock);
	TAILQ_FOREACH(p, &projects, entry)
		github_project_remove(p);
	if (gh.ev != NULL)
		event_free(gh.ev);
	if (gh.expiry_ev != NULL)
		event_free(gh.expiry_ev);
	memset(&gh, 0, sizeof(gh));
}
