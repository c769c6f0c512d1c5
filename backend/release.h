/*
 * Releases (release.c) and rollbacks (rollback.c): the deploy pipeline's
 * steps that act on images through the Engine API.  Included by deploy.c,
 * release.c, rollback.c only.
 */
#ifndef DAVIT_RELEASE_H
#define DAVIT_RELEASE_H

#include "backend/deploy.h"
#include "backend/docker.h"

struct project;

#define RELEASE_TAG_MAX		32		/* "davit-" + 12 hex and more room */
#define RELEASE_REQUEST_TIMEOUT	60		/* seconds for one image call */

/*
 * A deploy's rebuild with releases: the listed services' containers as
 * the engine lists them, compose_deploy (build, run, up -d without down),
 * the containers again: rec->images gets each service's image and whether
 * its container was recreated (logged), and each image is tagged
 * IMAGE:davit-<12 hex of rec->to>.  done once, as compose_deploy's.
 * With build 0, no build and no run (a rollback's up).
 */
void	 release_rebuild(struct job *j, struct project *p,
	    struct deploy_record *rec, int build, const char *const *run,
	    void (*done)(struct job *, const struct compose_result *));
/*
 * The first list of j's rebuild, asked for ahead (while the deploy's pull
 * runs), so that release_rebuild starts compose at once; release_unprepare
 * drops it when no rebuild came (the deploy ended first).
 */
void	 release_prepare(struct job *j, struct project *p);
void	 release_unprepare(struct job *j);
/*
 * After a successful deploy (rec, not yet in the history): keeps the
 * newest DAVIT_KEEP_RELEASES releases (distinct commits), removes the
 * davit- tags of older ones, which deletes the images left without a name
 * (never one a container uses: the engine refuses), and logs the space
 * freed.  done once.
 */
void	 release_prune(struct job *j, struct project *p,
	    const struct deploy_record *rec, void (*done)(struct job *));
/* marks the history's releases beyond the kept ones (at start) */
void	 release_mark_kept(struct project *p, const struct deploy_record *newest);
/* ends j's image calls without their callbacks (a timeout) */
void	 release_cancel(struct job *j);
void	 release_shutdown(void);

/* rollback.c */
/* the newest kept release other than commit (NULL: none) */
const struct deploy_record *rollback_previous(struct project *p,
	    const char *commit);
/* deploy id's record if it is a kept release, else NULL */
const struct deploy_record *rollback_release(struct project *p, long long id);
/* 1 if commit's newest deploy was rolled back (a webhook does not redo it) */
int	 rollback_was_rolled_back(struct project *p, const char *commit);
/*
 * Puts release rel back: the checkout to its commit (davit-git, local),
 * its images tagged again as the names compose uses, up -d without build.
 * done(j, ok, err) once (rel may go away meanwhile: copied).
 */
void	 rollback_restore(struct job *j, struct project *p,
	    const struct deploy_record *rel,
	    void (*done)(struct job *, int, const char *));
void	 rollback_cancel(struct job *j);
void	 rollback_shutdown(void);

#endif
