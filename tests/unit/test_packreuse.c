/*
 * gitchild/packreuse.c, the plan of the file:// fetch's pack: an origin
 * repository whose one pack is built here byte by byte (entries with
 * made-up ids and data: the plan never inflates), and what the plan makes
 * of it: whole objects and deltas on a base also sent reused, bases
 * first; a delta whose base is not sent, a cycle of REF_DELTAs, a chain
 * longer than the bound and a malformed entry left whole; a pack that is
 * not its index's not used at all.
 */
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <git2.h>

#include "gitchild/gitchild.h"
#include "gitchild/packidx.h"

#define T_MAX		80		/* entries of a test pack */
#define T_PACK_MAX	(T_MAX * 32 + 64)
#define T_IDX_MAX	(PACKIDX_HDR_LEN + T_MAX * 28 + PACKIDX_TRAILER_LEN)
#define T_DEPTH		64		/* packreuse.c's GC_REUSE_DEPTH */

struct t_pack {
	unsigned char	 pack[T_PACK_MAX];
	size_t		 len;
	unsigned char	 ids[T_MAX][PACK_ID_LEN];
	uint64_t	 offs[T_MAX];
	uint32_t	 n;
};

static char		 t_dir[] = "/tmp/davit-test-packreuse-XXXXXX";
static char		 t_packdir[sizeof(t_dir) + 32];

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

/* object k's id: sorted by k */
static void
t_id(unsigned char *id, unsigned k)
{
	memset(id, 0x5a, PACK_ID_LEN);
	id[0] = (unsigned char)k;
}

static void
t_start(struct t_pack *t)
{
	memset(t, 0, sizeof(*t));
	memcpy(t->pack, "PACK", 4);
	put32(t->pack + 4, 2);
	t->len = PACK_HDR_LEN;
}

/*
 * Entry k: a type, then for an OFS_DELTA the entry it is on (base), for
 * a REF_DELTA the object it is on (base), then 3 bytes of data.
 */
static void
t_entry(struct t_pack *t, unsigned k, int type, unsigned base)
{
	unsigned char	*p = t->pack + t->len;
	size_t		 h;

	t_id(t->ids[t->n], k);
	t->offs[t->n] = t->len;
	h = packent_header_encode(type, 100 + k, p);
	if (type == PACKENT_OFS_DELTA)
		h += packent_ofs_encode(t->len - t->offs[base], p + h);
	else if (type == PACKENT_REF_DELTA) {
		t_id(p + h, base);
		h += PACK_ID_LEN;
	}
	memset(p + h, 0x70 + k % 16, 3);
	t->len += h + 3;
	t->n++;
}

/* the trailer, the index; both written into the test repository */
static void
t_write(struct t_pack *t, int bad_sum)
{
	unsigned char	 idx[T_IDX_MAX], *p;
	char		 path[sizeof(t_packdir) + 32];
	uint32_t	 i, b, count;
	FILE		*f;

	put32(t->pack + 8, t->n);
	memset(t->pack + t->len, 0xab, PACK_TRAILER_LEN);
	t->len += PACK_TRAILER_LEN;
	memset(idx, 0, sizeof(idx));
	idx[0] = 0xff;
	memcpy(idx + 1, "tOc", 3);
	put32(idx + 4, 2);
	for (b = 0; b < PACKIDX_FANOUT; b++) {
		for (count = 0, i = 0; i < t->n; i++)
			if (t->ids[i][0] <= b)
				count++;
		put32(idx + 8 + 4 * b, count);
	}
	p = idx + PACKIDX_HDR_LEN;
	for (i = 0; i < t->n; i++, p += PACK_ID_LEN)
		memcpy(p, t->ids[i], PACK_ID_LEN);
	p += 4 * t->n;
	for (i = 0; i < t->n; i++, p += 4)
		put32(p, (uint32_t)t->offs[i]);
	memset(p, bad_sum ? 0xac : 0xab, PACK_ID_LEN);
	p += PACKIDX_TRAILER_LEN;
	snprintf(path, sizeof(path), "%s/pack-test.pack", t_packdir);
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fwrite(t->pack, 1, t->len, f), t->len);
	fclose(f);
	snprintf(path, sizeof(path), "%s/pack-test.idx", t_packdir);
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fwrite(idx, 1, (size_t)(p - idx), f), (size_t)(p - idx));
	fclose(f);
}

/* the plan for objects ks[n] of origin */
static void
t_plan(struct gc_reuse *r, const unsigned *ks, size_t n)
{
	git_repository	*repo;
	git_oid		 ids[T_MAX];
	size_t		 i;

	for (i = 0; i < n; i++)
		t_id(ids[i].id, ks[i]);
	assert_int_equal(git_repository_open(&repo, t_dir), 0);
	assert_int_equal(gc_reuse_plan(r, repo, ids, n), 0);
	git_repository_free(repo);
	assert_int_equal(r->norder, n);
}

/* where object i goes in the order */
static size_t
t_rank(const struct gc_reuse *r, uint32_t i)
{
	size_t	k;

	for (k = 0; k < r->norder; k++)
		if (r->order[k] == i)
			return k;
	fail();
	return 0;
}

static void
test_reused(void **state)
{
	struct t_pack	 t;
	struct gc_reuse	 r;
	const unsigned	 ks[] = { 2, 1, 3, 4, 6 };	/* B, A, C, D, F */
	size_t		 i;

	(void)state;
	t_start(&t);
	t_entry(&t, 1, PACKENT_BLOB, 0);		/* A */
	t_entry(&t, 2, PACKENT_OFS_DELTA, 0);		/* B on A */
	t_entry(&t, 3, PACKENT_REF_DELTA, 4);		/* C on D */
	t_entry(&t, 4, PACKENT_REF_DELTA, 3);		/* D on C */
	t_entry(&t, 5, PACKENT_OFS_DELTA, 0);		/* E on A */
	t_entry(&t, 6, PACKENT_TREE, 0);		/* F, made bad below */
	t.pack[t.offs[5]] = 0x50;			/* type 5 */
	t_write(&t, 0);

	t_plan(&r, ks, 5);
	/* A: whole, its bytes verbatim */
	assert_non_null(r.obj[1].data);
	assert_int_equal(r.obj[1].type, PACKENT_BLOB);
	assert_true(r.obj[1].size == 101);
	assert_int_equal(r.obj[1].len, 3);
	assert_int_equal(r.obj[1].data[0], 0x71);
	/* B: an OFS_DELTA on A, after it */
	assert_non_null(r.obj[0].data);
	assert_int_equal(r.obj[0].type, PACKENT_OFS_DELTA);
	assert_int_equal(r.obj[0].base, 1);
	assert_true(t_rank(&r, 1) < t_rank(&r, 0));
	/* C and D: the cycle broken, one whole, the other on it */
	assert_true((r.obj[2].data == NULL) != (r.obj[3].data == NULL));
	i = r.obj[2].data == NULL ? 3 : 2;
	assert_int_equal(r.obj[i].type, PACKENT_OFS_DELTA);	/* was REF */
	assert_int_equal(r.obj[i].base, i == 2 ? 3 : 2);
	assert_true(t_rank(&r, r.obj[i].base) < t_rank(&r, (uint32_t)i));
	/* F: malformed, whole, counted */
	assert_null(r.obj[4].data);
	assert_int_equal(r.bad, 1);
	assert_int_equal(r.bad_packs, 0);
	gc_reuse_free(&r);
}

static void
test_base_not_sent(void **state)
{
	struct t_pack	 t;
	struct gc_reuse	 r;
	const unsigned	 ks[] = { 2, 5, 9 };	/* B, E, not in the pack */

	(void)state;
	t_start(&t);
	t_entry(&t, 1, PACKENT_BLOB, 0);
	t_entry(&t, 2, PACKENT_OFS_DELTA, 0);
	t_entry(&t, 5, PACKENT_REF_DELTA, 1);
	t_write(&t, 0);
	t_plan(&r, ks, 3);
	assert_null(r.obj[0].data);
	assert_null(r.obj[1].data);
	assert_null(r.obj[2].data);
	assert_int_equal(r.bad, 0);
	gc_reuse_free(&r);
}

static void
test_chain_cut(void **state)
{
	struct t_pack	 t;
	struct gc_reuse	 r;
	unsigned	 ks[T_MAX];
	uint32_t	 i;

	(void)state;
	t_start(&t);
	t_entry(&t, 1, PACKENT_BLOB, 0);
	for (i = 1; i < 75; i++)
		t_entry(&t, i + 1, PACKENT_OFS_DELTA, i - 1);
	t_write(&t, 0);
	/* the newest first, as the walk would queue them */
	for (i = 0; i < 75; i++)
		ks[i] = 75 - i;
	t_plan(&r, ks, 75);
	for (i = 0; i < 75; i++) {
		assert_true(r.obj[i].depth <= T_DEPTH);
		if (r.obj[i].data == NULL || r.obj[i].type != PACKENT_OFS_DELTA)
			continue;
		assert_int_equal(r.obj[i].depth, r.obj[r.obj[i].base].depth + 1);
		assert_true(t_rank(&r, r.obj[i].base) < t_rank(&r, i));
	}
	/* the chain of 74 deltas: cut once */
	for (i = 0; i < 75 && r.obj[i].depth != T_DEPTH; i++)
		;
	assert_true(i < 75);
	gc_reuse_free(&r);
}

static void
test_not_its_index(void **state)
{
	struct t_pack	 t;
	struct gc_reuse	 r;
	const unsigned	 ks[] = { 1, 2 };

	(void)state;
	t_start(&t);
	t_entry(&t, 1, PACKENT_BLOB, 0);
	t_entry(&t, 2, PACKENT_OFS_DELTA, 0);
	t_write(&t, 1);
	t_plan(&r, ks, 2);
	assert_null(r.obj[0].data);
	assert_null(r.obj[1].data);
	assert_int_equal(r.bad_packs, 1);
	gc_reuse_free(&r);
}

static int
setup(void **state)
{
	git_repository	*repo;

	(void)state;
	git_libgit2_init();
	if (mkdtemp(t_dir) == NULL ||
	    git_repository_init(&repo, t_dir, 1) != 0)
		return -1;
	git_repository_free(repo);
	snprintf(t_packdir, sizeof(t_packdir), "%s/objects/pack", t_dir);
	return 0;
}

static int
teardown(void **state)
{
	char	cmd[sizeof(t_dir) + 16];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", t_dir);
	git_libgit2_shutdown();
	return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_reused),
		cmocka_unit_test(test_base_not_sent),
		cmocka_unit_test(test_chain_cut),
		cmocka_unit_test(test_not_its_index),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
