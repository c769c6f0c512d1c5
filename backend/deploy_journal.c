/*
 * The crash-safe journal of the running deploy: its record (the same JSON
 * as the history's lines, deploy_record_gen) written whole to
 * the project's state directory (deploy-journal.json) when the deploy starts and after
 * each step (tmp file, fsync, rename), removed when the deploy's record
 * reaches the history.  A journal found at start means davit died during
 * that deploy (kill -9, a crash, a power loss): it becomes an
 * "interrupted" record with what it had done (from, to, steps), so the
 * history never loses a deploy that may have moved the checkout.
 *
 * Rules: the file is read back like a history line, as damaged until
 * proven otherwise (bounded, no links followed); a damaged journal is
 * logged and removed, never fatal.
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

#define JOURNAL_INTERRUPTED	"davit stopped before the deploy ended " \
				"(found at start: a crash, kill -9 or power loss)"

static int
journal_path(const char *dir, char *path, size_t len)
{
	if ((size_t)snprintf(path, len, "%s/%s", dir, DEPLOY_JOURNAL_FILE) >= len) {
		log_warnx("%s: path too long", __func__);
		return -1;
	}
	return 0;
}

void
deploy_journal_write(const struct deploy_history *h,
    const struct deploy_record *r)
{
	char			 path[PATH_MAX];
	yajl_gen		 g;
	const unsigned char	*buf;
	size_t			 len;
	struct iovec		 iov[2];

	if (journal_path(h->dir, path, sizeof(path)) == -1)
		return;
	g = json_gen_new();
	deploy_record_gen(g, r);
	yajl_gen_get_buf(g, &buf, &len);
	iov[0].iov_base = (void *)buf;
	iov[0].iov_len = len;
	iov[1].iov_base = "\n";
	iov[1].iov_len = 1;
	(void)deploy_state_write(h, path, iov, 2);
	yajl_gen_free(g);
}

void
deploy_journal_end(const struct deploy_history *h)
{
	char	path[PATH_MAX];

	if (journal_path(h->dir, path, sizeof(path)) == 0 && unlink(path) == -1 &&
	    errno != ENOENT)
		log_warn("%s", path);
}

long long
deploy_journal_recover(struct deploy_history *h, long long next_id)
{
	char			 path[PATH_MAX], err[64], *buf = NULL;
	struct deploy_record	 r;
	struct stat		 st;
	ssize_t			 n;
	int			 fd;

	if (journal_path(h->dir, path, sizeof(path)) == -1)
		return next_id;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) == -1) {
		if (errno != ENOENT)
			log_warn("deploy journal %s", path);
		return next_id;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > DEPLOY_JOURNAL_MAX) {
		log_warnx("deploy journal %s: not a regular file of at most %d "
		    "bytes: removed", path, DEPLOY_JOURNAL_MAX);
		goto done;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		fatal("%s", __func__);
	if ((n = read(fd, buf, (size_t)st.st_size)) != st.st_size) {
		log_warn("deploy journal %s: read", path);
		goto done;
	}
	while (n > 0 && buf[n - 1] == '\n')
		n--;
	if (deploy_record_parse(buf, (size_t)n, &r, err, sizeof(err)) == -1) {
		log_warnx("deploy journal %s: %s: removed", path, err);
		goto done;
	}
	snprintf(r.state, sizeof(r.state), "interrupted");
	free(r.error);
	r.error = strdup(JOURNAL_INTERRUPTED);
	r.ended_ms = (long long)st.st_mtim.tv_sec * 1000 +
	    st.st_mtim.tv_nsec / 1000000;
	r.job = 0;
	if (r.id < next_id)	/* a history written since: a number of its own */
		r.id = next_id;
	log_warnx("deploy #%lld (%.12s -> %.12s) was interrupted: davit stopped "
	    "during it; recorded as interrupted", r.id, r.from[0] ? r.from : "?",
	    r.to[0] ? r.to : "?");
	deploy_history_append(h, &r);
	next_id = r.id + 1;
	deploy_record_clear(&r);
 done:
	close(fd);
	free(buf);
	if (unlink(path) == -1 && errno != ENOENT)
		log_warn("%s", path);
	return next_id;
}
