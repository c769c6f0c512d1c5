/*
 * Supervision of davit-frontend (unless --no-frontend): started with
 * proc_start next to davit-backend (installed side by side, or in the build
 * tree's frontend/ directory), as root with a minimal environment; it drops
 * to DAVIT_USER itself before it reads any network input.  When it dies it
 * is started again after a backoff (SUPERVISE_BACKOFF_MIN doubling to
 * SUPERVISE_BACKOFF_MAX, back to the minimum once it ran for
 * SUPERVISE_STABLE seconds).  At shutdown it gets SIGTERM, then SIGKILL.
 *
 * HTTPS (DAVIT_TLS_CERT, DAVIT_TLS_KEY), in both layouts (spawned or
 * --no-frontend): the frontend never opens the key.  It asks for it with
 * tls.get (its uid only: proto_ops[]), in its handshake; we read both
 * files (root's, no group or other access, bounded) and answer one bundle,
 * "davit-tls CERTLEN KEYLEN\n" then the bytes.  At each SIGHUP (systemctl
 * reload) whose reading of the files succeeds we publish tls.reload and
 * the frontend asks again: it builds a new TLS context for new connections.
 * A file refused at SIGHUP keeps the old one.  tls.get is not a read-only
 * op, so the audit log writes it a line: its result is "ok", never the
 * reply.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "backend/backend.h"
#include "common/clock.h"
#include "common/json.h"
#include "common/log.h"
#include "common/wipe.h"

#define SUPERVISE_BACKOFF_MIN	1	/* seconds */
#define SUPERVISE_BACKOFF_MAX	30
#define SUPERVISE_STABLE	60	/* seconds of uptime that reset the backoff */
#define SUPERVISE_STOP_WAIT	5	/* seconds between SIGTERM and SIGKILL */
#define SUPERVISE_TLS_CERT_MAX	(64 * 1024)	/* frontend/tls.c's FE_TLS_CERT_MAX */
#define SUPERVISE_TLS_KEY_MAX	(16 * 1024)	/* frontend/tls.c's FE_TLS_KEY_MAX */
#define SUPERVISE_TLS_HEAD	64	/* "davit-tls CERTLEN KEYLEN\n" */

static struct {
	struct proc	*proc;
	pid_t		 pid;
	char		*exe;
	char		*www;
	time_t		 started;
	int		 backoff;
	struct event	*restart;
	struct event	*hup;
} sv;

static char *
first_existing(const char *dir, const char *const *suffixes, size_t n,
    int want_dir)
{
	char		 cand[PATH_MAX], real[PATH_MAX];
	struct stat	 st;
	size_t		 i;
	char		*p;

	for (i = 0; i < n; i++) {
		if ((size_t)snprintf(cand, sizeof(cand), "%s%s", dir, suffixes[i]) >=
		    sizeof(cand))
			continue;
		if (realpath(cand, real) == NULL || stat(real, &st) == -1)
			continue;
		if (want_dir ? !S_ISDIR(st.st_mode) :
		    (!S_ISREG(st.st_mode) || access(real, X_OK) == -1))
			continue;
		if ((p = strdup(real)) == NULL)
			fatal("%s", __func__);
		return p;
	}
	return NULL;
}

static void	supervise_start(evutil_socket_t, short, void *);

/* one file of the pair into buf (max bytes); 0, or -1 with why */
static int
tls_file_read(const char *key, const char *path, char *buf, size_t max,
    size_t *len, char *err, size_t errlen)
{
	struct stat	st;
	ssize_t		n;
	size_t		got = 0;
	int		fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s %s: %s", key, path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s %s: not a regular file", key, path);
		goto fail;
	}
	if (st.st_uid != 0 || (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		snprintf(err, errlen, "%s %s: must be root's with no group or "
		    "other access (chown root:root, chmod 600)", key, path);
		goto fail;
	}
	if (st.st_size <= 0 || (size_t)st.st_size > max) {
		snprintf(err, errlen, "%s %s: empty or larger than %zu bytes",
		    key, path, max);
		goto fail;
	}
	while (got < max && (n = read(fd, buf + got, max - got)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "%s %s: %s", key, path,
			    strerror(errno));
			goto fail;
		}
		got += (size_t)n;
	}
	close(fd);
	*len = got;
	return 0;
 fail:
	close(fd);
	return -1;
}

/*
 * The bundle for the frontend, in sodium_malloc'd memory (*out, *outlen:
 * sodium_free it); 0, or -1 with err (never the files' bytes).
 */
static int
tls_bundle(const struct davit_config *cfg, char **out, size_t *outlen,
    char *err, size_t errlen)
{
	size_t	 max = SUPERVISE_TLS_HEAD + SUPERVISE_TLS_CERT_MAX +
		    SUPERVISE_TLS_KEY_MAX;
	size_t	 clen, klen;
	char	*b, head[SUPERVISE_TLS_HEAD];
	int	 h;

	if ((b = sodium_malloc(max)) == NULL)
		fatal("%s: sodium_malloc", __func__);
	if (tls_file_read("DAVIT_TLS_CERT", cfg->tls_cert, b + SUPERVISE_TLS_HEAD,
	    SUPERVISE_TLS_CERT_MAX, &clen, err, errlen) == -1 ||
	    tls_file_read("DAVIT_TLS_KEY", cfg->tls_key,
	    b + SUPERVISE_TLS_HEAD + clen, SUPERVISE_TLS_KEY_MAX, &klen, err,
	    errlen) == -1) {
		sodium_free(b);
		return -1;
	}
	h = snprintf(head, sizeof(head), "davit-tls %zu %zu\n", clen, klen);
	/* the header goes right before the bytes */
	memmove(b + h, b + SUPERVISE_TLS_HEAD, clen + klen);
	memcpy(b, head, (size_t)h);
	*out = b;
	*outlen = (size_t)h + clen + klen;
	return 0;
}

int
supervise_tls_check(const struct davit_config *cfg, char *err, size_t errlen)
{
	sigset_t	 mask;
	char		*b;
	size_t		 len;
	int		 rv = 0;

	if (cfg->tls_cert == NULL || cfg->tls_key == NULL)
		return 0;
	secret_enter(&mask);
	if (tls_bundle(cfg, &b, &len, err, errlen) == -1)
		rv = -1;
	else
		sodium_free(b);
	secret_leave(&mask);
	return rv;
}

/* SIGHUP: the frontend is told to ask again, if the files are fine */
static void
supervise_hup(evutil_socket_t sig, short ev, void *arg)
{
	char		*b, err[512];
	size_t		 len;
	sigset_t	 mask;
	yajl_gen	 g;
	int		 rv;

	secret_enter(&mask);
	if ((rv = tls_bundle(&benv->cfg, &b, &len, err, sizeof(err))) == 0)
		sodium_free(b);
	secret_leave(&mask);
	if (rv == -1) {
		log_warnx("SIGHUP: %s: the frontend keeps its certificate", err);
		return;
	}
	g = events_begin(EV_TLS_RELOAD);
	yajl_gen_map_open(g);	/* {}: the frontend asks with tls.get */
	yajl_gen_map_close(g);
	events_publish(g);
	log_info("SIGHUP: the frontend is told to take the renewed certificate");
}

/* with DAVIT_TLS_CERT, in both layouts: SIGHUP re-reads the files */
void
supervise_tls_init(void)
{
	if (benv->cfg.tls_cert != NULL && ((sv.hup = evsignal_new(benv->base,
	    SIGHUP, supervise_hup, NULL)) == NULL || evsignal_add(sv.hup,
	    NULL) == -1))
		fatalx("%s: SIGHUP", __func__);
}

/*
 * tls.get: {"bundle": the bundle, or null without DAVIT_TLS_CERT}.  The
 * table allows the frontend's uid only; checked again, it holds the key.
 */
int
op_tls_get(struct ctl_request *cr, yajl_gen g, struct proto_error *err)
{
	char	*b, why[512];
	size_t	 len;

	if (cr->caller != PROTO_CALLER_FRONTEND) {
		proto_seterr(err, PE_NOT_ALLOWED, "tls.get is for %s only",
		    benv->cfg.user);
		return CTL_FAIL;
	}
	/* till ctl_request_complete: no signal saves the registers */
	secret_enter(&cr->secret_mask);
	cr->secret = 1;		/* control.c wipes the reply once written */
	yajl_gen_map_open(g);
	json_key(g, "bundle");
	if (benv->cfg.tls_cert == NULL || benv->cfg.tls_key == NULL) {
		yajl_gen_null(g);
		yajl_gen_map_close(g);
		return CTL_DONE;
	}
	if (tls_bundle(&benv->cfg, &b, &len, why, sizeof(why)) == -1) {
		log_warnx("tls.get: %s", why);
		proto_seterr(err, PE_UNAVAILABLE, "the certificate or key file "
		    "cannot be read (see the backend's log)");
		return CTL_FAIL;
	}
	yajl_gen_string(g, (const unsigned char *)b, len);
	sodium_free(b);
	yajl_gen_map_close(g);
	return CTL_DONE;
}

static void
supervise_exited(void *arg, int status, int timed_out)
{
	struct timeval	tv;
	time_t		ran = clock_mono_s() - sv.started;

	sv.proc = NULL;
	sv.pid = -1;
	if (benv->shutting_down)
		return;
	if (WIFEXITED(status))
		log_warnx("davit-frontend exited with status %d after %lld s",
		    WEXITSTATUS(status), (long long)ran);
	else if (WIFSIGNALED(status))
		log_warnx("davit-frontend killed by signal %d after %lld s",
		    WTERMSIG(status), (long long)ran);
	if (ran >= SUPERVISE_STABLE)
		sv.backoff = SUPERVISE_BACKOFF_MIN;
	log_info("restarting davit-frontend in %d s", sv.backoff);
	tv.tv_sec = sv.backoff;
	tv.tv_usec = 0;
	evtimer_add(sv.restart, &tv);
	sv.backoff *= 2;
	if (sv.backoff > SUPERVISE_BACKOFF_MAX)
		sv.backoff = SUPERVISE_BACKOFF_MAX;
}

static void
supervise_start(evutil_socket_t fd, short ev, void *arg)
{
	const char		*argv[12];
	struct proc_spec	 spec;
	struct timeval		 tv;
	char			 err[256];
	int			 n = 0;

	if (benv->shutting_down || sv.proc != NULL)
		return;
	argv[n++] = sv.exe;
	argv[n++] = "--socket";
	argv[n++] = benv->cfg.socket_path;
	argv[n++] = "--user";
	argv[n++] = benv->cfg.user;
	if (sv.www != NULL) {
		argv[n++] = "--www";
		argv[n++] = sv.www;
	}
	if (log_getverbose() > 0)
		argv[n++] = "-v";
	argv[n] = NULL;
	memset(&spec, 0, sizeof(spec));
	spec.argv = argv;
	spec.inherit_output = 1;
	spec.on_exit = supervise_exited;
	sv.started = clock_mono_s();
	if ((sv.proc = proc_start(&spec, err, sizeof(err))) == NULL) {
		log_warnx("%s: %s; trying again in %d s", __func__, err, sv.backoff);
		tv.tv_sec = sv.backoff;
		tv.tv_usec = 0;
		evtimer_add(sv.restart, &tv);
		if ((sv.backoff *= 2) > SUPERVISE_BACKOFF_MAX)
			sv.backoff = SUPERVISE_BACKOFF_MAX;
		return;
	}
	sv.pid = proc_pid(sv.proc);
	log_info("started davit-frontend (pid %d)", (int)sv.pid);
}

void
supervise_init(void)
{
	static const char *const	exes[] = {
		"/davit-frontend",			/* installed */
		"/../frontend/davit-frontend",		/* the build tree */
	};
	static const char *const	wwws[] = {
		"/../../www",				/* the build tree */
		"/../share/davit/www",			/* installed */
	};
	char	*copy, *dir;

	sv.pid = -1;
	sv.backoff = SUPERVISE_BACKOFF_MIN;
	if ((copy = strdup(benv->self_exe)) == NULL)
		fatal("%s", __func__);
	dir = dirname(copy);
	sv.exe = first_existing(dir, exes, sizeof(exes) / sizeof(exes[0]), 0);
	if (benv->cfg.www_dir != NULL) {
		if ((sv.www = strdup(benv->cfg.www_dir)) == NULL)
			fatal("%s", __func__);
	} else
		sv.www = first_existing(dir, wwws, sizeof(wwws) / sizeof(wwws[0]), 1);
	free(copy);
	if (sv.exe == NULL)
		fatalx("davit-frontend not found next to %s (use --no-frontend "
		    "to run it as a separate service)", benv->self_exe);
	if (sv.www == NULL)
		log_warnx("no www directory next to %s and no DAVIT_WWW_DIR: "
		    "the dashboard will have no files", benv->self_exe);
	if ((sv.restart = evtimer_new(benv->base, supervise_start, NULL)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	supervise_start(-1, 0, NULL);
}

void
supervise_shutdown(void)
{
	pid_t	pid = sv.pid;
	int	status, i;

	if (sv.restart != NULL)
		event_free(sv.restart);
	sv.restart = NULL;
	if (sv.hup != NULL)
		event_free(sv.hup);
	sv.hup = NULL;
	if (sv.proc != NULL && pid > 0) {
		/* the loop is over: wait here, and reap it ourselves */
		proc_forget(sv.proc);
		sv.proc = NULL;
		if (kill(pid, SIGTERM) == -1 && errno != ESRCH)
			log_warn("%s: kill %d", __func__, (int)pid);
		for (i = 0; i < SUPERVISE_STOP_WAIT * 10; i++) {
			if (waitpid(pid, &status, WNOHANG) != 0)
				break;
			usleep(100000);
		}
		if (i == SUPERVISE_STOP_WAIT * 10) {
			log_warnx("davit-frontend ignored SIGTERM; killing it");
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
		}
	}
	free(sv.exe);
	free(sv.www);
	sv.exe = sv.www = NULL;
}
