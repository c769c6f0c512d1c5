/*
 * The checkout's state: opened with libgit2's owner validation, its owner
 * checked against ours, then HEAD, origin/BRANCH, ahead and behind, the
 * incoming commits and the modified tracked files, written as items before
 * the final line (gc.st).  Nothing here touches the network.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "gitchild/gitchild.h"

/* the workdir, or for a clone its parent, must belong to us */
int
gc_check_owner(void)
{
	struct stat	 st;
	char		*copy = NULL;
	const char	*path = gc.req.workdir;
	int		 rv = -1;

	if (stat(path, &st) == -1) {
		if (errno != ENOENT || gc.req.op != GC_CLONE) {
			gc_fail(errno == ENOENT ? "not_found" : "unavailable", 0,
			    "DAVIT_WORKDIR %s: %s", path, strerror(errno));
			return -1;
		}
		copy = gc_strdup(path);
		path = dirname(copy);
		if (stat(path, &st) == -1) {
			gc_fail("not_found", 0, "cannot clone into %s: %s: %s",
			    gc.req.workdir, path, strerror(errno));
			goto done;
		}
	}
	if (st.st_uid != geteuid()) {
		gc_fail("internal", 0, "the git child runs as uid %u but %s belongs "
		    "to uid %u", (unsigned)geteuid(), path, (unsigned)st.st_uid);
		goto done;
	}
	rv = 0;
 done:
	free(copy);
	return rv;
}

int
gc_open(int quiet)
{
	int	rc;

	rc = git_repository_open_ext(&gc.repo, gc.req.workdir,
	    GIT_REPOSITORY_OPEN_NO_SEARCH, NULL);
	if (rc == 0 && git_repository_is_bare(gc.repo)) {
		git_repository_free(gc.repo);
		gc.repo = NULL;
		if (!quiet)
			gc_fail("unavailable", 0, "DAVIT_WORKDIR %s is a bare "
			    "repository: davit needs a checkout", gc.req.workdir);
		return -1;
	}
	if (rc == 0)
		return 0;
	gc.repo = NULL;
	if (quiet)
		return -1;
	if (rc == GIT_ENOTFOUND)
		gc_fail("not_found", 0, "DAVIT_WORKDIR %s is not a git repository",
		    gc.req.workdir);
	else if (rc == GIT_EOWNER)
		gc_fail("unavailable", 0, "DAVIT_WORKDIR %s is owned by another "
		    "user than its .git", gc.req.workdir);
	else
		gc_fail("unavailable", 0, "cannot open the repository in %s (is it "
		    "damaged?): %s", gc.req.workdir, gc_git_message());
	return -1;
}

static void
gc_emit_commit(const char *item, git_commit *c)
{
	const git_signature	*a = git_commit_author(c);
	char			 id[GC_OID_HEX + 1];
	size_t			 len;

	git_oid_tostr(id, sizeof(id), git_commit_id(c));
	gc_write(gc_fmt_commit(item, id, git_commit_summary(c),
	    a != NULL ? a->name : "", (long long)git_commit_time(c), &len));
}

static int
gc_emit_commit_id(const char *item, const git_oid *oid)
{
	git_commit	*c;

	if (git_commit_lookup(&c, gc.repo, oid) < 0)
		return -1;
	gc_emit_commit(item, c);
	git_commit_free(c);
	return 0;
}

int
gc_remote_ref(char *buf, size_t size)
{
	if ((size_t)snprintf(buf, size, "refs/remotes/origin/%s", gc.req.branch) >= size)
		return -1;
	return 0;
}

/* the path a status entry is about */
const char *
gc_status_path(const git_status_entry *e)
{
	if (e->index_to_workdir != NULL)
		return e->index_to_workdir->old_file.path;
	if (e->head_to_index != NULL)
		return e->head_to_index->old_file.path;
	return NULL;
}

/*
 * Modified tracked files: untracked and ignored ones do not count.
 *
 * The index's stat data is refreshed and written back, as git status
 * does: a file whose stat data no longer matches its entry (a checkout
 * chowned to its owner, files written in the index's own timestamp tick
 * by a checkout) is otherwise hashed again, filters and attributes
 * looked up, by every later status (2,000 files: 75 ms against 7).
 * When the index cannot be written (a git command holds index.lock), the
 * status is taken without the refresh.
 */
int
gc_dirty(git_status_list **out, size_t *count)
{
	git_status_options	 so;
	const git_status_entry	*e;
	size_t			 i, n;
	int			 rc;

	*count = 0;
	git_status_options_init(&so, GIT_STATUS_OPTIONS_VERSION);
	so.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
	so.flags = GIT_STATUS_OPT_EXCLUDE_SUBMODULES | GIT_STATUS_OPT_UPDATE_INDEX;
	if ((rc = git_status_list_new(out, gc.repo, &so)) < 0) {
		so.flags &= ~GIT_STATUS_OPT_UPDATE_INDEX;
		if ((rc = git_status_list_new(out, gc.repo, &so)) < 0)
			return rc;
	}
	n = git_status_list_entrycount(*out);
	for (i = 0; i < n; i++) {
		e = git_status_byindex(*out, i);
		if (e->status == GIT_STATUS_CURRENT || e->status == GIT_STATUS_WT_NEW ||
		    (e->status & GIT_STATUS_IGNORED))
			continue;
		(*count)++;
	}
	return 0;
}

int
gc_dirty_entry(const git_status_entry *e)
{
	return !(e->status == GIT_STATUS_CURRENT || e->status == GIT_STATUS_WT_NEW ||
	    (e->status & GIT_STATUS_IGNORED));
}

/*
 * The commits on origin/BRANCH that HEAD (loid, NULL when unborn) lacks,
 * newest first, as items; without a local commit, *behind is their count.
 */
static int
gc_incoming(const git_oid *loid, const git_oid *roid, const char *rname,
    size_t *behind)
{
	git_revwalk	*walk = NULL;
	git_oid		 oid;
	size_t		 n = 0;

	if (git_revwalk_new(&walk, gc.repo) < 0 ||
	    git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME) < 0 ||
	    git_revwalk_push(walk, roid) < 0 ||
	    (loid != NULL && git_revwalk_hide(walk, loid) < 0)) {
		gc_fail("unavailable", 0, "cannot walk %s: %s", rname,
		    gc_git_message());
		git_revwalk_free(walk);
		return -1;
	}
	while (git_revwalk_next(&oid, walk) == 0) {
		if (n < GC_MAX_INCOMING && gc_emit_commit_id("incoming", &oid) == -1)
			break;
		n++;
		if (loid != NULL && n >= GC_MAX_INCOMING)
			break;	/* behind is known already */
	}
	if (loid == NULL)
		*behind = n;
	git_revwalk_free(walk);
	return 0;
}

/* the modified tracked files, the first GC_MAX_DIRTY as items */
static int
gc_dirty_items(size_t *dirty)
{
	git_status_list		*list = NULL;
	const git_status_entry	*e;
	const char		*path;
	size_t			 i, n, emitted, len;

	if (gc_dirty(&list, dirty) < 0) {
		gc_fail("unavailable", 0, "cannot read the status of %s (is the "
		    "index damaged?): %s", gc.req.workdir, gc_git_message());
		return -1;
	}
	n = git_status_list_entrycount(list);
	for (i = 0, emitted = 0; i < n && emitted < GC_MAX_DIRTY; i++) {
		e = git_status_byindex(list, i);
		if (!gc_dirty_entry(e) || (path = gc_status_path(e)) == NULL)
			continue;
		gc_write(gc_fmt_dirty(path, &len));
		emitted++;
	}
	git_status_list_free(list);
	return 0;
}

/*
 * HEAD: *head, or NULL on an unborn branch (*unborn set, and the branch
 * HEAD names in branch); 0, or -1 with the failure reported.
 */
int
gc_head(git_reference **head, int *unborn, char *branch, size_t len)
{
	git_reference	*sym = NULL;
	const char	*target;
	int		 rc;

	*head = NULL;
	*unborn = 0;
	rc = git_repository_head(head, gc.repo);
	if (rc == GIT_EUNBORNBRANCH || rc == GIT_ENOTFOUND) {
		*head = NULL;
		*unborn = 1;
		if (git_reference_lookup(&sym, gc.repo, "HEAD") == 0 &&
		    (target = git_reference_symbolic_target(sym)) != NULL &&
		    strncmp(target, "refs/heads/", 11) == 0)
			gc_strlcpy(branch, target + 11, len);
		git_reference_free(sym);
	} else if (rc < 0) {
		gc_fail("unavailable", 0, "cannot read HEAD in %s (is the repository "
		    "damaged?): %s", gc.req.workdir, gc_git_message());
		return -1;
	}
	return 0;
}

/* the local state of the checkout, as items and gc.st */
int
gc_status(void)
{
	git_reference		*head = NULL;
	git_oid			 loid, roid;
	char			 rname[GC_MAX_BRANCH + 32];
	size_t			 ahead = 0, behind = 0, dirty = 0;
	int			 rc, have_local = 0, have_remote = 0;

	memset(&gc.st, 0, sizeof(gc.st));
	gc.branch[0] = '\0';
	if (gc_head(&head, &gc.st.unborn, gc.branch, sizeof(gc.branch)) == -1)
		return -1;
	if (head != NULL) {
		gc.st.detached = git_repository_head_detached(gc.repo) == 1;
		if (!gc.st.detached && git_reference_is_branch(head))
			gc_strlcpy(gc.branch, git_reference_shorthand(head),
			    sizeof(gc.branch));
		if (git_reference_target(head) == NULL) {
			gc_fail("unavailable", 0, "HEAD in %s does not point to a "
			    "commit", gc.req.workdir);
			goto fail;
		}
		git_oid_cpy(&loid, git_reference_target(head));
		have_local = 1;
	}
	gc.st.branch = gc.branch[0] != '\0' ? gc.branch : NULL;
	if (gc_remote_ref(rname, sizeof(rname)) == -1)
		goto fail;
	rc = git_reference_name_to_id(&roid, gc.repo, rname);
	if (rc == 0)
		have_remote = 1;
	else if (rc != GIT_ENOTFOUND) {
		gc_fail("unavailable", 0, "cannot read %s: %s", rname,
		    gc_git_message());
		goto fail;
	}
	if (have_local && gc_emit_commit_id("local", &loid) == -1) {
		gc_fail("unavailable", 0, "cannot read the commit HEAD points to "
		    "(is the repository damaged?): %s", gc_git_message());
		goto fail;
	}
	if (have_remote && gc_emit_commit_id("remote", &roid) == -1) {
		gc_fail("unavailable", 0, "cannot read the commit of %s: %s", rname,
		    gc_git_message());
		goto fail;
	}
	if (have_local && have_remote) {
		if ((rc = git_graph_ahead_behind(&ahead, &behind, gc.repo, &loid,
		    &roid)) < 0) {
			gc_fail("unavailable", 0, "cannot compare HEAD with %s: %s",
			    rname, gc_git_message());
			goto fail;
		}
	}
	if (have_remote && (behind > 0 || !have_local) &&
	    gc_incoming(have_local ? &loid : NULL, &roid, rname, &behind) == -1)
		goto fail;
	if (gc_dirty_items(&dirty) == -1)
		goto fail;
	gc.st.present = 1;
	gc.st.ahead = ahead;
	gc.st.behind = behind;
	gc.st.dirty_total = dirty;
	git_reference_free(head);
	return 0;
 fail:
	git_reference_free(head);
	return -1;
}
