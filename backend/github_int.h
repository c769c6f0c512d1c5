/*
 * The GitHub client's files share these, and nobody else: the HTTP layer
 * (github_http.c), the App's installation tokens (github_app.c), the commit
 * statuses (github_status.c), and the worker thread with the projects'
 * lifecycle (github_api.c).
 *
 * Locking: the worker thread and the event loop share gh_lock.  Each
 * project's struct gh_project is reference-counted under gh_lock (the
 * list's reference, the worker's while it works for it, each queued
 * status's), so a project removed by a reload while the worker posts for
 * it is freed by whoever drops the last reference.  Fields marked (fixed)
 * are set when the project is added and only read afterwards; (worker) and
 * (loop) fields belong to that side alone; the rest are under gh_lock.
 */
#ifndef DAVIT_GITHUB_INT_H
#define DAVIT_GITHUB_INT_H

#include <sys/queue.h>

#include <pthread.h>
#include <time.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "backend/github_api.h"
#include "proto/limits.h"

#define GH_URL_MAX		2400
#define GH_BODY_MAX		1024
#define GH_MSG_MAX		120	/* of GitHub's "message", shown */
#define GH_SKEW_SHOWN		30	/* a clock skew worth saying */
#define GH_DESC_MAX		140	/* GitHub's limit on a description */
#define GH_SHA_MAX		65
#define GH_CONTEXT_MAX		256
#define GH_EXPIRY_NOTICE	(7 * 24 * 3600)	/* notify this long before */
#define GH_EXPIRY_CHECK		3600	/* seconds between two checks */

struct gh_reply {
	long		 code;
	char		*body;		/* NUL-terminated, at most GH_REPLY_MAX */
	size_t		 len;
	int		 truncated;
	time_t		 date;		/* GitHub's clock, or -1 */
	long long	 retry_after;	/* seconds, or -1 */
	long long	 rl_remaining;	/* -1 if absent */
	long long	 rl_reset;	/* epoch, or -1 */
	char		 expiration[64];	/* github-authentication-token-expiration */
};

struct project;
struct gh_key;

/* one project's GitHub client (p->gh) */
struct gh_project {
	TAILQ_ENTRY(gh_project)	 entry;		/* gh.projects */
	int			 refs;
	int			 gone;		/* removed: no new work */
	struct project		*p;		/* (loop) NULL once gone */
	char			 pname[PROTO_PROJECT_NAME_MAX + 1];	/* (fixed) */

	/* (fixed) from the project's keys */
	int			 app;		/* a GitHub App, not a personal token */
	int			 status;	/* DAVIT_GITHUB_STATUS */
	struct gh_key		*key;
	char			*app_id;
	char			*pat;		/* DAVIT_GITHUB_TOKEN, sodium memory */
	char			 context[GH_CONTEXT_MAX];
	char			 owner[128], name[128];
	int			 installation_fixed;	/* DAVIT_GITHUB_INSTALLATION_ID */

	/* (worker) */
	long long		 installation;	/* 0: not known yet */

	/* under gh_lock */
	int			 refresh_wanted;
	char			*gw_tok;	/* the worker's token (statuses) */
	time_t			 gw_exp;
	int			 gr_ready, gr_ok;	/* the last refresh's result */
	char			 gr_why[GH_ERR_MAX];
	long long		 gr_installation;
	char			 pat_expiration[64];	/* as GitHub says */

	/* (loop) */
	char			*gl_tok;	/* the git child's token */
	time_t			 gl_exp;
	int			 gl_fetching;
	char			 gl_err[GH_ERR_MAX];
	long long		 gl_err_ms;
	long long		 gl_installation;	/* of the current token */
	char			 gl_pat_exp[64];	/* as GitHub announced it */
	char			 gl_notified[64];	/* the expiry notified of */
	struct {
		void	(*cb)(void *, const char *);
		void	*arg;
	}			 gl_wait[GH_WAITERS_MAX];
	size_t			 gl_nwait;
};
TAILQ_HEAD(gh_project_list, gh_project);

/* a commit status to post, then posted (for the audit log) */
struct gh_status {
	struct gh_project	*gp;		/* a reference */
	long long		 deploy;
	char			 sha[GH_SHA_MAX];
	char			 state[12];
	char			 desc[GH_DESC_MAX + 1];
	int			 ok;		/* results: posted */
	char			 why[GH_ERR_MAX];
};

/* github_api.c: the client's process-wide state */
struct gh_state {
	int			 on;		/* the worker runs */
	char			 api[GH_URL_MAX];	/* without a trailing '/' */
	pthread_t		 thread;
	struct event		*ev;		/* results for the loop */
	struct event		*expiry_ev;
	int			 stop;		/* under gh_lock */
	struct gh_project_list	 projects;	/* under gh_lock */
	struct gh_status	 q[GH_STATUS_QUEUE], done[GH_STATUS_QUEUE];
	size_t			 qhead, qcount, ndone;
};
extern struct gh_state	 gh;
extern pthread_mutex_t	 gh_lock;
extern pthread_cond_t	 gh_cond;
/* drops a reference, under gh_lock; the last one frees gp */
void		 gh_project_unref(struct gh_project *gp);
/* the worker has work for gp (a refresh): wakes it */
void		 gh_wake(void);

/* github_http.c: one request, with retries; the worker's only */
time_t		 gh_now(void);
void		 gh_clean(char *out, size_t outlen, const char *s, size_t max);
time_t		 gh_parse_time(const char *s);
void		 gh_reply_reset(struct gh_reply *r);
/*
 * 0 with r filled (any final code), -1 with why when no answer came; a
 * personal token's announced expiry goes into gp (may be NULL)
 */
int		 gh_request(CURL *curl, struct gh_project *gp, const char *method,
		    const char *path, const char *auth, const char *body,
		    struct gh_reply *r, char *why, size_t whylen);
void		 gh_why_401(const struct gh_reply *r, char *why, size_t whylen);
void		 gh_why_other(const char *what, const struct gh_reply *r,
		    char *why, size_t whylen);

/* github_app.c */
/* worker: a new installation token into gp->gw_tok; 0, or -1 and why */
int		 gh_refresh(CURL *curl, struct gh_project *gp, char *why,
		    size_t whylen);
int		 gh_worker_fresh(struct gh_project *gp);
/* loop: the personal token's expiry notified once, when near */
void		 gh_expiry_check(struct gh_project *gp);
void		 gh_set_error(struct gh_project *gp, const char *why);

/* github_status.c */
/* worker: posts one status; 0 or -1 with why */
int		 gh_post_status(CURL *curl, struct gh_status *s, char *why,
		    size_t whylen);
/* loop: a posted (or failed) status's log line and audit record */
void		 gh_status_done(struct gh_status *s);

#endif
