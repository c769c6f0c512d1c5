/*
 * The network operations: ls-remote (the poll), fetch and clone, each
 * with a remote made from the request's URL only (the checkout's
 * url.*.insteadOf never applies, redirects are not followed), the
 * credentials callback (the token only to origin's URL, over https; ssh
 * keys from the owner's ~/.ssh) and the transfer's progress lines.
 * stream.c keeps every connection on origin; hostkey.c checks the server.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "gitchild/gitchild.h"

static void
gc_human_bytes(size_t n, char *buf, size_t size)
{
	if (n >= 1024 * 1024)
		snprintf(buf, size, "%.1f MiB", n / (1024.0 * 1024.0));
	else
		snprintf(buf, size, "%.1f KiB", n / 1024.0);
}

/* at most one line per 10% or per second, and one when all is in */
int
gc_progress(const git_indexer_progress *p, void *payload)
{
	long long	 now = clock_mono_ms();
	unsigned	 decile;
	char		 bytes[32];

	gc_alarm(1, GC_STALL_TIMEOUT);
	if (p->total_objects == 0)
		return 0;
	gc_human_bytes(p->received_bytes, bytes, sizeof(bytes));
	if (p->received_objects < p->total_objects) {
		decile = (unsigned)((unsigned long long)p->received_objects * 10 /
		    p->total_objects);
		if (gc.progress_phase != 0 || decile > gc.progress_decile ||
		    now - gc.progress_ms >= 1000) {
			gc_log("receiving objects: %u%% (%u/%u), %s",
			    (unsigned)((unsigned long long)p->received_objects * 100 /
			    p->total_objects), p->received_objects,
			    p->total_objects, bytes);
			gc.progress_phase = 0;
			gc.progress_decile = decile;
			gc.progress_ms = now;
		}
		return 0;
	}
	if (p->total_deltas > 0 && p->indexed_deltas < p->total_deltas) {
		decile = (unsigned)((unsigned long long)p->indexed_deltas * 10 /
		    p->total_deltas);
		if (gc.progress_phase != 1 || decile > gc.progress_decile ||
		    now - gc.progress_ms >= 1000) {
			if (gc.progress_phase == 0)
				gc_log("received %u objects, %s", p->received_objects,
				    bytes);
			gc_log("resolving deltas: %u%% (%u/%u)",
			    (unsigned)((unsigned long long)p->indexed_deltas * 100 /
			    p->total_deltas), p->indexed_deltas, p->total_deltas);
			gc.progress_phase = 1;
			gc.progress_decile = decile;
			gc.progress_ms = now;
		}
		return 0;
	}
	if (gc.progress_phase != 2) {
		gc_log("received %u/%u objects (%s), %u deltas resolved",
		    p->received_objects, p->total_objects, bytes, p->indexed_deltas);
		gc.progress_phase = 2;
		gc.progress_ms = now;
	}
	return 0;
}

static int
gc_credentials(git_credential **out, const char *url, const char *user_from_url,
    unsigned int allowed, void *payload)
{
	static const char *const keys[] = { "id_ed25519", "id_ecdsa", "id_rsa" };
	const char	*user = user_from_url != NULL && *user_from_url != '\0' ?
			    user_from_url : "git";
	char		 priv[PATH_MAX], pub[PATH_MAX];
	int		 i;

	gc.cred_calls++;
	if (allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) {
		/*
		 * libgit2 hands the remote's URL here, not where a redirect
		 * led: the stream below keeps every connection on origin's
		 * host and port, and this keeps the token to origin's URL.
		 */
		if (gc.req.token != NULL && !gc_token_allowed(gc.req.url, url)) {
			struct gc_authority	a;

			if (gc_url_authority(url, &a) == 0)
				snprintf(gc.refused, sizeof(gc.refused), "%s://%s:%u",
				    a.scheme, a.host, a.port);
			else
				gc_strlcpy(gc.refused, "a non-network URL",
				    sizeof(gc.refused));
			gc.refused_token = 1;
			git_error_set_str(GIT_ERROR_NET, "the token goes to origin only");
			return GIT_EAUTH;
		}
		if (gc.req.token == NULL) {
			gc.auth = GC_AUTH_MISSING;
			git_error_set_str(GIT_ERROR_NET, "credentials required");
			return GIT_EAUTH;
		}
		if (gc.cred_calls > 1) {
			/* the token was refused once: do not loop on it */
			gc.auth = GC_AUTH_REJECTED;
			git_error_set_str(GIT_ERROR_NET, "credentials refused");
			return GIT_EAUTH;
		}
		return git_credential_userpass_plaintext_new(out, "x-access-token",
		    gc.req.token);
	}
	if (allowed & GIT_CREDENTIAL_SSH_KEY) {
		while (gc.ssh_key_next < (int)(sizeof(keys) / sizeof(keys[0]))) {
			i = gc.ssh_key_next++;
			if ((size_t)snprintf(priv, sizeof(priv), "%s/.ssh/%s",
			    gc.home, keys[i]) >= sizeof(priv) ||
			    (size_t)snprintf(pub, sizeof(pub), "%s.pub", priv) >=
			    sizeof(pub))
				continue;
			if (access(priv, R_OK) == 0)
				return git_credential_ssh_key_new(out, user,
				    access(pub, R_OK) == 0 ? pub : NULL, priv, NULL);
		}
		gc.auth = gc.ssh_key_next > 0 && gc.cred_calls > 1 ?
		    GC_AUTH_REJECTED : GC_AUTH_MISSING;
		git_error_set_str(GIT_ERROR_SSH, "no ssh key accepted");
		return GIT_EAUTH;
	}
	if (allowed & GIT_CREDENTIAL_USERNAME)
		return git_credential_username_new(out, user);
	gc.auth = GC_AUTH_MISSING;
	git_error_set_str(GIT_ERROR_NET, "unsupported authentication method");
	return GIT_EAUTH;
}

/*
 * A file:// origin is only read, and libgit2 runs nothing from its config:
 * it may belong to another user than the checkout (root's, in the demo).
 * The checkout itself is always opened with libgit2's owner validation.
 */
static void
gc_local_origin(int reading)
{
	if (gc.req.url != NULL && gc_prefix(gc.req.url, "file://"))
		git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, reading ? 0 : 1);
}

/* a remote for req.url: the checkout's url.*.insteadOf never applies */
static int
gc_remote_new(git_remote **out, git_repository *repo, const char *name)
{
	git_remote_create_options	o;

	git_remote_create_options_init(&o, GIT_REMOTE_CREATE_OPTIONS_VERSION);
	o.repository = repo;	/* NULL: detached */
	o.name = name;		/* NULL: anonymous */
	o.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF;
	return git_remote_create_with_opts(out, gc.req.url, &o);
}

/* git_clone's "origin", made the same way */
static int
gc_clone_remote(git_remote **out, git_repository *repo, const char *name,
    const char *url, void *payload)
{
	if (strcmp(url, gc.req.url) != 0) {
		git_error_set_str(GIT_ERROR_INVALID, "clone: unexpected URL");
		return -1;
	}
	return gc_remote_new(out, repo, name);
}

static void
gc_callbacks(git_remote_callbacks *cb)
{
	git_remote_init_callbacks(cb, GIT_REMOTE_CALLBACKS_VERSION);
	cb->credentials = gc_credentials;
	cb->certificate_check = gc_certificate_check;
	cb->transfer_progress = gc_progress;
}

/* connects remote and finds refs/heads/BRANCH; 1 found, 0 not, -1 failed */
static int
gc_connect_find(git_remote *remote, const git_remote_callbacks *cb, git_oid *oid)
{
	const git_remote_head	**heads;
	git_remote_connect_options co;
	char			  ref[GC_MAX_BRANCH + 16];
	size_t			  n, i;
	int			  rc;

	snprintf(ref, sizeof(ref), "refs/heads/%s", gc.req.branch);
	git_remote_connect_options_init(&co, GIT_REMOTE_CONNECT_OPTIONS_VERSION);
	co.callbacks = *cb;
	co.follow_redirects = GIT_REMOTE_REDIRECT_NONE;
	gc_alarm(0, GC_CONNECT_TIMEOUT);
	gc.cred_calls = 0;
	if ((rc = git_remote_connect_ext(remote, GIT_DIRECTION_FETCH, &co)) < 0) {
		gc_fail_git(rc, "cannot reach origin");
		return -1;
	}
	if ((rc = git_remote_ls(&heads, &n, remote)) < 0) {
		gc_fail_git(rc, "cannot list origin's branches");
		return -1;
	}
	alarm(0);
	for (i = 0; i < n; i++)
		if (strcmp(heads[i]->name, ref) == 0) {
			git_oid_cpy(oid, &heads[i]->oid);
			return 1;
		}
	return 0;
}

int
gc_do_lsremote(void)
{
	git_remote		*remote = NULL;
	git_remote_callbacks	 cb;
	git_oid			 oid;
	int			 rc;

	gc_callbacks(&cb);
	if ((rc = gc_remote_new(&remote, NULL, NULL)) < 0) {
		gc_fail_git(rc, "bad DAVIT_REPO_URL");
		return -1;
	}
	gc_local_origin(1);
	rc = gc_connect_find(remote, &cb, &oid);
	git_remote_disconnect(remote);
	gc_local_origin(0);
	if (rc == -1)
		goto fail;
	gc.has_origin = 1;
	if (rc == 1)
		git_oid_tostr(gc.origin, sizeof(gc.origin), &oid);
	else
		gc_log("origin has no branch %s", gc.req.branch);
	git_remote_free(remote);
	/* the local side too, when there is one: memory stays fresh */
	if (gc_open(1) == 0 && gc_status() == -1)
		return -1;
	return 0;
 fail:
	git_remote_free(remote);
	return -1;
}

int
gc_do_fetch(void)
{
	git_remote		*remote = NULL;
	git_remote_callbacks	 cb;
	git_fetch_options	 fo;
	git_strarray		 specs;
	git_indexer_progress	 stats;
	char			 spec[2 * GC_MAX_BRANCH + 64], *specp = spec;
	char			 rname[GC_MAX_BRANCH + 32], old[GC_OID_HEX + 1] = "";
	char			 new[GC_OID_HEX + 1], bytes[32];
	git_oid			 oid, before;
	int			 rc;

	if (gc_open(0) == -1)
		return -1;
	gc_remote_ref(rname, sizeof(rname));
	if (git_reference_name_to_id(&before, gc.repo, rname) == 0)
		git_oid_tostr(old, sizeof(old), &before);
	gc_callbacks(&cb);
	/* anonymous: the configured URL, nothing written to .git/config */
	if ((rc = gc_remote_new(&remote, gc.repo, NULL)) < 0) {
		gc_fail_git(rc, "bad DAVIT_REPO_URL");
		return -1;
	}
	gc_local_origin(1);
	if ((rc = gc_connect_find(remote, &cb, &oid)) == -1)
		goto fail;
	if (rc == 0) {
		gc_fail("not_found", 0, "origin has no branch %s: check DAVIT_BRANCH",
		    gc.req.branch);
		goto fail;
	}
	/* file://: the objects copied as they are, not packed again */
	memset(&stats, 0, sizeof(stats));
	rc = 0;
	if (gc_prefix(gc.req.url, "file://")) {
		gc_alarm(1, GC_STALL_TIMEOUT);
		if ((rc = gc_local_download(&oid, &stats.received_objects,
		    &stats.received_bytes)) == -1)
			goto fail;
		alarm(0);
		if (rc == 1 && gc_local_tips(&oid, rname) == -1)
			goto fail;
	}
	if (rc == 0) {
		snprintf(spec, sizeof(spec), "+refs/heads/%s:%s", gc.req.branch,
		    rname);
		specs.strings = &specp;
		specs.count = 1;
		git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
		fo.callbacks = cb;
		fo.prune = GIT_FETCH_NO_PRUNE;
		fo.update_fetchhead = 1;
		fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
		fo.follow_redirects = GIT_REMOTE_REDIRECT_NONE;
		gc_alarm(1, GC_STALL_TIMEOUT);
		if ((rc = git_remote_download(remote, &specs, &fo)) < 0) {
			gc_fail_git(rc, "fetch failed");
			goto fail;
		}
		alarm(0);
		if ((rc = git_remote_update_tips(remote, &cb, 1,
		    GIT_REMOTE_DOWNLOAD_TAGS_NONE, "davit: fetch")) < 0) {
			gc_fail_git(rc, "cannot update origin's branch");
			goto fail;
		}
		stats = *git_remote_stats(remote);
	}
	git_remote_disconnect(remote);
	gc_local_origin(0);
	git_remote_free(remote);
	remote = NULL;
	if (stats.received_objects > 0)
		gc_repack_small();	/* one pack more: too many? */
	if (git_reference_name_to_id(&oid, gc.repo, rname) < 0) {
		gc_fail("unavailable", 0, "fetched, but %s is missing: %s", rname,
		    gc_git_message());
		return -1;
	}
	git_oid_tostr(new, sizeof(new), &oid);
	gc.has_fetched = 1;
	gc_strlcpy(gc.fetched, new, sizeof(gc.fetched));
	gc_human_bytes(stats.received_bytes, bytes, sizeof(bytes));
	if (strcmp(old, new) == 0)
		gc_log("origin/%s is at %.12s: nothing new", gc.req.branch, new);
	else
		gc_log("origin/%s: %.12s -> %.12s (%u objects, %s)", gc.req.branch,
		    old[0] != '\0' ? old : "(none)", new, stats.received_objects,
		    bytes);
	/* fetch_pull: no status between the fetch and the pull (main.c) */
	return gc.req.op == GC_FETCH_PULL ? 0 : gc_status();
 fail:
	gc_local_origin(0);
	git_remote_free(remote);
	return -1;
}

int
gc_do_clone(void)
{
	git_clone_options	 co;
	char			 url[GC_MAX_URL + 1];
	int			 rc;

	if (!gc_dir_empty(gc.req.workdir)) {
		gc_fail("conflict", 0, "DAVIT_WORKDIR %s is not empty: davit clones "
		    "only into a missing or empty directory", gc.req.workdir);
		return -1;
	}
	gc_strlcpy(url, gc.req.url, sizeof(url));
	gc_strip_userinfo(url);
	git_clone_options_init(&co, GIT_CLONE_OPTIONS_VERSION);
	gc_callbacks(&co.fetch_opts.callbacks);
	co.fetch_opts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	co.fetch_opts.follow_redirects = GIT_REMOTE_REDIRECT_NONE;
	co.remote_cb = gc_clone_remote;
	co.checkout_branch = gc.req.branch;
	co.checkout_opts.checkout_strategy = GIT_CHECKOUT_SAFE;
	gc_log("cloning %s (branch %s) into %s", url, gc.req.branch,
	    gc.req.workdir);
	gc_alarm(0, GC_CONNECT_TIMEOUT);
	gc.cred_calls = 0;
	gc_local_origin(1);
	rc = git_clone(&gc.repo, gc.req.url, gc.req.workdir, &co);
	gc_local_origin(0);
	if (rc < 0) {
		gc.repo = NULL;
		gc_fail_git(rc, "clone failed");
		return -1;
	}
	alarm(0);
	/* credentials given in the URL do not stay in .git/config */
	if (strcmp(url, gc.req.url) != 0 &&
	    (rc = git_remote_set_url(gc.repo, "origin", url)) < 0) {
		gc_fail_git(rc, "cannot set origin's URL");
		return -1;
	}
	gc_log("cloned %s", url);
	return gc_status();
}
