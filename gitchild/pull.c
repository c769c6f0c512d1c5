/*
 * The pull: a fast-forward of BRANCH to origin/BRANCH and nothing else.
 * Refused, with the reason and what to do by hand, when a merge or rebase
 * is in progress, HEAD is detached or on another branch, history has
 * diverged, a tracked file is modified, or an untracked file is in the
 * way; local changes are never overwritten.  The changed files are written
 * as items.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "gitchild/gitchild.h"

#define GC_NAMES_IN_MESSAGE	3	/* paths quoted in a refusal */
#define GC_NAME_IN_MESSAGE	48	/* bytes of each */

struct gc_conflicts {
	size_t	count;
	char	names[GC_NAMES_IN_MESSAGE * (GC_NAME_IN_MESSAGE + 8)];
};

static void
gc_conflicts_add(struct gc_conflicts *c, const char *path)
{
	char	name[GC_NAME_IN_MESSAGE + 8];
	size_t	len = strlen(path), n;

	if (c->count++ >= GC_NAMES_IN_MESSAGE)
		return;
	n = gc_cut_utf8(path, len, GC_NAME_IN_MESSAGE);
	snprintf(name, sizeof(name), "%s%.*s%s", c->count > 1 ? ", " : "",
	    (int)n, path, n < len ? "..." : "");
	gc_strlcat(c->names, name, sizeof(c->names));
}

static void
gc_conflicts_text(const struct gc_conflicts *c, char *buf, size_t size)
{
	if (c->count > GC_NAMES_IN_MESSAGE)
		snprintf(buf, size, "%s and %zu more", c->names,
		    c->count - GC_NAMES_IN_MESSAGE);
	else
		snprintf(buf, size, "%s", c->names);
}

static int
gc_checkout_notify(git_checkout_notify_t why, const char *path,
    const git_diff_file *baseline, const git_diff_file *target,
    const git_diff_file *workdir, void *payload)
{
	gc_conflicts_add(payload, path);
	return 0;
}

static const char *
gc_delta_name(git_delta_t s)
{
	switch (s) {
	case GIT_DELTA_ADDED:
	case GIT_DELTA_COPIED:
		return "added";
	case GIT_DELTA_DELETED:
		return "deleted";
	case GIT_DELTA_RENAMED:
		return "renamed";
	default:
		return "modified";
	}
}

/* the files that changed between two trees, as file items */
static int
gc_emit_changes(git_tree *from, git_tree *to, size_t *total)
{
	git_diff		*diff = NULL;
	git_diff_find_options	 fo;
	const git_diff_delta	*d;
	size_t			 i, n, len;
	int			 rc;

	if ((rc = git_diff_tree_to_tree(&diff, gc.repo, from, to, NULL)) < 0)
		return rc;
	git_diff_find_options_init(&fo, GIT_DIFF_FIND_OPTIONS_VERSION);
	fo.flags = GIT_DIFF_FIND_RENAMES;
	if ((rc = git_diff_find_similar(diff, &fo)) < 0) {
		git_diff_free(diff);
		return rc;
	}
	n = git_diff_num_deltas(diff);
	for (i = 0; i < n && i < GC_MAX_FILES; i++) {
		d = git_diff_get_delta(diff, i);
		gc_write(gc_fmt_file(gc_delta_name(d->status), d->new_file.path,
		    d->status == GIT_DELTA_RENAMED ? d->old_file.path : NULL, &len));
	}
	*total = n;
	git_diff_free(diff);
	return 0;
}

/*
 * HEAD must be BRANCH, attached, with nothing in progress: its commit in
 * loid, or *unborn when the branch has none yet.
 */
static int
gc_pull_head(git_oid *loid, int *unborn)
{
	git_reference	*head = NULL;
	char		 cur[GC_MAX_BRANCH * 2 + 1] = "";

	*unborn = 0;
	if (git_repository_state(gc.repo) != GIT_REPOSITORY_STATE_NONE) {
		gc_fail("conflict", 0, "a merge, rebase, cherry-pick or bisect is in "
		    "progress in %s: finish or abort it by hand", gc.req.workdir);
		return -1;
	}
	if (git_repository_head_detached(gc.repo) == 1) {
		if (git_reference_name_to_id(loid, gc.repo, "HEAD") == 0)
			git_oid_tostr(cur, 13, loid);
		gc_fail("conflict", 0, "HEAD is detached (at %s): davit pulls only "
		    "on branch %s; check it out by hand", cur, gc.req.branch);
		return -1;
	}
	if (gc_head(&head, unborn, cur, sizeof(cur)) == -1)
		return -1;
	if (head != NULL) {
		if (git_reference_is_branch(head))
			gc_strlcpy(cur, git_reference_shorthand(head), sizeof(cur));
		git_oid_cpy(loid, git_reference_target(head));
	}
	git_reference_free(head);
	if (strcmp(cur, gc.req.branch) != 0) {
		gc_fail("conflict", 0, "the checkout is on branch %s, not %s: davit "
		    "pulls only into %s; switch back by hand", cur[0] ? cur : "?",
		    gc.req.branch, gc.req.branch);
		return -1;
	}
	return 0;
}

/* nothing to pull: HEAD is origin's commit, or ahead of it */
static void
gc_pull_nothing(size_t ahead)
{
	gc_strlcpy(gc.pull_to, gc.pull_from, sizeof(gc.pull_to));
	gc.pull.to = gc.pull_to;
	gc.pull.up_to_date = 1;
	if (ahead == 0)
		gc_log("already up to date with origin/%s (%.12s)", gc.req.branch,
		    gc.pull_to);
	else
		gc_log("the checkout is %zu commit%s ahead of origin/%s: nothing "
		    "to pull", ahead, ahead == 1 ? "" : "s", gc.req.branch);
}

/*
 * How HEAD stands to origin/BRANCH: 1 nothing to pull, 0 a fast-forward
 * of *behind commits, -1 refused (diverged) or failed.
 */
static int
gc_pull_compare(const git_oid *loid, const git_oid *roid, const char *rname,
    size_t *behind)
{
	size_t	ahead = 0;

	*behind = 0;
	if (git_oid_equal(loid, roid)) {
		gc_pull_nothing(0);
		return 1;
	}
	if (git_graph_ahead_behind(&ahead, behind, gc.repo, loid, roid) < 0) {
		gc_fail("unavailable", 0, "cannot compare HEAD with %s: %s", rname,
		    gc_git_message());
		return -1;
	}
	if (ahead > 0 && *behind > 0) {
		gc_fail("conflict", 0, "history has diverged: the checkout has %zu "
		    "commit%s that origin/%s lacks, and origin has %zu that the "
		    "checkout lacks; davit only fast-forwards: reconcile them by "
		    "hand", ahead, ahead == 1 ? "" : "s", gc.req.branch, *behind);
		return -1;
	}
	if (*behind == 0) {
		gc_pull_nothing(ahead);
		return 1;
	}
	return 0;
}

/* local edits to tracked files are never overwritten */
static int
gc_pull_clean(void)
{
	git_status_list		*list = NULL;
	struct gc_conflicts	 conflicts;
	const char		*path;
	char			 names[512];
	size_t			 dirty, i, n;

	if (gc_dirty(&list, &dirty) < 0) {
		gc_fail("unavailable", 0, "cannot read the status of %s (is the "
		    "index damaged?): %s", gc.req.workdir, gc_git_message());
		return -1;
	}
	if (dirty > 0) {
		memset(&conflicts, 0, sizeof(conflicts));
		n = git_status_list_entrycount(list);
		for (i = 0; i < n; i++) {
			const git_status_entry *e = git_status_byindex(list, i);

			if (gc_dirty_entry(e) && (path = gc_status_path(e)) != NULL)
				gc_conflicts_add(&conflicts, path);
		}
		gc_conflicts_text(&conflicts, names, sizeof(names));
		gc_fail("conflict", 0, "tracked file%s modified in the checkout: %s; "
		    "commit, stash or discard the change%s by hand (davit never "
		    "overwrites local changes)", dirty == 1 ? " is" : "s are", names,
		    dirty == 1 ? "" : "s");
	}
	git_status_list_free(list);
	return dirty > 0 ? -1 : 0;
}

/* the files of rc_commit into the working tree, untracked ones kept */
static int
gc_pull_checkout(git_commit *rc_commit)
{
	git_checkout_options	 co;
	struct gc_conflicts	 conflicts;
	char			 names[512];
	int			 rc;

	memset(&conflicts, 0, sizeof(conflicts));
	git_checkout_options_init(&co, GIT_CHECKOUT_OPTIONS_VERSION);
	co.checkout_strategy = GIT_CHECKOUT_SAFE;
	co.notify_flags = GIT_CHECKOUT_NOTIFY_CONFLICT;
	co.notify_cb = gc_checkout_notify;
	co.notify_payload = &conflicts;
	if ((rc = git_checkout_tree(gc.repo, (git_object *)rc_commit, &co)) == 0)
		return 0;
	if (conflicts.count > 0 || rc == GIT_ECONFLICT) {
		gc_conflicts_text(&conflicts, names, sizeof(names));
		gc_fail("conflict", 0, "the pull would overwrite file%s in the "
		    "checkout that git does not track: %s; move %s away by hand",
		    conflicts.count == 1 ? "" : "s", names,
		    conflicts.count == 1 ? "it" : "them");
	} else
		gc_fail("unavailable", 0, "checkout failed: %s", gc_git_message());
	return -1;
}

/* checks out origin's commit, moves BRANCH, lists the changed files */
static int
gc_pull_forward(const git_oid *loid, const git_oid *roid, int unborn,
    size_t behind)
{
	git_reference	*moved = NULL;
	git_commit	*lc = NULL, *rc_commit = NULL;
	git_tree	*ltree = NULL, *rtree = NULL;
	char		 lname[GC_MAX_BRANCH + 16];
	size_t		 files = 0;
	int		 rc, rv = -1;

	snprintf(lname, sizeof(lname), "refs/heads/%s", gc.req.branch);
	if (git_commit_lookup(&rc_commit, gc.repo, roid) < 0 ||
	    git_commit_tree(&rtree, rc_commit) < 0 ||
	    (!unborn && (git_commit_lookup(&lc, gc.repo, loid) < 0 ||
	    git_commit_tree(&ltree, lc) < 0))) {
		gc_fail("unavailable", 0, "cannot read the commits to pull (is the "
		    "repository damaged?): %s", gc_git_message());
		goto done;
	}
	if (gc_pull_checkout(rc_commit) == -1)
		goto done;
	if (unborn)
		rc = git_reference_create(&moved, gc.repo, lname, roid, 0,
		    "davit: fast-forward pull");
	else
		rc = git_reference_create_matching(&moved, gc.repo, lname, roid, 1,
		    loid, "davit: fast-forward pull");
	if (rc < 0) {
		gc_fail("unavailable", 0, "the files were updated but %s could not "
		    "be moved (%s): run git status in %s", lname, gc_git_message(),
		    gc.req.workdir);
		goto done;
	}
	git_oid_tostr(gc.pull_to, sizeof(gc.pull_to), roid);
	gc.pull.to = gc.pull_to;
	gc.pull.commits = behind;
	if (gc_emit_changes(ltree, rtree, &files) < 0) {
		gc_log("cannot list the changed files: %s", gc_git_message());
		files = 0;
	}
	gc.pull.files_total = files;
	gc_log("%s %s from %.12s to %.12s (%zu commit%s, %zu file%s)",
	    gc.req.op == GC_RESET ? "moved" : "fast-forwarded", gc.req.branch, gc.pull.from != NULL ? gc.pull.from : "(none)",
	    gc.pull_to, behind, behind == 1 ? "" : "s", files, files == 1 ? "" : "s");
	rv = 0;
 done:
	git_reference_free(moved);
	git_tree_free(ltree);
	git_tree_free(rtree);
	git_commit_free(lc);
	git_commit_free(rc_commit);
	return rv;
}

int
gc_do_pull(void)
{
	char		 rname[GC_MAX_BRANCH + 32];
	git_oid		 loid, roid;
	size_t		 behind = 0;
	int		 rc, unborn;

	/* fetch_pull: the fetch's open checkout */
	if ((gc.repo == NULL && gc_open(0) == -1) ||
	    gc_pull_head(&loid, &unborn) == -1)
		return -1;
	gc_remote_ref(rname, sizeof(rname));
	if ((rc = git_reference_name_to_id(&roid, gc.repo, rname)) < 0) {
		if (rc == GIT_ENOTFOUND)
			gc_fail("not_found", 0, "%s does not exist yet: fetch first",
			    rname);
		else
			gc_fail("unavailable", 0, "cannot read %s: %s", rname,
			    gc_git_message());
		return -1;
	}
	gc.pull.present = 1;
	if (!unborn) {
		git_oid_tostr(gc.pull_from, sizeof(gc.pull_from), &loid);
		gc.pull.from = gc.pull_from;
		if ((rc = gc_pull_compare(&loid, &roid, rname, &behind)) == 1)
			return gc_status();
		if (rc == -1)
			goto fail;
	}
	if (gc_pull_clean() == -1 ||
	    gc_pull_forward(&loid, &roid, unborn, behind) == -1)
		goto fail;
	return gc_status();
 fail:
	gc.pull.present = 0;
	return -1;
}

/*
 * A rollback: BRANCH back (or forward) to a commit the repository has,
 * never across diverged history, never over local changes; no network.
 */
int
gc_do_reset(void)
{
	git_oid		 loid, toid;
	git_commit	*c = NULL;
	size_t		 ahead = 0, behind = 0;
	int		 unborn;

	if (gc_open(0) == -1 || gc_pull_head(&loid, &unborn) == -1)
		return -1;
	if (unborn || git_oid_fromstr(&toid, gc.req.commit) < 0 ||
	    git_commit_lookup(&c, gc.repo, &toid) < 0) {
		gc_fail("not_found", 0, "commit %.12s is not in the repository "
		    "(or the branch has no commit)", gc.req.commit);
		return -1;
	}
	git_commit_free(c);
	gc.pull.present = 1;
	git_oid_tostr(gc.pull_from, sizeof(gc.pull_from), &loid);
	gc.pull.from = gc.pull_from;
	if (git_oid_equal(&loid, &toid)) {
		gc_pull_nothing(0);
		return gc_status();
	}
	if (git_graph_ahead_behind(&ahead, &behind, gc.repo, &loid, &toid) < 0) {
		gc_fail("unavailable", 0, "cannot compare HEAD with %.12s: %s",
		    gc.req.commit, gc_git_message());
		goto fail;
	}
	if (ahead > 0 && behind > 0) {
		gc_fail("conflict", 0, "commit %.12s is not in the history of %s: "
		    "davit moves the branch only along its history",
		    gc.req.commit, gc.req.branch);
		goto fail;
	}
	if (gc_pull_clean() == -1 ||
	    gc_pull_forward(&loid, &toid, 0, ahead + behind) == -1)
		goto fail;
	return gc_status();
 fail:
	gc.pull.present = 0;
	return -1;
}
