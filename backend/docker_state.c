/*
 * The services' state, kept in memory from the Docker engine.
 *
 * Connecting: GET /version negotiates the API version (the engine's, capped
 * at DOCKER_API_MINOR_MAX), then GET /events streams the container events of
 * the compose project.  Whenever that stream (re)connects the services'
 * state is resynced in full: GET /containers/json of the project, then an
 * inspect of each container of a listed service.  Afterwards every event
 * marks its container dirty and a resync (debounced, one at a time) lists
 * the project again and inspects what changed.  services.list answers from
 * this memory only.  When the engine cannot be reached the data is kept,
 * marked stale, and the connection retried with a doubling backoff.
 *
 * It publishes engine.state and notifies when the engine stays unreachable;
 * the per-project container table's reads, service.state and the restart
 * loop check are in docker_services.c (struct docker_project: docker_state.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "backend/backend.h"
#include "backend/docker.h"
#include "backend/docker_engine.h"
#include "backend/docker_state.h"
#include "backend/notify.h"
#include "backend/project.h"
#include "common/clock.h"
#include "common/json.h"
#include "common/log.h"

/* the engine, for every project: one connection, one event stream */
static struct {
	struct event		*reconnect_ev;
	char			 engine[64];

	struct dreq		*events;	/* the /events stream */
	int			 stream_up;	/* its headers said 200 */
	int			 reachable;	/* connected and synced */
	char			 error[DOCKER_ERR_LEN];	/* why not, "" if none */
	long long		 last_ok_ms;	/* data known current until then (monotonic) */
	int			 backoff;

	struct event		*down_ev;	/* unreachable for too long: notify */
	long long		 down_since_ms;	/* monotonic */
	int			 down_notified;
} dk;

static void	engine_lost(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void	sync_start(struct docker_project *);

/* ---------------------------------------------------------- the state -- */

void
engine_gen(yajl_gen g)
{
	long long	mono = clock_mono_ms();

	yajl_gen_map_open(g);
	json_kbool(g, "reachable", dk.reachable);
	json_kstr(g, "error", dk.reachable || dk.error[0] == '\0' ? NULL : dk.error);
	json_key(g, "stale_ms");
	if (dk.reachable)
		yajl_gen_integer(g, 0);
	else if (dk.last_ok_ms > 0)
		yajl_gen_integer(g, mono > dk.last_ok_ms ? mono - dk.last_ok_ms : 0);
	else
		yajl_gen_null(g);
	json_kstr(g, "api_version", docker_engine_api()[0] != '\0' ? docker_engine_api() : NULL);
	yajl_gen_map_close(g);
}

int
docker_unlisted_services(const struct project *p, char *name, size_t namelen)
{
	const struct docker_project	*dp = p->docker;

	if (!dk.reachable || dp == NULL || !dp->synced)
		return -1;
	snprintf(name, namelen, "%s", dp->nunlisted > 0 ? dp->unlisted : "");
	return dp->nunlisted;
}

int
docker_engine_reachable(void)
{
	return dk.reachable;
}

int
docker_engine_down(char *why, size_t whylen)
{
	if (dk.reachable || dk.error[0] == '\0')
		return 0;
	snprintf(why, whylen, "%s", dk.error);
	return 1;
}

int
docker_services_ready(const struct project *p, char *why, size_t whylen)
{
	const struct docker_project	*dp = p->docker;
	const struct docker_container	*c;
	const char			*svc;
	size_t				 i;

	if (!dk.reachable) {
		snprintf(why, whylen, "the Docker engine is unreachable%s%s",
		    dk.error[0] != '\0' ? ": " : "", dk.error);
		return 0;
	}
	if (!dp->synced) {
		snprintf(why, whylen, "the project's containers are not listed yet");
		return 0;
	}
	for (i = 0; i < p->cfg->nservices; i++) {
		svc = p->cfg->services[i];
		if ((c = service_container(dp, svc)) == NULL) {
			snprintf(why, whylen, "%s: no container", svc);
			return 0;
		}
		if (c->state != DS_RUNNING) {
			snprintf(why, whylen, "%s: %s", svc, docker_state_name(c->state));
			return 0;
		}
		if (c->health == DH_STARTING || c->health == DH_UNHEALTHY) {
			snprintf(why, whylen, "%s: %s", svc,
			    c->health == DH_STARTING ? "health: starting" : "unhealthy");
			return 0;
		}
	}
	snprintf(why, whylen, "every service runs");
	return 1;
}

static void
engine_publish(void)
{
	yajl_gen	g = events_begin(EV_ENGINE_STATE);

	engine_gen(g);
	events_publish(g);
}

/* the engine stayed unreachable for DAVIT_NOTIFY_DOCKER_DOWN seconds */
static void
down_timer(evutil_socket_t fd, short what, void *arg)
{
	if (dk.reachable || dk.down_notified)
		return;
	dk.down_notified = 1;
	notify_critical("docker.unreachable", "the Docker engine has been "
	    "unreachable for %lld s: %s",
	    (clock_mono_ms() - dk.down_since_ms + 500) / 1000,
	    dk.error[0] != '\0' ? dk.error : "no answer yet");
}

/* the engine went away (or was never there): start counting */
static void
down_begin(void)
{
	struct timeval	tv = { benv->cfg.notify_docker_down, 0 };

	dk.down_since_ms = clock_mono_ms();
	dk.down_notified = 0;
	if (benv->cfg.notify_docker_down > 0 && dk.down_ev != NULL)
		evtimer_add(dk.down_ev, &tv);
}

static void
down_end(void)
{
	if (dk.down_ev != NULL)
		evtimer_del(dk.down_ev);
	if (dk.down_notified)
		notify_critical("docker.reachable", "the Docker engine is "
		    "reachable again after %lld s",
		    (clock_mono_ms() - dk.down_since_ms + 500) / 1000);
	dk.down_notified = 0;
}

/* ---------------------------------------------------------- the sync -- */

static void
sync_schedule(struct docker_project *dp, int delay_ms)
{
	struct timeval	tv = { 0, delay_ms * 1000 };

	if (!evtimer_pending(dp->resync_ev, NULL))
		evtimer_add(dp->resync_ev, &tv);
}

static void
sync_timer(evutil_socket_t fd, short what, void *arg)
{
	sync_start(arg);
}

static void
mark_dirty(struct docker_project *dp, const char *id)
{
	size_t	i;

	for (i = 0; i < dp->ndirty; i++)
		if (strcmp(dp->dirty[i], id) == 0)
			return;
	if (dp->ndirty >= DOCKER_MAX_DIRTY) {
		dp->sync_full = 1;	/* too many to name: inspect all */
		return;
	}
	memcpy(dp->dirty[dp->ndirty++], id, DOCKER_ID_LEN + 1);
}

/* the live project whose compose project is name, or NULL */
static struct docker_project *
project_by_compose(const char *name)
{
	struct project	*p;

	TAILQ_FOREACH(p, &projects, entry)
		if (!p->removed && p->docker != NULL &&
		    strcmp(p->cfg->compose_project, name) == 0)
			return p->docker;
	return NULL;
}

/* every project resyncs in full (a bad event: which one is unknown) */
static void
sync_all(int delay_ms)
{
	struct project	*p;

	TAILQ_FOREACH(p, &projects, entry)
		if (p->docker != NULL) {
			p->docker->sync_full = 1;
			sync_schedule(p->docker, delay_ms);
		}
}

/*
 * From within curl's write callback: no curl calls here.  One stream for
 * every project: the compose project label says whose container it is.
 */
static void
event_line(const char *line, size_t len)
{
	struct docker_event	 ev;
	struct docker_project	*dp;
	char			 err[DOCKER_ERR_LEN];

	if (docker_parse_event(line, len, NULL, &ev, err, sizeof(err)) == -1) {
		log_warnx("%s: Docker sent a bad event (%s); resyncing", __func__, err);
		sync_all(DOCKER_RESYNC_DELAY_MS);
		return;
	}
	if (ev.kind == DE_IGNORE || (dp = project_by_compose(ev.project)) == NULL)
		return;
	log_debug("docker event: %s: %s %.12s (%s)", dp->p->name, ev.action,
	    ev.id, ev.service[0] != '\0' ? ev.service : "-");
	mark_dirty(dp, ev.id);
	sync_schedule(dp, DOCKER_RESYNC_DELAY_MS);
}

static int
syncing_has(const struct docker_project *dp, const char *id)
{
	size_t	i;

	for (i = 0; i < dp->nsyncing; i++)
		if (strcmp(dp->syncing[i], id) == 0)
			return 1;
	return 0;
}

static void
sync_reset(struct docker_project *dp)
{
	free(dp->new_cs);
	dp->new_cs = NULL;
	dp->nnew = 0;
	dp->pending = 0;
	dp->sync_running = 0;
}

static void
sync_commit(struct docker_project *dp)
{
	size_t	i, n = 0;
	int	first = !dk.reachable;

	/* drop what vanished between the list and its inspect */
	for (i = 0; i < dp->nnew; i++)
		if (dp->new_cs[i].id[0] != '\0')
			dp->new_cs[n++] = dp->new_cs[i];
	free(dp->cs);
	dp->cs = dp->new_cs;
	dp->ncs = n;
	dp->new_cs = NULL;
	dp->nnew = 0;
	dp->nunlisted = dp->new_nunlisted;
	memcpy(dp->unlisted, dp->new_unlisted, sizeof(dp->unlisted));
	dp->sync_running = 0;
	dp->synced = 1;
	dk.last_ok_ms = clock_mono_ms();
	if (first) {
		dk.reachable = 1;
		down_end();
		dk.error[0] = '\0';
		dk.backoff = DOCKER_BACKOFF_MIN;
		log_info("Docker engine %s reachable (API %s)", dk.engine,
		    docker_engine_api());
		engine_publish();
	}
	log_debug("%s: %zu containers of compose project %s", dp->p->name,
	    dp->ncs, dp->p->cfg->compose_project);
	services_publish(dp);
	if (dp->sync_again) {
		dp->sync_again = 0;
		sync_schedule(dp, 0);
	}
}

static void
sync_inspected(struct dreq *r)
{
	static const long	 ok[] = { 200, 0 };
	struct docker_project	*dp = r->arg;
	struct docker_container	*c = &dp->new_cs[r->index];
	char			 err[DOCKER_ERR_LEN];

	if (r->err[0] == '\0' && r->status == 404) {
		c->id[0] = '\0';	/* removed since the list */
	} else if (dreq_check(r, ok) == -1) {
		engine_lost("%s", r->err);
		return;
	} else if (docker_parse_inspect(r->buf, r->len, c, err, sizeof(err)) == -1) {
		engine_lost("the engine's reply is malformed: %s", err);
		return;
	} else if (c->service[0] == '\0' || c->oneoff)
		c->id[0] = '\0';
	if (--dp->pending == 0)
		sync_commit(dp);
}

static void
sync_listed(struct dreq *r)
{
	struct docker_project		*dp = r->arg;
	const struct davit_config	*cfg = dp->p->cfg;
	const struct docker_container	*old;
	struct docker_container		*cs, *c;
	char				 err[DOCKER_ERR_LEN], path[DOCKER_URL_MAX];
	size_t				 n, i, j, keep = 0;
	struct dreq			*ir;

	if (dreq_check(r, dreq_ok_200) == -1) {
		engine_lost("%s", r->err);
		return;
	}
	if (docker_parse_list(r->buf, r->len, cfg->compose_project, &cs, &n,
	    err, sizeof(err)) == -1) {
		engine_lost("the engine's reply is malformed: %s", err);
		return;
	}
	/* the services that are not listed: a stack rebuild must spare them */
	dp->new_nunlisted = 0;
	for (i = 0; i < n; i++) {
		if (cs[i].service[0] == '\0' ||
		    config_has_service(cfg, cs[i].service))
			continue;
		for (j = 0; j < i; j++)
			if (strcmp(cs[j].service, cs[i].service) == 0)
				break;
		if (j < i)
			continue;	/* counted */
		if (dp->new_nunlisted++ == 0)
			snprintf(dp->new_unlisted, sizeof(dp->new_unlisted), "%s",
			    cs[i].service);
	}
	/* keep the containers of listed services, not "compose run" ones */
	for (i = 0; i < n; i++)
		if (!cs[i].oneoff && config_has_service(cfg, cs[i].service))
			cs[keep++] = cs[i];
	dp->new_cs = cs;
	dp->nnew = keep;
	dp->pending = 0;
	for (i = 0; i < keep; i++) {
		c = &cs[i];
		old = find_container(dp->cs, dp->ncs, c->id);
		if (!dp->sync_full_now && old != NULL && old->inspected &&
		    old->state == c->state && !syncing_has(dp, c->id)) {
			*c = *old;
			continue;
		}
		api_path(path, sizeof(path), "/containers/%s/json", c->id);
		ir = dreq_start(DR_CONNECT, 0, path, DOCKER_REQUEST_TIMEOUT,
		    sync_inspected, dp);
		ir->index = i;
		dp->pending++;
	}
	if (dp->pending == 0)
		sync_commit(dp);
}

static void
sync_start(struct docker_project *dp)
{
	char	path[DOCKER_URL_MAX], *q;

	if (!dk.stream_up)
		return;		/* the stream's (re)connection resyncs */
	if (dp->sync_running) {
		dp->sync_again = 1;
		return;
	}
	dp->sync_running = 1;
	/* the containers named by events so far: this sync inspects them */
	memcpy(dp->syncing, dp->dirty, sizeof(dp->dirty));
	dp->nsyncing = dp->ndirty;
	dp->ndirty = 0;
	dp->sync_full_now = dp->sync_full;
	dp->sync_full = 0;
	q = filter_query(dp->p->cfg->compose_project, NULL, 0);
	api_path(path, sizeof(path), "/containers/json?all=1&%s", q);
	free(q);
	dreq_start(DR_CONNECT, 0, path, DOCKER_REQUEST_TIMEOUT, sync_listed, dp);
}

/* ---------------------------------------------------- the connection -- */

static void
engine_lost(const char *fmt, ...)
{
	struct project	*p;
	struct timeval	 tv;
	char		 msg[DOCKER_ERR_LEN];
	va_list		 ap;
	int		 was = dk.reachable;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	dreq_cancel_kind(DR_CONNECT);
	dk.events = NULL;
	dk.stream_up = 0;
	TAILQ_FOREACH(p, &projects, entry)
		if (p->docker != NULL) {
			sync_reset(p->docker);
			p->docker->sync_again = 0;
			p->docker->synced = 0;
		}
	if (was)
		dk.last_ok_ms = clock_mono_ms();	/* current until now */
	dk.reachable = 0;
	if (was || strcmp(dk.error, msg) != 0)
		log_warnx("Docker engine unreachable: %s; retrying in %d s", msg,
		    dk.backoff);
	snprintf(dk.error, sizeof(dk.error), "%s", msg);
	if (was) {
		down_begin();
		engine_publish();
	}
	if (benv->shutting_down)
		return;
	tv.tv_sec = dk.backoff;
	tv.tv_usec = 0;
	evtimer_add(dk.reconnect_ev, &tv);
	dk.backoff = dk.backoff * 2 > DOCKER_BACKOFF_MAX ?
	    DOCKER_BACKOFF_MAX : dk.backoff * 2;
}

static void
events_ended(struct dreq *r)
{
	dreq_check(r, dreq_ok_200);
	engine_lost("%s", r->err[0] != '\0' ? r->err : "the events stream ended");
}

/* the stream's headers came with a 200: a full resync */
static void
stream_up(struct dreq *r)
{
	if (r != dk.events || dk.stream_up)
		return;
	dk.stream_up = 1;
	/* no curl calls from within curl: resync from the loop */
	sync_all(0);
}

static void
version_done(struct dreq *r)
{
	struct docker_version	 v;
	char			 err[DOCKER_ERR_LEN], path[DOCKER_URL_MAX], *q;
	char			 api[16];
	int			 minor;

	if (dreq_check(r, dreq_ok_200) == -1) {
		engine_lost("%s", r->err);
		return;
	}
	if (docker_parse_version(r->buf, r->len, &v, err, sizeof(err)) == -1) {
		engine_lost("the engine's reply is malformed: %s", err);
		return;
	}
	if (v.major != DOCKER_API_MAJOR || v.minor < DOCKER_API_MINOR_MIN) {
		engine_lost("the engine speaks API %d.%d; davit needs %d.%d or newer",
		    v.major, v.minor, DOCKER_API_MAJOR, DOCKER_API_MINOR_MIN);
		return;
	}
	if (v.min_major > DOCKER_API_MAJOR || (v.min_major == DOCKER_API_MAJOR &&
	    v.min_minor > DOCKER_API_MINOR_MAX)) {
		engine_lost("the engine needs API %d.%d or newer; davit speaks up "
		    "to %d.%d", v.min_major, v.min_minor, DOCKER_API_MAJOR,
		    DOCKER_API_MINOR_MAX);
		return;
	}
	minor = v.minor < DOCKER_API_MINOR_MAX ? v.minor : DOCKER_API_MINOR_MAX;
	snprintf(api, sizeof(api), "%d.%d", DOCKER_API_MAJOR, minor);
	docker_engine_set_api(api);
	snprintf(dk.engine, sizeof(dk.engine), "%s", v.engine);
	q = filter_query(NULL, NULL, 1);	/* every compose project */
	api_path(path, sizeof(path), "/events?%s", q);
	free(q);
	dk.events = dreq_start(DR_CONNECT, 0, path, 0, events_ended, NULL);
	dreq_stream(dk.events, event_line, stream_up);
}

static void
docker_connect(evutil_socket_t fd, short what, void *arg)
{
	log_debug("connecting to the Docker engine at %s", benv->cfg.docker_socket);
	dreq_start(DR_CONNECT, 0, "/version", DOCKER_REQUEST_TIMEOUT, version_done,
	    NULL);
}

/* ------------------------------------------------------- the actions -- */

/* --------------------------------------------------------- lifecycle -- */

void
docker_project_add(struct project *p)
{
	struct docker_project	*dp;

	if ((dp = calloc(1, sizeof(*dp))) == NULL)
		fatal("%s", __func__);
	dp->p = p;
	if ((dp->resync_ev = evtimer_new(benv->base, sync_timer, dp)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	p->docker = dp;
	if (dk.stream_up) {	/* added by a reload: list it now */
		dp->sync_full = 1;
		sync_schedule(dp, 0);
	}
}

/* its sync's requests are cancelled by the caller (docker_engine) or end unheard */
void
docker_project_remove(struct project *p)
{
	struct docker_project	*dp = p->docker;
	size_t			 i;

	if (dp == NULL)
		return;
	if (dp->sync_running) {
		/* the requests in flight name dp: the engine's are all resent */
		dreq_cancel_arg(dp);
	}
	event_free(dp->resync_ev);
	sync_reset(dp);
	free(dp->cs);
	for (i = 0; i < CONFIG_MAX_SERVICES; i++)
		free(dp->published[i]);
	free(dp);
	p->docker = NULL;
}

const char *
project_last_error_docker(const struct project *p)
{
	return dk.reachable || dk.error[0] == '\0' ? NULL : dk.error;
}

void
docker_state_init(void)
{
	struct timeval	 tv = { 0, 0 };

	dk.backoff = DOCKER_BACKOFF_MIN;
	if ((dk.reconnect_ev = evtimer_new(benv->base, docker_connect, NULL)) == NULL ||
	    (dk.down_ev = evtimer_new(benv->base, down_timer, NULL)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	evtimer_add(dk.reconnect_ev, &tv);
	down_begin();	/* until the first sync */
}

/* after docker_engine_shutdown: no request is left */
void
docker_state_shutdown(void)
{
	struct project	*p;

	dk.events = NULL;
	if (dk.reconnect_ev != NULL)
		event_free(dk.reconnect_ev);
	if (dk.down_ev != NULL)
		event_free(dk.down_ev);
	dk.reconnect_ev = dk.down_ev = NULL;
	TAILQ_FOREACH(p, &projects, entry)
		docker_project_remove(p);
}
