/*
 * The webhook filter: a push the frontend verified (signature) and parsed
 * is checked again here (branch, repository, deletion, replay) before it
 * becomes a deploy; a rejected delivery is notified.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "backend/backend.h"
#include "backend/deploy.h"
#include "backend/project.h"
#include "backend/release.h"
#include "backend/notify.h"
#include "common/json.h"
#include "common/log.h"

static int
ignored(const struct project *p, yajl_gen g, const char *delivery,
    const char *fmt, const char *arg)
{
	char	reason[256];

	snprintf(reason, sizeof(reason), fmt, arg);
	log_info("%s: webhook delivery %s ignored: %s", p->name, delivery,
	    reason);
	yajl_gen_map_open(g);
	json_kbool(g, "ignored", 1);
	json_kstr(g, "reason", reason);
	yajl_gen_map_close(g);
	return CTL_DONE;
}

static int
all_zeros(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s != '0')
			return 0;
	return 1;
}

/*
 * A push the frontend verified (signature) and parsed, for cr->project
 * (the one whose secret checked it).  Values are checked again here, against
 * that project's keys and replay set: branch, repository, deletion, replay.
 */
int
op_webhook_push(struct ctl_request *cr, yajl_gen g, struct proto_error *err)
{
	struct project			*p = cr->project;
	const struct davit_config	*cfg = p->cfg;
	const struct deploy_project	*dp = p->deploy;
	const char			*delivery = proto_arg_str(&cr->req, "delivery");
	const char			*ref = proto_arg_str(&cr->req, "ref");
	const char			*after = proto_arg_str(&cr->req, "after");
	const char			*repo = proto_arg_str(&cr->req, "repository");
	const char			*body = proto_arg_str(&cr->req, "digest");
	const struct proto_value	*paths = proto_arg(&cr->req, "paths");
	char				 want[300], by[80];
	struct job			*j;
	int				 merged;

	snprintf(want, sizeof(want), "refs/heads/%s", cfg->branch);
	if (strcmp(ref, want) != 0)
		return ignored(p, g, delivery, "ref %s is not the deployed branch", ref);
	if (cfg->github_repo == NULL)
		return ignored(p, g, delivery, "%s", "DAVIT_GITHUB_REPO is not set "
		    "and cannot be derived from DAVIT_REPO_URL");
	if (strcasecmp(repo, cfg->github_repo) != 0)
		return ignored(p, g, delivery, "repository %s is not DAVIT_GITHUB_REPO", repo);
	if (all_zeros(after))
		return ignored(p, g, delivery, "%s", "the branch was deleted");
	/* a replay is the same delivery id, or the same body under another */
	if (deploy_delivery_seen(&dp->replay, delivery))
		return ignored(p, g, delivery, "%s", "delivery already deployed (replay)");
	if (deploy_body_seen(&dp->replay, body))
		return ignored(p, g, delivery, "%s", "the same push was deployed "
		    "under another delivery id (replay)");
	if (deploy_pending_has(dp, delivery, body))
		return ignored(p, g, delivery, "%s", "delivery already being deployed");
	/* a push of what failed and was rolled back: the Deploy button forces it */
	if (rollback_was_rolled_back(p, after))
		return ignored(p, g, delivery, "commit %.12s was rolled back: not "
		    "deployed again (the Deploy button forces it)", after);
	if (cfg->repo_url == NULL) {
		proto_seterr(err, PE_UNAVAILABLE, "no DAVIT_REPO_URL: nothing to deploy from");
		return CTL_FAIL;
	}
	snprintf(by, sizeof(by), "webhook:%s", delivery);
	if (p->removed) {
		proto_seterr(err, PE_NOT_ALLOWED, "no such project");
		return CTL_FAIL;
	}
	if ((j = deploy_submit(p, "webhook", by, delivery, body, after, &merged,
	    err)) == NULL)
		return CTL_FAIL;
	job_log(j, "deploy: push %s to %s: %.12s, %zu changed paths", delivery,
	    ref, after, paths->nlist);
	yajl_gen_map_open(g);
	json_kint(g, "job", j->id);
	json_kbool(g, "merged", merged);
	yajl_gen_map_close(g);
	return CTL_DONE;
}

/* the frontend saw a delivery with a bad signature: notify, rate-limited */
int
op_webhook_rejected(struct ctl_request *cr, yajl_gen g, struct proto_error *err)
{
	const char	*reason = proto_arg_str(&cr->req, "reason");
	const char	*client = proto_arg_str(&cr->req, "client");
	const char	*name = proto_arg_str(&cr->req, "project");
	struct project	*p = NULL;

	/* the URL's project when it is one of ours, else davit's own URL */
	if (name != NULL)
		p = project_find(name);
	else
		p = project_only();
	notify_project(p, "webhook.rejected", NULL, "webhook delivery%s%s "
	    "rejected from %s: %s", p != NULL ? " for " : "",
	    p != NULL ? p->name : "", client != NULL ? client : "an unknown "
	    "address", reason);
	yajl_gen_map_open(g);
	json_kbool(g, "recorded", 1);
	yajl_gen_map_close(g);
	return CTL_DONE;
}

