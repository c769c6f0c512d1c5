/*
 * git.c: the backend's side of git.  It runs every libgit2 operation in a
 * child (davit-git, gitchild/) as the owner of
 * the project's DAVIT_WORKDIR, keeps each project's last git.status in
 * memory, runs git.fetch and git.pull as jobs of their project, polls each
 * project's origin, and publishes git.state events naming the project.
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
#define GIT_EXIT_WAIT		10	/* seconds for a child to exit after its result */

struct git_file;

/*
 * What a step did, in its callback's arguments (valid for the call only).
 * code is NULL on success, else "conflict" (diverged, modified tracked
 * files, another branch, detached HEAD, untracked files in the way),
 * "not_found", "unavailable", "unauthorized" or "internal".
 */
struct git_step_result {
	int			 ok;
	const char		*code;
	const char		*message;	/* why it failed, "" on success */
	/* a successful pull (up to date included); NULL when unknown */
	const char		*from;		/* NULL too when the branch was unborn */
	const char		*to;
	const struct git_file	*files;		/* status, path, old_path */
	size_t			 nfiles;
};
typedef void (*git_step_done)(struct job *j, const struct git_step_result *r);

/*
 * The steps work on j->project's checkout.
 * Fetches DAVIT_BRANCH into refs/remotes/origin/DAVIT_BRANCH (or clones
 * into a missing or empty DAVIT_WORKDIR), retrying transient failures.
 */
void	 git_fetch_step(struct job *j, git_step_done done);
/*
 * The same, in a run of davit-git that goes on with the pull when the fetch
 * succeeds (op fetch_pull): done is the fetch's, and a git_pull_step called
 * from inside it takes that pull instead of starting a run.  A clone stays
 * on its own, as in git_fetch_step.
 */
void	 git_fetch_pull_step(struct job *j, git_step_done done);
/* Fast-forwards the checkout to origin/DAVIT_BRANCH.  Audited as "git.pull". */
void	 git_pull_step(struct job *j, git_step_done done);
/*
 * A rollback's move: DAVIT_BRANCH to commit (40 hex, already in the
 * repository, along its history), checked out like a pull, no network;
 * done gets a pull's result.
 */
void	 git_reset_step(struct job *j, const char *commit, git_step_done done);

struct project;

/* from memory: the commit p's HEAD and origin/BRANCH point to, or NULL */
const char *git_head_id(const struct project *p);
const char *git_remote_id(const struct project *p);
/* p's git.status object, with "project" (also the data of git.state events) */
void	 git_status_gen(yajl_gen g, const struct project *p);
/* publishes p's git.state (also when github_api.c's auth object changed) */
void	 git_publish(struct project *p);
/* a project's git state: made when it is added, freed when it is removed */
void	 git_project_add(struct project *p);
void	 git_project_remove(struct project *p);
/*
 * For projects.list: p's local and origin commit ids (NULL when unknown),
 * whether an update is available, and the last git error (NULL if none).
 */
void	 git_project_summary(const struct project *p, const char **local,
	    const char **origin, int *update_available);
const char *project_last_error_git(const struct project *p);

int	 op_git_status(struct ctl_request *, yajl_gen, struct proto_error *);
int	 op_git_job(struct ctl_request *, yajl_gen, struct proto_error *);

#endif
