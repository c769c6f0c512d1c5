/*
 * The deploy concern, a file per role: the pipeline and its ops (deploy.c),
 * the verify step and the rollback after a failed one (deploy_verify.c),
 * the record of one deploy with its JSON form and the merging of pushes
 * (deploy_record.c, pure), the history store in the project's state
 * directory (deploy_history.c), the running deploy's journal
 * (deploy_journal.c), the set of deliveries already deployed
 * (deploy_replay.c), and the webhook filter (deploy_webhook.c).  Each
 * project has its own of each (struct deploy_project, p->deploy): its
 * queued and running deploy, its numbering, its history and its replay
 * set.  Only these files include this header.
 */
#ifndef DAVIT_DEPLOY_H
#define DAVIT_DEPLOY_H

#include <stddef.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "backend/backend.h"

#define DEPLOY_HISTORY_KEEP	100		/* deploys kept in memory and listed */
#define DEPLOY_HISTORY_READ	(1024 * 1024)	/* tail of the history file read at start */
#define DEPLOY_HISTORY_ROTATE	(4 * DEPLOY_HISTORY_READ)	/* then rewritten from memory */
#define DEPLOY_FILES_KEPT	50		/* changed files a record lists */
#define DEPLOY_LIST_MAX		(512 * 1024)	/* bytes of history in deploys.list */
#define DEPLOY_DELIVERIES	32		/* delivery ids remembered per deploy */
#define DEPLOY_SEEN_MAX		1024		/* deployed delivery ids and bodies remembered */
#define DEPLOY_BODY_KEY		"sha256:"	/* a body's digest in the seen set */
#define DEPLOY_STEPS		4
#define DEPLOY_ID_MAX		65		/* a sha256 commit id and its NUL */
#define DEPLOY_TRIGGER_MAX	16
#define DEPLOY_STATE_MAX	16
#define DEPLOY_FILE_STATUS_MAX	12
#define DEPLOY_HISTORY_FILE	"deploys.jsonl"
#define DEPLOY_COMMIT_FILE	"deployed-commit"

enum deploy_step {
	STEP_FETCH,
	STEP_PULL,
	STEP_REBUILD,
	STEP_VERIFY,
};

#define DEPLOY_IMAGE_REF_MAX	256		/* an image's name and its NUL */
#define DEPLOY_IMAGE_ID_MAX	72		/* "sha256:" + 64 hex and its NUL */

/* one service's image in a release (release.c): what compose runs it from */
struct deploy_image {
	char		 service[CONFIG_MAX_SERVICE_NAME + 1];
	char		 image[DEPLOY_IMAGE_REF_MAX];	/* the name compose uses */
	char		 id[DEPLOY_IMAGE_ID_MAX];	/* sha256:... */
	int		 recreated;	/* its container was replaced */
};

struct deploy_file {
	char		 status[DEPLOY_FILE_STATUS_MAX];	/* added, modified, ... */
	char		*path;
	char		*old_path;	/* renamed: NULL if none */
};

/*
 * One deploy as it is listed, published and stored: the only form that
 * becomes JSON (deploy_record_gen) and the only one read back from the
 * history file (deploy_record_parse).
 */
struct deploy_record {
	long long		 id;		/* numbered across restarts */
	long long		 job;		/* 0: none (an earlier backend's) */
	char			 trigger[DEPLOY_TRIGGER_MAX];	/* webhook, dashboard, socket */
	char			*by;
	char			*deliveries[DEPLOY_DELIVERIES];
	size_t			 ndeliveries;
	char			*bodies[DEPLOY_DELIVERIES];	/* their bodies' SHA-256 */
	size_t			 nbodies;
	char			 pushed[DEPLOY_ID_MAX];	/* newest pushed commit, "" if none */
	char			 from[DEPLOY_ID_MAX], to[DEPLOY_ID_MAX];
	int			 has_files;	/* the pull said which: "files" not null */
	struct deploy_file	*files;		/* at most DEPLOY_FILES_KEPT */
	size_t			 nfiles;
	long long		 files_total;
	struct {
		int		 done;
		int		 ok;
		int		 skipped;
		long long	 ms;
	}			 steps[DEPLOY_STEPS];
	/* the release (release.c): per listed service, its image */
	struct deploy_image	*images;	/* NULL when none */
	size_t			 nimages;
	char			 rolled_back_to[DEPLOY_ID_MAX];	/* rolled_back: the commit put back */
	long long		 release_of;	/* a manual rollback: the deploy restored */
	int			 pruned;	/* in memory: its tags were removed */
	char			 state[DEPLOY_STATE_MAX];	/* a job state, interrupted, rolled_back */
	long long		 created_ms, started_ms, ended_ms;
	char			*error;
};

/* deploy_record.c: no I/O */
extern const char *const deploy_step_names[DEPLOY_STEPS];
void	 deploy_record_gen(yajl_gen g, const struct deploy_record *r);
/* the same with "project" first (deploy.state's data); project NULL: none */
void	 deploy_record_gen_project(yajl_gen g, const struct deploy_record *r,
	    const char *project);
/*
 * A history line into r (zeroed first; deploy_record_clear frees it).
 * -1 with a message in err when it is no deploy record: not JSON, not an
 * object, no "job" member, or a member of the wrong type or size.
 */
int	 deploy_record_parse(const char *line, size_t len, struct deploy_record *r,
	    char *err, size_t errlen);
void	 deploy_record_clear(struct deploy_record *r);
void	 deploy_record_copy(struct deploy_record *dst, const struct deploy_record *src);
/* merging pushes: a delivery id and its body's digest, the newest commit */
void	 deploy_record_add_delivery(struct deploy_record *r, const char *delivery,
	    const char *body, const char *after);
/* 1 if r holds delivery, or the same body under another delivery id */
int	 deploy_record_has_delivery(const struct deploy_record *r,
	    const char *delivery, const char *body);
/* the pull's changed files: the first DEPLOY_FILES_KEPT, and how many */
struct git_file;
void	 deploy_record_set_files(struct deploy_record *r,
	    const struct git_file *files, size_t n);

/* deploy_replay.c: one project's deliveries and bodies deployed with success */
struct deploy_replay {
	char		*seen[DEPLOY_SEEN_MAX];	/* a ring, the oldest forgotten */
	size_t		 nseen, next;
};
int	 deploy_delivery_seen(const struct deploy_replay *rp, const char *delivery);
void	 deploy_delivery_remember(struct deploy_replay *rp, const char *delivery);
int	 deploy_body_seen(const struct deploy_replay *rp, const char *body);
void	 deploy_body_remember(struct deploy_replay *rp, const char *body);
/* all of r's */
void	 deploy_replay_remember(struct deploy_replay *rp,
	    const struct deploy_record *r);
void	 deploy_replay_clear(struct deploy_replay *rp);

/* release_record.c: the release members of a record, no I/O */
void	 release_record_gen(yajl_gen g, const struct deploy_record *r);
int	 release_record_parse(yajl_val v, struct deploy_record *r);	/* 0 or -1 */
void	 release_record_copy(struct deploy_record *dst, const struct deploy_record *src);
void	 release_record_clear(struct deploy_record *r);
/* "IMAGE:davit-<12 hex>" into out for image ref and commit; -1 if it does not fit */
int	 release_tag_name(const char *image, const char *commit, char *repo,
	    size_t repolen, char *tag, size_t taglen);
/*
 * GET /containers/json of project: per listed service (services, n), its
 * container (a running one first, else the newest), its image's name and id.
 * ids[i] "" when service i has none.  -1 with err on a malformed reply.
 */
int	 release_parse_containers(const char *buf, size_t len, const char *project,
	    char *const *services, size_t n, char (*ids)[65],
	    struct deploy_image *images, char *err, size_t errlen);

/* deploy_history.c: one project's STATE/deploys.jsonl and deployed-commit */
struct deploy_history {
	char			*dir;
	char			*history_path, *commit_path;
	struct deploy_record	*recs;		/* oldest first, n of cap */
	size_t			 n, cap;	/* cap grows to DEPLOY_HISTORY_KEEP */
	char			 commit[DEPLOY_ID_MAX];
};
void	 deploy_history_open(struct deploy_history *h, const char *dir);
void	 deploy_history_close(struct deploy_history *h);
/*
 * reads the history's tail and the deployed commit, the successful
 * deploys' deliveries into rp; returns the next id
 */
long long deploy_history_load(struct deploy_history *h, struct deploy_replay *rp);
/* appends r to the file (and to memory), rotating the file when big */
void	 deploy_history_append(struct deploy_history *h,
	    const struct deploy_record *r);
size_t	 deploy_history_count(const struct deploy_history *h);
/* 0: oldest */
const struct deploy_record *deploy_history_get(const struct deploy_history *h,
	    size_t i);
struct deploy_record *deploy_history_at(struct deploy_history *h, size_t i);	/* to mark it */
const char *deploy_commit_get(const struct deploy_history *h);	/* "" if unknown */
void	 deploy_commit_save(struct deploy_history *h, const char *id);
/* a file of the state directory written whole: tmp, fsync, rename, fsync */
struct iovec;
int	 deploy_state_write(const struct deploy_history *h, const char *path,
	    const struct iovec *iov, int iovcnt);

/*
 * deploy_journal.c: the running deploy's record in DEPLOY_JOURNAL_FILE,
 * rewritten at each step, removed when it ends; one left at start (a
 * kill -9, a power loss) becomes an "interrupted" record in the history.
 */
#define DEPLOY_JOURNAL_FILE	"deploy-journal.json"
#define DEPLOY_JOURNAL_MAX	(256 * 1024)	/* bytes of a journal read back */
void	 deploy_journal_write(const struct deploy_history *h,
	    const struct deploy_record *r);
void	 deploy_journal_end(const struct deploy_history *h);
/* a leftover journal into h; returns the next id (>= next_id) */
long long deploy_journal_recover(struct deploy_history *h, long long next_id);

/* deploy.c: one project's deploys (p->deploy) */
struct deploy;
struct project;
struct deploy_project {
	struct project		*p;
	struct deploy		*queued;	/* waiting in the job queue */
	struct deploy		*current;	/* running */
	long long		 next_id;	/* numbered per project */
	struct deploy_history	 hist;
	struct deploy_replay	 replay;
};
/* the pipeline, for the webhook filter */
int	 deploy_pending_has(const struct deploy_project *dp, const char *delivery,
	    const char *body);
struct job *deploy_submit(struct project *p, const char *trigger,
	    const char *by, const char *delivery, const char *body,
	    const char *after, int *merged, struct proto_error *err);
/* made when a project is added (its history read), freed when removed */
void	 deploy_project_add(struct project *p);
void	 deploy_project_remove(struct project *p);
/* for projects.list: the last deploy's id (0: none), state and end (or start) */
void	 deploy_project_last(const struct project *p, long long *id,
	    const char **state, long long *time_ms);

#endif
