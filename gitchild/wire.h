/*
 * The git child's wire: "davit-git --git-child UID GID" (gitchild/main.c),
 * exec'd by backend/git.c as root, drops itself to UID and GID, the owner
 * of DAVIT_WORKDIR (never root), before it reads the request.  This header
 * is the contract between the two programs: the one request line the
 * parent writes on the child's stdin, and the lines the child writes on its
 * stdout.  Both sides and the unit tests use the same encoders and
 * decoders (wire.c writes, wire_decode.c reads the replies); both programs
 * link them from the davit_gitwire library, which needs no libgit2.
 *
 * Request (one line, stdin, then EOF):
 *   {"op":"fetch","workdir":"/srv/app","url":"https://...","branch":"main",
 *    "token":"..."}
 *   op: status | fetch | pull | fetch_pull | clone | ls-remote | reset.  url is
 *   required by fetch, fetch_pull, clone and ls-remote; token only when
 *   DAVIT_GITHUB_TOKEN is set.  fetch_pull is a deploy's fetch and then its
 *   fast-forward pull in one run: the fetch's result is the step line
 *   below, then the pull goes on as a pull would (a failed fetch ends the
 *   run with its final line, and no pull).  reset (a rollback) takes
 *   "commit" (40 hex) instead of a url: BRANCH moves to that commit, which
 *   must be an ancestor or a descendant of HEAD and already in the
 *   repository, checked out like a pull (clean checkout only, untracked
 *   files kept); no network; its result is a pull's.
 *
 * Reply (lines on stdout, each at most GC_MAX_LINE bytes):
 *   {"log":"text"}                                      progress
 *   {"item":"local"|"remote"|"incoming","id":"<40 hex>","summary":"...",
 *    "author":"...","time":<seconds>}                   a commit
 *   {"item":"dirty","path":"..."}                       a modified tracked file
 *   {"item":"file","status":"added|modified|deleted|renamed","path":"...",
 *    "old_path":"..."}                                  changed by a pull
 *   {"step":"fetch","result":{"fetched":ID,"origin":ID}}
 *                                   fetch_pull only: the fetch succeeded (no
 *                                   status: the pull's final line has it)
 *   then exactly one final line:
 *   {"ok":true,"result":{"status":S,"fetched":ID,"origin":ID,"pull":P}}
 *   {"ok":false,"code":"conflict|unavailable|unauthorized|not_found|internal",
 *    "message":"...","retry":true|false,"status":S}
 *   where S = {"branch":str|null,"detached":b,"unborn":b,"ahead":n,
 *   "behind":n,"dirty_total":n} and P = {"from":ID|null,"to":ID,
 *   "commits":n,"files_total":n,"up_to_date":b}; each member of result is
 *   optional (on failure too: a refused pull still refreshes the status).
 *   Items (lists of commits and paths) come before the final line because
 *   proc.c cuts output lines at JOB_LOG_LINE_MAX bytes.
 *
 * No line ever holds the token, and URLs in messages lose their userinfo.
 */
#ifndef DAVIT_GITCHILD_WIRE_H
#define DAVIT_GITCHILD_WIRE_H

#include <stddef.h>

#include <yajl/yajl_tree.h>

#define GC_MAX_REQUEST		4000	/* the request line: fits proc.c's input */
#define GC_MAX_LINE		2000	/* one reply line (proc.c cuts at 2048) */
#define GC_MAX_WORKDIR		1024
#define GC_MAX_URL		2048	/* config.c's CONFIG_MAX_URL */
#define GC_MAX_BRANCH		200
#define GC_MAX_TOKEN		1024
#define GC_MAX_INCOMING		50	/* incoming commits, newest first */
#define GC_MAX_DIRTY		100	/* dirty paths listed */
#define GC_MAX_FILES		1000	/* changed files listed for a pull */
#define GC_MAX_SUMMARY		200	/* bytes of a commit's summary */
#define GC_MAX_AUTHOR		100	/* bytes of an author's name */
#define GC_MAX_PATH_JSON	1400	/* a path, JSON-encoded, in one line */
#define GC_MAX_MESSAGE		220	/* an error message */
#define GC_MAX_LOG		1000	/* a log line */
#define GC_CONNECT_TIMEOUT	30	/* seconds without an answer when connecting */
#define GC_STALL_TIMEOUT	60	/* seconds without data while transferring */
#define GC_OID_HEX		40

enum gc_op {
	GC_STATUS,
	GC_FETCH,
	GC_PULL,
	GC_FETCH_PULL,		/* fetch, then pull, in one run */
	GC_CLONE,
	GC_LSREMOTE,
	GC_RESET,		/* BRANCH to a known commit: a rollback */
	GC__OPS
};

struct gc_request {
	enum gc_op	 op;
	char		*workdir;
	char		*url;		/* NULL when not given */
	char		*branch;
	char		*token;		/* NULL when not given; wiped on free */
	char		*commit;	/* reset only: 40 hex */
};

#define GC_FMT_BUF		8192	/* a message before it is scrubbed and cut */

const char	*gc_op_name(enum gc_op op);
/* 0, or -1 with a message (never quoting the token) in err */
int		 gc_request_parse(const char *line, size_t len, struct gc_request *req,
		    char *err, size_t errlen);
/* the request line with its newline; malloc'd, wipe it after use */
char		*gc_request_encode(const struct gc_request *req, size_t *len);
void		 gc_request_free(struct gc_request *req);

/* glibc 2.36 has no strlcpy: OpenBSD's semantics, truncating */
size_t		 gc_strlcpy(char *dst, const char *src, size_t size);
size_t		 gc_strlcat(char *dst, const char *src, size_t size);
/* workdir.c: 1 if path is missing or an empty directory (a clone's place) */
int		 gc_dir_empty(const char *path);
/* strdup, fatal when out of memory */
char		*gc_strdup(const char *s);

/* the length of the longest prefix of s (of len bytes) at most max bytes
 * long that does not split a UTF-8 sequence */
size_t		 gc_cut_utf8(const char *s, size_t len, size_t max);
/* the same, bounding the JSON-encoded length instead */
size_t		 gc_cut_json(const char *s, size_t len, size_t max_encoded);

struct gc_status;

/* reply lines, each malloc'd with its newline, at most GC_MAX_LINE bytes */
char		*gc_fmt_log(const char *msg, const char *token, size_t *len);
char		*gc_fmt_fail(const char *code, const char *msg, int retry,
		    const char *token, size_t *len);
char		*gc_fmt_fail_status(const char *code, const char *msg, int retry,
		    const char *token, const struct gc_status *st, size_t *len);
char		*gc_fmt_commit(const char *item, const char *id, const char *summary,
		    const char *author, long long time, size_t *len);
char		*gc_fmt_dirty(const char *path, size_t *len);
char		*gc_fmt_file(const char *status, const char *path, const char *old_path,
		    size_t *len);

/* one decoded, validated reply line (the parent's side) */
enum gc_line_type {
	GL_LOG,
	GL_COMMIT,
	GL_DIRTY,
	GL_FILE,
	GL_OK,
	GL_FAIL,
	GL_STEP,	/* fetch_pull: the fetch's result, the pull follows */
};
enum gc_commit_kind {
	GC_COMMIT_LOCAL,
	GC_COMMIT_REMOTE,
	GC_COMMIT_INCOMING,
};
struct gc_status {
	int		 present;
	const char	*branch;	/* NULL: detached or unknown */
	int		 detached;
	int		 unborn;
	long long	 ahead, behind, dirty_total;
};
struct gc_pull {
	int		 present;
	const char	*from;		/* NULL: the branch had no commit */
	const char	*to;
	long long	 commits, files_total;
	int		 up_to_date;
};
struct gc_line {
	yajl_val		 tree;		/* owns the strings below */
	enum gc_line_type	 type;
	const char		*text;		/* log, fail message */
	/* GL_COMMIT */
	enum gc_commit_kind	 kind;
	const char		*id, *summary, *author;
	long long		 time;
	/* GL_DIRTY, GL_FILE */
	const char		*path, *old_path, *fstatus;
	/* GL_FAIL */
	const char		*code;
	int			 retry;
	/* GL_OK, GL_STEP (no pull there) */
	struct gc_status	 status;
	int			 has_fetched, has_origin;
	const char		*fetched, *origin;	/* may be NULL when has_ */
	struct gc_pull		 pull;
};
/* 0, or -1 when the line is not a valid reply line (err says why) */
int		 gc_line_decode(const char *line, size_t len, struct gc_line *out,
		    char *err, size_t errlen);
void		 gc_line_free(struct gc_line *l);
/* 1 if s is exactly 40 lowercase hex digits */
int		 gc_oid_valid(const char *s);

/* the final line of a success (the child's side) */
char		*gc_fmt_ok(const struct gc_status *st, int has_fetched,
		    const char *fetched, int has_origin, const char *origin,
		    const struct gc_pull *pull, size_t *len);
/* fetch_pull's step line: the fetch's result before the pull */
char		*gc_fmt_step_fetch(const struct gc_status *st, int has_fetched,
		    const char *fetched, int has_origin, const char *origin,
		    size_t *len);

#endif
