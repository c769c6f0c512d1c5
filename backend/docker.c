/*
 * The Docker Engine API over its Unix socket, through libcurl's multi
 * interface driven by the libevent loop (nothing here blocks the loop).
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
 * It also runs the Engine API actions of the service and stack jobs
 * (docker_service_act) and holds the ops' handlers.
 */
#include <sys/queue.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "backend/backend.h"
#include "backend/docker.h"
#include "backend/notify.h"
#include "common/json.h"
#include "common/log.h"

#define DOCKER_URL_BASE		"http://docker"	/* the host part is ignored */
#define DOCKER_URL_MAX		2048
#define DOCKER_API_FALLBACK	"1.25"	/* DOCKER_API_MINOR_MIN */

enum dreq_kind {
	DR_CONNECT,		/* /version, /events, sync: cancelled when the engine is lost */
	DR_ACTION,		/* a job's call: ends by its own callback */
};

struct dreq {
	TAILQ_ENTRY(dreq)	 entry;
	enum dreq_kind		 kind;
	CURL			*easy;
	struct curl_slist	*headers;
	char			 what[64];	/* for messages: "GET /version" */
	char			*buf;		/* the reply, or the partial event line */
	size_t			 len, cap;
	int			 stream;	/* /events: lines go to event_line */
	int			 too_large;
	long			 status;
	char			 errbuf[CURL_ERROR_SIZE];
	char			 err[DOCKER_ERR_LEN];	/* set when it failed */
	void			(*done)(struct dreq *);
	void			*arg;
	size_t			 index;		/* sync: which new container */
};
TAILQ_HEAD(dreq_list, dreq);

struct docker_act_run {
	LIST_ENTRY(docker_act_run) entry;
	struct job		*j;
	char			*service;
	enum docker_act		 act;
	struct dreq		*req;
	struct docker_container	*cs;		/* the service's containers */
	size_t			 ncs, idx;
	int			 failed;
	char			 err[DOCKER_ERR_LEN];
	void			(*done)(struct job *, int, const char *);
};

static struct {
	CURLM			*multi;
	struct event		*curl_timer;
	struct event		*reconnect_ev;
	struct event		*resync_ev;
	struct dreq_list	 reqs;
	LIST_HEAD(, docker_act_run) acts;
	char			 api[16];	/* "1.41": the negotiated version */
	char			 engine[64];

	struct dreq		*events;	/* the /events stream */
	int			 stream_up;	/* its headers said 200 */
	int			 reachable;	/* connected and synced */
	char			 error[DOCKER_ERR_LEN];	/* why not, "" if none */
	long long		 last_ok_ms;	/* data known current until then */
	int			 backoff;

	struct docker_container	*cs;		/* the listed services' containers */
	size_t			 ncs;
	int			 nunlisted;	/* services of the project not listed */
	char			 unlisted[DOCKER_NAME_MAX + 1];	/* the first */
	int			 new_nunlisted;	/* the same, of the running sync */
	char			 new_unlisted[DOCKER_NAME_MAX + 1];

	int			 sync_running;
	int			 sync_again;
	int			 sync_full;	/* the next sync inspects everything */
	int			 sync_full_now;	/* the running one does */
	struct docker_container	*new_cs;	/* being built by the running sync */
	size_t			 nnew;
	size_t			 pending;	/* inspects in flight */
	char			 dirty[DOCKER_MAX_DIRTY][DOCKER_ID_LEN + 1];
	size_t			 ndirty;
	char			 syncing[DOCKER_MAX_DIRTY][DOCKER_ID_LEN + 1];
	size_t			 nsyncing;

	char			*published[CONFIG_MAX_SERVICES];	/* last service.state */
	int			 running;	/* curl's count */

	struct event		*down_ev;	/* unreachable for too long: notify */
	long long		 down_since_ms;
	int			 down_notified;
	struct {			/* restart loops, per listed service */
		char		 id[DOCKER_ID_LEN + 1];	/* the container counted */
		long long	 restarts;	/* its RestartCount seen last */
		long long	 window_ms;	/* the window's start */
		long long	 count;		/* restarts within it */
		int		 notified;
	}			 loop[CONFIG_MAX_SERVICES];
} dk;

static void	docker_check_multi(void);
static void	docker_connect(evutil_socket_t, short, void *);
static void	engine_lost(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void	sync_start(void);
static void	msgf(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

/* a message cut to fit its buffer: the engine's words may be long */
static void
msgf(char *buf, size_t len, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/* ---------------------------------------------------------------- curl -- */

static void
curl_event(evutil_socket_t fd, short what, void *arg)
{
	int	action = 0;

	if (what & EV_READ)
		action |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		action |= CURL_CSELECT_OUT;
	curl_multi_socket_action(dk.multi, fd, action, &dk.running);
	docker_check_multi();
}

static void
curl_timeout(evutil_socket_t fd, short what, void *arg)
{
	curl_multi_socket_action(dk.multi, CURL_SOCKET_TIMEOUT, 0, &dk.running);
	docker_check_multi();
}

static int
curl_socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct event	*ev = socketp;
	short		 kind;

	if (what == CURL_POLL_REMOVE) {
		if (ev != NULL) {
			event_free(ev);
			curl_multi_assign(dk.multi, s, NULL);
		}
		return 0;
	}
	kind = EV_PERSIST;
	if (what & CURL_POLL_IN)
		kind |= EV_READ;
	if (what & CURL_POLL_OUT)
		kind |= EV_WRITE;
	if (ev == NULL) {
		if ((ev = event_new(benv->base, s, kind, curl_event, NULL)) == NULL)
			fatalx("%s: event_new", __func__);
		curl_multi_assign(dk.multi, s, ev);
	} else {
		event_del(ev);
		event_assign(ev, benv->base, s, kind, curl_event, NULL);
	}
	event_add(ev, NULL);
	return 0;
}

static int
curl_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct timeval	tv;

	if (timeout_ms < 0) {
		evtimer_del(dk.curl_timer);
		return 0;
	}
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	evtimer_add(dk.curl_timer, &tv);
	return 0;
}

/* ------------------------------------------------------------ requests -- */

static void
dreq_free(struct dreq *r)
{
	if (r->easy != NULL)
		curl_easy_cleanup(r->easy);
	curl_slist_free_all(r->headers);
	free(r->buf);
	free(r);
}

/* removes a request without its callback */
static void
dreq_cancel(struct dreq *r)
{
	TAILQ_REMOVE(&dk.reqs, r, entry);
	curl_multi_remove_handle(dk.multi, r->easy);
	dreq_free(r);
}

static int
buf_append(struct dreq *r, const char *p, size_t n, size_t max)
{
	size_t	 cap;
	char	*nb;

	if (n > max || r->len > max - n)
		return -1;
	if (r->len + n + 1 > r->cap) {
		cap = r->cap == 0 ? 4096 : r->cap;
		while (cap < r->len + n + 1)
			cap *= 2;
		if (cap > max + 1)
			cap = max + 1;
		if ((nb = realloc(r->buf, cap)) == NULL)
			fatal("%s", __func__);
		r->buf = nb;
		r->cap = cap;
	}
	memcpy(r->buf + r->len, p, n);
	r->len += n;
	r->buf[r->len] = '\0';
	return 0;
}

static void	event_line(const char *line, size_t len);

/* the /events stream: one JSON object per line */
static size_t
stream_feed(struct dreq *r, const char *p, size_t n)
{
	const char	*nl;
	size_t		 seg, total = n;

	while (n > 0) {
		nl = memchr(p, '\n', n);
		seg = nl != NULL ? (size_t)(nl - p) : n;
		if (buf_append(r, p, seg, DOCKER_MAX_EVENT_LINE) == -1) {
			msgf(r->err, sizeof(r->err),
			    "an event line longer than %d bytes", DOCKER_MAX_EVENT_LINE);
			return 0;	/* aborts the transfer */
		}
		if (nl == NULL)
			break;
		if (r->len > 0 && r->buf[r->len - 1] == '\r')
			r->len--;
		if (r->len > 0)
			event_line(r->buf, r->len);
		r->len = 0;
		p += seg + 1;
		n -= seg + 1;
	}
	return total;
}

static size_t
dreq_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct dreq	*r = arg;
	size_t		 n = size * nmemb;
	long		 code = 0;

	if (r->stream) {
		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
		if (code == 200)
			return stream_feed(r, ptr, n);
	}
	if (buf_append(r, ptr, n, DOCKER_MAX_REPLY) == -1) {
		r->too_large = 1;
		return 0;
	}
	return n;
}

/* the stream is up once its headers are in with a 200 */
static size_t
dreq_header(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct dreq	*r = arg;
	size_t		 n = size * nmemb;
	long		 code = 0;
	struct timeval	 tv = { 0, 0 };

	if (n <= 2 && (ptr[0] == '\r' || ptr[0] == '\n')) {
		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
		if (code == 200 && r == dk.events && !dk.stream_up) {
			dk.stream_up = 1;
			dk.sync_full = 1;
			/* no curl calls from within curl: resync from the loop */
			evtimer_add(dk.resync_ev, &tv);
		}
	}
	return n;
}

/*
 * Starts a request to the engine: method GET or POST, path with its query.
 * timeout 0: none (the stream).  done runs from the loop when it ends.
 */
static struct dreq *
dreq_start(enum dreq_kind kind, int post, const char *path, long timeout,
    void (*done)(struct dreq *), void *arg)
{
	struct dreq	*r;
	char		 url[DOCKER_URL_MAX];
	const char	*pathonly, *slash;
	CURLMcode	 mc;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		fatal("%s", __func__);
	r->kind = kind;
	r->done = done;
	r->arg = arg;
	/* for messages: the method and the path without version and query */
	pathonly = path;
	if (strncmp(pathonly, "/v", 2) == 0 && (slash = strchr(pathonly + 1, '/')) != NULL)
		pathonly = slash;
	snprintf(r->what, sizeof(r->what), "%s %.*s", post ? "POST" : "GET",
	    (int)strcspn(pathonly, "?"), pathonly);
	if ((size_t)snprintf(url, sizeof(url), "%s%s", DOCKER_URL_BASE, path) >=
	    sizeof(url))
		fatalx("%s: URL too long", __func__);
	if ((r->easy = curl_easy_init()) == NULL)
		fatalx("%s: curl_easy_init", __func__);
	r->headers = curl_slist_append(NULL, "Accept: application/json");
	if (r->headers == NULL)
		fatalx("%s: curl_slist_append", __func__);
	curl_easy_setopt(r->easy, CURLOPT_URL, url);
	curl_easy_setopt(r->easy, CURLOPT_UNIX_SOCKET_PATH, benv->cfg.docker_socket);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(r->easy, CURLOPT_PROTOCOLS_STR, "http");
#endif
	curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->headers);
	curl_easy_setopt(r->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(r->easy, CURLOPT_PRIVATE, r);
	curl_easy_setopt(r->easy, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, dreq_write);
	curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(r->easy, CURLOPT_CONNECTTIMEOUT, (long)DOCKER_CONNECT_TIMEOUT);
	curl_easy_setopt(r->easy, CURLOPT_TIMEOUT, timeout);
	curl_easy_setopt(r->easy, CURLOPT_MAXREDIRS, 0L);
	if (post) {
		curl_easy_setopt(r->easy, CURLOPT_POST, 1L);
		curl_easy_setopt(r->easy, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(r->easy, CURLOPT_POSTFIELDSIZE, 0L);
	}
	if (done == NULL)
		fatalx("%s: no callback", __func__);
	TAILQ_INSERT_TAIL(&dk.reqs, r, entry);
	if ((mc = curl_multi_add_handle(dk.multi, r->easy)) != CURLM_OK)
		fatalx("%s: curl_multi_add_handle: %s", __func__,
		    curl_multi_strerror(mc));
	return r;
}

static void
docker_check_multi(void)
{
	CURLMsg		*msg;
	struct dreq	*r;
	char		*p;
	int		 left;

	while ((msg = curl_multi_info_read(dk.multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		p = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &p);
		if ((r = (struct dreq *)p) == NULL)
			fatalx("%s: a transfer without its request", __func__);
		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &r->status);
		/* r->err may already say why: an error of ours aborted it */
		if (r->err[0] == '\0' && msg->data.result != CURLE_OK) {
			if (r->too_large)
				msgf(r->err, sizeof(r->err),
				    "%s: reply longer than %d bytes", r->what,
				    DOCKER_MAX_REPLY);
			else if (msg->data.result == CURLE_COULDNT_CONNECT)
				msgf(r->err, sizeof(r->err), "cannot connect to %s",
				    benv->cfg.docker_socket);
			else
				msgf(r->err, sizeof(r->err), "%s: %s", r->what,
				    r->errbuf[0] != '\0' ? r->errbuf :
				    curl_easy_strerror(msg->data.result));
		} else if (r->err[0] == '\0' && r->stream && r->status == 200)
			msgf(r->err, sizeof(r->err), "the events stream ended");
		TAILQ_REMOVE(&dk.reqs, r, entry);
		curl_multi_remove_handle(dk.multi, r->easy);
		r->done(r);
		dreq_free(r);
	}
}

/*
 * 0 when r ended with one of the statuses in ok (0-terminated); else -1 with
 * a message in r->err: the transport's, or the engine's own words.
 */
static int
dreq_check(struct dreq *r, const long *ok)
{
	char	 msg[DOCKER_ERR_LEN];
	size_t	 i;

	if (r->err[0] != '\0')
		return -1;
	for (i = 0; ok[i] != 0; i++)
		if (r->status == ok[i])
			return 0;
	if (r->buf != NULL && docker_parse_error(r->buf, r->len, msg, sizeof(msg)) == 0)
		msgf(r->err, sizeof(r->err), "%s: %ld %s", r->what, r->status, msg);
	else
		msgf(r->err, sizeof(r->err), "%s: HTTP status %ld", r->what,
		    r->status);
	return -1;
}

static const long	ok_200[] = { 200, 0 };

/* a path of the negotiated API: "/v1.41" + rest */
static void
api_path(char *buf, size_t len, const char *fmt, ...)
{
	char	rest[DOCKER_URL_MAX];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(rest, sizeof(rest), fmt, ap);
	va_end(ap);
	/* not negotiated yet (an action while connecting): the oldest we speak */
	if ((size_t)snprintf(buf, len, "/v%s%s", dk.api[0] != '\0' ? dk.api :
	    DOCKER_API_FALLBACK, rest) >= len)
		fatalx("%s: path too long", __func__);
}

/* filters={"label":[...]} (JSON, then URL-encoded), with extra if not NULL */
static char *
filter_query(const char *service, int events)
{
	static const char *const actions[] = {
		"create", "start", "restart", "stop", "die", "kill", "pause",
		"unpause", "destroy", "rename", "health_status", "oom", "update",
		NULL
	};
	yajl_gen	 g = json_gen_new();
	char		 label[DOCKER_NAME_MAX + 64], *json, *esc, *out;
	size_t		 len, i;
	CURL		*easy;

	yajl_gen_map_open(g);
	json_key(g, "label");
	yajl_gen_array_open(g);
	snprintf(label, sizeof(label), "%s=%s", LABEL_PROJECT,
	    benv->cfg.compose_project);
	json_str(g, label);
	if (service != NULL) {
		snprintf(label, sizeof(label), "%s=%s", LABEL_SERVICE, service);
		json_str(g, label);
	}
	yajl_gen_array_close(g);
	if (events) {
		json_key(g, "type");
		yajl_gen_array_open(g);
		json_str(g, "container");
		yajl_gen_array_close(g);
		json_key(g, "event");
		yajl_gen_array_open(g);
		for (i = 0; actions[i] != NULL; i++)
			json_str(g, actions[i]);
		yajl_gen_array_close(g);
	}
	yajl_gen_map_close(g);
	json = json_gen_take(g, &len);
	yajl_gen_free(g);
	if ((easy = curl_easy_init()) == NULL ||
	    (esc = curl_easy_escape(easy, json, (int)len)) == NULL)
		fatalx("%s: curl_easy_escape", __func__);
	if (asprintf(&out, "filters=%s", esc) == -1)
		fatal("%s", __func__);
	curl_free(esc);
	curl_easy_cleanup(easy);
	free(json);
	return out;
}

/* ---------------------------------------------------------- the state -- */

static const struct docker_container *
find_container(const struct docker_container *cs, size_t n, const char *id)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strcmp(cs[i].id, id) == 0)
			return &cs[i];
	return NULL;
}

static int
state_rank(enum docker_state st)
{
	switch (st) {
	case DS_RUNNING:
	case DS_RESTARTING:
	case DS_PAUSED:
		return 2;
	case DS_CREATED:
		return 1;
	default:
		return 0;
	}
}

/* the container that stands for a service: a live one, else the newest */
static const struct docker_container *
service_container(const char *service)
{
	const struct docker_container	*best = NULL, *c;
	size_t				 i;

	for (i = 0; i < dk.ncs; i++) {
		c = &dk.cs[i];
		if (strcmp(c->service, service) != 0)
			continue;
		if (best == NULL || state_rank(c->state) > state_rank(best->state) ||
		    (state_rank(c->state) == state_rank(best->state) &&
		    c->created_ms > best->created_ms))
			best = c;
	}
	return best;
}

static void
service_gen(yajl_gen g, const char *service, const struct docker_container *c,
    long long now)
{
	char	status[DOCKER_STATUS_LEN];

	yajl_gen_map_open(g);
	json_kstr(g, "service", service);
	if (c == NULL) {
		json_knull(g, "container");
		json_knull(g, "id");
		json_kstr(g, "state", docker_state_name(DS_MISSING));
		json_knull(g, "status");
		json_knull(g, "health");
		json_knull(g, "started_at");
		json_knull(g, "image");
		json_knull(g, "restarts");
		json_knull(g, "exit_code");
		yajl_gen_map_close(g);
		return;
	}
	docker_status_text(c, now, status, sizeof(status));
	json_kstr(g, "container", c->name[0] != '\0' ? c->name : NULL);
	json_kstr(g, "id", c->id);
	json_kstr(g, "state", docker_state_name(c->state));
	json_kstr(g, "status", status);
	json_kstr(g, "health", docker_health_name(c->health));
	json_ktime(g, "started_at", c->started_ms);
	json_kstr(g, "image", c->image[0] != '\0' ? c->image : NULL);
	json_kint(g, "restarts", c->restarts);
	json_kint(g, "exit_code", c->exit_code);
	yajl_gen_map_close(g);
}

static void
engine_gen(yajl_gen g, long long now)
{
	yajl_gen_map_open(g);
	json_kbool(g, "reachable", dk.reachable);
	json_kstr(g, "error", dk.reachable || dk.error[0] == '\0' ? NULL : dk.error);
	json_key(g, "stale_ms");
	if (dk.reachable)
		yajl_gen_integer(g, 0);
	else if (dk.last_ok_ms > 0)
		yajl_gen_integer(g, now > dk.last_ok_ms ? now - dk.last_ok_ms : 0);
	else
		yajl_gen_null(g);
	json_kstr(g, "api_version", dk.api[0] != '\0' ? dk.api : NULL);
	yajl_gen_map_close(g);
}

void
docker_services_gen(yajl_gen g)
{
	long long	now = json_now_ms();
	size_t		i;

	yajl_gen_map_open(g);
	json_key(g, "engine");
	engine_gen(g, now);
	json_key(g, "services");
	yajl_gen_array_open(g);
	for (i = 0; i < benv->cfg.nservices; i++)
		service_gen(g, benv->cfg.services[i],
		    service_container(benv->cfg.services[i]), now);
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
}

int
docker_unlisted_services(char *name, size_t namelen)
{
	if (!dk.reachable)
		return -1;
	snprintf(name, namelen, "%s", dk.nunlisted > 0 ? dk.unlisted : "");
	return dk.nunlisted;
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
docker_services_ready(char *why, size_t whylen)
{
	const struct docker_container	*c;
	const char			*svc;
	size_t				 i;

	if (!dk.reachable) {
		snprintf(why, whylen, "the Docker engine is unreachable%s%s",
		    dk.error[0] != '\0' ? ": " : "", dk.error);
		return 0;
	}
	for (i = 0; i < benv->cfg.nservices; i++) {
		svc = benv->cfg.services[i];
		if ((c = service_container(svc)) == NULL) {
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

/*
 * A fingerprint of the listed services' containers (id, start time, restart
 * count): it changes when one is recreated, restarts, or goes.
 */
unsigned long long
docker_services_fingerprint(void)
{
	const struct docker_container	*c;
	unsigned long long		 h = 14695981039346656037ULL;	/* FNV-1a */
	char				 buf[DOCKER_ID_LEN + 64];
	size_t				 i, k, n;

	for (i = 0; i < benv->cfg.nservices; i++) {
		c = service_container(benv->cfg.services[i]);
		n = (size_t)snprintf(buf, sizeof(buf), "%s %lld %lld;",
		    c != NULL ? c->id : "-", c != NULL ? c->started_ms : 0,
		    c != NULL ? c->restarts : 0);
		for (k = 0; k < n && k < sizeof(buf); k++) {
			h ^= (unsigned char)buf[k];
			h *= 1099511628211ULL;
		}
	}
	return h;
}

static void
engine_publish(void)
{
	yajl_gen	g = events_begin(EV_ENGINE_STATE);

	engine_gen(g, json_now_ms());
	events_publish(g);
}

/*
 * A service restarting over and over (its container's RestartCount going up
 * DOCKER_RESTART_LOOP times within DOCKER_RESTART_WINDOW) is critical.
 */
static void
restart_loop_check(size_t i, const struct docker_container *c, long long now)
{
	long long	more;

	if (c == NULL)
		return;
	if (strcmp(dk.loop[i].id, c->id) != 0) {	/* another container */
		snprintf(dk.loop[i].id, sizeof(dk.loop[i].id), "%s", c->id);
		dk.loop[i].restarts = c->restarts;
		return;
	}
	if (c->restarts <= dk.loop[i].restarts)
		return;
	more = c->restarts - dk.loop[i].restarts;
	dk.loop[i].restarts = c->restarts;
	if (now - dk.loop[i].window_ms > DOCKER_RESTART_WINDOW * 1000LL) {
		dk.loop[i].window_ms = now;
		dk.loop[i].count = 0;
		dk.loop[i].notified = 0;
	}
	dk.loop[i].count += more;
	if (dk.loop[i].count >= DOCKER_RESTART_LOOP && !dk.loop[i].notified) {
		dk.loop[i].notified = 1;
		notify_critical_service("service.restarting",
		    benv->cfg.services[i], "service %s restarted %lld times "
		    "within %d s (now %s, last exit code %lld)",
		    benv->cfg.services[i], dk.loop[i].count, DOCKER_RESTART_WINDOW,
		    docker_state_name(c->state), c->exit_code);
	}
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
	    (json_now_ms() - dk.down_since_ms + 500) / 1000,
	    dk.error[0] != '\0' ? dk.error : "no answer yet");
}

/* the engine went away (or was never there): start counting */
static void
down_begin(void)
{
	struct timeval	tv = { benv->cfg.notify_docker_down, 0 };

	dk.down_since_ms = json_now_ms();
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
		    (json_now_ms() - dk.down_since_ms + 500) / 1000);
	dk.down_notified = 0;
}

/* service.state for every service whose container or state changed */
static void
services_publish(void)
{
	const struct docker_container	*c;
	long long			 now = json_now_ms();
	char				 key[DOCKER_ID_LEN + DOCKER_NAME_MAX + 128], *copy;
	size_t				 i;
	yajl_gen			 g;

	for (i = 0; i < benv->cfg.nservices && i < CONFIG_MAX_SERVICES; i++) {
		c = service_container(benv->cfg.services[i]);
		restart_loop_check(i, c, now);
		if (c == NULL)
			snprintf(key, sizeof(key), "missing");
		else
			snprintf(key, sizeof(key), "%s %d %d %lld %lld %lld %s",
			    c->id, (int)c->state, (int)c->health, c->started_ms,
			    c->exit_code, c->restarts, c->image);
		if (dk.published[i] != NULL && strcmp(dk.published[i], key) == 0)
			continue;
		if ((copy = strdup(key)) == NULL)
			fatal("%s", __func__);
		free(dk.published[i]);
		dk.published[i] = copy;
		log_debug("service %s: %s", benv->cfg.services[i],
		    c != NULL ? docker_state_name(c->state) : "missing");
		g = events_begin(EV_SERVICE_STATE);
		service_gen(g, benv->cfg.services[i], c, now);
		events_publish(g);
	}
}

/* ---------------------------------------------------------- the sync -- */

static void
sync_schedule(int delay_ms)
{
	struct timeval	tv = { 0, delay_ms * 1000 };

	if (!evtimer_pending(dk.resync_ev, NULL))
		evtimer_add(dk.resync_ev, &tv);
}

static void
sync_timer(evutil_socket_t fd, short what, void *arg)
{
	sync_start();
}

static void
mark_dirty(const char *id)
{
	size_t	i;

	for (i = 0; i < dk.ndirty; i++)
		if (strcmp(dk.dirty[i], id) == 0)
			return;
	if (dk.ndirty >= DOCKER_MAX_DIRTY) {
		dk.sync_full = 1;	/* too many to name: inspect all */
		return;
	}
	memcpy(dk.dirty[dk.ndirty++], id, DOCKER_ID_LEN + 1);
}

/* from within curl's write callback: no curl calls here */
static void
event_line(const char *line, size_t len)
{
	struct docker_event	ev;
	char			err[DOCKER_ERR_LEN];

	if (docker_parse_event(line, len, benv->cfg.compose_project, &ev, err,
	    sizeof(err)) == -1) {
		log_warnx("%s: Docker sent a bad event (%s); resyncing", __func__, err);
		dk.sync_full = 1;
		sync_schedule(DOCKER_RESYNC_DELAY_MS);
		return;
	}
	if (ev.kind == DE_IGNORE)
		return;
	log_debug("docker event: %s %.12s (%s)", ev.action, ev.id,
	    ev.service[0] != '\0' ? ev.service : "-");
	mark_dirty(ev.id);
	sync_schedule(DOCKER_RESYNC_DELAY_MS);
}

static int
syncing_has(const char *id)
{
	size_t	i;

	for (i = 0; i < dk.nsyncing; i++)
		if (strcmp(dk.syncing[i], id) == 0)
			return 1;
	return 0;
}

static void
sync_reset(void)
{
	free(dk.new_cs);
	dk.new_cs = NULL;
	dk.nnew = 0;
	dk.pending = 0;
	dk.sync_running = 0;
}

static void
sync_commit(void)
{
	size_t	i, n = 0;
	int	first = !dk.reachable;

	/* drop what vanished between the list and its inspect */
	for (i = 0; i < dk.nnew; i++)
		if (dk.new_cs[i].id[0] != '\0')
			dk.new_cs[n++] = dk.new_cs[i];
	free(dk.cs);
	dk.cs = dk.new_cs;
	dk.ncs = n;
	dk.new_cs = NULL;
	dk.nnew = 0;
	dk.nunlisted = dk.new_nunlisted;
	memcpy(dk.unlisted, dk.new_unlisted, sizeof(dk.unlisted));
	dk.sync_running = 0;
	dk.last_ok_ms = json_now_ms();
	if (first) {
		dk.reachable = 1;
		down_end();
		dk.error[0] = '\0';
		dk.backoff = DOCKER_BACKOFF_MIN;
		log_info("Docker engine %s reachable (API %s): %zu containers of "
		    "project %s", dk.engine, dk.api, dk.ncs,
		    benv->cfg.compose_project);
		engine_publish();
	}
	services_publish();
	if (dk.sync_again) {
		dk.sync_again = 0;
		sync_schedule(0);
	}
}

static void
sync_inspected(struct dreq *r)
{
	static const long	 ok[] = { 200, 0 };
	struct docker_container	*c = &dk.new_cs[r->index];
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
	if (--dk.pending == 0)
		sync_commit();
}

static void
sync_listed(struct dreq *r)
{
	const struct docker_container	*old;
	struct docker_container		*cs, *c;
	char				 err[DOCKER_ERR_LEN], path[DOCKER_URL_MAX];
	size_t				 n, i, j, keep = 0;
	struct dreq			*ir;

	if (dreq_check(r, ok_200) == -1) {
		engine_lost("%s", r->err);
		return;
	}
	if (docker_parse_list(r->buf, r->len, benv->cfg.compose_project, &cs, &n,
	    err, sizeof(err)) == -1) {
		engine_lost("the engine's reply is malformed: %s", err);
		return;
	}
	/* the services that are not listed: a stack rebuild must spare them */
	dk.new_nunlisted = 0;
	for (i = 0; i < n; i++) {
		if (cs[i].service[0] == '\0' ||
		    config_has_service(&benv->cfg, cs[i].service))
			continue;
		for (j = 0; j < i; j++)
			if (strcmp(cs[j].service, cs[i].service) == 0)
				break;
		if (j < i)
			continue;	/* counted */
		if (dk.new_nunlisted++ == 0)
			snprintf(dk.new_unlisted, sizeof(dk.new_unlisted), "%s",
			    cs[i].service);
	}
	/* keep the containers of listed services, not "compose run" ones */
	for (i = 0; i < n; i++)
		if (!cs[i].oneoff && config_has_service(&benv->cfg, cs[i].service))
			cs[keep++] = cs[i];
	dk.new_cs = cs;
	dk.nnew = keep;
	dk.pending = 0;
	for (i = 0; i < keep; i++) {
		c = &cs[i];
		old = find_container(dk.cs, dk.ncs, c->id);
		if (!dk.sync_full_now && old != NULL && old->inspected &&
		    old->state == c->state && !syncing_has(c->id)) {
			*c = *old;
			continue;
		}
		api_path(path, sizeof(path), "/containers/%s/json", c->id);
		ir = dreq_start(DR_CONNECT, 0, path, DOCKER_REQUEST_TIMEOUT,
		    sync_inspected, NULL);
		ir->index = i;
		dk.pending++;
	}
	if (dk.pending == 0)
		sync_commit();
}

static void
sync_start(void)
{
	char	path[DOCKER_URL_MAX], *q;

	if (!dk.stream_up)
		return;		/* the stream's (re)connection resyncs */
	if (dk.sync_running) {
		dk.sync_again = 1;
		return;
	}
	dk.sync_running = 1;
	/* the containers named by events so far: this sync inspects them */
	memcpy(dk.syncing, dk.dirty, sizeof(dk.dirty));
	dk.nsyncing = dk.ndirty;
	dk.ndirty = 0;
	dk.sync_full_now = dk.sync_full;
	dk.sync_full = 0;
	q = filter_query(NULL, 0);
	api_path(path, sizeof(path), "/containers/json?all=1&%s", q);
	free(q);
	dreq_start(DR_CONNECT, 0, path, DOCKER_REQUEST_TIMEOUT, sync_listed, NULL);
}

/* ---------------------------------------------------- the connection -- */

static void
engine_lost(const char *fmt, ...)
{
	struct dreq	*r, *next;
	struct timeval	 tv;
	char		 msg[DOCKER_ERR_LEN];
	va_list		 ap;
	int		 was = dk.reachable;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (r = TAILQ_FIRST(&dk.reqs); r != NULL; r = next) {
		next = TAILQ_NEXT(r, entry);
		if (r->kind == DR_CONNECT)
			dreq_cancel(r);
	}
	dk.events = NULL;
	dk.stream_up = 0;
	sync_reset();
	dk.sync_again = 0;
	if (was)
		dk.last_ok_ms = json_now_ms();	/* current until now */
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
	dreq_check(r, ok_200);
	engine_lost("%s", r->err[0] != '\0' ? r->err : "the events stream ended");
}

static void
version_done(struct dreq *r)
{
	struct docker_version	 v;
	char			 err[DOCKER_ERR_LEN], path[DOCKER_URL_MAX], *q;
	int			 minor;

	if (dreq_check(r, ok_200) == -1) {
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
	snprintf(dk.api, sizeof(dk.api), "%d.%d", DOCKER_API_MAJOR, minor);
	snprintf(dk.engine, sizeof(dk.engine), "%s", v.engine);
	q = filter_query(NULL, 1);
	api_path(path, sizeof(path), "/events?%s", q);
	free(q);
	dk.events = dreq_start(DR_CONNECT, 0, path, 0, events_ended, NULL);
	dk.events->stream = 1;
	curl_easy_setopt(dk.events->easy, CURLOPT_HEADERFUNCTION, dreq_header);
	curl_easy_setopt(dk.events->easy, CURLOPT_HEADERDATA, dk.events);
}

static void
docker_connect(evutil_socket_t fd, short what, void *arg)
{
	log_debug("connecting to the Docker engine at %s", benv->cfg.docker_socket);
	dreq_start(DR_CONNECT, 0, "/version", DOCKER_REQUEST_TIMEOUT, version_done,
	    NULL);
}

/* ------------------------------------------------------- the actions -- */

const char *
docker_act_name(enum docker_act act)
{
	switch (act) {
	case DA_START:
		return "start";
	case DA_STOP:
		return "stop";
	case DA_RESTART:
	default:
		return "restart";
	}
}

static void
act_audit(struct docker_act_run *a, const struct docker_container *c,
    const char *result)
{
	yajl_gen	 g = json_gen_new();
	char		 kind[32], *json;

	yajl_gen_map_open(g);
	json_kint(g, "job", a->j->id);
	json_kstr(g, "by", a->j->by);
	json_kstr(g, "service", a->service);
	json_kstr(g, "container", c->name[0] != '\0' ? c->name : NULL);
	json_kstr(g, "id", c->id);
	json_kstr(g, "result", result);
	yajl_gen_map_close(g);
	json = json_gen_take(g, NULL);
	yajl_gen_free(g);
	snprintf(kind, sizeof(kind), "docker.%s", docker_act_name(a->act));
	audit_record(kind, json);
	free(json);
}

static void
act_free(struct docker_act_run *a)
{
	LIST_REMOVE(a, entry);
	free(a->service);
	free(a->cs);
	free(a);
}

static void
act_finish(struct docker_act_run *a)
{
	void		(*done)(struct job *, int, const char *) = a->done;
	struct job	*j = a->j;
	char		 err[DOCKER_ERR_LEN];
	int		 ok = !a->failed;

	snprintf(err, sizeof(err), "%s", a->err);
	act_free(a);
	done(j, ok, ok ? NULL : err);
}

static void	act_next(struct docker_act_run *a);

static void
act_posted(struct dreq *r)
{
	static const long		 ok[] = { 204, 304, 0 };
	struct docker_act_run		*a = r->arg;
	const struct docker_container	*c = &a->cs[a->idx];
	static const char *const	 did[] = {
		[DA_START] = "started", [DA_STOP] = "stopped",
		[DA_RESTART] = "restarted"
	};

	a->req = NULL;
	if (dreq_check(r, ok) == -1) {
		job_log(a->j, "%s: %s failed: %s", a->service, docker_act_name(a->act),
		    r->err);
		act_audit(a, c, r->err);
		if (!a->failed)
			msgf(a->err, sizeof(a->err), "%s: %s", a->service, r->err);
		a->failed = 1;
	} else {
		job_log(a->j, "%s: %s %s%s", a->service, c->name, did[a->act],
		    r->status == 304 ? " already" : "");
		act_audit(a, c, r->status == 304 ? "unchanged" : "ok");
	}
	a->idx++;
	act_next(a);
}

static void
act_next(struct docker_act_run *a)
{
	const struct docker_container	*c;
	char				 path[DOCKER_URL_MAX];
	long				 timeout = DOCKER_REQUEST_TIMEOUT;
	static const char *const	 doing[] = {
		[DA_START] = "starting", [DA_STOP] = "stopping",
		[DA_RESTART] = "restarting"
	};

	if (a->idx >= a->ncs) {
		act_finish(a);
		return;
	}
	c = &a->cs[a->idx];
	switch (a->act) {
	case DA_START:
		api_path(path, sizeof(path), "/containers/%s/start", c->id);
		break;
	case DA_STOP:
	case DA_RESTART:
		api_path(path, sizeof(path), "/containers/%s/%s?t=%d", c->id,
		    docker_act_name(a->act), benv->cfg.stop_timeout);
		timeout += benv->cfg.stop_timeout;
		break;
	}
	job_log(a->j, "%s: %s %s (%.*s)", a->service, doing[a->act],
	    c->name, DOCKER_SHORT_ID, c->id);
	a->req = dreq_start(DR_ACTION, 1, path, timeout, act_posted, a);
}

static void
act_listed(struct dreq *r)
{
	struct docker_act_run	*a = r->arg;
	struct docker_container	*cs;
	char			 err[DOCKER_ERR_LEN];
	size_t			 n, i, keep = 0;

	a->req = NULL;
	if (dreq_check(r, ok_200) == -1) {
		msgf(a->err, sizeof(a->err), "cannot list the containers of %s: %s",
		    a->service, r->err);
		a->failed = 1;
		act_finish(a);
		return;
	}
	if (docker_parse_list(r->buf, r->len, benv->cfg.compose_project, &cs, &n,
	    err, sizeof(err)) == -1) {
		msgf(a->err, sizeof(a->err), "the engine's reply is malformed: %s",
		    err);
		a->failed = 1;
		act_finish(a);
		return;
	}
	for (i = 0; i < n; i++)
		if (!cs[i].oneoff && strcmp(cs[i].service, a->service) == 0)
			cs[keep++] = cs[i];
	a->cs = cs;
	a->ncs = keep;
	if (keep == 0) {
		if (a->act == DA_STOP) {
			job_log(a->j, "%s: no container, nothing to stop", a->service);
		} else {
			msgf(a->err, sizeof(a->err), "service %s has no container "
			    "(service.rebuild creates it)", a->service);
			job_log(a->j, "%s", a->err);
			a->failed = 1;
		}
	}
	act_next(a);
}

struct docker_act_run *
docker_service_act(struct job *j, const char *service, enum docker_act act,
    void (*done)(struct job *, int, const char *))
{
	struct docker_act_run	*a;
	char			 path[DOCKER_URL_MAX], *q;

	if ((a = calloc(1, sizeof(*a))) == NULL ||
	    (a->service = strdup(service)) == NULL)
		fatal("%s", __func__);
	a->j = j;
	a->act = act;
	a->done = done;
	LIST_INSERT_HEAD(&dk.acts, a, entry);
	/* the engine's view now, not memory's: the ids to act on */
	q = filter_query(service, 0);
	api_path(path, sizeof(path), "/containers/json?all=1&%s", q);
	free(q);
	a->req = dreq_start(DR_ACTION, 0, path, DOCKER_REQUEST_TIMEOUT, act_listed, a);
	return a;
}

void
docker_act_cancel(struct docker_act_run *a)
{
	if (a->req != NULL)
		dreq_cancel(a->req);
	act_free(a);
}

/* ------------------------------------------------------------ the ops -- */

int
op_services_list(struct ctl_request *cr, yajl_gen g, struct proto_error *err)
{
	docker_services_gen(g);
	return CTL_DONE;
}

/* what an op needs before it is queued: the engine, and compose for rebuilds */
static int
op_available(enum proto_op_id op, struct proto_error *err)
{
	char	why[DOCKER_ERR_LEN];

	if ((op == OP_SERVICE_REBUILD || op == OP_STACK_REBUILD) &&
	    compose_available(why, sizeof(why)) == -1) {
		proto_seterr(err, PE_UNAVAILABLE, "no compose command: %s", why);
		return -1;
	}
	if (docker_engine_down(why, sizeof(why))) {
		proto_seterr(err, PE_UNAVAILABLE, "the Docker engine is unreachable: %s",
		    why);
		return -1;
	}
	return 0;
}

int
op_service_action(struct ctl_request *cr, yajl_gen g, struct proto_error *err)
{
	const char	*service = proto_arg_str(&cr->req, "service");

	/* the table checked its characters; davit checks that it manages it */
	if (service == NULL || !config_has_service(&benv->cfg, service)) {
		proto_seterr(err, PE_NOT_ALLOWED, "service \"%s\" is not in "
		    "DAVIT_SERVICES", service != NULL ? service : "");
		return CTL_FAIL;
	}
	if (op_available(cr->req.op->id, err) == -1)
		return CTL_FAIL;
	return jobs_submit(&cr->req, docker_job_start, NULL, NULL, g, err);
}

int
op_stack_action(struct ctl_request *cr, yajl_gen g, struct proto_error *err)
{
	if (op_available(cr->req.op->id, err) == -1)
		return CTL_FAIL;
	return jobs_submit(&cr->req, docker_job_start, NULL, NULL, g, err);
}

/* --------------------------------------------------------- lifecycle -- */

void
docker_init(void)
{
	struct timeval	tv = { 0, 0 };
	CURLcode	rc;

	if ((rc = curl_global_init(CURL_GLOBAL_DEFAULT)) != CURLE_OK)
		fatalx("%s: curl_global_init: %s", __func__, curl_easy_strerror(rc));
	TAILQ_INIT(&dk.reqs);
	LIST_INIT(&dk.acts);
	dk.backoff = DOCKER_BACKOFF_MIN;
	if ((dk.multi = curl_multi_init()) == NULL)
		fatalx("%s: curl_multi_init", __func__);
	curl_multi_setopt(dk.multi, CURLMOPT_SOCKETFUNCTION, curl_socket_cb);
	curl_multi_setopt(dk.multi, CURLMOPT_TIMERFUNCTION, curl_timer_cb);
	curl_multi_setopt(dk.multi, CURLMOPT_MAX_HOST_CONNECTIONS,
	    (long)DOCKER_MAX_CONNECTIONS);
	if ((dk.curl_timer = evtimer_new(benv->base, curl_timeout, NULL)) == NULL ||
	    (dk.reconnect_ev = evtimer_new(benv->base, docker_connect, NULL)) == NULL ||
	    (dk.resync_ev = evtimer_new(benv->base, sync_timer, NULL)) == NULL ||
	    (dk.down_ev = evtimer_new(benv->base, down_timer, NULL)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	evtimer_add(dk.reconnect_ev, &tv);
	down_begin();	/* until the first sync */
	compose_detect();
	log_debug("docker: socket %s, project %s", benv->cfg.docker_socket,
	    benv->cfg.compose_project);
}

void
docker_shutdown(void)
{
	struct dreq		*r;
	struct docker_act_run	*a;
	size_t			 i;

	compose_shutdown();
	while ((a = LIST_FIRST(&dk.acts)) != NULL)
		docker_act_cancel(a);
	while ((r = TAILQ_FIRST(&dk.reqs)) != NULL)
		dreq_cancel(r);
	dk.events = NULL;
	if (dk.multi != NULL)
		curl_multi_cleanup(dk.multi);
	dk.multi = NULL;
	if (dk.curl_timer != NULL)
		event_free(dk.curl_timer);
	if (dk.reconnect_ev != NULL)
		event_free(dk.reconnect_ev);
	if (dk.resync_ev != NULL)
		event_free(dk.resync_ev);
	if (dk.down_ev != NULL)
		event_free(dk.down_ev);
	dk.curl_timer = dk.reconnect_ev = dk.resync_ev = dk.down_ev = NULL;
	sync_reset();
	free(dk.cs);
	dk.cs = NULL;
	dk.ncs = 0;
	for (i = 0; i < CONFIG_MAX_SERVICES; i++) {
		free(dk.published[i]);
		dk.published[i] = NULL;
	}
	curl_global_cleanup();
}
