/*
 * davit-frontend: starts as root (from davit-backend, or a service manager)
 * or as DAVIT_USER.  Before it reads any network input it has, in order:
 * connected to the backend as DAVIT_USER and asked it for its settings
 * (frontend.config: the listen address, session lifetimes, the webhook
 * secret), opened the www directory and the listening socket (or taken
 * the one systemd passed, listenfd.c); then it drops to DAVIT_USER for good
 * (setgroups, setresgid, setresuid, checked with getresuid, no way back to
 * root) and sets no_new_privs.  Started as root and unable to drop, it
 * refuses to run.  HTTPS: the certificate and key are handed to it before
 * the drop, never opened by it (tls.c: the backend's reply to tls.get in
 * the handshake, again at each tls.reload).  Spawned by the backend, it dies with it (pdeath.c).  It
 * never reads .env.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <netdb.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <sodium.h>

#include "common/json.h"
#include "common/log.h"
#include "common/pdeath.h"
#include "frontend/frontend.h"
#include "frontend/listenfd.h"
#include "frontend/sandbox.h"

#define FE_DEFAULT_SOCKET	PROTO_DEFAULT_SOCKET
#define FE_DEFAULT_USER		PROTO_DEFAULT_USER
#define FE_BOOT_RETRY_MAX	10	/* seconds between tries at start */

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status == 0 ? stdout : stderr,
	    "usage: davit-frontend [-v] [--socket PATH] "
	    "[--user NAME] [--www DIR]\n");
	exit(status);
}

/* "host:port" or "[v6]:port", as DAVIT_LISTEN; bound before the drop */
static int
listen_open(const char *listen_addr)
{
	struct addrinfo	 hints, *res = NULL, *ai;
	char		 host[FE_MAX_LISTEN + 1];
	const char	*port;
	size_t		 hlen;
	int		 fd = -1, on = 1, e;

	if (listen_addr[0] == '[') {
		if ((port = strstr(listen_addr, "]:")) == NULL)
			fatalx("DAVIT_LISTEN %s: not [address]:port", listen_addr);
		hlen = (size_t)(port - listen_addr - 1);
		memcpy(host, listen_addr + 1, hlen);
		port += 2;
	} else {
		if ((port = strrchr(listen_addr, ':')) == NULL)
			fatalx("DAVIT_LISTEN %s: not host:port", listen_addr);
		hlen = (size_t)(port - listen_addr);
		memcpy(host, listen_addr, hlen);
		port++;
	}
	host[hlen] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((e = getaddrinfo(host, port, &hints, &res)) != 0)
		fatalx("DAVIT_LISTEN %s: %s", listen_addr, gai_strerror(e));
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, ai->ai_protocol)) == -1)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, FE_LISTEN_BACKLOG) == 0)
			break;
		e = errno;
		close(fd);
		fd = -1;
		errno = e;
	}
	if (fd == -1)
		fatal("DAVIT_LISTEN %s: cannot listen", listen_addr);
	freeaddrinfo(res);
	return fd;
}

/* --www, DAVIT_WWW_DIR, or next to the binary (build tree, then installed) */
static int
www_open(const char *given)
{
	char		 exe[PATH_MAX], cand[PATH_MAX + 32], *dir;
	const char	*suffixes[] = { "/../../www", "/../share/davit/www" };
	ssize_t		 n;
	size_t		 i;
	int		 fd;

	if (given != NULL) {
		if ((fd = open(given, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
			log_warn("www directory %s: not serving the dashboard",
			    given);
		return fd;
	}
	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) == -1)
		return -1;
	exe[n] = '\0';
	dir = dirname(exe);
	for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		snprintf(cand, sizeof(cand), "%s%s", dir, suffixes[i]);
		if ((fd = open(cand, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1)
			return fd;
	}
	log_warnx("no www directory found (give --www or DAVIT_WWW_DIR): "
	    "not serving the dashboard");
	return -1;
}

/* the drop, for good; any failure is fatal */
static void
drop_privileges(uid_t uid, gid_t gid)
{
	uid_t	ru, eu, su;
	gid_t	rg, eg, sg;

	if (setgroups(1, &gid) == -1)
		fatal("setgroups");
	if (setresgid(gid, gid, gid) == -1)
		fatal("setresgid %u", (unsigned)gid);
	if (setresuid(uid, uid, uid) == -1)
		fatal("setresuid %u", (unsigned)uid);
	if (getresuid(&ru, &eu, &su) == -1 || getresgid(&rg, &eg, &sg) == -1)
		fatal("getresuid");
	if (ru != uid || eu != uid || su != uid || rg != gid || eg != gid ||
	    sg != gid)
		fatalx("privileges not dropped: uid %u/%u/%u gid %u/%u/%u",
		    (unsigned)ru, (unsigned)eu, (unsigned)su, (unsigned)rg,
		    (unsigned)eg, (unsigned)sg);
	if (setuid(0) != -1 || seteuid(0) != -1)
		fatalx("privileges not dropped: could become root again");
}

/*
 * What is left to take away: core dumps (the webhook secret is in memory)
 * and new processes, which the frontend never makes.  Sanitizer builds keep
 * fork for the symbolizer of their reports.
 */
static void
limit_resources(void)
{
	struct rlimit	zero = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &zero) == -1)
		fatal("setrlimit(RLIMIT_CORE)");
#if !defined(__SANITIZE_ADDRESS__)
	if (setrlimit(RLIMIT_NPROC, &zero) == -1)
		fatal("setrlimit(RLIMIT_NPROC)");
#endif
}

static void
on_signal(evutil_socket_t sig, short ev, void *arg)
{
	log_info("signal %d: shutting down", (int)sig);
	fenv->shutting_down = 1;
	event_base_loopexit(fenv->base, NULL);
}

/* until the backend answers frontend.config: nothing works without it */
static int
bootstrap(void)
{
	char	err[256];
	int	fd, wait = 1, tries = 0;

	for (;; tries++) {
		if ((fd = backend_connect_sync(fenv->socket_path, fenv->uid,
		    fenv->gid)) == -1)
			snprintf(err, sizeof(err), "connect: %s", strerror(errno));
		else if (backend_config_sync(fd, &fenv->cfg, err,
		    sizeof(err)) == 0)
			return fd;
		if (fd != -1)
			close(fd);
		if (tries % 6 == 0 || log_getverbose())
			log_warnx("backend %s: %s (retrying)", fenv->socket_path,
			    err);
		sleep(wait);
		if ((wait *= 2) > FE_BOOT_RETRY_MAX)
			wait = FE_BOOT_RETRY_MAX;
	}
}

int
main(int argc, char *argv[])
{
	static const struct option	 longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "user", required_argument, NULL, 'u' },
		{ "www", required_argument, NULL, 'w' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct event	*ev_term, *ev_int;
	struct passwd	*pw;
	const char	*www = NULL;
	uid_t		 ru, eu, su;
	int		 ch, verbose = 0, root, backend_fd;

	log_init("davit-frontend", 0);
	pdeath_save();		/* the drop clears it: pdeath_rearm below */
	fenv->socket_path = FE_DEFAULT_SOCKET;
	fenv->user = FE_DEFAULT_USER;
	while ((ch = getopt_long(argc, argv, "v", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			fenv->socket_path = optarg;
			break;
		case 'u':
			fenv->user = optarg;
			break;
		case 'w':
			www = optarg;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			usage(0);
		default:
			usage(2);
		}
	}
	if (optind != argc)
		usage(2);
	log_setverbose(verbose);
	if (sodium_init() == -1)
		fatalx("sodium_init failed");
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);

	if (getresuid(&ru, &eu, &su) == -1)
		fatal("getresuid");
	root = ru == 0 || eu == 0 || su == 0;
	if (root) {
		errno = 0;
		if ((pw = getpwnam(fenv->user)) == NULL)
			fatalx("user %s does not exist: refusing to run as root",
			    fenv->user);
		if (pw->pw_uid == 0)
			fatalx("user %s is root: refusing to run as root",
			    fenv->user);
		fenv->uid = pw->pw_uid;
		fenv->gid = pw->pw_gid;
	} else {
		fenv->uid = getuid();
		fenv->gid = getgid();
	}

	backend_fd = bootstrap();
	if (www == NULL)
		www = fenv->cfg.www_dir;
	fenv->www_fd = www_open(www);
	if ((fenv->listen_fd = listenfd_take()) == -1)	/* systemd's socket */
		fenv->listen_fd = listen_open(fenv->cfg.listen);
	if (tls_ctx() != NULL)	/* from the handshake's tls.get */
		fenv->cfg.cookie_secure = 1;
	if (root)
		drop_privileges(fenv->uid, fenv->gid);
	pdeath_rearm();		/* spawned: die with the backend */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("prctl(PR_SET_NO_NEW_PRIVS)");
	limit_resources();
	if (chdir("/") == -1)
		fatal("chdir /");

	if ((fenv->base = event_base_new()) == NULL)
		fatalx("event_base_new");
	if (event_base_priority_init(fenv->base, 2) == -1)
		fatalx("event_base_priority_init");
	ev_term = evsignal_new(fenv->base, SIGTERM, on_signal, NULL);
	ev_int = evsignal_new(fenv->base, SIGINT, on_signal, NULL);
	if (ev_term == NULL || ev_int == NULL || evsignal_add(ev_term, NULL) == -1 ||
	    evsignal_add(ev_int, NULL) == -1)
		fatalx("cannot set up signal handling");

	session_limits(fenv->cfg.session_idle, fenv->cfg.session_max);
	sse_init();
	http_init(fenv->listen_fd);
	backend_start(backend_fd);
	log_info("davit %s frontend: listening on %s (%s) as uid %u, backend %s",
	    DAVIT_VERSION, fenv->cfg.listen, tls_ctx() != NULL ? "HTTPS" :
	    "HTTP", (unsigned)getuid(), fenv->socket_path);
	if (tls_ctx() == NULL && !client_listen_is_loopback(fenv->cfg.listen) &&
	    !fenv->cfg.cookie_secure && fenv->cfg.proxies.n == 0)
		log_warnx("listening on %s, not a loopback address, without "
		    "TLS: the session cookie and the password cross the "
		    "network in clear; put a TLS proxy in front "
		    "(DAVIT_TRUSTED_PROXIES) or set DAVIT_COOKIE_SECURE=1",
		    fenv->cfg.listen);
	sandbox_enter(fenv->base, fenv->www_fd);	/* Landlock, seccomp */

	event_base_dispatch(fenv->base);

	fenv->shutting_down = 1;
	sse_shutdown();
	if (webhook_shutdown)
		webhook_shutdown();
	api_shutdown();		/* the logins still held back */
	backend_shutdown();	/* answers what still waits for the backend */
	http_shutdown();
	tls_shutdown();
	state_shutdown();
	session_clear();
	throttle_reset();
	fe_config_free(&fenv->cfg);
	if (fenv->www_fd != -1)
		close(fenv->www_fd);
	event_free(ev_term);
	event_free(ev_int);
	event_base_free(fenv->base);
	log_info("stopped");
	return 0;
}
