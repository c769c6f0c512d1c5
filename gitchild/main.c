/*
 * davit-git ("davit-git --git-child UID GID"): the git child, its own
 * small program.  backend/git.c execs it as root for every libgit2
 * operation; before anything else it hardens itself and drops for good to
 * UID and GID, DAVIT_WORKDIR's owner (never root), and checks the drop
 * (drop.c); enters its seccomp allowlist, which kills (sandbox.c); only
 * then does it read one request line on stdin (the token travels there,
 * never in argv or the environment; a spare child, exec'd ahead by
 * backend/git_spare.c, waits here), confine its paths and ports to what
 * that request needs (sandbox.c: Landlock), do one operation, and write
 * JSON lines on stdout (wire.h).  Data
 * from the network is parsed only here, and only confined.
 *
 * The token goes to origin only: remotes are made without the checkout's
 * url.*.insteadOf, redirects to another host are not followed, every TCP
 * connection must go to origin's host and port (stream.c), TLS only when
 * origin is https, and the credential callback answers only origin's URL
 * over https (http only on loopback) (remote.c, hostkey.c).
 *
 * "--git-child" says in ps what the process is; without it the program
 * refuses to run.
 */
#include <sys/types.h>

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "gitchild/gitchild.h"

#if defined(__SANITIZE_ADDRESS__)
/*
 * Sanitizer builds: libgit2 1.5 leaks pcre2 match data in its regex
 * wrapper (not ours to free).  The child's environment is minimal, so the
 * suppression is compiled in rather than passed in LSAN_OPTIONS.
 */
const char	*__lsan_default_suppressions(void);

const char *
__lsan_default_suppressions(void)
{
	return "leak:libpcre2-8.so\n";
}

const char	*__lsan_default_options(void);

const char *
__lsan_default_options(void)
{
	return "print_suppressions=0";
}
#endif

static int
gc_read_request(char *buf, size_t size, size_t *len)
{
	ssize_t	n;

	*len = 0;
	for (;;) {
		if (*len == size)
			return -1;	/* too long */
		if ((n = read(STDIN_FILENO, buf + *len, size - *len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break;
		*len += n;
	}
	while (*len > 0 && (buf[*len - 1] == '\n' || buf[*len - 1] == '\r'))
		(*len)--;
	return 0;
}

/* the request, after the drop: the token is read as the owner */
static int
gc_request(void)
{
	char		 buf[GC_MAX_REQUEST + 2], err[256];
	size_t		 len;
	int		 rv;

	rv = gc_read_request(buf, sizeof(buf), &len);
	if (rv == -1)
		gc_fail("internal", 0, "cannot read the request (longer than %d "
		    "bytes?)", GC_MAX_REQUEST);
	else if ((rv = gc_request_parse(buf, len, &gc.req, err,
	    sizeof(err))) == -1)
		gc_fail("internal", 0, "%s", err);
	explicit_bzero(buf, sizeof(buf));
	return rv;
}

/* libgit2 reads the owner's global config, not the caller's */
static void
gc_home(void)
{
	struct passwd	*pw;

	unsetenv("XDG_CONFIG_HOME");
	unsetenv("HOME");
	if ((pw = getpwuid(geteuid())) != NULL) {
		gc_strlcpy(gc.home, pw->pw_dir, sizeof(gc.home));
		gc_strlcpy(gc.user, pw->pw_name, sizeof(gc.user));
		setenv("HOME", gc.home, 1);
	}
}

static int
gc_libgit2_setup(void)
{
	if (gc_origin_only() < 0) {
		gc_fail("internal", 0, "cannot register the origin-only stream: %s",
		    gc_git_message());
		return -1;
	}
	/* parsing the CA bundle costs milliseconds: only for TLS remotes */
	if (gc.req.url != NULL && gc_url_is_http(gc.req.url)) {
		if (access(GC_CERT_FILE, R_OK) == 0)
			git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS,
			    GC_CERT_FILE, NULL);
		else
			git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, NULL,
			    GC_CERT_DIR);
	}
	git_libgit2_opts(GIT_OPT_SET_USER_AGENT, "davit/" DAVIT_VERSION);
	return 0;
}

/*
 * A deploy's fetch and pull in one run: the fetch's result goes out as the
 * step line, without a status (gc_do_fetch: the pull's, a few milliseconds
 * later, is the one that counts), then the pull goes on with the same open
 * checkout (libgit2 reads refs from disk at each lookup and finds the new
 * pack when an object is missing).
 */
static int
gc_do_fetch_pull(void)
{
	size_t	len;

	if (gc_do_fetch() == -1)
		return -1;
	alarm(0);
	gc_write(gc_fmt_step_fetch(&gc.st, gc.has_fetched, gc.fetched,
	    gc.has_origin, gc.has_origin && gc.origin[0] ? gc.origin : NULL, &len));
	memset(&gc.st, 0, sizeof(gc.st));
	gc.has_fetched = gc.has_origin = 0;
	return gc_do_pull();
}

/* the operation; a refusal or failure still refreshes the parent's memory */
static int
gc_run(void)
{
	int	rv = -1;

	switch (gc.req.op) {
	case GC_STATUS:
		rv = gc_open(0) == 0 ? gc_status() : -1;
		break;
	case GC_FETCH:
		rv = gc_do_fetch();
		break;
	case GC_PULL:
		rv = gc_do_pull();
		break;
	case GC_FETCH_PULL:
		rv = gc_do_fetch_pull();
		break;
	case GC_CLONE:
		rv = gc_do_clone();
		break;
	case GC_LSREMOTE:
		rv = gc_do_lsremote();
		break;
	case GC_RESET:
		rv = gc_do_reset();
		break;
	case GC__OPS:
		break;
	}
	alarm(0);
	if (rv == -1 && !gc.failed)
		gc_fail("internal", 0, "%s failed without a reason",
		    gc_op_name(gc.req.op));
	if (rv == -1 && gc.repo != NULL && !gc.st.present) {
		gc.failed = 0;
		if (gc_status() == -1)
			memset(&gc.st, 0, sizeof(gc.st));
		gc.failed = 1;
	}
	return rv;
}

int
main(int argc, char *argv[])
{
	unsigned	 uid, gid;
	int		 rv = -1, libgit2 = 0;

	log_init("davit-git", 0);
	signal(SIGPIPE, SIG_IGN);
	memset(&gc, 0, sizeof(gc));
	gc.req.op = GC__OPS;
	if (argc != 4 || strcmp(argv[1], "--git-child") != 0) {
		gc_fail("internal", 0, "usage: davit-git --git-child UID GID "
		    "< request (davit-backend runs it)");
		goto done;
	}
	/* git never runs as root: the parent refuses first, this is the net */
	if (gc_parse_id(argv[2], &uid) == -1 || gc_parse_id(argv[3], &gid) == -1) {
		gc_fail("internal", 0, "the git child never runs as root (uid or "
		    "gid 0) and needs numeric ids");
		goto done;
	}
	if (gc_drop(uid, gid) == -1)
		goto done;
	gc_home();	/* the owner's passwd entry: NSS, before the filter */
	/*
	 * Confined before libgit2 starts, the checkout or the network: the
	 * system calls before the request is read (a spare waits so), the
	 * paths and ports once it named them.
	 */
	if (gc_sandbox_syscalls() == -1 || gc_request() == -1 ||
	    gc_check_owner() == -1 || gc_sandbox_paths() == -1)
		goto done;
	gc_alarm_prepare();
	if (git_libgit2_init() < 0) {
		gc_fail("internal", 0, "libgit2 failed to initialise");
		goto done;
	}
	libgit2 = 1;
	if (gc_libgit2_setup() == 0)
		rv = gc_run();
 done:
	gc_finish();
#if !defined(__SANITIZE_ADDRESS__)
	/*
	 * The last line is out and the operation closed what it wrote: the
	 * parent waits only for the exit.  Freeing libgit2's caches, unmapping
	 * its packs and OpenSSL's exit handlers would cost it about a
	 * millisecond more (bench/webhook.sh).  The token is wiped first.
	 * Sanitizer builds free everything, so that LeakSanitizer checks.
	 */
	gc_request_free(&gc.req);
	_exit(rv == 0 ? 0 : 1);
#endif
	if (gc.repo != NULL)
		git_repository_free(gc.repo);
	gc.repo = NULL;
	if (libgit2)
		git_libgit2_shutdown();
	gc_request_free(&gc.req);
	return rv == 0 ? 0 : 1;
}
