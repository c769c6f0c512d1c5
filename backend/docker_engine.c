/*
 * The Docker Engine API transport: requests over the engine's Unix socket
 * through libcurl's multi interface driven by the libevent loop (nothing
 * here blocks the loop).  Replies are bounded (DOCKER_MAX_REPLY, a stream's
 * lines DOCKER_MAX_EVENT_LINE); what they mean is docker_state.c's and
 * docker_act.c's business.
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
#include "backend/docker_engine.h"
#include "common/json.h"
#include "common/log.h"
#include "common/text.h"

#define DOCKER_URL_BASE		"http://docker"	/* the host part is ignored */
#define DOCKER_API_FALLBACK	"1.25"	/* DOCKER_API_MINOR_MIN */

TAILQ_HEAD(dreq_list, dreq);

static struct {
	CURLM			*multi;
	struct event		*curl_timer;
	struct dreq_list	 reqs;
	char			 api[16];	/* "1.41": the negotiated version */
	int			 running;	/* curl's count */
} de;

const long	dreq_ok_200[] = { 200, 0 };

static void	docker_check_multi(void);


static void
curl_event(evutil_socket_t fd, short what, void *arg)
{
	int	action = 0;

	if (what & EV_READ)
		action |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		action |= CURL_CSELECT_OUT;
	curl_multi_socket_action(de.multi, fd, action, &de.running);
	docker_check_multi();
}

static void
curl_timeout(evutil_socket_t fd, short what, void *arg)
{
	curl_multi_socket_action(de.multi, CURL_SOCKET_TIMEOUT, 0, &de.running);
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
			curl_multi_assign(de.multi, s, NULL);
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
		curl_multi_assign(de.multi, s, ev);
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
		evtimer_del(de.curl_timer);
		return 0;
	}
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	evtimer_add(de.curl_timer, &tv);
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

void
dreq_cancel(struct dreq *r)
{
	TAILQ_REMOVE(&de.reqs, r, entry);
	curl_multi_remove_handle(de.multi, r->easy);
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

/* a stream: one JSON object per line */
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
			r->on_line(r->buf, r->len);
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

	if (n <= 2 && (ptr[0] == '\r' || ptr[0] == '\n')) {
		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
		if (code == 200 && !r->up) {
			r->up = 1;
			r->on_up(r);
		}
	}
	return n;
}

struct dreq *
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
	if (path[0] == '/' && path[1] == 'v' &&
	    (slash = strchr(path + 2, '/')) != NULL)
		pathonly = slash;
	snprintf(r->what, sizeof(r->what), "%s %.*s", post == DREQ_DELETE ?
	    "DELETE" : post ? "POST" : "GET",
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
	if (post == DREQ_DELETE)
		curl_easy_setopt(r->easy, CURLOPT_CUSTOMREQUEST, "DELETE");
	else if (post) {
		curl_easy_setopt(r->easy, CURLOPT_POST, 1L);
		curl_easy_setopt(r->easy, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(r->easy, CURLOPT_POSTFIELDSIZE, 0L);
	}
	if (done == NULL)
		fatalx("%s: no callback", __func__);
	TAILQ_INSERT_TAIL(&de.reqs, r, entry);
	if ((mc = curl_multi_add_handle(de.multi, r->easy)) != CURLM_OK)
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

	while ((msg = curl_multi_info_read(de.multi, &left)) != NULL) {
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
		TAILQ_REMOVE(&de.reqs, r, entry);
		curl_multi_remove_handle(de.multi, r->easy);
		r->done(r);
		dreq_free(r);
	}
}

int
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

void
api_path(char *buf, size_t len, const char *fmt, ...)
{
	char	rest[DOCKER_URL_MAX];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(rest, sizeof(rest), fmt, ap);
	va_end(ap);
	/* not negotiated yet (an action while connecting): the oldest we speak */
	if ((size_t)snprintf(buf, len, "/v%s%s", de.api[0] != '\0' ? de.api :
	    DOCKER_API_FALLBACK, rest) >= len)
		fatalx("%s: path too long", __func__);
}

/* filters={"label":[...]}, and the events' types and actions for a stream */
char *
filter_query(const char *project, const char *service, int events)
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
	/* the label alone matches any value: every compose project */
	if (project != NULL)
		snprintf(label, sizeof(label), "%s=%s", LABEL_PROJECT, project);
	else
		snprintf(label, sizeof(label), "%s", LABEL_PROJECT);
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

void
dreq_stream(struct dreq *r, void (*on_line)(const char *, size_t),
    void (*on_up)(struct dreq *))
{
	r->stream = 1;
	r->on_line = on_line;
	r->on_up = on_up;
	curl_easy_setopt(r->easy, CURLOPT_HEADERFUNCTION, dreq_header);
	curl_easy_setopt(r->easy, CURLOPT_HEADERDATA, r);
}

void
dreq_cancel_kind(enum dreq_kind kind)
{
	struct dreq	*r, *next;

	for (r = TAILQ_FIRST(&de.reqs); r != NULL; r = next) {
		next = TAILQ_NEXT(r, entry);
		if (r->kind == kind)
			dreq_cancel(r);
	}
}

void
dreq_cancel_arg(void *arg)
{
	struct dreq	*r, *next;

	for (r = TAILQ_FIRST(&de.reqs); r != NULL; r = next) {
		next = TAILQ_NEXT(r, entry);
		if (r->arg == arg)
			dreq_cancel(r);
	}
}

void
docker_engine_set_api(const char *api)
{
	snprintf(de.api, sizeof(de.api), "%s", api);
}

const char *
docker_engine_api(void)
{
	return de.api;
}

/* --------------------------------------------------------- lifecycle -- */

void
docker_engine_init(void)
{
	TAILQ_INIT(&de.reqs);
	if ((de.multi = curl_multi_init()) == NULL)
		fatalx("%s: curl_multi_init", __func__);
	curl_multi_setopt(de.multi, CURLMOPT_SOCKETFUNCTION, curl_socket_cb);
	curl_multi_setopt(de.multi, CURLMOPT_TIMERFUNCTION, curl_timer_cb);
	curl_multi_setopt(de.multi, CURLMOPT_MAX_HOST_CONNECTIONS,
	    (long)DOCKER_MAX_CONNECTIONS);
	if ((de.curl_timer = evtimer_new(benv->base, curl_timeout, NULL)) == NULL)
		fatalx("%s: evtimer_new", __func__);
}

void
docker_engine_shutdown(void)
{
	struct dreq	*r;

	while ((r = TAILQ_FIRST(&de.reqs)) != NULL)
		dreq_cancel(r);
	if (de.multi != NULL)
		curl_multi_cleanup(de.multi);
	de.multi = NULL;
	if (de.curl_timer != NULL)
		event_free(de.curl_timer);
	de.curl_timer = NULL;
}
