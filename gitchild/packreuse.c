/*
 * Origin's packed data, reused as it is by the file:// fetch (local.c), as
 * git's pack-objects does: for each object to send, found in one of
 * origin's packs (objects/pack/pack-*.idx, version 2, mapped with its
 * .pack), the plan says how it goes into davit's pack:
 * - a whole object (commit, tree, blob, tag): its compressed bytes copied
 *   verbatim behind a new header of the same type and size;
 * - a delta (OFS_DELTA or REF_DELTA) whose base is also sent: its
 *   compressed bytes copied verbatim as an OFS_DELTA on that base, which
 *   the plan's order puts before it (depth first, a visiting mark; a
 *   cycle, or a chain in davit's pack longer than GC_REUSE_DEPTH: that
 *   object whole);
 * - anything else (loose in origin, a delta on a base the checkout has,
 *   an entry that is malformed or not consistent with its index): whole,
 *   read through libgit2 (local.c).  No thin pack: libgit2's indexer
 *   fixes those one base per pass over all the deltas.
 * Rules: the parsing is packidx.c's (pure, fuzzed), every byte read from
 * a mapping is checked against its bounds there; a bad entry is counted,
 * never logged one by one (local.c logs one line); the compressed data is
 * not inflated here: libgit2's indexer inflates and hashes every object
 * it receives (a broken stream fails the fetch) and local.c then looks
 * each reused object up under its id (bytes that inflate to other
 * content fail it too).  A
 * pack is mapped, checked against its index (the pack's SHA-1) and its
 * offsets sorted (where an entry ends: the next offset) only when an
 * object to send is found in its index.  git never rewrites a pack in
 * place (a repack writes new ones, then unlinks), so a mapping stays valid
 * while origin is repacked.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gitchild/gitchild.h"
#include "gitchild/packidx.h"

#define GC_REUSE_MAX_PACKS	256	/* of origin's packs, the first read */
#define GC_REUSE_PACKS_MIN	8	/* slots for them, at first */
/* a pack's sorted offsets take 8 bytes an object: 128 MiB at most */
#define GC_REUSE_MAX_OBJECTS	(1u << 24)
#define GC_REUSE_DEPTH		64	/* deltas in a chain at most, as sent */

enum { GC_RP_UNMAPPED, GC_RP_MAPPED, GC_RP_UNUSABLE };
enum { GC_RO_NEW, GC_RO_VISITING, GC_RO_DONE };

struct gc_rpack {
	char		 path[PATH_MAX];	/* its .pack */
	void		*imap, *pmap;
	size_t		 ilen, plen;
	struct packidx	 idx;
	int		 state;			/* GC_RP_* */
	uint64_t	*sorted;		/* its offsets, once mapped */
};

static void
gc_unmap(void *map, size_t len)
{
	if (map != NULL)
		munmap(map, len);
}

/* a file of origin's, read-only: 0, or -1 (missing, empty, unreadable) */
static int
gc_map(const char *path, void **map, size_t *len)
{
	struct stat	st;
	int		fd;

	*map = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return -1;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    (uintmax_t)st.st_size > SIZE_MAX) {
		close(fd);
		return -1;
	}
	*len = (size_t)st.st_size;
	*map = mmap(NULL, *len, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (*map == MAP_FAILED) {
		*map = NULL;
		return -1;
	}
	return 0;
}

/* one pack-*.idx of origin's, kept if it is a version 2 index; -1 oom */
static int
gc_reuse_add(struct gc_reuse *r, const char *dir, const char *name)
{
	struct gc_rpack	*p;
	char		 ipath[PATH_MAX];
	size_t		 len = strlen(name), size;

	if (len <= strlen(".idx") || strcmp(name + len - 4, ".idx") != 0 ||
	    strncmp(name, "pack-", 5) != 0)
		return 0;
	if (r->npacks == r->packs_size) {
		size = r->packs_size ? 2 * r->packs_size : GC_REUSE_PACKS_MIN;
		if ((p = reallocarray(r->packs, size, sizeof(*p))) == NULL) {
			git_error_set_oom();
			return -1;
		}
		r->packs = p;
		r->packs_size = size;
	}
	p = &r->packs[r->npacks];
	memset(p, 0, sizeof(*p));
	if ((size_t)snprintf(ipath, sizeof(ipath), "%s/%s", dir, name) >=
	    sizeof(ipath) ||
	    (size_t)snprintf(p->path, sizeof(p->path), "%s/%.*s.pack", dir,
	    (int)(len - 4), name) >= sizeof(p->path))
		return 0;
	if (gc_map(ipath, &p->imap, &p->ilen) == -1)
		return 0;	/* gone since the listing */
	if (packidx_open(&p->idx, p->imap, p->ilen) == -1 ||
	    p->idx.count > GC_REUSE_MAX_OBJECTS) {
		r->bad_packs++;
		gc_unmap(p->imap, p->ilen);
		return 0;
	}
	r->npacks++;
	return 0;
}

static int
gc_reuse_packs(struct gc_reuse *r, git_repository *origin)
{
	git_buf		 objects = GIT_BUF_INIT;
	char		 dir[PATH_MAX];
	DIR		*d;
	struct dirent	*de;

	if (git_repository_item_path(&objects, origin,
	    GIT_REPOSITORY_ITEM_OBJECTS) < 0) {
		git_error_clear();
		return 0;
	}
	/* objects ends with a slash */
	if ((size_t)snprintf(dir, sizeof(dir), "%spack", objects.ptr) >=
	    sizeof(dir)) {
		git_buf_dispose(&objects);
		return 0;
	}
	git_buf_dispose(&objects);
	if ((d = opendir(dir)) == NULL)
		return 0;	/* no pack: everything whole */
	while (r->npacks < GC_REUSE_MAX_PACKS && (de = readdir(d)) != NULL)
		if (gc_reuse_add(r, dir, de->d_name) == -1) {
			closedir(d);
			return -1;
		}
	closedir(d);
	return 0;
}

/*
 * The pack of an index where an object was found, mapped and checked the
 * first time: 0 usable, -1 not (counted once).
 */
static int
gc_reuse_pack_map(struct gc_reuse *r, struct gc_rpack *p)
{
	uint32_t	count;

	if (p->state != GC_RP_UNMAPPED)
		return p->state == GC_RP_MAPPED ? 0 : -1;
	if (gc_map(p->path, &p->pmap, &p->plen) == -1 ||
	    pack_header(p->pmap, p->plen, &count) == -1 ||
	    count != p->idx.count ||
	    memcmp((unsigned char *)p->pmap + p->plen - PACK_TRAILER_LEN,
	    packidx_pack_sum(&p->idx), PACK_TRAILER_LEN) != 0)
		goto fail;
	if ((p->sorted = reallocarray(NULL, p->idx.count > 0 ? p->idx.count : 1,
	    sizeof(*p->sorted))) == NULL ||
	    packidx_offsets(&p->idx, p->sorted) == -1)
		goto fail;
	p->state = GC_RP_MAPPED;
	return 0;
 fail:
	p->state = GC_RP_UNUSABLE;
	r->bad_packs++;
	return -1;
}

/*
 * Where object i is in origin's packs, and its entry: left whole
 * (o->data NULL) when it is in none, or its entry does not hold up.
 */
static void
gc_reuse_locate(struct gc_reuse *r, const git_oid *id, struct gc_reuse_obj *o)
{
	struct gc_rpack	*p = NULL;
	struct packent	 e;
	uint32_t	 pos;
	uint64_t	 off, end;
	size_t		 k;

	/* the first pack that has it and can be used */
	for (k = 0; k < r->npacks && p == NULL; k++)
		if (packidx_find(&r->packs[k].idx, id->id, &pos) == 1 &&
		    gc_reuse_pack_map(r, &r->packs[k]) == 0)
			p = &r->packs[k];
	if (p == NULL)
		return;
	if (packidx_offset(&p->idx, pos, &off) == -1 ||
	    packent_parse(p->pmap, p->plen, off, &e) == -1 ||
	    packent_end(p->sorted, p->idx.count, p->plen, off, &end) == -1 ||
	    end <= off + e.hdrlen) {
		r->bad++;
		return;
	}
	o->pack = (uint32_t)(p - r->packs) + 1;
	o->off = off;
	o->type = e.type;
	o->size = e.size;
	o->data = (const unsigned char *)p->pmap + off + e.hdrlen;
	o->len = (size_t)(end - off - e.hdrlen);
	o->base_off = e.base_off;
	memcpy(o->base_id, e.base_id, sizeof(o->base_id));
}

/* qsort_r's comparisons: the objects by (pack, offset), by id */
static int
gc_by_place(const void *a, const void *b, void *arg)
{
	const struct gc_reuse_obj	*x = &((struct gc_reuse_obj *)arg)[
					    *(const uint32_t *)a];
	const struct gc_reuse_obj	*y = &((struct gc_reuse_obj *)arg)[
					    *(const uint32_t *)b];

	if (x->pack != y->pack)
		return x->pack < y->pack ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;
}

static int
gc_by_id(const void *a, const void *b, void *arg)
{
	const git_oid	*ids = arg;

	return git_oid_cmp(&ids[*(const uint32_t *)a], &ids[*(const uint32_t *)b]);
}

/* the base of delta o among the objects sent: its index, or -1 */
static long
gc_reuse_base(struct gc_reuse *r, const git_oid *ids, const uint32_t *place,
    size_t nplace, const uint32_t *byid, const struct gc_reuse_obj *o)
{
	size_t		 lo, hi, mid;
	int		 cmp;
	git_oid		 want;
	const struct gc_reuse_obj *m;

	lo = 0;
	if (o->type == PACKENT_OFS_DELTA) {
		hi = nplace;
		while (lo < hi) {
			mid = lo + (hi - lo) / 2;
			m = &r->obj[place[mid]];
			if (m->pack == o->pack && m->off == o->base_off)
				return place[mid];
			if (m->pack < o->pack ||
			    (m->pack == o->pack && m->off < o->base_off))
				lo = mid + 1;
			else
				hi = mid;
		}
		return -1;
	}
	memcpy(want.id, o->base_id, sizeof(want.id));
	hi = r->n;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((cmp = git_oid_cmp(&ids[byid[mid]], &want)) == 0)
			return byid[mid];
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* the deltas' bases among the objects sent; a delta without one: whole */
static int
gc_reuse_bases(struct gc_reuse *r, const git_oid *ids)
{
	uint32_t	*place = NULL, *byid = NULL;
	size_t		 i, nplace = 0;
	long		 b;
	int		 rv = -1;

	if ((place = reallocarray(NULL, r->n, sizeof(*place))) == NULL ||
	    (byid = reallocarray(NULL, r->n, sizeof(*byid))) == NULL) {
		git_error_set_oom();
		goto done;
	}
	for (i = 0; i < r->n; i++) {
		byid[i] = (uint32_t)i;
		if (r->obj[i].data != NULL)
			place[nplace++] = (uint32_t)i;
	}
	qsort_r(place, nplace, sizeof(*place), gc_by_place, r->obj);
	qsort_r(byid, r->n, sizeof(*byid), gc_by_id, (void *)(uintptr_t)ids);
	for (i = 0; i < r->n; i++) {
		if (r->obj[i].data == NULL ||
		    (r->obj[i].type != PACKENT_OFS_DELTA &&
		    r->obj[i].type != PACKENT_REF_DELTA))
			continue;
		b = gc_reuse_base(r, ids, place, nplace, byid, &r->obj[i]);
		if (b < 0 || (size_t)b == i)
			r->obj[i].data = NULL;
		else
			r->obj[i].base = (uint32_t)b;
	}
	rv = 0;
 done:
	free(place);
	free(byid);
	return rv;
}

/*
 * Object i into the order, its base first (nested: how many bases are
 * being visited below it).  A delta's chain in davit's pack, its base's
 * plus one, stays within GC_REUSE_DEPTH: else, as for a cycle, whole.
 */
static void
gc_reuse_visit(struct gc_reuse *r, uint32_t i, unsigned nested)
{
	struct gc_reuse_obj	*o = &r->obj[i];

	if (o->state != GC_RO_NEW)
		return;
	if (o->data != NULL && (o->type == PACKENT_OFS_DELTA ||
	    o->type == PACKENT_REF_DELTA)) {
		if (r->obj[o->base].state == GC_RO_VISITING ||
		    (r->obj[o->base].state == GC_RO_NEW &&
		    nested >= GC_REUSE_DEPTH))
			o->data = NULL;		/* a cycle, or too deep */
		else {
			o->state = GC_RO_VISITING;
			gc_reuse_visit(r, o->base, nested + 1);
			if (r->obj[o->base].depth >= GC_REUSE_DEPTH)
				o->data = NULL;
			else
				o->depth = r->obj[o->base].depth + 1;
		}
	}
	o->state = GC_RO_DONE;
	r->order[r->norder++] = i;
	if (o->data != NULL && o->type == PACKENT_REF_DELTA)
		o->type = PACKENT_OFS_DELTA;	/* as davit's pack holds it */
}

/*
 * The plan for ids[n], the objects to send: how each goes (r->obj[i])
 * and in which order (r->order).  0, or -1 out of memory.
 */
int
gc_reuse_plan(struct gc_reuse *r, git_repository *origin, const git_oid *ids,
    size_t n)
{
	size_t	i;

	memset(r, 0, sizeof(*r));
	r->n = n;
	if ((r->obj = calloc(n > 0 ? n : 1, sizeof(*r->obj))) == NULL ||
	    (r->order = reallocarray(NULL, n > 0 ? n : 1,
	    sizeof(*r->order))) == NULL) {
		git_error_set_oom();
		return -1;
	}
	if (gc_reuse_packs(r, origin) == -1)
		return -1;
	for (i = 0; i < n && r->npacks > 0; i++)
		gc_reuse_locate(r, &ids[i], &r->obj[i]);
	if (r->npacks > 0 && gc_reuse_bases(r, ids) == -1)
		return -1;
	for (i = 0; i < n; i++)
		gc_reuse_visit(r, (uint32_t)i, 0);
	return 0;
}

void
gc_reuse_free(struct gc_reuse *r)
{
	size_t	i;

	for (i = 0; i < r->npacks; i++) {
		gc_unmap(r->packs[i].imap, r->packs[i].ilen);
		gc_unmap(r->packs[i].pmap, r->packs[i].plen);
		free(r->packs[i].sorted);
	}
	free(r->packs);
	free(r->obj);
	free(r->order);
	memset(r, 0, sizeof(*r));
}
