/*
 * The fetch from a file:// origin, without libgit2's pack builder.  Its
 * local transport builds a new pack for every fetch with a full delta
 * search over the objects it sends (the origin's own deltas are not
 * reused): 200 commits of 2,000 files took 180 ms of CPU where git fetch
 * takes 50.  Here the objects origin/BRANCH's new commits bring are
 * streamed as one pack into the checkout's (libgit2's indexer inflates and
 * hashes every object again and writes the .idx, as for any fetch), each
 * as git's pack-objects would: origin's packed data reused as it is where
 * it can be (packreuse.c: a whole object's compressed bytes, a delta's
 * when its base is sent too, as an OFS_DELTA after it), else the object
 * read whole from origin's object database and written without delta,
 * stored under GC_PACK_DEFLATE_MIN bytes and compressed above (a loose
 * object, a delta on a base the checkout has: never a thin pack).  Not
 * loose objects: creating a file per object costs far more than the pack
 * on a busy ext4 (1,600 objects: over a second, git's own unpack-objects
 * too).
 *
 * What is new: the commits from origin's tip down to what any of the
 * checkout's refs reaches (a revwalk over origin, as the local transport
 * does), and of their trees what the checkout lacks; a tree the checkout
 * has is not walked (a fetch never leaves a tree without what it names:
 * the pack is indexed whole or not at all).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "common/log.h"
#include "gitchild/gitchild.h"
#include "gitchild/packidx.h"

#define GC_LOCAL_SET_MIN	1024	/* slots of the seen set, at first */
#define GC_LOCAL_ALARM_EVERY	4096	/* objects walked between stall re-arms */
#define GC_PACK_BUF		65536	/* bytes handed to the indexer at once */
#define GC_PACK_VERSION		2
#define GC_PACK_HASH		20	/* the trailer: SHA-1 of the pack */
/*
 * Smaller objects are stored, not compressed: 1,600 objects of 200 bytes
 * to 4 KiB took 135 ms of CPU to fetch compressed (zlib level 1), 70 ms
 * stored, 105 ms with this bound; the small ones save a few hundred bytes
 * each (the pack: 1.6 MiB compressed, 1.7 with this bound, 2.6 stored).
 */
#define GC_PACK_DEFLATE_MIN	1024

/* the objects seen in this walk: open addressing on the id's first bytes */
struct gc_oidset {
	git_oid		*slot;
	unsigned char	*used;
	size_t		 size, count;
};

struct gc_copy {
	git_odb		*src, *dst;
	struct gc_oidset seen;
	git_oid		*todo;		/* to write, in order */
	size_t		 ntodo, todo_size;
	size_t		 bytes;		/* the pack's */
};

/* the pack, as it is streamed to the indexer */
struct gc_pack {
	git_odb_writepack	*wp;
	git_indexer_progress	 stats;
	EVP_MD_CTX		*sha1;
	/* [0] stores, [1] compresses; one each for all objects */
	z_stream		 z[2];
	int			 zinit;
	unsigned char		*out;
	size_t			 outsize;
	unsigned char		 buf[GC_PACK_BUF];
	size_t			 len;
	uint64_t		 written;	/* the pack's bytes so far */
};

static size_t
gc_oid_hash(const git_oid *id)
{
	size_t	h;

	memcpy(&h, id->id, sizeof(h));
	return h;
}

/* 1 added, 0 already there, -1 out of memory */
static int
gc_oidset_add(struct gc_oidset *s, const git_oid *id)
{
	struct gc_oidset	 n;
	size_t			 i;

	if (2 * (s->count + 1) > s->size) {
		n.size = s->size ? 2 * s->size : GC_LOCAL_SET_MIN;
		n.count = 0;
		n.slot = calloc(n.size, sizeof(*n.slot));
		n.used = calloc(n.size, 1);
		if (n.slot == NULL || n.used == NULL) {
			free(n.slot);
			free(n.used);
			git_error_set_oom();
			return -1;
		}
		for (i = 0; i < s->size; i++)
			if (s->used[i])
				(void)gc_oidset_add(&n, &s->slot[i]);
		free(s->slot);
		free(s->used);
		*s = n;
	}
	for (i = gc_oid_hash(id) & (s->size - 1); s->used[i];
	    i = (i + 1) & (s->size - 1))
		if (git_oid_equal(&s->slot[i], id))
			return 0;
	s->used[i] = 1;
	git_oid_cpy(&s->slot[i], id);
	s->count++;
	return 1;
}

/* id is to be written unless seen or in the checkout: 1 yes, 0 no, -1 */
static int
gc_copy_want(struct gc_copy *c, const git_oid *id)
{
	int	rc;

	if ((rc = gc_oidset_add(&c->seen, id)) <= 0)
		return rc;
	return !git_odb_exists_ext(c->dst, id, GIT_ODB_LOOKUP_NO_REFRESH);
}

static int
gc_copy_queue(struct gc_copy *c, const git_oid *id)
{
	git_oid	*n;
	size_t	 size;

	if (c->ntodo == c->todo_size) {
		size = c->todo_size ? 2 * c->todo_size : GC_LOCAL_SET_MIN;
		if ((n = reallocarray(c->todo, size, sizeof(*n))) == NULL) {
			git_error_set_oom();
			return -1;
		}
		c->todo = n;
		c->todo_size = size;
	}
	git_oid_cpy(&c->todo[c->ntodo++], id);
	/* a long walk is not a stalled transfer */
	if (c->ntodo % GC_LOCAL_ALARM_EVERY == 0)
		gc_alarm(1, GC_STALL_TIMEOUT);
	return 0;
}

/* a tree the checkout lacks: what it names first, then the tree itself */
static int
gc_copy_tree(struct gc_copy *c, git_repository *origin, const git_oid *id)
{
	git_tree		*tree = NULL;
	const git_tree_entry	*e;
	size_t			 i, n;
	int			 rc;

	if ((rc = gc_copy_want(c, id)) <= 0)
		return rc;
	if (git_tree_lookup(&tree, origin, id) < 0)
		return -1;
	n = git_tree_entrycount(tree);
	for (i = 0; i < n; i++) {
		e = git_tree_entry_byindex(tree, i);
		switch (git_tree_entry_type(e)) {
		case GIT_OBJECT_TREE:
			rc = gc_copy_tree(c, origin, git_tree_entry_id(e));
			break;
		case GIT_OBJECT_BLOB:
			if ((rc = gc_copy_want(c, git_tree_entry_id(e))) == 1)
				rc = gc_copy_queue(c, git_tree_entry_id(e));
			break;
		default:	/* a submodule's commit: not ours */
			rc = 0;
			break;
		}
		if (rc < 0) {
			git_tree_free(tree);
			return -1;
		}
	}
	git_tree_free(tree);
	return gc_copy_queue(c, id);
}

/* the checkout's refs: what origin has of them is not new */
static int
gc_hide_ref(git_reference *ref, void *arg)
{
	git_revwalk	*walk = arg;

	if (git_reference_type(ref) == GIT_REFERENCE_DIRECT &&
	    git_revwalk_hide(walk, git_reference_target(ref)) < 0)
		git_error_clear();	/* not in origin, or not a commit */
	git_reference_free(ref);
	return 0;
}

static int
gc_pack_flush(struct gc_pack *p)
{
	int	rc;

	if (p->len == 0)
		return 0;
	p->stats.received_bytes += p->len;	/* the progress lines show it */
	rc = p->wp->append(p->wp, p->buf, p->len, &p->stats);
	p->len = 0;
	return rc < 0 ? -1 : 0;
}

/* bytes of the pack: hashed, buffered, handed on */
static int
gc_pack_put(struct gc_pack *p, const void *data, size_t len)
{
	const unsigned char	*d = data;
	size_t			 n;

	p->written += len;
	if (len > 0 && EVP_DigestUpdate(p->sha1, data, len) != 1) {
		git_error_set_str(GIT_ERROR_ODB, "SHA-1 failed");
		return -1;
	}
	while (len > 0) {
		if (p->len == sizeof(p->buf) && gc_pack_flush(p) == -1)
			return -1;
		n = sizeof(p->buf) - p->len;
		if (n > len)
			n = len;
		memcpy(p->buf + p->len, d, n);
		p->len += n;
		d += n;
		len -= n;
	}
	return 0;
}

/* one object: its type and size, then its data deflated, no delta */
static int
gc_pack_object(struct gc_pack *p, git_object_t type, const void *data,
    size_t size)
{
	unsigned char	 hdr[PACKENT_HDR_MAX], *n;
	size_t		 h, need;
	z_stream	*z = &p->z[size >= GC_PACK_DEFLATE_MIN];

	h = packent_header_encode(type, size, hdr);
	if (size > UINT32_MAX) {
		git_error_set_str(GIT_ERROR_ZLIB, "an object of over 4 GiB");
		return -1;
	}
	need = deflateBound(z, size);
	if (need > p->outsize) {
		if ((n = realloc(p->out, need)) == NULL) {
			git_error_set_oom();
			return -1;
		}
		p->out = n;
		p->outsize = need;
	}
	z->next_in = (unsigned char *)(uintptr_t)data;
	z->avail_in = (uInt)size;
	z->next_out = p->out;
	z->avail_out = (uInt)p->outsize;
	if (deflate(z, Z_FINISH) != Z_STREAM_END) {
		git_error_set_str(GIT_ERROR_ZLIB, "cannot compress an object");
		return -1;
	}
	need = p->outsize - z->avail_out;
	if (deflateReset(z) != Z_OK) {
		git_error_set_str(GIT_ERROR_ZLIB, "cannot compress an object");
		return -1;
	}
	return gc_pack_put(p, hdr, h) == 0 && gc_pack_put(p, p->out, need) == 0 ?
	    0 : -1;
}

/*
 * Object i of the plan, at out[i] in the pack: origin's bytes behind a
 * header of ours (an OFS_DELTA's distance to where its base went), else
 * read whole from origin's object database and compressed here.
 */
static int
gc_pack_one(struct gc_copy *c, struct gc_pack *p, const struct gc_reuse *r,
    uint32_t i, uint64_t *out)
{
	const struct gc_reuse_obj	*o = &r->obj[i];
	git_odb_object			*obj;
	unsigned char			 hdr[2 * PACKENT_HDR_MAX];
	size_t				 h;
	int				 rc;

	out[i] = p->written;
	if (o->data != NULL) {
		h = packent_header_encode(o->type, o->size, hdr);
		if (o->type == PACKENT_OFS_DELTA)
			h += packent_ofs_encode(out[i] - out[o->base], hdr + h);
		return gc_pack_put(p, hdr, h) == 0 &&
		    gc_pack_put(p, o->data, o->len) == 0 ? 0 : -1;
	}
	if (git_odb_read(&obj, c->src, &c->todo[i]) < 0)
		return -1;
	rc = gc_pack_object(p, git_odb_object_type(obj),
	    git_odb_object_data(obj), git_odb_object_size(obj));
	git_odb_object_free(obj);
	return rc;
}

/*
 * Every object copied from origin's packs is in the checkout under its
 * id: the indexer hashed what arrived, and bytes that inflate to something
 * else (origin's pack corrupt, the zlib stream still whole) would leave it
 * under another.  Read whole, an object's hash was checked by libgit2.
 */
static int
gc_copy_check(struct gc_copy *c, const struct gc_reuse *r)
{
	char	hex[GC_OID_HEX + 1], msg[GC_MAX_MESSAGE];
	size_t	i;

	for (i = 0; i < c->ntodo; i++) {
		if (r->obj[i].data == NULL || git_odb_exists(c->dst, &c->todo[i]))
			continue;
		git_oid_tostr(hex, sizeof(hex), &c->todo[i]);
		snprintf(msg, sizeof(msg), "object %s did not arrive whole: "
		    "origin's pack is damaged (git fsck in origin)", hex);
		git_error_set_str(GIT_ERROR_ODB, msg);
		return -1;
	}
	return 0;
}

/* the queued objects, as one pack into the checkout's object database */
static int
gc_copy_write(struct gc_copy *c, git_repository *origin)
{
	struct gc_pack	*p;
	struct gc_reuse	 r;
	uint64_t	*out = NULL;
	unsigned char	 hdr[PACK_HDR_LEN], sum[EVP_MAX_MD_SIZE];
	unsigned	 sumlen;
	size_t		 i;
	int		 rv = -1;

	memset(&r, 0, sizeof(r));
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (out = reallocarray(NULL, c->ntodo, sizeof(*out))) == NULL) {
		git_error_set_oom();
		goto done;
	}
	if (gc_reuse_plan(&r, origin, c->todo, c->ntodo) == -1)
		goto done;
	if (r.norder != c->ntodo) {	/* the pack's header counts them */
		git_error_set_str(GIT_ERROR_INTERNAL, "the pack's plan lost objects");
		goto done;
	}
	if (r.bad > 0 || r.bad_packs > 0)
		gc_log("origin's packs: %zu not used (an index not of version "
		    "2, damaged, or without its pack), %zu entries not "
		    "consistent with their index: those objects sent whole",
		    r.bad_packs, r.bad);
	if ((p->sha1 = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(p->sha1, EVP_sha1(), NULL) != 1) {
		git_error_set_str(GIT_ERROR_ODB, "SHA-1 is not available");
		goto done;
	}
	if (deflateInit(&p->z[0], Z_NO_COMPRESSION) != Z_OK ||
	    (p->zinit = 1, deflateInit(&p->z[1], Z_BEST_SPEED)) != Z_OK) {
		git_error_set_str(GIT_ERROR_ZLIB, "cannot start compressing");
		goto done;
	}
	p->zinit = 2;
	/* its progress re-arms the stall alarm, as a network fetch's does */
	if (git_odb_write_pack(&p->wp, c->dst, gc_progress, NULL) < 0)
		goto done;
	memcpy(hdr, "PACK", 4);
	hdr[4] = hdr[5] = hdr[6] = 0;
	hdr[7] = GC_PACK_VERSION;
	hdr[8] = (unsigned char)(c->ntodo >> 24);
	hdr[9] = (unsigned char)(c->ntodo >> 16);
	hdr[10] = (unsigned char)(c->ntodo >> 8);
	hdr[11] = (unsigned char)c->ntodo;
	if (gc_pack_put(p, hdr, sizeof(hdr)) == -1)
		goto done;
	for (i = 0; i < r.norder; i++)
		if (gc_pack_one(c, p, &r, r.order[i], out) == -1)
			goto done;
	if (EVP_DigestFinal_ex(p->sha1, sum, &sumlen) != 1 ||
	    sumlen != GC_PACK_HASH) {
		git_error_set_str(GIT_ERROR_ODB, "SHA-1 failed");
		goto done;
	}
	/* the trailer is not hashed */
	if (gc_pack_flush(p) == -1 ||
	    p->wp->append(p->wp, sum, sumlen, &p->stats) < 0 ||
	    p->wp->commit(p->wp, &p->stats) < 0 ||
	    gc_copy_check(c, &r) == -1)
		goto done;
	c->bytes = p->written + sumlen;
	rv = 0;
 done:
	if (p != NULL) {
		if (p->wp != NULL)
			p->wp->free(p->wp);
		EVP_MD_CTX_free(p->sha1);
		while (p->zinit > 0)
			deflateEnd(&p->z[--p->zinit]);
		free(p->out);
	}
	free(p);
	free(out);
	gc_reuse_free(&r);
	return rv;
}

/*
 * Copy what origin's tip (already listed by the transport) brings.  1
 * copied (*objects, *bytes), 0 not done here (an origin path this does
 * not open): the caller fetches with libgit2's transport; -1 failed
 * (gc_fail called).
 */
int
gc_local_download(const git_oid *tip, unsigned *objects, size_t *bytes)
{
	struct gc_copy	 c;
	git_repository	*origin = NULL;
	git_revwalk	*walk = NULL;
	git_commit	*commit = NULL;
	git_oid		 id;
	const char	*path;
	int		 rv = -1, rc;

	*objects = 0;
	*bytes = 0;
	memset(&c, 0, sizeof(c));
	path = gc.req.url + strlen("file://");
	if (gc_prefix(path, "localhost/"))
		path += strlen("localhost");
	/* percent-encoded paths: libgit2's transport decodes them */
	if (*path != '/' || strchr(path, '%') != NULL)
		return 0;
	if (git_repository_open_ext(&origin, path, GIT_REPOSITORY_OPEN_NO_SEARCH,
	    NULL) < 0) {
		git_error_clear();
		return 0;
	}
	if (git_repository_odb(&c.src, origin) < 0 ||
	    git_repository_odb(&c.dst, gc.repo) < 0 ||
	    git_revwalk_new(&walk, origin) < 0 ||
	    git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE) < 0 ||
	    git_revwalk_push(walk, tip) < 0 ||
	    git_reference_foreach(gc.repo, gc_hide_ref, walk) < 0)
		goto fail;
	/* oldest first: a commit is written after its parents */
	while ((rc = git_revwalk_next(&id, walk)) == 0) {
		if ((rc = gc_copy_want(&c, &id)) < 0)
			goto fail;
		if (rc == 0)
			continue;
		if (git_commit_lookup(&commit, origin, &id) < 0 ||
		    gc_copy_tree(&c, origin, git_commit_tree_id(commit)) < 0)
			goto fail;
		git_commit_free(commit);
		commit = NULL;
		if (gc_copy_queue(&c, &id) < 0)
			goto fail;
	}
	if (rc != GIT_ITEROVER)
		goto fail;
	if (c.ntodo > UINT32_MAX) {
		git_error_set_str(GIT_ERROR_ODB, "too many objects for a pack");
		goto fail;
	}
	if (c.ntodo > 0 && gc_copy_write(&c, origin) < 0)
		goto fail;
	*objects = (unsigned)c.ntodo;
	*bytes = c.bytes;
	rv = 1;
	goto done;
 fail:
	gc_fail_git(-1, "fetch failed");
 done:
	git_commit_free(commit);
	git_revwalk_free(walk);
	git_odb_free(c.src);
	git_odb_free(c.dst);
	git_repository_free(origin);
	free(c.seen.slot);
	free(c.seen.used);
	free(c.todo);
	return rv;
}

/*
 * What git_remote_update_tips does after a fetch, for gc_local_download:
 * RNAME (origin/BRANCH) to tip, with its reflog, and FETCH_HEAD.
 */
int
gc_local_tips(const git_oid *tip, const char *rname)
{
	git_reference	*ref = NULL;
	char		 path[PATH_MAX], hex[GC_OID_HEX + 1];
	FILE		*f;
	int		 rc;

	if ((rc = git_reference_create(&ref, gc.repo, rname, tip, 1,
	    "davit: fetch")) < 0) {
		gc_fail_git(rc, "cannot update origin's branch");
		return -1;
	}
	git_reference_free(ref);
	git_oid_tostr(hex, sizeof(hex), tip);
	if ((size_t)snprintf(path, sizeof(path), "%sFETCH_HEAD",
	    git_repository_path(gc.repo)) >= sizeof(path) ||
	    (f = fopen(path, "we")) == NULL) {
		gc_fail("unavailable", 0, "cannot write FETCH_HEAD in %s",
		    git_repository_path(gc.repo));
		return -1;
	}
	fprintf(f, "%s\t\tbranch '%s' of %s\n", hex, gc.req.branch, gc.req.url);
	if (fclose(f) == EOF) {
		gc_fail("unavailable", 0, "cannot write FETCH_HEAD in %s",
		    git_repository_path(gc.repo));
		return -1;
	}
	return 0;
}
