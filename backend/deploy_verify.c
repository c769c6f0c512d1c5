/*
 * A deploy's verify step and the rollback after a failed one: every listed
 * service running (healthy where it has a healthcheck) and staying so, the
 * same containers not restarting, for DEPLOY_VERIFY_STABLE_MS within
 * DAVIT_DEPLOY_VERIFY, checked every DEPLOY_VERIFY_TICK_MS from the
 * docker state in memory (no request of its own).  A verify that fails
 * puts the previous kept release back (DAVIT_ROLLBACK, rollback.c) and
 * verifies it in turn; a rollback is never rolled back.  A verified
 * deploy's older releases are pruned.  deploy.c runs the other steps and
 * ends the job (deploy_finish).
 */
#include <stdio.h>
#include <string.h>

#include <event2/event.h>

#include "backend/backend.h"
#include "backend/project.h"
#include "backend/deploy.h"
#include "backend/deploy_int.h"
#include "backend/docker.h"
#include "backend/release.h"
#include "common/clock.h"
#include "common/text.h"
#include "common/log.h"

#define DEPLOY_VERIFY_STABLE_MS	3000		/* services ready, unchanged, this long */
#define DEPLOY_VERIFY_TICK_MS	250

static void
deploy_pruned(struct job *j)
{
	struct deploy	*d = j->arg;

	if (job_is_over(j))
		return;
	release_mark_kept(j->project, &d->rec);
	deploy_finish(j, NULL, NULL);
}

/* ------------------------------------------------------- the rollback -- */

static void
deploy_rollback_failed(struct job *j, const char *why)
{
	struct deploy	*d = j->arg;
	char		 msg[PROTO_MAX_MESSAGE];

	msgf(msg, sizeof(msg), "services not ready and steady within "
	    "DAVIT_DEPLOY_VERIFY: %s; the rollback to %.12s failed too: %s",
	    d->rb_why, d->rec.rolled_back_to, why);
	d->rec.rolled_back_to[0] = '\0';
	deploy_finish(j, "%s", msg);
}

/* the previous release runs again: the deploy is rolled_back */
static void
deploy_rolled_back(struct job *j)
{
	struct deploy	*d = j->arg;
	char		 msg[PROTO_MAX_MESSAGE];

	if (d->dp != NULL)
		deploy_commit_save(&d->dp->hist, d->rec.rolled_back_to);
	d->rolled_back = 1;
	job_log(j, "rollback: %.12s is live again", d->rec.rolled_back_to);
	msgf(msg, sizeof(msg), "services not ready and steady within "
	    "DAVIT_DEPLOY_VERIFY: %s; rolled back from %.12s to %.12s",
	    d->rb_why, d->rec.to, d->rec.rolled_back_to);
	deploy_finish(j, "%s", msg);
}

static void
deploy_restored(struct job *j, int ok, const char *err)
{
	struct deploy	*d = j->arg;

	if (job_is_over(j))
		return;
	if (!ok) {
		deploy_rollback_failed(j, err);
		return;
	}
	job_log(j, "rollback: verify");
	deploy_verify_begin(d);
}

/*
 * A failed verify: the previous kept release back (DAVIT_ROLLBACK), then
 * verified as a deploy is.  0 when there is none to go back to.
 */
static int
deploy_rollback(struct job *j, const char *why)
{
	struct deploy			*d = j->arg;
	const struct deploy_record	*rel;
	struct project			*p = j->project;

	if (d->rec.release_of > 0) {
		job_log(j, "deploy: a rollback is not rolled back in turn");
		return 0;
	}
	if (!p->cfg->rollback) {
		job_log(j, "deploy: no rollback (DAVIT_ROLLBACK is off)");
		return 0;
	}
	if (d->rec.to[0] == '\0' || (rel = rollback_previous(p, d->rec.to)) == NULL) {
		job_log(j, "deploy: no kept release to roll back to");
		return 0;
	}
	snprintf(d->rb_why, sizeof(d->rb_why), "%s", why);
	snprintf(d->rec.rolled_back_to, sizeof(d->rec.rolled_back_to), "%s",
	    rel->to);
	d->rollback = 1;
	job_log(j, "deploy: verify failed (%s): rolling back to %.12s", why,
	    rel->to);
	rollback_restore(j, j->project, rel, deploy_restored);
	return 1;
}

/*
 * Verify: every listed service running (healthy where it has a healthcheck)
 * and staying so, the same containers not restarting, for
 * DEPLOY_VERIFY_STABLE_MS (at most DAVIT_DEPLOY_VERIFY), within
 * DAVIT_DEPLOY_VERIFY.  One instant of "running" proves nothing for a
 * container that crashes a second after it starts.  It fails as soon as
 * that window can no longer end within DAVIT_DEPLOY_VERIFY.
 */
void
deploy_verify_tick(evutil_socket_t fd, short ev, void *arg)
{
	struct job		*j = arg;
	struct deploy		*d = j->arg;
	struct timeval		 tv = { 0, DEPLOY_VERIFY_TICK_MS * 1000 };
	char			 why[sizeof(d->verify_why)];
	long long		 now = clock_mono_ms(), stable, since;
	unsigned long long	 print;

	if (job_is_over(j))
		return;
	stable = (long long)d->p->cfg->deploy_verify * 1000;
	if (stable > DEPLOY_VERIFY_STABLE_MS)
		stable = DEPLOY_VERIFY_STABLE_MS;
	if (docker_services_ready(d->p, why, sizeof(why))) {
		print = docker_services_fingerprint(d->p);
		if (d->verify_stable_ms == 0 || print != d->verify_print) {
			if (d->verify_stable_ms != 0)
				job_log(j, "deploy: a container restarted or "
				    "was replaced; waiting again");
			d->verify_stable_ms = now;
			d->verify_print = print;
		}
		if (now - d->verify_stable_ms >= stable && d->rollback) {
			deploy_rolled_back(j);
			return;
		}
		if (now - d->verify_stable_ms >= stable) {
			deploy_step_end(j, STEP_VERIFY, 1, 0);
			deploy_commit_save(&d->dp->hist, d->rec.to[0] ? d->rec.to :
			    deploy_commit_get(&d->dp->hist));
			job_log(j, "deploy: %s is live", d->rec.to[0] ? d->rec.to : "the app");
			/* the older releases go once this one is proven */
			snprintf(d->rec.state, sizeof(d->rec.state), "succeeded");
			release_prune(j, j->project, &d->rec, deploy_pruned);
			return;
		}
		snprintf(why, sizeof(why), "every service runs; watching it for "
		    "%lld s", stable / 1000);
	} else
		d->verify_stable_ms = 0;
	if (strcmp(why, d->verify_why) != 0) {
		job_log(j, "deploy: waiting: %s", why);
		snprintf(d->verify_why, sizeof(d->verify_why), "%s", why);
	}
	/*
	 * A steady window that could no longer end by the deadline's tick
	 * (success is checked first at each tick): the verify fails now, not
	 * when the deadline comes (a rollback sooner).
	 */
	since = d->verify_stable_ms != 0 ? d->verify_stable_ms : now;
	if (now < d->verify_deadline_ms && since + stable >
	    d->verify_deadline_ms + DEPLOY_VERIFY_TICK_MS) {
		job_log(j, "deploy: %lld s of steady services no longer fit in "
		    "DAVIT_DEPLOY_VERIFY: the verify ends now", stable / 1000);
		d->verify_deadline_ms = now;
	}
	if (now >= d->verify_deadline_ms && d->rollback) {
		deploy_rollback_failed(j, why);
		return;
	}
	if (now >= d->verify_deadline_ms) {
		deploy_step_end(j, STEP_VERIFY, 0, 0);
		if (deploy_rollback(j, why))
			return;
		deploy_finish(j, "services not ready and steady within "
		    "DAVIT_DEPLOY_VERIFY: %s", why);
		return;
	}
	evtimer_add(d->verify_timer, &tv);
}

void
deploy_verify_begin(struct deploy *d)
{
	struct timeval	 tv = { 0, 0 };

	d->verify_deadline_ms = clock_mono_ms() +
	    (long long)d->p->cfg->deploy_verify * 1000;
	d->verify_stable_ms = 0;
	d->verify_why[0] = '\0';
	evtimer_add(d->verify_timer, &tv);
}
