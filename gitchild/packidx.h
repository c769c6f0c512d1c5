/*
 * Reading git's pack files for the file:// fetch's reuse of origin's
 * packed data (gitchild/packreuse.c): a version 2 pack index (header,
 * fanout, lookup of an id, an entry's offset, large offsets, all offsets
 * sorted), a pack's header, one entry's header (type, size, the base of a
 * delta), and the encoders of the headers davit-git writes.  Pure
 * functions over bytes the caller holds, no I/O, no libgit2; every byte
 * read is checked against the length given (tests/fuzz/fuzz_packidx.c,
 * tests/unit/test_packidx.c).
 */
#ifndef DAVIT_GITCHILD_PACKIDX_H
#define DAVIT_GITCHILD_PACKIDX_H

#include <stddef.h>
#include <stdint.h>

#define PACK_ID_LEN		20	/* a SHA-1 object id */
#define PACK_HDR_LEN		12	/* "PACK", version, count */
#define PACK_TRAILER_LEN	20	/* the SHA-1 of the pack */
#define PACKIDX_FANOUT		256
/* magic, version, fanout; then ids, CRCs, offsets, large offsets */
#define PACKIDX_HDR_LEN		(8 + 4 * PACKIDX_FANOUT)
/* the pack's SHA-1, then the index's own */
#define PACKIDX_TRAILER_LEN	(2 * PACK_ID_LEN)
#define PACKIDX_LARGE		0x80000000u	/* an offset's flag: large */
/* the longest entry header: 1 + 10 bytes of a 64-bit size, or an OFS offset */
#define PACKENT_HDR_MAX		11

/* git's object types as a pack writes them */
enum packent_type {
	PACKENT_COMMIT = 1,
	PACKENT_TREE = 2,
	PACKENT_BLOB = 3,
	PACKENT_TAG = 4,
	PACKENT_OFS_DELTA = 6,
	PACKENT_REF_DELTA = 7,
};

/* a version 2 index, as mapped by the caller */
struct packidx {
	const unsigned char	*data;
	size_t			 len;
	uint32_t		 count;		/* objects */
	size_t			 nlarge;	/* 8-byte offsets */
	const unsigned char	*fanout, *ids, *offsets, *large;
};

/* one entry of a pack */
struct packent {
	int		 type;		/* enum packent_type */
	uint64_t	 size;		/* the object's, or the delta's, inflated */
	size_t		 hdrlen;	/* bytes before the compressed data */
	uint64_t	 base_off;	/* OFS_DELTA: the base's offset in the pack */
	unsigned char	 base_id[PACK_ID_LEN];	/* REF_DELTA: the base's id */
};

/* 0, or -1: not a version 2 index, or not consistent (counts, fanout) */
int		 packidx_open(struct packidx *idx, const void *data, size_t len);
/* 1 found (*pos its place in the index), 0 not there */
int		 packidx_find(const struct packidx *idx,
		    const unsigned char id[PACK_ID_LEN], uint32_t *pos);
/* the offset in the pack of the object at pos: 0, or -1 (a bad large one) */
int		 packidx_offset(const struct packidx *idx, uint32_t pos,
		    uint64_t *off);
/* every object's offset, sorted, into out[idx->count]: 0, or -1 */
int		 packidx_offsets(const struct packidx *idx, uint64_t *out);
/* the SHA-1 of the pack this index describes */
const unsigned char *packidx_pack_sum(const struct packidx *idx);

/* a pack's header: version 2 or 3; 0 (*count its objects), or -1 */
int		 pack_header(const void *pack, size_t len, uint32_t *count);
/*
 * The header of the entry at off in a pack of len bytes (trailer
 * included): 0, or -1 if it runs into the trailer, has a bad type, a size
 * over 64 bits, or a base before the pack's first entry.
 */
int		 packent_parse(const void *pack, size_t len, uint64_t off,
		    struct packent *e);
/*
 * Where the entry at off ends: the next offset of sorted[n] (the pack's
 * offsets, packidx_offsets), else the trailer.  0, or -1 if off is not in
 * the pack.
 */
int		 packent_end(const uint64_t *sorted, uint32_t n, size_t len,
		    uint64_t off, uint64_t *end);
/* the headers davit-git writes: their length in buf[PACKENT_HDR_MAX] */
size_t		 packent_header_encode(int type, uint64_t size,
		    unsigned char *buf);
/* an OFS_DELTA's distance back to its base (> 0) */
size_t		 packent_ofs_encode(uint64_t dist, unsigned char *buf);

#endif
