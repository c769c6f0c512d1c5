/*
 * libFuzzer target for gitchild/packidx.c, the pure reading of git's pack
 * index and pack entries.  The first byte selects: even, the rest is an
 * index (every id it holds must be found, every offset it gives sorted
 * in packidx_offsets); odd, the rest is a pack (every entry header that
 * parses must lie before the trailer, its base before it and after the
 * pack's header, and encode again to a header that parses to the same).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gitchild/packidx.h"

#define FUZZ_MAX_IDS		64	/* ids of an index looked up */
#define FUZZ_MAX_OFFSETS	512	/* entry offsets of a pack tried */

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_idx(const unsigned char *d, size_t n)
{
	struct packidx	 idx;
	uint32_t	 i, pos;
	uint64_t	 off, *sorted;

	if (packidx_open(&idx, d, n) == -1)
		return;
	if (idx.count > n / PACK_ID_LEN)
		abort();
	for (i = 0; i < idx.count && i < FUZZ_MAX_IDS; i++) {
		/* ids may repeat in a bad index: the one found is equal */
		if (packidx_find(&idx, idx.ids + (size_t)i * PACK_ID_LEN,
		    &pos) == 1 && memcmp(idx.ids + (size_t)pos * PACK_ID_LEN,
		    idx.ids + (size_t)i * PACK_ID_LEN, PACK_ID_LEN) != 0)
			abort();
		(void)packidx_offset(&idx, i, &off);
	}
	if (packidx_offset(&idx, idx.count, &off) != -1)
		abort();
	if ((sorted = calloc(idx.count + 1, sizeof(*sorted))) == NULL)
		return;
	if (packidx_offsets(&idx, sorted) == 0)
		for (i = 1; i < idx.count; i++)
			if (sorted[i - 1] > sorted[i])
				abort();
	free(sorted);
	(void)packidx_pack_sum(&idx);
}

/* e's header, written again at off (its base as far back): the same */
static void
fuzz_again(const struct packent *e, uint64_t off)
{
	unsigned char	 buf[FUZZ_MAX_OFFSETS + 2 * PACKENT_HDR_MAX +
			    PACK_ID_LEN + PACK_TRAILER_LEN];
	struct packent	 again;
	size_t		 h;

	/* off < FUZZ_MAX_OFFSETS: the header fits after it */
	memset(buf, 0, sizeof(buf));
	memcpy(buf, "PACK\0\0\0\2", 8);
	h = off + packent_header_encode(e->type, e->size, buf + off);
	if (e->type == PACKENT_REF_DELTA) {
		memcpy(buf + h, e->base_id, PACK_ID_LEN);
		h += PACK_ID_LEN;
	}
	if (e->type == PACKENT_OFS_DELTA)
		h += packent_ofs_encode(off - e->base_off, buf + h);
	if (packent_parse(buf, h + PACK_TRAILER_LEN, off, &again) != 0 ||
	    again.type != e->type || again.size != e->size ||
	    again.base_off != e->base_off || again.hdrlen != h - off ||
	    memcmp(again.base_id, e->base_id, PACK_ID_LEN) != 0)
		abort();
}

static void
fuzz_pack(const unsigned char *d, size_t n)
{
	struct packent	 e;
	uint32_t	 count;
	uint64_t	 off, end;

	(void)pack_header(d, n, &count);
	for (off = 0; off < n && off < FUZZ_MAX_OFFSETS; off++) {
		if (packent_parse(d, n, off, &e) == -1)
			continue;
		if (off < PACK_HDR_LEN || off + e.hdrlen > n - PACK_TRAILER_LEN)
			abort();
		if (e.type == PACKENT_OFS_DELTA &&
		    (e.base_off >= off || e.base_off < PACK_HDR_LEN))
			abort();
		if (packent_end(&off, 1, n, off, &end) != 0 ||
		    end != n - PACK_TRAILER_LEN)
			abort();
		fuzz_again(&e, off);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] % 2 == 0)
		fuzz_idx(data + 1, size - 1);
	else
		fuzz_pack(data + 1, size - 1);
	return 0;
}
