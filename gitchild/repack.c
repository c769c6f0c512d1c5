/*
 * The checkout's small packs folded into one after a fetch, as git fetch's
 * "gc --auto" does past gc.autoPackLimit: every fetch writes a pack
 * (local.c, or libgit2's transport) and libgit2 never repacks, so a
 * checkout deployed a thousand times would hold a thousand packs, each
 * searched for every object read and each an open file.
 *
 * Rules: only when the checkout holds more than GC_REPACK_MAX_PACKS packs;
 * only packs under GC_REPACK_SMALL bytes, none with a .keep; every object
 * they hold goes into the new pack, reachable or not (nothing is ever
 * dropped: the index, a stash or a reflog may need it); the new pack is
 * written and indexed whole by libgit2's pack builder, and synced to disk,
 * before any old one is removed, so a crash or a power loss between leaves
 * objects twice, never missing.  A failure is logged in the job's log and
 * never fails the fetch.
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

#define GC_REPACK_MAX_PACKS	50		/* git's gc.autoPackLimit */
#define GC_REPACK_SMALL		(1024 * 1024)	/* a pack this big stays */
#define GC_REPACK_MAX_OBJECTS	100000		/* folded at once, at most */
#define GC_REPACK_NAME_MAX	64		/* "pack-" 40 hex ".pack" */

struct gc_small {
	char	name[GC_REPACK_NAME_MAX];	/* pack-<hex>, no suffix */
};

/* is name "pack-<40 hex>.idx"? its stem (no suffix) into stem */
static int
gc_pack_stem(const char *name, char *stem, size_t len)
{
	size_t	n = strlen(name);

	if (n != strlen("pack-") + GIT_OID_HEXSZ + strlen(".idx") ||
	    strncmp(name, "pack-", 5) != 0 || strcmp(name + n - 4, ".idx") != 0 ||
	    strspn(name + 5, "0123456789abcdef") != GIT_OID_HEXSZ)
		return 0;
	return (size_t)snprintf(stem, len, "%.*s", (int)(n - 4), name) < len;
}

static int
gc_pack_file(char *path, size_t len, const char *dir, const char *stem,
    const char *suffix)
{
	return (size_t)snprintf(path, len, "%s/%s%s", dir, stem, suffix) < len ?
	    0 : -1;
}

/* the objects of dir/stem.idx into the pack builder; 0, or -1 */
static int
gc_repack_insert(git_packbuilder *pb, const char *dir, const char *stem,
    size_t *objects)
{
	struct packidx	 idx;
	struct stat	 st;
	git_oid		 id;
	char		 path[PATH_MAX];
	void		*map = MAP_FAILED;
	size_t		 len = 0, i;
	int		 fd, rv = -1;

	if (gc_pack_file(path, sizeof(path), dir, stem, ".idx") == -1 ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return -1;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
		len = (size_t)st.st_size;
		map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	}
	close(fd);
	if (map == MAP_FAILED || packidx_open(&idx, map, len) == -1 ||
	    *objects + idx.count > GC_REPACK_MAX_OBJECTS)
		goto done;
	for (i = 0; i < idx.count; i++) {
		git_oid_fromraw(&id, idx.ids + i * PACK_ID_LEN);
		if (git_packbuilder_insert(pb, &id, NULL) < 0)
			goto done;
	}
	*objects += idx.count;
	rv = 0;
 done:
	if (map != MAP_FAILED)
		munmap(map, len);
	return rv;
}

/*
 * The new pack and its index on disk, and their names in the directory,
 * before an old pack goes: libgit2 writes them without fsync (its
 * GIT_OPT_ENABLE_FSYNC_GITDIR is off), and a power loss after the old
 * packs' unlinks reached the journal would leave objects nowhere.  0, or -1.
 */
static int
gc_repack_sync(const char *dir, const char *stem)
{
	static const char *const suffixes[] = { ".pack", ".idx" };
	char	path[PATH_MAX];
	size_t	i;
	int	fd, rv;

	for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		if (gc_pack_file(path, sizeof(path), dir, stem, suffixes[i]) == -1 ||
		    (fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
			return -1;
		rv = fsync(fd);
		close(fd);
		if (rv == -1)
			return -1;
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	rv = fsync(fd);
	close(fd);
	return rv;
}

/* an old pack's files, its index first (a pack without one is not read) */
static void
gc_repack_remove(const char *dir, const char *stem)
{
	static const char *const suffixes[] = {
		".idx", ".pack", ".rev", ".bitmap", ".mtimes"
	};
	char	path[PATH_MAX];
	size_t	i;

	for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++)
		if (gc_pack_file(path, sizeof(path), dir, stem, suffixes[i]) == 0)
			(void)unlink(path);
}

/* the small packs of dir (*nsmall), when it holds too many; else NULL */
static struct gc_small *
gc_repack_list(const char *dir, size_t *nsmall)
{
	struct gc_small	*small = NULL, *n;
	struct dirent	*de;
	struct stat	 st;
	DIR		*d;
	char		 stem[GC_REPACK_NAME_MAX], path[PATH_MAX];
	size_t		 npacks = 0, size = 0;

	*nsmall = 0;
	if ((d = opendir(dir)) == NULL)
		return NULL;
	while ((de = readdir(d)) != NULL) {
		if (!gc_pack_stem(de->d_name, stem, sizeof(stem)))
			continue;
		npacks++;
		if (gc_pack_file(path, sizeof(path), dir, stem, ".keep") == -1 ||
		    lstat(path, &st) == 0 ||
		    gc_pack_file(path, sizeof(path), dir, stem, ".pack") == -1 ||
		    lstat(path, &st) == -1 || !S_ISREG(st.st_mode) ||
		    st.st_size >= GC_REPACK_SMALL)
			continue;
		if (*nsmall == size) {
			size = size ? 2 * size : GC_REPACK_MAX_PACKS;
			if ((n = reallocarray(small, size, sizeof(*n))) == NULL)
				break;
			small = n;
		}
		memcpy(small[(*nsmall)++].name, stem, sizeof(stem));
	}
	closedir(d);
	if (npacks <= GC_REPACK_MAX_PACKS || *nsmall < 2) {
		free(small);
		*nsmall = 0;
		return NULL;
	}
	return small;
}

void
gc_repack_small(void)
{
	git_packbuilder	*pb = NULL;
	git_buf		 objects = GIT_BUF_INIT;
	struct gc_small	*small = NULL;
	const char	*name;
	char		 dir[PATH_MAX], newstem[GC_REPACK_NAME_MAX];
	size_t		 nsmall, i, nobjects = 0, folded = 0;

	if (git_repository_item_path(&objects, gc.repo,
	    GIT_REPOSITORY_ITEM_OBJECTS) < 0 ||
	    (size_t)snprintf(dir, sizeof(dir), "%spack", objects.ptr) >=
	    sizeof(dir))
		goto done;
	if ((small = gc_repack_list(dir, &nsmall)) == NULL)
		goto done;
	if (git_packbuilder_new(&pb, gc.repo) < 0)
		goto fail;
	for (i = 0; i < nsmall; i++) {
		if (gc_repack_insert(pb, dir, small[i].name, &nobjects) == -1)
			break;	/* the packs read so far are folded */
		folded++;
	}
	if (folded < 2)
		goto done;
	if (git_packbuilder_write(pb, dir, 0, NULL, NULL) < 0 ||
	    (name = git_packbuilder_name(pb)) == NULL)
		goto fail;
	if ((size_t)snprintf(newstem, sizeof(newstem), "pack-%s", name) >=
	    sizeof(newstem) || gc_repack_sync(dir, newstem) == -1) {
		gc_log("could not sync the folded pack to disk: the small packs "
		    "stay (the fetch is done)");
		goto done;
	}
	for (i = 0; i < folded; i++)
		if (strcmp(small[i].name, newstem) != 0)
			gc_repack_remove(dir, small[i].name);
	gc_log("folded %zu small packs into one (%zu objects): the checkout "
	    "held more than %d", folded, nobjects, GC_REPACK_MAX_PACKS);
	goto done;
 fail:
	gc_log("could not fold the checkout's small packs (the fetch is done): "
	    "%s", gc_git_message());
 done:
	git_packbuilder_free(pb);
	git_buf_dispose(&objects);
	free(small);
}
