/*
 * gitchild/packidx.c, the pure reading of git's pack index (version 2)
 * and pack entry headers: indexes and packs built byte by byte here, hits
 * and misses, large offsets, and the malformed ones the file:// fetch must
 * send whole instead of reusing (truncated, a fanout that decreases, an
 * entry running into the trailer, a delta's base before the pack, a size
 * over 64 bits).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gitchild/packidx.h"

#define T_MAX_OBJECTS	8
#define T_IDX_MAX	(PACKIDX_HDR_LEN + T_MAX_OBJECTS * (20 + 4 + 4 + 8) + \
			    PACKIDX_TRAILER_LEN)

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

/* an id whose first byte is first, the rest fill */
static void
mkid(unsigned char *id, unsigned char first, unsigned char fill)
{
	memset(id, fill, PACK_ID_LEN);
	id[0] = first;
}

/*
 * A version 2 index of n objects (ids sorted) at offs[]; an offset of
 * 2^31 or more goes in the large table.  Its length.
 */
static size_t
mkidx(unsigned char *buf, unsigned char ids[][PACK_ID_LEN], const uint64_t *offs,
    uint32_t n)
{
	unsigned char	*p;
	uint32_t	 i, b, count, nlarge = 0;

	memset(buf, 0, T_IDX_MAX);
	buf[0] = 0xff;
	memcpy(buf + 1, "tOc", 3);
	put32(buf + 4, 2);
	for (b = 0; b < PACKIDX_FANOUT; b++) {
		for (count = 0, i = 0; i < n; i++)
			if (ids[i][0] <= b)
				count++;
		put32(buf + 8 + 4 * b, count);
	}
	p = buf + PACKIDX_HDR_LEN;
	for (i = 0; i < n; i++, p += PACK_ID_LEN)
		memcpy(p, ids[i], PACK_ID_LEN);
	p += 4 * n;		/* the CRCs */
	for (i = 0; i < n; i++, p += 4)
		put32(p, offs[i] < PACKIDX_LARGE ? (uint32_t)offs[i] :
		    PACKIDX_LARGE | nlarge++);
	for (i = 0; i < n; i++) {
		if (offs[i] < PACKIDX_LARGE)
			continue;
		put32(p, (uint32_t)(offs[i] >> 32));
		put32(p + 4, (uint32_t)offs[i]);
		p += 8;
	}
	memset(p, 0xab, PACK_ID_LEN);	/* the pack's SHA-1 */
	p += PACKIDX_TRAILER_LEN;
	return (size_t)(p - buf);
}

static unsigned char	 t_ids[3][PACK_ID_LEN];
static const uint64_t	 t_offs[3] = { 200, 12, 0x123456789aULL };

static size_t
mkidx3(unsigned char *buf)
{
	mkid(t_ids[0], 0x00, 0x11);
	mkid(t_ids[1], 0x7f, 0x22);
	mkid(t_ids[2], 0x7f, 0x33);
	return mkidx(buf, t_ids, t_offs, 3);
}

static void
test_lookup(void **state)
{
	unsigned char	buf[T_IDX_MAX], id[PACK_ID_LEN];
	struct packidx	idx;
	uint32_t	pos, i;
	uint64_t	off, sorted[3];
	size_t		len = mkidx3(buf);

	(void)state;
	assert_int_equal(packidx_open(&idx, buf, len), 0);
	assert_int_equal(idx.count, 3);
	assert_int_equal(idx.nlarge, 1);
	for (i = 0; i < 3; i++) {
		assert_int_equal(packidx_find(&idx, t_ids[i], &pos), 1);
		assert_int_equal(pos, i);
		assert_int_equal(packidx_offset(&idx, pos, &off), 0);
		assert_true(off == t_offs[i]);
	}
	/* misses: another id in a used fanout slot, an empty slot, the last */
	mkid(id, 0x7f, 0x2a);
	assert_int_equal(packidx_find(&idx, id, &pos), 0);
	mkid(id, 0x40, 0x11);
	assert_int_equal(packidx_find(&idx, id, &pos), 0);
	mkid(id, 0xff, 0xff);
	assert_int_equal(packidx_find(&idx, id, &pos), 0);
	assert_int_equal(packidx_offset(&idx, 3, &off), -1);
	assert_int_equal(packidx_offsets(&idx, sorted), 0);
	assert_true(sorted[0] == 12 && sorted[1] == 200 &&
	    sorted[2] == 0x123456789aULL);
	assert_int_equal(packidx_pack_sum(&idx)[0], 0xab);
	/* no object at all */
	assert_int_equal(packidx_open(&idx, buf, mkidx(buf, t_ids, t_offs, 0)),
	    0);
	assert_int_equal(idx.count, 0);
	assert_int_equal(packidx_find(&idx, t_ids[0], &pos), 0);
}

static void
test_large_offset(void **state)
{
	unsigned char	buf[T_IDX_MAX];
	struct packidx	idx;
	uint64_t	off;
	size_t		len = mkidx3(buf);
	unsigned char	*offsets;

	(void)state;
	assert_int_equal(packidx_open(&idx, buf, len), 0);
	assert_int_equal(packidx_offset(&idx, 2, &off), 0);
	assert_true(off == 0x123456789aULL);
	/* a large offset's index past the large table */
	offsets = buf + PACKIDX_HDR_LEN + 3 * (PACK_ID_LEN + 4);
	put32(offsets + 4 * 2, PACKIDX_LARGE | 1);
	assert_int_equal(packidx_open(&idx, buf, len), 0);
	assert_int_equal(packidx_offset(&idx, 2, &off), -1);
	assert_int_equal(packidx_offsets(&idx, (uint64_t[3]){ 0 }), -1);
}

static void
test_truncated(void **state)
{
	unsigned char	buf[T_IDX_MAX];
	struct packidx	idx;
	uint64_t	off;
	size_t		len = mkidx3(buf), cut;

	(void)state;
	/* every shorter length is refused but one: 8 bytes less reads as an
	 * index without a large table, where the large offset is not found */
	for (cut = 0; cut < len; cut++) {
		if (cut == len - 8) {
			assert_int_equal(packidx_open(&idx, buf, cut), 0);
			assert_int_equal(idx.nlarge, 0);
			assert_int_equal(packidx_offset(&idx, 2, &off), -1);
			continue;
		}
		assert_int_equal(packidx_open(&idx, buf, cut), -1);
	}
	/* a byte too many: the large table is not whole */
	assert_int_equal(packidx_open(&idx, buf, len + 1), -1);
	/* more large offsets than objects */
	assert_int_equal(packidx_open(&idx, buf, mkidx(buf, t_ids, t_offs, 0) +
	    8), -1);
	/* the magic, the version */
	len = mkidx3(buf);
	buf[1] = 'T';
	assert_int_equal(packidx_open(&idx, buf, len), -1);
	len = mkidx3(buf);
	put32(buf + 4, 1);
	assert_int_equal(packidx_open(&idx, buf, len), -1);
	put32(buf + 4, 3);
	assert_int_equal(packidx_open(&idx, buf, len), -1);
}

static void
test_bad_fanout(void **state)
{
	unsigned char	buf[T_IDX_MAX];
	struct packidx	idx;
	size_t		len = mkidx3(buf);

	(void)state;
	/* slot 0x10 says 2, slot 0x11 says 1 */
	put32(buf + 8 + 4 * 0x10, 2);
	assert_int_equal(packidx_open(&idx, buf, len), -1);
	/* monotonic, but the total more than the tables hold */
	len = mkidx3(buf);
	put32(buf + 8 + 4 * 0xff, 4);
	assert_int_equal(packidx_open(&idx, buf, len), -1);
	put32(buf + 8 + 4 * 0xff, 0xffffffffu);
	assert_int_equal(packidx_open(&idx, buf, len), -1);
}

/* a pack: its header, then entries of the bytes given, then a trailer */
static size_t
mkpack(unsigned char *buf, uint32_t version, const void *body, size_t len)
{
	memcpy(buf, "PACK", 4);
	put32(buf + 4, version);
	put32(buf + 8, 1);
	memcpy(buf + PACK_HDR_LEN, body, len);
	memset(buf + PACK_HDR_LEN + len, 0xab, PACK_TRAILER_LEN);
	return PACK_HDR_LEN + len + PACK_TRAILER_LEN;
}

static void
test_entry(void **state)
{
	unsigned char	pack[128], body[64], hdr[2 * PACKENT_HDR_MAX];
	struct packent	e;
	uint32_t	count;
	size_t		len, h;

	(void)state;
	/* a blob of 300 bytes: 0x80 | 3 << 4 | (300 & 15), 300 >> 4 = 18 */
	body[0] = 0xbc;
	body[1] = 18;
	memset(body + 2, 0x78, 8);
	len = mkpack(pack, 2, body, 10);
	assert_int_equal(pack_header(pack, len, &count), 0);
	assert_int_equal(count, 1);
	assert_int_equal(packent_parse(pack, len, 12, &e), 0);
	assert_int_equal(e.type, PACKENT_BLOB);
	assert_true(e.size == 300);
	assert_int_equal(e.hdrlen, 2);
	assert_int_equal(packent_header_encode(PACKENT_BLOB, 300, hdr), 2);
	assert_memory_equal(hdr, body, 2);
	/* version 3 too, not 1 or 4, not another magic */
	len = mkpack(pack, 3, body, 10);
	assert_int_equal(pack_header(pack, len, &count), 0);
	len = mkpack(pack, 4, body, 10);
	assert_int_equal(pack_header(pack, len, &count), -1);
	len = mkpack(pack, 1, body, 10);
	assert_int_equal(pack_header(pack, len, &count), -1);
	assert_int_equal(pack_header("PACK\0\0\0\2", 8, &count), -1);
	/* an entry at the header, in the trailer, past the end */
	len = mkpack(pack, 2, body, 10);
	assert_int_equal(packent_parse(pack, len, 0, &e), -1);
	assert_int_equal(packent_parse(pack, len, 22, &e), -1);
	assert_int_equal(packent_parse(pack, len, len + 5, &e), -1);
	/* types 0 and 5 are not git's */
	body[0] = 0x05;
	len = mkpack(pack, 2, body, 10);
	assert_int_equal(packent_parse(pack, len, 12, &e), -1);
	body[0] = 0x55;
	len = mkpack(pack, 2, body, 10);
	assert_int_equal(packent_parse(pack, len, 12, &e), -1);
	/* a REF_DELTA: the base's id follows the size */
	body[0] = 0x75;
	memset(body + 1, 0x42, 20);
	len = mkpack(pack, 2, body, 24);
	assert_int_equal(packent_parse(pack, len, 12, &e), 0);
	assert_int_equal(e.type, PACKENT_REF_DELTA);
	assert_int_equal(e.hdrlen, 21);
	assert_int_equal(e.base_id[19], 0x42);
	/* ... cut by the trailer */
	len = mkpack(pack, 2, body, 15);
	assert_int_equal(packent_parse(pack, len, 12, &e), -1);
	/* encoders and the parser agree: the largest size, a long distance */
	h = packent_header_encode(PACKENT_OFS_DELTA, UINT64_MAX, hdr);
	assert_int_equal(h, 10);
	h += packent_ofs_encode(40, hdr + h);
	memcpy(body, hdr, h);
	len = mkpack(pack, 2, body, h + 1);
	assert_int_equal(packent_parse(pack, len, 12, &e), -1);	/* 40 > 12 - 12 */
	memset(pack + 12, 0x13, 40);		/* 40 bytes of an entry */
	memcpy(pack + 52, hdr, h);
	memset(pack + 52 + h, 0xab, 20);
	assert_int_equal(packent_parse(pack, 52 + h + 20, 52, &e), 0);
	assert_true(e.size == UINT64_MAX);
	assert_true(e.base_off == 12);
	assert_int_equal(e.hdrlen, h);
}

static void
test_header_past_end(void **state)
{
	unsigned char	pack[64], body[24];
	struct packent	e;
	size_t		len;

	(void)state;
	/* a size that goes on into the trailer */
	memset(body, 0xff, sizeof(body));
	len = mkpack(pack, 2, body, 3);
	assert_int_equal(packent_parse(pack, len, 12, &e), -1);
	/* an OFS_DELTA's distance cut by the trailer */
	body[0] = 0x65;
	body[1] = 0x80;
	len = mkpack(pack, 2, body, 2);
	assert_int_equal(packent_parse(pack, len, 12, &e), -1);
	/* where the last entry ends: the trailer; an offset past the data */
	len = mkpack(pack, 2, body, 10);
	{
		uint64_t sorted[2] = { 12, 16 }, end;

		assert_int_equal(packent_end(sorted, 2, len, 12, &end), 0);
		assert_true(end == 16);
		assert_int_equal(packent_end(sorted, 2, len, 16, &end), 0);
		assert_true(end == 22);
		assert_int_equal(packent_end(sorted, 2, len, 22, &end), -1);
		sorted[1] = 30;	/* an index offset in the trailer */
		assert_int_equal(packent_end(sorted, 2, len, 12, &end), -1);
	}
}

static void
test_ofs_before_start(void **state)
{
	unsigned char	pack[64], body[24];
	struct packent	e;
	size_t		len;

	(void)state;
	/* at 20, a distance of 9: offset 11, inside the pack's header */
	memset(body, 0x30, 8);
	body[8] = 0x65;
	body[9] = 9;
	body[10] = 0x78;
	len = mkpack(pack, 2, body, 11);
	assert_int_equal(packent_parse(pack, len, 20, &e), -1);
	/* 8: the first entry, allowed */
	body[9] = 8;
	len = mkpack(pack, 2, body, 11);
	assert_int_equal(packent_parse(pack, len, 20, &e), 0);
	assert_true(e.base_off == 12);
	assert_int_equal(e.hdrlen, 2);
	/* 0: itself */
	body[9] = 0;
	len = mkpack(pack, 2, body, 11);
	assert_int_equal(packent_parse(pack, len, 20, &e), -1);
	/* a distance over 64 bits */
	memset(body + 9, 0xff, 10);
	body[18] = 0x7f;
	len = mkpack(pack, 2, body, 19);
	assert_int_equal(packent_parse(pack, len, 20, &e), -1);
}

static void
test_size_over_64_bits(void **state)
{
	unsigned char	pack[64], body[24];
	struct packent	e;
	size_t		len;

	(void)state;
	/* 4 + 8 * 7 + 4 bits: UINT64_MAX exactly */
	body[0] = 0xbf;
	memset(body + 1, 0xff, 8);
	body[9] = 0x0f;
	body[10] = 0x78;
	len = mkpack(pack, 2, body, 11);
	assert_int_equal(packent_parse(pack, len, 12, &e), 0);
	assert_true(e.size == UINT64_MAX);
	/* one bit more */
	body[9] = 0x1f;
	len = mkpack(pack, 2, body, 11);
	assert_int_equal(packent_parse(pack, len, 12, &e), -1);
	/* one byte more, even of zero bits */
	body[9] = 0x8f;
	body[10] = 0x00;
	len = mkpack(pack, 2, body, 12);
	assert_int_equal(packent_parse(pack, len, 12, &e), -1);
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_large_offset),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_bad_fanout),
		cmocka_unit_test(test_entry),
		cmocka_unit_test(test_header_past_end),
		cmocka_unit_test(test_ofs_before_start),
		cmocka_unit_test(test_size_over_64_bits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
