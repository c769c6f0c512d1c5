/*
 * git.c: the backend's side of git.  It runs every libgit2 operation in a
 * child (davit-git, gitchild/) as the owner of
 * DAVIT_WORKDIR, keeps the last git.status in memory, runs git.fetch and
 * git.pull as jobs, polls origin, and publishes git.state events.
 *
 * The deploy pipeline uses the steps below inside its own job: a step keeps
 * j->proc set while its child runs, never calls job_done, and calls done
 * exactly once (also when the job times out).
 */
#ifndef DAVIT_GIT_H
#define DAVIT_GIT_H

#include <yajl/yajl_gen.h>

#include "backend/backend.h"

#define GIT_TRIES		4	/* tries of a network operation */
#define GIT_BACKOFF_MS		1000	/* before the 2nd try; doubles, +-25% jitter */
#define GIT_BG_TIMEOUT		120	/* seconds for a status or poll child */
#define GIT_MAX_CHILD_LINES	20000	/* lines read from one child */

/*
 * Fetches DAVIT_BRANCH into refs/remotes/origin/DAVIT_BRANCH (or clones
 * into a missing or empty DAVIT_WORKDIR), retrying transient failures.
 * On failure git_last_error() and git_last_code() say why.
 */
void	 git_fetch_step(struct job *j, void (*done)(struct job *j, int ok));
/*
 * Fast-forwards the checkout to origin/DAVIT_BRANCH.  code is NULL on
 * success, else "conflict" (diverged, modified tracked files, another
 * branch, detached HEAD, untracked files in the way), "not_found",
 * "unavailable", "unauthorized" or "internal".  Audited as "git.pull".
 */
void	 git_pull_step(struct job *j, void (*done)(struct job *j, int ok,
	    const char *code));

/* the last successful pull (up to date included); NULL before one */
const char *git_last_pull_from(void);	/* NULL too when the branch was unborn */
const char *git_last_pull_to(void);
/* [{"status":"added|modified|deleted|renamed","path":..,"old_path":..}, ...] */
void	 git_last_pull_files_gen(yajl_gen g);

/* the message and code of the last failed step, "" when none */
const char *git_last_error(void);
const char *git_last_code(void);

/* from memory: the commit HEAD and origin/BRANCH point to, or NULL */
const char *git_head_id(void);
const char *git_remote_id(void);
/* the git.status object (also the data of git.state events) */
void	 git_status_gen(yajl_gen g);

int	 op_git_status(struct ctl_request *, yajl_gen, struct proto_error *);
int	 op_git_job(struct ctl_request *, yajl_gen, struct proto_error *);

#endif
