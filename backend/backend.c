/*
 * davit-backend: parses the command line, hardens itself (no core dump, not
 * dumpable), loads and checks the configuration (the file and the DAVIT_
 * variables of its environment, DAVIT_USER, the directories root writes in),
 * or with --check-config only checks all of that, starting and writing
 * nothing (like sshd -t); sets up the socket and
 * the concerns (Docker, git, auth, deploys, the frontend's supervision), runs
 * the event loop, and shuts down cleanly on SIGTERM or SIGINT.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <sodium.h>

#include "backend/backend.h"
#include "backend/project.h"
#include "backend/github_api.h"
#include "backend/sdnotify.h"
#include "common/log.h"

#define PASSWORD_MAX	1024
#define USER_MAX_GROUPS	256		/* groups of DAVIT_USER looked at */
#define DOCKER_GROUP	"docker"	/* root-equivalent through the socket */
#define NOBODY_USER	"nobody"
#define CHECK_ERR_LEN	(CONFIG_ERR_LEN + 256)	/* a problem, with where */

extern char	**environ;

static struct backend_env	 backend_env;
struct backend_env		*benv = &backend_env;

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status == 0 ? stdout : stderr,
	    "usage: davit-backend [-v] [--no-frontend] --config FILE\n"
	    "       davit-backend [-v] --check-config FILE\n"
	    "       davit-backend [-v] --reload-check FILE\n"
	    "       davit-backend [-v] -t --config FILE\n"
	    "       davit-backend --hash-password < password\n"
	    "       davit-backend --version\n");
	exit(status);
}

/* reads a password on stdin, prints its argon2id hash */
static int
hash_password(void)
{
	char	 pw[PASSWORD_MAX + 2], hash[crypto_pwhash_STRBYTES];
	size_t	 len;

	if (fgets(pw, sizeof(pw), stdin) == NULL) {
		fprintf(stderr, "davit-backend: no password on standard input\n");
		return 1;
	}
	len = strcspn(pw, "\r\n");
	if (len == PASSWORD_MAX + 1 || (len == strlen(pw) && !feof(stdin) &&
	    len == sizeof(pw) - 1)) {
		sodium_memzero(pw, sizeof(pw));
		fprintf(stderr, "davit-backend: password longer than %d bytes\n",
		    PASSWORD_MAX);
		return 1;
	}
	pw[len] = '\0';
	if (len == 0) {
		fprintf(stderr, "davit-backend: empty password\n");
		return 1;
	}
	if (config_hash_password(pw, hash, sizeof(hash)) == -1) {
		sodium_memzero(pw, sizeof(pw));
		fprintf(stderr, "davit-backend: hashing failed (out of memory?)\n");
		return 1;
	}
	sodium_memzero(pw, sizeof(pw));
	printf("%s\n", hash);
	return 0;
}

static void
on_signal(evutil_socket_t sig, short ev, void *arg)
{
	switch (sig) {
	case SIGCHLD:
		proc_sigchld();
		break;
	case SIGHUP:
		log_info("SIGHUP: reading the projects again");
		projects_reload();
		break;
	case SIGTERM:
	case SIGINT:
		log_info("signal %d: shutting down", (int)sig);
		benv->shutting_down = 1;
		event_base_loopexit(benv->base, NULL);
		break;
	}
}

/*
 * DAVIT_USER runs the frontend, the part that faces the network: it must
 * be a user of its own.  Not root; not nobody (shared by other daemons);
 * not the checkout's owner (git runs as that user, and its files are the
 * build context); not in the docker group (the Docker socket is root).
 * 0 with its uid and gid, or -1 and why in err.
 */
static int
check_user(const struct davit_config *cfg, uid_t *uid, gid_t *gid, char *err,
    size_t errlen)
{
	const char	*name = cfg->user;
	struct passwd	*pw;
	struct group	*gr;
	struct stat	 st;
	gid_t		 groups[USER_MAX_GROUPS];
	int		 i, n = USER_MAX_GROUPS;

	errno = 0;
	if ((pw = getpwnam(name)) == NULL) {
		snprintf(err, errlen, "DAVIT_USER %s: no such user (create it: "
		    "useradd --system --no-create-home --shell "
		    "/usr/sbin/nologin %s)", name, name);
		return -1;
	}
	if (pw->pw_uid == 0) {
		snprintf(err, errlen, "DAVIT_USER %s: must not be root", name);
		return -1;
	}
	if (strcmp(name, NOBODY_USER) == 0 || strcmp(pw->pw_name,
	    NOBODY_USER) == 0) {
		snprintf(err, errlen, "DAVIT_USER %s: must be a user of its own, "
		    "not %s (create one: useradd --system --no-create-home "
		    "--shell /usr/sbin/nologin davit)", name, NOBODY_USER);
		return -1;
	}
	if (cfg->workdir != NULL && stat(cfg->workdir, &st) == 0 &&
	    st.st_uid == pw->pw_uid) {
		snprintf(err, errlen, "DAVIT_USER %s: owns DAVIT_WORKDIR %s; the "
		    "frontend must run as a user of its own, not as the "
		    "checkout's owner (create one: useradd --system "
		    "--no-create-home --shell /usr/sbin/nologin davit)", name,
		    cfg->workdir);
		return -1;
	}
	if ((gr = getgrnam(DOCKER_GROUP)) != NULL) {
		if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) == -1) {
			snprintf(err, errlen, "DAVIT_USER %s: in more than %d "
			    "groups", name, USER_MAX_GROUPS);
			return -1;
		}
		for (i = 0; i < n; i++) {
			if (groups[i] == gr->gr_gid) {
				snprintf(err, errlen, "DAVIT_USER %s: in the %s "
				    "group, which is as good as root: take it "
				    "out (gpasswd -d %s %s)", name, DOCKER_GROUP,
				    name, DOCKER_GROUP);
				return -1;
			}
		}
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

static void
resolve_user(void)
{
	char	 err[CHECK_ERR_LEN];

	if (check_user(&benv->cfg, &benv->frontend_uid, &benv->frontend_gid,
	    err, sizeof(err)) == -1)
		fatalx("%s", err);
}

/* the audit log's directory: made if missing, root's and root's alone */
static void
check_audit_dir(const char *path)
{
	char		 err[CONFIG_ERR_LEN], *copy, *dir;
	struct stat	 st;

	if ((copy = strdup(path)) == NULL)
		fatal("%s", __func__);
	dir = dirname(copy);
	if (stat(dir, &st) == -1) {
		if (errno != ENOENT || mkdir(dir, 0750) == -1 ||
		    stat(dir, &st) == -1)
			fatal("DAVIT_AUDIT_LOG's directory %s", dir);
	}
	if (config_root_dir("DAVIT_AUDIT_LOG's directory", dir, &st, err,
	    sizeof(err)) == -1)
		fatalx("%s", err);
	free(copy);
}

/*
 * A directory root writes in, for --check-config: root's alone if it
 * exists (a missing one is made at start, correctly).  0 or -1 and err.
 */
static int
check_root_dir(const char *what, const char *path, char *err, size_t errlen)
{
	struct stat	 st;
	char		*copy, *dir;
	int		 ret = 0;

	if ((copy = strdup(path)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", what);
		return -1;
	}
	dir = dirname(copy);
	if (stat(dir, &st) == -1) {
		if (errno != ENOENT) {
			snprintf(err, errlen, "%s %s: %s", what, dir,
			    strerror(errno));
			ret = -1;
		}
	} else if (config_root_dir(what, dir, &st, err, errlen) == -1)
		ret = -1;
	free(copy);
	return ret;
}

/* prints one problem found by --check-config, counted in *n */
static void
check_report(size_t *n, const char *what)
{
	fprintf(stderr, "%s\n", what);
	(*n)++;
}

static void
check_errors(const struct config_errors *errs, const char *path, size_t *n)
{
	char	 err[CHECK_ERR_LEN];
	size_t	 i;

	for (i = 0; i < errs->n; i++) {
		config_error_str(&errs->e[i], err, sizeof(err));
		check_report(n, err);
	}
	if (errs->dropped > 0) {
		fprintf(stderr, "%s: %zu more problems not shown\n", path,
		    errs->dropped);
		*n += errs->dropped;
	}
}

/*
 * Every project, with its file: its problems on stderr, "project NAME
 * (FILE)" and its keys on stdout (a single project's keys are the main
 * file's, printed above).
 */
static void
check_projects(const char *path, const struct davit_config *main, size_t *n,
    size_t *nproj)
{
	struct project_confs	 pc;
	struct project_conf	*c;
	char			 err[CHECK_ERR_LEN];
	size_t			 i;

	(void)project_confs_read(path, main, &pc);
	check_errors(&pc.errs, path, n);
	for (i = 0; i < pc.n; i++) {
		c = &pc.v[i];
		printf("project %s (%s)\n", c->name, c->path);
		check_errors(c->errs, c->path, nproj);
		if (c->cfg == NULL)
			continue;
		config_print_sources(c->cfg, c->path, stdout);
		if (c->ok && c->cfg->github_app_key != NULL &&
		    github_check_config(c->cfg, err, sizeof(err)) == -1)
			check_report(nproj, err);
	}
	project_confs_free(&pc);
}

/*
 * --check-config: the configuration as a start would read it, and the
 * start-up checks that start nothing: every problem on stderr, where each
 * key came from on stdout (never a secret's value), then "configuration
 * OK" and 0, or 1.  Nothing is created, opened for writing or started.
 * reload (--reload-check, systemctl reload's): a project file's own
 * problems do not fail it, as a reload keeps that project's last good
 * configuration; the main file's and the directory's still do.
 */
static int
check_config(const char *path, int reload)
{
	struct davit_config	 cfg;
	struct config_errors	*errs;
	char			 err[CHECK_ERR_LEN], why[CONFIG_ERR_LEN];
	char			 exe[PATH_MAX];
	const char		*sp;
	uid_t			 uid;
	gid_t			 gid;
	size_t			 i, n = 0, nproj = 0, len;

	if ((errs = calloc(1, sizeof(*errs))) == NULL)
		fatal("%s", __func__);
	(void)config_load_all(path, environ, &cfg, errs);
	for (i = 0; i < errs->n; i++) {
		config_error_str(&errs->e[i], err, sizeof(err));
		check_report(&n, err);
	}
	if (errs->dropped > 0) {
		fprintf(stderr, "%s: %zu more problems not shown\n", path,
		    errs->dropped);
		n += errs->dropped;
	}
	free(errs);

	if (cfg.user != NULL &&
	    check_user(&cfg, &uid, &gid, err, sizeof(err)) == -1)
		check_report(&n, err);
	if (cfg.audit_log != NULL && check_root_dir("DAVIT_AUDIT_LOG's "
	    "directory", cfg.audit_log, err, sizeof(err)) == -1)
		check_report(&n, err);
	if (cfg.socket_path != NULL && check_root_dir("DAVIT_SOCKET's "
	    "directory", cfg.socket_path, err, sizeof(err)) == -1)
		check_report(&n, err);
	/* an absolute compose command runs as root: root's to change */
	if (cfg.compose_command != NULL && cfg.compose_command[0] == '/') {
		sp = strchr(cfg.compose_command, ' ');
		len = sp != NULL ? (size_t)(sp - cfg.compose_command) :
		    strlen(cfg.compose_command);
		if (len < sizeof(exe)) {
			memcpy(exe, cfg.compose_command, len);
			exe[len] = '\0';
			if (proc_exe_trusted(exe, why, sizeof(why)) == -1) {
				snprintf(err, sizeof(err), "DAVIT_COMPOSE_"
				    "COMMAND: %s", why);
				check_report(&n, err);
			}
		}
	}
	if (cfg.github_app_key != NULL &&
	    github_check_config(&cfg, err, sizeof(err)) == -1)
		check_report(&n, err);
	if (supervise_tls_check(&cfg, err, sizeof(err)) == -1)
		check_report(&n, err);

	config_print_sources(&cfg, path, stdout);
	check_projects(path, &cfg, &n, &nproj);
	config_free(&cfg);
	if (reload && n == 0 && nproj > 0) {
		fprintf(stderr, "%s: %zu problem%s in project files: a reload "
		    "keeps each such project's last good configuration\n", path,
		    nproj, nproj == 1 ? "" : "s");
		printf("configuration OK for a reload\n");
		return 0;
	}
	n += nproj;
	if (n > 0) {
		fprintf(stderr, "%s: %zu problem%s, davit would not start\n",
		    path, n, n == 1 ? "" : "s");
		return 1;
	}
	printf("configuration OK\n");
	return 0;
}

/* the file and the environment; every problem logged, then refused */
static void
load_config(void)
{
	struct config_errors	*errs;
	char			 err[CHECK_ERR_LEN];
	size_t			 i;

	if ((errs = calloc(1, sizeof(*errs))) == NULL)
		fatal("%s", __func__);
	if (config_load_all(benv->config_path, environ, &benv->cfg,
	    errs) == 0) {
		free(errs);
		return;
	}
	for (i = 0; i < errs->n; i++) {
		config_error_str(&errs->e[i], err, sizeof(err));
		log_warnx("%s", err);
	}
	if (errs->dropped > 0)
		log_warnx("%s: %zu more problems not shown", benv->config_path,
		    errs->dropped);
	config_free(&benv->cfg);
	fatalx("%s: %zu problem%s in the configuration, not started "
	    "(davit-backend --check-config %s lists them)", benv->config_path,
	    errs->n + errs->dropped, errs->n + errs->dropped == 1 ? "" : "s",
	    benv->config_path);
}

/* no core dump and no ptrace by others: the secrets are in memory */
static void
harden(void)
{
	struct rlimit	rl = { 0, 0 };

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		fatal("prctl PR_SET_DUMPABLE");
	if (setrlimit(RLIMIT_CORE, &rl) == -1)
		fatal("setrlimit RLIMIT_CORE");
}

int
main(int argc, char *argv[])
{
	static const struct option	 longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", required_argument, NULL, 'C' },
		{ "reload-check", required_argument, NULL, 'R' },
		{ "hash-password", no_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ "no-frontend", no_argument, NULL, 'N' },
		{ "version", no_argument, NULL, 'V' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 }
	};
	struct event	*ev_term, *ev_int, *ev_chld, *ev_hup;
	char		 exe[PATH_MAX], err[CHECK_ERR_LEN];
	ssize_t		 n;
	int		 ch, verbose = 0, check = 0, reload = 0;

	log_init("davit-backend", 0);
	while ((ch = getopt_long(argc, argv, "c:tv", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			benv->config_path = optarg;
			break;
		case 'C':
			benv->config_path = optarg;
			check = 1;
			break;
		case 'R':
			benv->config_path = optarg;
			check = reload = 1;
			break;
		case 't':
			check = 1;
			break;
		case 'H':
			if (sodium_init() == -1)
				fatalx("sodium_init");
			return hash_password();
		case 'N':
			benv->no_frontend = 1;
			break;
		case 'V':
			printf("davit-backend %s (protocol %d)\n", DAVIT_VERSION,
			    PROTO_VERSION);
			return 0;
		case 'v':
			verbose++;
			break;
		case 'h':
			usage(0);
		default:
			usage(2);
		}
	}
	if (optind != argc || benv->config_path == NULL)
		usage(2);
	log_setverbose(verbose);
	if (check) {
		if (benv->no_frontend)
			usage(2);
		if (sodium_init() == -1)
			fatalx("sodium_init failed");
		return check_config(benv->config_path, reload);
	}
	if (geteuid() != 0)
		fatalx("must run as root (it runs git as the checkout's owner "
		    "and talks to Docker)");
	harden();
	if (sodium_init() == -1)
		fatalx("sodium_init failed");
	load_config();
	config_protect(&benv->cfg);
	resolve_user();
	if (supervise_tls_check(&benv->cfg, err, sizeof(err)) == -1)
		fatalx("%s: not started", err);
	check_audit_dir(benv->cfg.audit_log);
	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) == -1)
		fatal("readlink /proc/self/exe");
	exe[n] = '\0';
	if ((benv->self_exe = strdup(exe)) == NULL)
		fatal("strdup");

	evthread_use_pthreads();
	if ((benv->base = event_base_new()) == NULL)
		fatalx("event_base_new");
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	ev_term = evsignal_new(benv->base, SIGTERM, on_signal, NULL);
	ev_int = evsignal_new(benv->base, SIGINT, on_signal, NULL);
	ev_chld = evsignal_new(benv->base, SIGCHLD, on_signal, NULL);
	ev_hup = evsignal_new(benv->base, SIGHUP, on_signal, NULL);
	if (ev_term == NULL || ev_int == NULL || ev_chld == NULL ||
	    ev_hup == NULL || evsignal_add(ev_hup, NULL) == -1 ||
	    evsignal_add(ev_term, NULL) == -1 || evsignal_add(ev_int, NULL) == -1 ||
	    evsignal_add(ev_chld, NULL) == -1)
		fatalx("cannot set up signal handling");

	audit_open(benv->cfg.audit_log);
	audit_start(benv->base, benv->cfg.audit_max);
	/* once, before any thread: notify.c's worker and docker_engine.c use it */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		fatalx("curl_global_init failed");
	projects_init();
	jobs_init();
	control_init();
	notify_init();
	github_init();
	auth_init();
	docker_init();
	git_init();
	deploy_init();
	supervise_tls_init();	/* both layouts: SIGHUP, tls.reload */
	projects_start();	/* every concern's per-project state */
	if (!benv->no_frontend)
		supervise_init();
	log_info("davit %s ready: %zu project%s", DAVIT_VERSION,
	    projects_count(), projects_count() == 1 ? "" : "s");
	sdnotify_ready(benv->base);	/* Type=notify: the socket listens */

	event_base_dispatch(benv->base);
	sdnotify_stopping();

	benv->shutting_down = 1;
	control_shutdown();
	supervise_shutdown();
	deploy_shutdown();
	git_shutdown();
	docker_shutdown();
	auth_shutdown();
	github_shutdown();
	notify_shutdown();
	proc_killall();
	jobs_shutdown();
	projects_shutdown();
	curl_global_cleanup();
	audit_close();
	event_free(ev_term);
	event_free(ev_int);
	event_free(ev_chld);
	event_free(ev_hup);
	event_base_free(benv->base);
	config_free(&benv->cfg);
	free((char *)benv->self_exe);
	log_info("stopped");
	return 0;
}
