/*
 * The projects one davit manages.  Each has its own configuration (a full
 * struct davit_config holding its keys: the main file's in single-project
 * mode, DAVIT_PROJECTS_DIR/NAME.env's otherwise) and, owned by each
 * concern, its own state: git status, services, deploys, job queue,
 * GitHub token.  A request names its project by "project"; control.c
 * resolves it before the handler runs, so a handler of a PROTO_OP_PROJECT
 * op always has cr->project.
 *
 * Rules: a project is found by name only through project_find(); a
 * removed project (a reload dropped it) takes no new work and is freed
 * when its last job ends; nothing outside a concern reaches into that
 * concern's per-project state.
 */
#ifndef DAVIT_PROJECT_H
#define DAVIT_PROJECT_H

#include <sys/queue.h>

#include <limits.h>

#include "common/config.h"
#include "proto/limits.h"

struct git_project;
struct docker_project;
struct deploy_project;
struct job_queue;
struct gh_project;

struct project {
	TAILQ_ENTRY(project)	 entry;
	char			 name[PROTO_PROJECT_NAME_MAX + 1];
	char			 path[PATH_MAX];	/* its file */
	struct davit_config	*cfg;		/* this project's keys */
	struct davit_config	*next_cfg;	/* a reload's, once it is quiet */
	int			 cfg_owned;	/* cfg is ours to free (not &benv->cfg) */
	char			*state_dir;	/* DAVIT_STATE_DIR/NAME, or NULL */
	char			*config_error;	/* the last reload's problem with its file */
	int			 removed;	/* a reload removed it: no new work */

	/* each concern's own, NULL until that concern attaches it */
	struct git_project	*git;
	struct docker_project	*docker;
	struct deploy_project	*deploy;
	struct job_queue	*jobs;
	struct gh_project	*gh;
};
TAILQ_HEAD(project_list, project);
extern struct project_list	 projects;

/*
 * One project's configuration as read (project_conf.c): its name, its file
 * (the main file in single-project mode, where cfg is NULL: the main
 * configuration is the project's), and its problems.
 */
struct project_conf {
	char			 name[PROTO_PROJECT_NAME_MAX + 1];
	char			 path[PATH_MAX];
	struct davit_config	*cfg;		/* NULL: the main file's */
	struct config_errors	*errs;
	int			 ok;
};
struct project_confs {
	struct project_conf	*v;		/* in name order */
	size_t			 n;
	struct config_errors	 errs;		/* no one project's problems */
};
/* 0, or -1 when any problem was found (pc holds them; free it either way) */
int		 project_confs_read(const char *main_path,
		    const struct davit_config *main, struct project_confs *pc);
void		 project_confs_free(struct project_confs *pc);
void		 project_conf_error(const struct project_conf *c, char *out,
		    size_t outlen);

/*
 * What projects.list shows of a project beyond its configuration, each
 * part from the concern that knows it (git.h's git_project_summary,
 * docker.h's docker_project_counts, deploy.h's deploy_project_last).
 * Unknown: "" / -1.
 */
#define PROJECT_SUMMARY_ERROR	256
struct project_summary {
	char		 local[41];	/* the checkout's HEAD commit id */
	char		 origin[41];	/* origin's branch commit id */
	int		 update_available;	/* 0/1, -1 unknown */
	int		 running;	/* services running, -1 unknown */
	int		 total;		/* services listed */
	long long	 deploy_id;	/* the last deploy, -1 none */
	char		 deploy_state[16];
	long long	 deploy_ms;	/* its time (its end, else its start) */
	char		 error[PROJECT_SUMMARY_ERROR];	/* the last error, one line */
};

/* builds the list from the configuration; fatal on any problem */
void		 projects_init(void);
/* each concern's add hook for every project: after every concern's init */
void		 projects_start(void);
/* SIGHUP: the files read again (backend.c's handler) */
void		 projects_reload(void);
/*
 * jobs.c, from the loop (never inside a job's end: its owner still uses
 * the project): each project a reload removed or changed that runs and
 * waits for nothing now is freed, or gets its new configuration.
 */
void		 projects_settle(void);
void		 projects_shutdown(void);
struct project	*project_find(const char *name);	/* NULL: none, or removed */
size_t		 projects_count(void);		/* live ones */
struct project	*project_only(void);		/* the one, if exactly one */
/*
 * The name a single project gets from its workdir: basename lower-cased,
 * characters outside [a-z0-9-] as '-', leading '-' dropped, cut to
 * PROTO_PROJECT_NAME_MAX; "app" if nothing is left.  0, or -1 if out is
 * too small.
 */
int		 project_name_from_workdir(const char *workdir, char *out,
		    size_t outlen);
/* 1 if name matches [a-z0-9][a-z0-9-]{0,31} */
int		 project_name_valid(const char *name);

#endif
