/*
 * auth.login and frontend.config.
 *
 * A password is checked with crypto_pwhash_str_verify (argon2id: by design
 * slow and memory-hungry) by a small pool of worker threads fed from a
 * bounded queue, so that the event loop, and every other peer's replies,
 * never wait on it.  A worker touches only its job; the answer is completed
 * on the loop thread (event_active on an event of the base, which backend.c
 * made thread-aware).  Every attempt is audited, never the password.
 *
 * The backend bounds guessing itself, not trusting the frontend to: a
 * client string (the frontend's "client": the browser's address) that has
 * AUTH_CLIENT_FAILS failures is refused (busy) until AUTH_CLIENT_LOCK
 * seconds after its last one; and once AUTH_GLOBAL_FAILS attempts that did
 * not succeed started in the last AUTH_GLOBAL_WINDOW seconds, whatever the
 * client strings (a compromised frontend may invent a new one for each
 * guess), every attempt is held AUTH_GLOBAL_HOLD seconds before its check,
 * and at most AUTH_HELD_MAX wait so.  Never refused for what other clients
 * did: strangers cannot lock the owner out.  An attempt counts as failed
 * from its start until it succeeds.  PROTOCOL.md says what this bounds.
 *
 * frontend.config hands the frontend what it needs and may know: the
 * listen address, session lifetimes, the webhook secret.  Never the token
 * or the password hash.
 */
#include <sys/queue.h>

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <sodium.h>

#include "backend/backend.h"
#include "backend/project.h"
#include "common/clock.h"
#include "common/json.h"
#include "common/log.h"

#define AUTH_THREADS	2	/* verifications at once */
#define AUTH_QUEUE_MAX	8	/* waiting for a thread */
#define AUTH_CLIENT_FAILS	10	/* failures of one client, then refused */
#define AUTH_CLIENT_LOCK	60	/* seconds after its last failure */
#define AUTH_CLIENT_FORGET	3600	/* seconds: its failures forgotten */
#define AUTH_CLIENTS		1024	/* clients remembered */
#define AUTH_CLIENT_MAX		64	/* as auth.login's "client" field */
#define AUTH_GLOBAL_FAILS	30	/* attempts not (yet) right, overall ... */
#define AUTH_GLOBAL_WINDOW	60	/* ... in this many seconds, then ... */
#define AUTH_GLOBAL_HOLD	2	/* ... each attempt held this many seconds */
#define AUTH_HELD_MAX		64	/* attempts held at once, then busy */

struct auth_client {
	char	name[AUTH_CLIENT_MAX + 1];	/* "" when free */
	int	fails;
	time_t	last;
};

struct auth_job {
	TAILQ_ENTRY(auth_job)	 entry;
	struct ctl_request	*cr;
	const char		*password;	/* in cr->req, wiped when it completes */
	size_t			 pwlen;
	int			 ok;
	struct event		*hold;		/* while held (loop thread only) */
};
TAILQ_HEAD(auth_list, auth_job);

static pthread_mutex_t	 auth_mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 auth_cond = PTHREAD_COND_INITIALIZER;
static struct auth_list	 auth_todo = TAILQ_HEAD_INITIALIZER(auth_todo);
static struct auth_list	 auth_done = TAILQ_HEAD_INITIALIZER(auth_done);
static int		 auth_ntodo;
static struct auth_list	 auth_held = TAILQ_HEAD_INITIALIZER(auth_held);
static int		 auth_nheld;	/* loop thread only */
static int		 auth_stop;
static pthread_t	 auth_threads[AUTH_THREADS];
static int		 auth_nthreads;
static struct event	*auth_ev;
static char		*auth_hash;	/* a copy the workers read */
static struct auth_client auth_clients[AUTH_CLIENTS];
static time_t		 auth_recent[AUTH_GLOBAL_FAILS];	/* a ring */
static size_t		 auth_recent_next;
static size_t		 auth_recent_n;

static struct auth_client *
auth_client_find(const char *name, time_t now, int create)
{
	struct auth_client	*c, *best = NULL;
	size_t			 i;

	for (i = 0; i < AUTH_CLIENTS; i++) {
		c = &auth_clients[i];
		if (c->name[0] != '\0' && now - c->last >= AUTH_CLIENT_FORGET)
			memset(c, 0, sizeof(*c));
		if (c->name[0] != '\0' && strcmp(c->name, name) == 0)
			return c;
		if (best == NULL || (best->name[0] != '\0' &&
		    (c->name[0] == '\0' || c->last < best->last)))
			best = c;
	}
	if (!create)
		return NULL;
	memset(best, 0, sizeof(*best));
	snprintf(best->name, sizeof(best->name), "%s", name);
	return best;
}

/*
 * 0: the attempt may go on (and counts as failed until auth_throttle_done
 * says it was right), after *hold seconds (0, or AUTH_GLOBAL_HOLD while
 * failures overall are over the rate); else the seconds this client must
 * wait, and why.
 */
int
auth_throttle_check(const char *client, time_t now, const char **why,
    int *hold)
{
	struct auth_client	*c;

	*hold = 0;
	if (client == NULL || client[0] == '\0')
		client = "?";
	if ((c = auth_client_find(client, now, 0)) != NULL &&
	    c->fails >= AUTH_CLIENT_FAILS && c->last + AUTH_CLIENT_LOCK > now) {
		*why = "too many failed logins from this client";
		return (int)(c->last + AUTH_CLIENT_LOCK - now);
	}
	if (auth_recent_n == AUTH_GLOBAL_FAILS &&
	    auth_recent[auth_recent_next] + AUTH_GLOBAL_WINDOW > now) {
		*why = "many failed logins overall";
		*hold = AUTH_GLOBAL_HOLD;
	}
	if (c == NULL)
		c = auth_client_find(client, now, 1);
	c->fails++;
	c->last = now;
	auth_recent[auth_recent_next] = now;
	auth_recent_next = (auth_recent_next + 1) % AUTH_GLOBAL_FAILS;
	if (auth_recent_n < AUTH_GLOBAL_FAILS)
		auth_recent_n++;
	return 0;
}

/* a checked attempt: a right one clears its client and is not counted */
void
auth_throttle_done(const char *client, int ok)
{
	struct auth_client	*c;

	if (!ok)
		return;
	if (client == NULL || client[0] == '\0')
		client = "?";
	if ((c = auth_client_find(client, clock_mono_s(), 0)) != NULL)
		memset(c, 0, sizeof(*c));
	if (auth_recent_n > 0) {
		auth_recent_next = (auth_recent_next + AUTH_GLOBAL_FAILS - 1) %
		    AUTH_GLOBAL_FAILS;
		auth_recent[auth_recent_next] = 0;
		auth_recent_n--;
	}
}

void
auth_throttle_reset(void)
{
	memset(auth_clients, 0, sizeof(auth_clients));
	memset(auth_recent, 0, sizeof(auth_recent));
	auth_recent_next = auth_recent_n = 0;
}

static void *
auth_worker(void *arg)
{
	struct auth_job	*j;

	for (;;) {
		pthread_mutex_lock(&auth_mtx);
		while (!auth_stop && TAILQ_EMPTY(&auth_todo))
			pthread_cond_wait(&auth_cond, &auth_mtx);
		if (auth_stop) {
			pthread_mutex_unlock(&auth_mtx);
			return NULL;
		}
		j = TAILQ_FIRST(&auth_todo);
		TAILQ_REMOVE(&auth_todo, j, entry);
		auth_ntodo--;
		pthread_mutex_unlock(&auth_mtx);

		j->ok = auth_hash != NULL &&
		    crypto_pwhash_str_verify(auth_hash, j->password, j->pwlen) == 0;

		pthread_mutex_lock(&auth_mtx);
		TAILQ_INSERT_TAIL(&auth_done, j, entry);
		pthread_mutex_unlock(&auth_mtx);
		event_active(auth_ev, EV_READ, 0);
	}
}

static void
auth_audit(const struct ctl_request *cr, int ok, const char *why)
{
	yajl_gen	 g = audit_begin("auth.login");

	json_kstr(g, "client", proto_arg_str(&cr->req, "client"));
	json_kint(g, "uid", cr->uid);
	json_kint(g, "pid", cr->pid);
	json_kbool(g, "ok", ok);
	if (why != NULL)
		json_kstr(g, "reason", why);
	audit_end(g);
}

static void
auth_finish(struct auth_job *j)
{
	struct ctl_request	*cr = j->cr;
	struct proto_error	 err;
	const char		*client = proto_arg_str(&cr->req, "client");
	yajl_gen		 g;

	auth_audit(cr, j->ok, j->ok ? NULL : "wrong password");
	auth_throttle_done(client, j->ok);
	if (j->ok) {
		log_info("auth.login: accepted (client %s)",
		    client != NULL ? client : "?");
		g = proto_reply_begin(cr->req.id);
		yajl_gen_map_open(g);
		json_kbool(g, "ok", 1);
		yajl_gen_map_close(g);
		ctl_request_complete(cr, g, NULL);
	} else {
		log_warnx("auth.login: wrong password (client %s)",
		    client != NULL ? client : "?");
		proto_seterr(&err, PE_UNAUTHORIZED, "wrong password");
		ctl_request_complete(cr, NULL, &err);
	}
	free(j);
}

/* on the loop thread: the verifications that are over */
static void
auth_collect(evutil_socket_t fd, short ev, void *arg)
{
	struct auth_list	 list = TAILQ_HEAD_INITIALIZER(list);
	struct auth_job		*j;

	pthread_mutex_lock(&auth_mtx);
	TAILQ_CONCAT(&list, &auth_done, entry);
	pthread_mutex_unlock(&auth_mtx);
	while ((j = TAILQ_FIRST(&list)) != NULL) {
		TAILQ_REMOVE(&list, j, entry);
		auth_finish(j);
	}
}

/* to the workers; the queue may overflow by the attempts held meanwhile */
static void
auth_enqueue(struct auth_job *j)
{
	pthread_mutex_lock(&auth_mtx);
	TAILQ_INSERT_TAIL(&auth_todo, j, entry);
	auth_ntodo++;
	pthread_cond_signal(&auth_cond);
	pthread_mutex_unlock(&auth_mtx);
}

/* a held attempt's time is up: checked now */
static void
auth_unhold(evutil_socket_t fd, short ev, void *arg)
{
	struct auth_job	*j = arg;

	TAILQ_REMOVE(&auth_held, j, entry);
	auth_nheld--;
	event_free(j->hold);
	j->hold = NULL;
	auth_enqueue(j);
}

int
op_auth_login(struct ctl_request *cr, yajl_gen g, struct proto_error *err)
{
	const struct proto_value	*pw = proto_arg(&cr->req, "password");
	const char			*client = proto_arg_str(&cr->req, "client");
	const char			*why;
	struct auth_job			*j;
	struct timeval			 tv;
	int				 wait, hold;

	if (auth_nthreads == 0) {
		proto_seterr(err, PE_UNAVAILABLE, "password checks are not running");
		auth_audit(cr, 0, "unavailable");
		return CTL_FAIL;
	}
	/* the table bounds it; a handler checks what matters all the same */
	if (!pw->present || pw->slen == 0 || pw->slen > 1024) {
		proto_seterr(err, PE_BAD_REQUEST, "bad password field");
		auth_audit(cr, 0, "bad request");
		return CTL_FAIL;
	}
	pthread_mutex_lock(&auth_mtx);
	if (auth_ntodo >= AUTH_QUEUE_MAX) {
		pthread_mutex_unlock(&auth_mtx);
		proto_seterr(err, PE_BUSY, "too many logins being checked; "
		    "try again");
		auth_audit(cr, 0, "busy");
		return CTL_FAIL;
	}
	pthread_mutex_unlock(&auth_mtx);
	if (auth_nheld >= AUTH_HELD_MAX) {
		proto_seterr(err, PE_BUSY, "too many logins being checked; "
		    "try again");
		auth_audit(cr, 0, "busy");
		return CTL_FAIL;
	}
	if ((wait = auth_throttle_check(client, clock_mono_s(), &why, &hold)) > 0) {
		log_warnx("auth.login: %s (client %s): refused for %d s", why,
		    client != NULL ? client : "?", wait);
		proto_seterr(err, PE_BUSY, "%s; try again in %d s", why, wait);
		auth_audit(cr, 0, "throttled");
		return CTL_FAIL;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL)
		fatal("%s", __func__);
	j->cr = cr;
	j->password = pw->s;
	j->pwlen = pw->slen;
	if (hold > 0) {
		log_debug("auth.login: %s (client %s): held %d s", why,
		    client != NULL ? client : "?", hold);
		if ((j->hold = evtimer_new(benv->base, auth_unhold, j)) == NULL)
			fatalx("%s: evtimer_new", __func__);
		TAILQ_INSERT_TAIL(&auth_held, j, entry);
		auth_nheld++;
		tv.tv_sec = hold;
		tv.tv_usec = 0;
		evtimer_add(j->hold, &tv);
		return CTL_PENDING;
	}
	auth_enqueue(j);
	return CTL_PENDING;
}

int
op_frontend_config(struct ctl_request *cr, yajl_gen g, struct proto_error *err)
{
	const struct davit_config	*cfg = &benv->cfg;
	const struct project		*p, *only;

	/* the table allows the frontend only; checked again, it holds a secret */
	if (cr->caller != PROTO_CALLER_FRONTEND) {
		proto_seterr(err, PE_NOT_ALLOWED, "frontend.config is for %s only",
		    cfg->user);
		return CTL_FAIL;
	}
	yajl_gen_map_open(g);
	json_kstr(g, "listen", cfg->listen);
	/* each project's secret for /hooks/github/NAME */
	json_key(g, "projects");
	yajl_gen_array_open(g);
	TAILQ_FOREACH(p, &projects, entry) {
		if (p->removed)
			continue;
		yajl_gen_map_open(g);
		json_kstr(g, "name", p->name);
		json_kstr(g, "webhook_secret", p->cfg->webhook_secret);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	/* /hooks/github without a name: the main file's one project */
	only = project_only();
	json_kbool(g, "single", only != NULL && !benv->cfg.multi);
	json_kint(g, "session_idle", cfg->session_idle);
	json_kint(g, "session_max", cfg->session_max);
	json_kbool(g, "cookie_secure", cfg->cookie_secure);
	json_kstr(g, "trusted_proxies", cfg->trusted_proxies);
	json_kstr(g, "github_repo", only != NULL ? only->cfg->github_repo : NULL);
	json_kstr(g, "branch", only != NULL ? only->cfg->branch : NULL);
	json_kstr(g, "www_dir", cfg->www_dir);
	yajl_gen_map_close(g);
	return CTL_DONE;
}

void
auth_init(void)
{
	sigset_t	all, old;
	int		i, e;

	/* sodium_malloc'd, read-only, as the configuration's own */
	if (benv->cfg.password_hash != NULL) {
		if ((auth_hash = sodium_malloc(strlen(benv->cfg.password_hash) +
		    1)) == NULL)
			fatal("%s", __func__);
		strcpy(auth_hash, benv->cfg.password_hash);
		(void)sodium_mprotect_readonly(auth_hash);
	}
	if ((auth_ev = event_new(benv->base, -1, 0, auth_collect, NULL)) == NULL)
		fatalx("%s: event_new", __func__);
	/* signals stay with the loop thread */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (i = 0; i < AUTH_THREADS; i++) {
		if ((e = pthread_create(&auth_threads[i], NULL, auth_worker,
		    NULL)) != 0) {
			log_warnx("%s: pthread_create: %s", __func__, strerror(e));
			break;
		}
		auth_nthreads++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (auth_nthreads == 0)
		log_warnx("%s: no thread to check passwords: logins will fail",
		    __func__);
}

void
auth_shutdown(void)
{
	struct auth_job		*j;
	struct proto_error	 err;
	int			 i;

	pthread_mutex_lock(&auth_mtx);
	auth_stop = 1;
	pthread_cond_broadcast(&auth_cond);
	pthread_mutex_unlock(&auth_mtx);
	for (i = 0; i < auth_nthreads; i++)
		pthread_join(auth_threads[i], NULL);
	auth_nthreads = 0;
	/* the threads are gone: the lists are ours */
	auth_collect(-1, 0, NULL);
	proto_seterr(&err, PE_UNAVAILABLE, "shutting down");
	while ((j = TAILQ_FIRST(&auth_held)) != NULL) {
		TAILQ_REMOVE(&auth_held, j, entry);
		event_free(j->hold);
		TAILQ_INSERT_TAIL(&auth_todo, j, entry);
	}
	auth_nheld = 0;
	while ((j = TAILQ_FIRST(&auth_todo)) != NULL) {
		TAILQ_REMOVE(&auth_todo, j, entry);
		auth_audit(j->cr, 0, "shutting down");
		ctl_request_complete(j->cr, NULL, &err);
		free(j);
	}
	auth_ntodo = 0;
	if (auth_ev != NULL)
		event_free(auth_ev);
	auth_ev = NULL;
	if (auth_hash != NULL) {
		sodium_free(auth_hash);		/* wipes it */
		auth_hash = NULL;
	}
}
