/*
 * davit's GitHub REST client, in the backend (github_api.c, github_app.c,
 * github_status.c, github_http.c).  For each project with a GitHub App
 * (DAVIT_GITHUB_APP_ID) it finds the installation, asks for installation
 * tokens limited to that project's DAVIT_GITHUB_REPO and the permissions
 * davit needs, and keeps the current one for that project's git child; with
 * DAVIT_GITHUB_STATUS it posts the project's deploys' commit statuses (with
 * its App's token or its personal token).  All HTTP runs in one worker
 * thread: the event loop never waits for GitHub.
 */
#ifndef DAVIT_GITHUB_API_H
#define DAVIT_GITHUB_API_H

#include <time.h>

#include <yajl/yajl_gen.h>

#include "common/config.h"

#define GH_TOKEN_MAX		256	/* an installation token, NUL included */
#define GH_REFRESH_MARGIN	300	/* refresh when fewer seconds remain */
#define GH_TRIES		4	/* tries of one request on network errors */
#define GH_RATE_WAIT_MAX	60	/* longest wait for a rate limit, seconds */
#define GH_HTTP_TIMEOUT		30	/* seconds for one request */
#define GH_REPLY_MAX		(64 * 1024)
#define GH_STATUS_QUEUE		32
#define GH_WAITERS_MAX		16	/* git steps waiting for one token */
#define GH_ERR_MAX		640

struct project;

/* the backend's start and stop (backend.c) */
void	 github_init(void);
void	 github_shutdown(void);
/* a project's client: made when it is added, freed when it is removed */
void	 github_project_add(struct project *p);
void	 github_project_remove(struct project *p);
/* --check-config: the App's key is readable and valid. 0, or -1 and err */
int	 github_check_config(const struct davit_config *, char *err,
	    size_t errlen);

/*
 * git.status's "auth": how davit authenticates to GitHub (never a token):
 * {"mode":"app","app_id","installation","token_expires_at"},
 * {"mode":"token","expires_at"} or {"mode":"none"}, with "error" and
 * "error_at", the client's last failure.  A change publishes git.state.
 */
void	 github_auth_gen(yajl_gen g, const struct project *p);
/*
 * GitHub's github-authentication-token-expiration value ("2031-01-02
 * 03:04:05 UTC", or with a "+0100"-style offset) as seconds since the epoch,
 * or -1 (pure; unit-tested)
 */
time_t	 github_parse_expiration(const char *s);
/* p has a GitHub App (git's messages say so instead of the token) */
int	 github_is_app(const struct project *p);

/*
 * git: 1 when an App's token must be fetched first: cb(arg, NULL) runs from
 * the event loop once github_git_token() has a fresh one, cb(arg, why) if
 * none could be had.  0 when the caller may go on at once.
 */
int	 github_token_wait(struct project *p,
	    void (*cb)(void *arg, const char *why), void *arg);
/* p's git child's token: its App's current one, or its DAVIT_GITHUB_TOKEN */
const char *github_git_token(const struct project *p);
/* git was refused (401): p's App token is fetched again before the next use */
void	 github_token_invalidate(struct project *p);

/*
 * deploys: queues a commit status for sha ("pending", "success", "failure"
 * or "error") when DAVIT_GITHUB_STATUS=1; never blocks or fails a deploy.
 */
void	 github_deploy_status(struct project *p, long long deploy_id,
	    const char *sha, const char *state, const char *description);

/* the deploy's end: "success" ("deployed in N s"), "failure" or "error" (timed out) */
void	 github_deploy_result(struct project *p, long long deploy_id,
	    const char *sha, int ok, int timed_out, long long ms,
	    const char *error);

#endif
