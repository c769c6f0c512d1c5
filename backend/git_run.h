/*
 * git.c and git_run.c, the backend's two halves of git, share these: each
 * project's snapshot of its checkout and its last pull kept in memory
 * (struct git_project, p->git, owned by git.c), and one run of davit-git
 * for one project (git_run.c; its result applied: git_result.c).  Private
 * to the three.
 */
#ifndef DAVIT_GIT_RUN_H
#define DAVIT_GIT_RUN_H

#include <sys/queue.h>

#include "backend/backend.h"
#include "backend/git.h"
#include "gitchild/wire.h"

struct git_commit {
	int		 present;
	char		 id[GC_OID_HEX + 1];
	char		*summary;
	char		*author;
	long long	 time;		/* seconds since the epoch */
};

struct git_file {
	char		 status[12];
	char		*path;
	char		*old_path;
};

/* one status snapshot, as the child reported it */
struct git_view {
	int			 present;
	char			*branch;
	int			 detached, unborn;
	long long		 ahead, behind, dirty_total;
	struct git_commit	 local, remote;
	struct git_commit	 incoming[GC_MAX_INCOMING];
	size_t			 nincoming;
	char			*dirty[GC_MAX_DIRTY];
	size_t			 ndirty;
};

enum git_run_kind {
	RUN_BG,		/* status refresh or poll, outside the job queue */
	RUN_FETCH,	/* git_fetch_step, git_fetch_pull_step until the fetch ends */
	RUN_PULL,	/* git_pull_step */
};

struct project;

struct git_run {
	LIST_ENTRY(git_run)	 entry;
	struct project		*p;		/* whose checkout */
	struct git_project	*gp;		/* p->git */
	enum gc_op		 op;
	enum git_run_kind	 kind;
	char			 commit[GC_OID_HEX + 1];	/* GC_RESET's target */
	long long		 seq;		/* when its child started */
	struct job		*job;		/* NULL for RUN_BG */
	struct proc		*proc;
	struct event		*timer;		/* backoff, or a deferred end */
	int			 ending;	/* the timer ends the run */
	int			 attempt, tries;
	int			 app_refused;	/* an App's token was refused once */
	int			 adoptable;	/* fetch_pull's pull, awaiting its step */
	void			(*prev_cancel)(struct job *);
	int			 cancel_set;
	git_step_done		 done;		/* a step's (RUN_FETCH, RUN_PULL) */
	size_t			 nlines;
	/* what the child said */
	int			 final, ok, retry;
	char			 code[16];
	char			 message[PROTO_MAX_MESSAGE];
	struct git_view		 view;
	int			 has_fetched, has_origin, has_pull;
	char			 fetched[GC_OID_HEX + 1], origin[GC_OID_HEX + 1];
	char			 from[GC_OID_HEX + 1], to[GC_OID_HEX + 1];
	long long		 commits, files_total;
	int			 up_to_date;
	struct git_file		*files;
	size_t			 nfiles;
};

/* one project's git, p->git: git_project_add makes it, git_project_remove frees it */
struct git_project {
	struct project		*p;
	struct git_view		 view;
	long long		 status_seq;	/* of the run view came from */
	long long		 fetched_ms, polled_ms;
	int			 origin_moved;	/* the poll saw origin move */
	char			 polled_id[GC_OID_HEX + 1];
	char			*error;
	long long		 error_seq;	/* of the run error came from */
	/* the last pull */
	int			 pull_valid;
	char			 pull_from[GC_OID_HEX + 1], pull_to[GC_OID_HEX + 1];
	struct git_file		*files;
	size_t			 nfiles;
	long long		 files_total;
	struct event		*poll_ev;
	struct git_run		*bg;
	LIST_HEAD(, git_run)	 runs;
	long long		 seq;
};

extern char		*git_child_exe;	/* davit-git, for every project */

#define GIT_CHILD_ARGC		4	/* davit-git --git-child UID GID */
#define GIT_CHILD_ID_LEN	16	/* a uid's or gid's digits, with the NUL */

/* git_run.c */
void		 git_child_argv(const char *argv[GIT_CHILD_ARGC + 1],
		    char ids[2][GIT_CHILD_ID_LEN], uid_t uid, gid_t gid);

/* git_spare.c: a davit-git exec'd ahead, waiting for its request */
void		 git_spare_want(uid_t uid, gid_t gid);
struct proc	*git_spare_take(uid_t uid, gid_t gid, const void *input,
		    size_t len, void (*on_line)(void *, const char *, size_t),
		    void (*on_exit)(void *, int, int), void *arg, int timeout);
void		 git_spare_shutdown(void);

/* git.c */
void		 git_commit_clear(struct git_commit *c);
void		 git_view_clear(struct git_view *v);
void		 git_files_free(struct git_file *files, size_t n);
void		 git_files_gen(yajl_gen g, const struct git_file *files, size_t n);
void		 git_set_error(struct git_project *gp, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));

/* git_run.c */
/* 1 if p's DAVIT_WORKDIR is missing or an empty directory: a clone is due */
int		 git_needs_clone(const struct project *p);
/* davit-git's path, malloc'd, or NULL when it is not found */
char		*git_child_find(void);
struct git_run	*git_run_new(struct project *p, enum gc_op op,
		    enum git_run_kind kind, struct job *j);
/* starts its next try; the run ends with run_finish, which frees it */
void		 git_run_try(struct git_run *r);
void		 git_run_free(struct git_run *r);
/*
 * git_pull_step inside the fetch step's callback of a fetch_pull run: the
 * running child's pull becomes the step (1), or there is none (0).
 */
int		 git_run_adopt_pull(struct job *j, git_step_done done);

/* git_result.c */
void		 commit_from_line(struct git_commit *c, const struct gc_line *l);
/* a changed file's letter in a job's log: A, D, R or M */
char		 file_letter(const char *status);
void		 view_from_status(struct git_view *v, const struct gc_status *st);
/* a finished run's view, origin and pull into r->gp */
void		 run_apply(struct git_run *r);
/* its view only (a failed run's) */
void		 run_apply_view(struct git_run *r);
/* the job's result: the pull's, or the failure's code */
void		 run_job_result(struct git_run *r);

#endif
