/*
 * A project's deploy history store in its state directory (struct
 * deploy_history, one per project): deploys.jsonl (one record a
 * line, appended when a deploy ends, its tail read at start) and
 * deployed-commit (what the app was last built from).  Records are kept in
 * memory as structs (the newest DEPLOY_HISTORY_KEEP) and become JSON only
 * through deploy_record_gen.  A torn or damaged line is skipped and
 * counted, never fatal; every file is opened without following links.
 */
#include <sys/stat.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/deploy.h"
#include "common/json.h"
#include "common/log.h"
#include "common/text.h"

void
deploy_history_open(struct deploy_history *h, const char *dir)
{
	memset(h, 0, sizeof(*h));
	/* recs grow with the history: a project never deployed costs none */
	if ((h->dir = strdup(dir)) == NULL ||
	    asprintf(&h->history_path, "%s/%s", dir, DEPLOY_HISTORY_FILE) == -1 ||
	    asprintf(&h->commit_path, "%s/%s", dir, DEPLOY_COMMIT_FILE) == -1)
		fatal("%s", __func__);
}

void
deploy_history_close(struct deploy_history *h)
{
	size_t	i;

	for (i = 0; i < h->n; i++)
		deploy_record_clear(&h->recs[i]);
	h->n = 0;
	h->commit[0] = '\0';
	free(h->dir);
	free(h->history_path);
	free(h->commit_path);
	free(h->recs);
	h->recs = NULL;
	h->cap = 0;
	h->dir = h->history_path = h->commit_path = NULL;
}

size_t
deploy_history_count(const struct deploy_history *h)
{
	return h->n;
}

const struct deploy_record *
deploy_history_get(const struct deploy_history *h, size_t i)
{
	return i < h->n ? &h->recs[i] : NULL;
}

struct deploy_record *
deploy_history_at(struct deploy_history *h, size_t i)
{
	return i < h->n ? &h->recs[i] : NULL;
}

const char *
deploy_commit_get(const struct deploy_history *h)
{
	return h->commit;
}

/* r's copy into memory, the oldest going when full */
static void
history_keep(struct deploy_history *h, const struct deploy_record *r)
{
	struct deploy_record	*recs;
	size_t			 cap;

	if (h->n == DEPLOY_HISTORY_KEEP) {
		deploy_record_clear(&h->recs[0]);
		memmove(h->recs, h->recs + 1,
		    (DEPLOY_HISTORY_KEEP - 1) * sizeof(h->recs[0]));
		h->n--;
	}
	if (h->n == h->cap) {
		cap = h->cap == 0 ? 4 : h->cap * 2;
		if (cap > DEPLOY_HISTORY_KEEP)
			cap = DEPLOY_HISTORY_KEEP;
		if ((recs = reallocarray(h->recs, cap, sizeof(*recs))) == NULL)
			fatal("%s", __func__);
		memset(recs + h->cap, 0, (cap - h->cap) * sizeof(*recs));
		h->recs = recs;
		h->cap = cap;
	}
	deploy_record_copy(&h->recs[h->n++], r);
}

/* a record as one line with its newline, malloc'd */
static char *
record_line(const struct deploy_record *r, size_t *len)
{
	yajl_gen	 g = json_gen_new();
	char		*line, *nl;

	deploy_record_gen(g, r);
	line = json_gen_take(g, len);
	yajl_gen_free(g);
	if ((nl = realloc(line, *len + 2)) == NULL)
		fatal("%s", __func__);
	nl[(*len)++] = '\n';
	nl[*len] = '\0';
	return nl;
}

/*
 * Writes a whole state file: a fresh temporary file (never following a link
 * planted there), fsynced, renamed over path, the directory fsynced.
 */
static int
state_file_write(const struct deploy_history *h, const char *path, const struct iovec *iov, int iovcnt)
{
	char	tmp[PATH_MAX];
	ssize_t	want = 0;
	int	fd, dfd, i;

	for (i = 0; i < iovcnt; i++)
		want += (ssize_t)iov[i].iov_len;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		log_warnx("%s: path too long", path);
		return -1;
	}
	if (unlink(tmp) == -1 && errno != ENOENT) {
		log_warn("%s", tmp);
		return -1;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0640)) == -1) {
		log_warn("%s", tmp);
		return -1;
	}
	if (writev(fd, iov, iovcnt) != want || fsync(fd) == -1) {
		log_warn("%s: write", tmp);
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	if (rename(tmp, path) == -1) {
		log_warn("rename %s", tmp);
		unlink(tmp);
		return -1;
	}
	if ((dfd = open(h->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

/* the history file rewritten from the records in memory, when it grew big */
static void
history_rotate(struct deploy_history *h)
{
	struct iovec	 iov[DEPLOY_HISTORY_KEEP];
	size_t		 i;

	for (i = 0; i < h->n; i++)
		iov[i].iov_base = record_line(&h->recs[i], &iov[i].iov_len);
	if (state_file_write(h, h->history_path, iov, (int)h->n) == 0)
		log_info("deploy history %s rewritten with its last %zu deploys",
		    h->history_path, h->n);
	for (i = 0; i < h->n; i++)
		free(iov[i].iov_base);
}

/*
 * Appends the finished deploy to the history file in one write.  A short
 * write is cut off again, and a line left without its newline (a crash
 * mid-write) gets one, so that one damaged line never eats the next.
 */
void
deploy_history_append(struct deploy_history *h, const struct deploy_record *r)
{
	struct stat	 st;
	char		*line, last;
	size_t		 len;
	int		 fd;

	history_keep(h, r);
	line = record_line(r, &len);
	if ((fd = open(h->history_path, O_RDWR | O_APPEND | O_CREAT |
	    O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0640)) == -1) {
		log_warn("deploy history %s", h->history_path);
		goto done;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		log_warnx("deploy history %s: not a regular file", h->history_path);
		goto done;
	}
	if (st.st_size > DEPLOY_HISTORY_ROTATE) {
		history_rotate(h);
		goto done;
	}
	if (st.st_size > 0 && (pread(fd, &last, 1,
	    st.st_size - 1) != 1 || last != '\n') && write(fd, "\n", 1) != 1)
		log_warn("deploy history %s: write", h->history_path);
	if (write(fd, line, len) != (ssize_t)len) {
		log_warn("deploy history %s: write", h->history_path);
		if (ftruncate(fd, st.st_size) == -1)
			log_warn("deploy history %s: truncate", h->history_path);
	} else if (fsync(fd) == -1)
		log_warn("deploy history %s: fsync", h->history_path);
 done:
	if (fd != -1)
		close(fd);
	free(line);
}

int
deploy_state_write(const struct deploy_history *h, const char *path,
    const struct iovec *iov, int iovcnt)
{
	return state_file_write(h, path, iov, iovcnt);
}

void
deploy_commit_save(struct deploy_history *h, const char *id)
{
	struct iovec	iov[2];

	snprintf(h->commit, sizeof(h->commit), "%s", id);
	iov[0].iov_base = h->commit;
	iov[0].iov_len = strlen(h->commit);
	iov[1].iov_base = "\n";
	iov[1].iov_len = 1;
	state_file_write(h, h->commit_path, iov, 2);
}

static void
commit_load(struct deploy_history *h)
{
	char		commit[DEPLOY_ID_MAX + 2];
	struct stat	st;
	ssize_t		n;
	int		fd;

	if ((fd = open(h->commit_path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1)
		return;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    (n = read(fd, commit, sizeof(commit) - 1)) > 0) {
		commit[n] = '\0';
		commit[strcspn(commit, "\n")] = '\0';
		if (is_commit_id(commit))
			snprintf(h->commit, sizeof(h->commit), "%.*s", DEPLOY_ID_MAX - 1, commit);
		else
			log_warnx("%s: not a commit id, ignored", h->commit_path);
	}
	close(fd);
}

/* one line of the file: kept, its deliveries remembered when it succeeded */
static int
history_line(struct deploy_history *h, struct deploy_replay *rp, const char *p,
    size_t len, long long *next_id)
{
	struct deploy_record	r;
	char			err[64];

	if (deploy_record_parse(p, len, &r, err, sizeof(err)) == -1) {
		log_debug("deploy history: a line skipped: %s", err);
		return -1;
	}
	if (r.id >= *next_id)
		*next_id = r.id + 1;
	/* a successful deploy's deliveries and bodies: replays from now */
	if (strcmp(r.state, "succeeded") == 0)
		deploy_replay_remember(rp, &r);
	/* its job belonged to an earlier backend */
	r.job = 0;
	history_keep(h, &r);
	deploy_record_clear(&r);
	return 0;
}

long long
deploy_history_load(struct deploy_history *h, struct deploy_replay *rp)
{
	char		*buf = NULL, *p, *nl, *eol, *end;
	struct stat	 st;
	ssize_t		 n;
	size_t		 bad = 0;
	long long	 next_id = 1;
	off_t		 off;
	int		 fd;

	commit_load(h);
	if ((fd = open(h->history_path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1) {
		if (errno != ENOENT)
			log_warn("deploy history %s", h->history_path);
		return next_id;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		log_warnx("deploy history %s: not a regular file", h->history_path);
		goto done;
	}
	off = st.st_size > DEPLOY_HISTORY_READ ? st.st_size - DEPLOY_HISTORY_READ : 0;
	if ((buf = malloc(DEPLOY_HISTORY_READ + 1)) == NULL)
		fatal("%s", __func__);
	if ((n = pread(fd, buf, DEPLOY_HISTORY_READ, off)) == -1) {
		log_warn("deploy history %s: read", h->history_path);
		goto done;
	}
	end = buf + n;
	*end = '\0';
	p = buf;
	if (off > 0)	/* a partial first line */
		p = (p = memchr(buf, '\n', n)) != NULL ? p + 1 : end;
	for (; p < end; p = nl) {
		if ((eol = memchr(p, '\n', end - p)) == NULL)
			eol = end;
		nl = eol < end ? eol + 1 : end;
		if (eol > p && history_line(h, rp, p, eol - p, &next_id) == -1)
			bad++;	/* a NUL in a line is what a crash mid-write leaves */
	}
	if (bad > 0)
		log_warnx("deploy history %s: %zu damaged lines skipped",
		    h->history_path, bad);
	log_info("deploy history: %zu deploys, last built commit %s",
	    h->n, h->commit[0] ? h->commit : "unknown");
 done:
	free(buf);
	close(fd);
	return next_id;
}
