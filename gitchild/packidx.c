/*
 * git's pack index (version 2) and pack entry headers, read for the
 * file:// fetch's reuse of origin's packed data (packreuse.c).  Pure: the
 * caller maps the files and hands the bytes; nothing here does I/O or
 * calls libgit2.  Rules: every read is bounded by the length given, before
 * it is made; an index is accepted only when its length is exactly what
 * its counts say and its fanout never decreases; an entry's header must
 * end before the pack's trailer, with a known type, a size that fits 64
 * bits and a delta base inside the pack, before the entry.  What is
 * refused here is sent whole by the caller; what is accepted but wrong
 * (a corrupt compressed stream, a wrong id) is caught by libgit2's
 * indexer, which checks every object it receives.
 */
#include <stdlib.h>
#include <string.h>

#include "gitchild/packidx.h"

#define PACKIDX_VERSION		2
#define PACKIDX_CRC_LEN		4
#define PACKIDX_OFF_LEN		4
#define PACKIDX_LARGE_LEN	8
/* per object: its id, its CRC, its offset */
#define PACKIDX_PER_OBJECT	(PACK_ID_LEN + PACKIDX_CRC_LEN + PACKIDX_OFF_LEN)
#define PACK_VERSION_MIN	2
#define PACK_VERSION_MAX	3
#define PACKENT_SIZE_BITS	64

static const unsigned char packidx_magic[4] = { 0xff, 't', 'O', 'c' };

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static uint64_t
be64(const unsigned char *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

int
packidx_open(struct packidx *idx, const void *data, size_t len)
{
	const unsigned char	*d = data;
	uint32_t		 prev = 0, v;
	size_t			 i, fixed, rest;

	memset(idx, 0, sizeof(*idx));
	if (len < PACKIDX_HDR_LEN + PACKIDX_TRAILER_LEN ||
	    memcmp(d, packidx_magic, sizeof(packidx_magic)) != 0 ||
	    be32(d + 4) != PACKIDX_VERSION)
		return -1;
	for (i = 0; i < PACKIDX_FANOUT; i++) {
		v = be32(d + 8 + 4 * i);
		if (v < prev)
			return -1;
		prev = v;
	}
	/* the objects' tables must fit before the trailer */
	rest = len - PACKIDX_HDR_LEN - PACKIDX_TRAILER_LEN;
	if (prev > rest / PACKIDX_PER_OBJECT)
		return -1;
	fixed = (size_t)prev * PACKIDX_PER_OBJECT;
	rest -= fixed;
	/* what is left: the large offsets, no more than one per object */
	if (rest % PACKIDX_LARGE_LEN != 0 || rest / PACKIDX_LARGE_LEN > prev)
		return -1;
	idx->data = d;
	idx->len = len;
	idx->count = prev;
	idx->nlarge = rest / PACKIDX_LARGE_LEN;
	idx->fanout = d + 8;
	idx->ids = d + PACKIDX_HDR_LEN;
	idx->offsets = idx->ids + (size_t)prev * (PACK_ID_LEN + PACKIDX_CRC_LEN);
	idx->large = idx->offsets + (size_t)prev * PACKIDX_OFF_LEN;
	return 0;
}

int
packidx_find(const struct packidx *idx, const unsigned char id[PACK_ID_LEN],
    uint32_t *pos)
{
	uint32_t	lo, hi, mid;
	int		cmp;

	/* the fanout was checked: lo <= hi <= count */
	lo = id[0] == 0 ? 0 : be32(idx->fanout + 4 * (id[0] - 1));
	hi = be32(idx->fanout + 4 * id[0]);
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		cmp = memcmp(idx->ids + (size_t)mid * PACK_ID_LEN, id,
		    PACK_ID_LEN);
		if (cmp == 0) {
			*pos = mid;
			return 1;
		}
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

int
packidx_offset(const struct packidx *idx, uint32_t pos, uint64_t *off)
{
	uint32_t	v;

	if (pos >= idx->count)
		return -1;
	v = be32(idx->offsets + (size_t)pos * PACKIDX_OFF_LEN);
	if ((v & PACKIDX_LARGE) == 0) {
		*off = v;
		return 0;
	}
	v &= ~PACKIDX_LARGE;
	if (v >= idx->nlarge)
		return -1;
	*off = be64(idx->large + (size_t)v * PACKIDX_LARGE_LEN);
	return 0;
}

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int
packidx_offsets(const struct packidx *idx, uint64_t *out)
{
	uint32_t	i;

	for (i = 0; i < idx->count; i++)
		if (packidx_offset(idx, i, &out[i]) == -1)
			return -1;
	qsort(out, idx->count, sizeof(*out), u64_cmp);
	return 0;
}

const unsigned char *
packidx_pack_sum(const struct packidx *idx)
{
	return idx->data + idx->len - PACKIDX_TRAILER_LEN;
}

int
pack_header(const void *pack, size_t len, uint32_t *count)
{
	const unsigned char	*p = pack;
	uint32_t		 v;

	if (len < PACK_HDR_LEN + PACK_TRAILER_LEN || memcmp(p, "PACK", 4) != 0)
		return -1;
	v = be32(p + 4);
	if (v < PACK_VERSION_MIN || v > PACK_VERSION_MAX)
		return -1;
	*count = be32(p + 8);
	return 0;
}

/* an OFS_DELTA's distance back: git's offset encoding, +1 per byte more */
static int
packent_ofs(const unsigned char *p, size_t avail, size_t *used, uint64_t *dist)
{
	uint64_t	v;
	size_t		i = 0;

	if (avail == 0)
		return -1;
	v = p[i] & 0x7f;
	while (p[i++] & 0x80) {
		if (i >= avail || v >> (PACKENT_SIZE_BITS - 7) != 0)
			return -1;
		v = ((v + 1) << 7) | (p[i] & 0x7f);
	}
	*used = i;
	*dist = v;
	return 0;
}

int
packent_parse(const void *pack, size_t len, uint64_t off, struct packent *e)
{
	const unsigned char	*p = pack;
	size_t			 end, i, used;
	uint64_t		 v, dist;
	unsigned		 shift = 4;

	memset(e, 0, sizeof(*e));
	if (len < PACK_HDR_LEN + PACK_TRAILER_LEN)
		return -1;
	end = len - PACK_TRAILER_LEN;
	if (off < PACK_HDR_LEN || off >= end)
		return -1;
	i = (size_t)off;
	e->type = (p[i] >> 4) & 0x07;
	e->size = p[i] & 0x0f;
	while (p[i++] & 0x80) {
		if (i >= end || shift >= PACKENT_SIZE_BITS)
			return -1;
		v = p[i] & 0x7f;
		/* the bits that would fall off the top */
		if (shift > PACKENT_SIZE_BITS - 7 &&
		    v >> (PACKENT_SIZE_BITS - shift) != 0)
			return -1;
		e->size |= v << shift;
		shift += 7;
	}
	switch (e->type) {
	case PACKENT_COMMIT:
	case PACKENT_TREE:
	case PACKENT_BLOB:
	case PACKENT_TAG:
		break;
	case PACKENT_OFS_DELTA:
		if (packent_ofs(p + i, end - i, &used, &dist) == -1 ||
		    dist == 0 || dist > off - PACK_HDR_LEN)
			return -1;
		e->base_off = off - dist;
		i += used;
		break;
	case PACKENT_REF_DELTA:
		if (end - i < PACK_ID_LEN)
			return -1;
		memcpy(e->base_id, p + i, PACK_ID_LEN);
		i += PACK_ID_LEN;
		break;
	default:
		return -1;
	}
	e->hdrlen = i - (size_t)off;
	return 0;
}

int
packent_end(const uint64_t *sorted, uint32_t n, size_t len, uint64_t off,
    uint64_t *end)
{
	uint32_t	lo = 0, hi = n, mid;

	if (len < PACK_HDR_LEN + PACK_TRAILER_LEN ||
	    off >= len - PACK_TRAILER_LEN)
		return -1;
	/* the first offset above off */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (sorted[mid] <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	*end = lo < n ? sorted[lo] : len - PACK_TRAILER_LEN;
	/* an offset in the trailer or beyond: the index is not this pack's */
	if (*end > len - PACK_TRAILER_LEN)
		return -1;
	return 0;
}

size_t
packent_header_encode(int type, uint64_t size, unsigned char *buf)
{
	size_t	n = 0;

	buf[n] = (unsigned char)((type & 0x07) << 4 | (size & 0x0f));
	size >>= 4;
	while (size != 0) {
		buf[n++] |= 0x80;
		buf[n] = size & 0x7f;
		size >>= 7;
	}
	return n + 1;
}

size_t
packent_ofs_encode(uint64_t dist, unsigned char *buf)
{
	unsigned char	tmp[PACKENT_HDR_MAX];
	size_t		pos = sizeof(tmp) - 1, n;

	tmp[pos] = dist & 0x7f;
	while (dist >>= 7)
		tmp[--pos] = 0x80 | (--dist & 0x7f);
	n = sizeof(tmp) - pos;
	memcpy(buf, tmp + pos, n);
	return n;
}
