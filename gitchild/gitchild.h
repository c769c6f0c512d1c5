/*
 * davit-git, the git child: its own small program (libgit2, yajl,
 * libsodium, common/'s log and JSON helpers), exec'd by backend/git.c as
 * root for one git operation.  This header is private to it: the one
 * context of the run and the prototypes of each file, grouped by file.
 *
 *   main.c      argv, the request on stdin, the dispatch of the operation
 *   drop.c      hardening and the drop to the checkout's owner
 *   sandbox.c   then its own Landlock rules and seccomp allowlist
 *   report.c    what it writes: progress, the failure and its class, the
 *               final line, the connect and stall alarms
 *   stream.c    the origin-only stream: every TCP connection goes to
 *               origin's host and port, or nowhere
 *   hostkey.c   the ssh host key against known_hosts; TLS only to origin
 *   remote.c    the network operations: ls-remote, fetch, clone, and
 *               their credentials
 *   status.c    opening the checkout and reporting its state
 *   pull.c      the fast-forward pull
 *   local.c     the fetch from a file:// origin: the new objects, one pack
 *   packreuse.c which of them go as origin's packs hold them (packidx.c:
 *               the pure reading of a pack's index and entries)
 *   wire.c, wire_decode.c, url.c   shared with the backend (wire.h, url.h)
 */
#ifndef DAVIT_GITCHILD_H
#define DAVIT_GITCHILD_H

#include <sys/types.h>

#include <limits.h>
#include <stdint.h>

#include <git2.h>

#include "gitchild/url.h"
#include "gitchild/wire.h"

/* the CA certificates of https remotes: the bundle, else the directory */
#define GC_CERT_FILE		"/etc/ssl/certs/ca-certificates.crt"
#define GC_CERT_DIR		"/etc/ssl/certs"

/* what a failed libgit2 call means for the caller */
enum gc_auth {
	GC_AUTH_NONE,		/* no credential trouble seen */
	GC_AUTH_REJECTED,	/* the server refused our credentials */
	GC_AUTH_MISSING,	/* it asked for credentials and we have none */
};
struct gc_class {
	const char	*code;	/* conflict, unavailable, unauthorized, not_found, internal */
	int		 retry;
};

/* the one run of the child */
struct gc_ctx {
	struct gc_request	 req;
	git_repository		*repo;
	enum gc_auth		 auth;
	int			 cred_calls;
	int			 ssh_key_next;
	char			 home[PATH_MAX];
	char			 user[64];
	/* origin: where connections and the token may go (network URLs) */
	struct gc_authority	 osrv;
	int			 has_origin_server;
	char			 refused[GC_MAX_HOST + 16];	/* "host:port" turned away */
	int			 refused_token;	/* it asked for the token */
	int			 failed;	/* gc_fail was called */
	char			 fail_code[16];
	int			 fail_retry;
	char			 fail_msg[GC_FMT_BUF];
	/* transfer progress */
	long long		 progress_ms;
	int			 progress_phase;	/* 0 objects, 1 deltas, 2 done */
	unsigned		 progress_decile;
	/* what the final line reports */
	struct gc_status	 st;
	char			 branch[GC_MAX_BRANCH * 2 + 1];
	int			 has_fetched, has_origin;
	char			 fetched[GC_OID_HEX + 1], origin[GC_OID_HEX + 1];
	struct gc_pull		 pull;
	char			 pull_from[GC_OID_HEX + 1], pull_to[GC_OID_HEX + 1];
};

extern struct gc_ctx	 gc;

/* report.c */
void		 gc_write(char *line);
void		 gc_log(const char *fmt, ...)
		    __attribute__((format(printf, 1, 2)));
/* records the failure; the final line is written by gc_finish */
void		 gc_fail(const char *code, int retry, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));
/* a failed libgit2 call: classified, with a message that says what to check */
void		 gc_fail_git(int rc, const char *what);
const char	*gc_git_message(void);
void		 gc_finish(void);
void		 gc_classify(int rc, int klass, const char *msg, enum gc_auth auth,
		    struct gc_class *out);
void		 gc_alarm_prepare(void);
/* which: 0 connect, 1 stall */
void		 gc_alarm(int which, unsigned secs);

/* drop.c */
/* a uid or gid from argv: decimal, not root's, not -1 */
int		 gc_parse_id(const char *s, unsigned *out);
int		 gc_drop(uid_t uid, gid_t gid);

/* sandbox.c: Landlock and seccomp, after the drop and the request */
int		 gc_sandbox_syscalls(void);
int		 gc_sandbox_paths(void);

/* stream.c */
int		 gc_origin_only(void);

/* hostkey.c */
/*
 * Does a known_hosts host list ("a,b,!c,*.d", changed in place) name
 * name ("host" or "[host]:port")?  1 yes, 0 no, -1 not found but the list
 * holds hashed entries, which are not read.
 */
int		 gc_known_host_match(char *hosts, const char *name);
int		 gc_certificate_check(git_cert *cert, int valid, const char *host,
		    void *payload);

/* local.c: 1 copied, 0 left to libgit2's transport, -1 failed */
int		 gc_local_download(const git_oid *tip, unsigned *objects,
		    size_t *bytes);
int		 gc_local_tips(const git_oid *tip, const char *rname);

/* packreuse.c: how each object to send goes into the fetch's pack */
struct gc_reuse_obj {
	const unsigned char	*data;	/* origin's compressed bytes; NULL: whole */
	size_t			 len;
	uint64_t		 size;	/* the header's: the object's, the delta's */
	int			 type;	/* 1-4 whole; 6 (OFS_DELTA) on base */
	uint32_t		 base;	/* the base's index among the objects */
	/* the planning's own */
	uint32_t		 pack;	/* 1 + its pack's index; 0 none */
	uint64_t		 off, base_off;
	unsigned char		 base_id[GIT_OID_RAWSZ];
	unsigned		 depth;	/* its delta chain, as sent; 0 whole */
	int			 state;
};
struct gc_reuse {
	struct gc_rpack		*packs;
	size_t			 npacks, packs_size;
	struct gc_reuse_obj	*obj;		/* one per object to send */
	uint32_t		*order;		/* the objects, bases first */
	size_t			 n, norder;
	size_t			 bad, bad_packs;	/* entries, packs refused */
};
int		 gc_reuse_plan(struct gc_reuse *r, git_repository *origin,
		    const git_oid *ids, size_t n);
void		 gc_reuse_free(struct gc_reuse *r);

/* repack.c: the checkout's small packs folded into one, past a bound */
void		 gc_repack_small(void);

/* remote.c */
/* transfer progress: a log line per 10% or second; re-arms the stall alarm */
int		 gc_progress(const git_indexer_progress *p, void *payload);
int		 gc_do_lsremote(void);
int		 gc_do_fetch(void);
int		 gc_do_clone(void);

/* status.c */
int		 gc_check_owner(void);
int		 gc_open(int quiet);
int		 gc_head(git_reference **head, int *unborn, char *branch,
		    size_t len);
int		 gc_status(void);
int		 gc_remote_ref(char *buf, size_t size);
int		 gc_dirty(git_status_list **out, size_t *count);
int		 gc_dirty_entry(const git_status_entry *e);
const char	*gc_status_path(const git_status_entry *e);

/* pull.c */
int		 gc_do_pull(void);
int		 gc_do_reset(void);	/* a rollback: BRANCH to req.commit */

#endif
