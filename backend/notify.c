/*
 * Notifications: on a critical failure, POST a small JSON document to
 * DAVIT_NOTIFY_URL.  The body carries both "text" (Slack) and "content"
 * (Discord) so that either kind of incoming webhook shows it.
 *
 * Sending never blocks the event loop or a deploy: messages go into a
 * bounded queue served by one worker thread (libcurl's easy interface, with
 * timeouts), each retried with backoff.  A kind of message, for one service
 * (a failed job of kind K for service S is counted apart from K for another
 * service, or for the whole stack), is sent at most once per
 * NOTIFY_MIN_INTERVAL; what is held back is sent when the interval is over,
 * its newest text with the count of the others.
 *
 * Projects: a project's notification names it and goes to its own
 * DAVIT_NOTIFY_URL, else to the main file's; the rate limit counts each
 * project apart.  What concerns no project (the Docker engine) names the
 * main configuration's compose project, as before, and goes to the main
 * URL.  Each queued message carries its URL.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "backend/backend.h"
#include "backend/notify.h"
#include "backend/project.h"
#include "common/clock.h"
#include "common/json.h"
#include "common/log.h"

#define NOTIFY_QUEUE_MAX	32
#define NOTIFY_TEXT_MAX		1024
#define NOTIFY_TRIES		4	/* sends of one message at most */
#define NOTIFY_TIMEOUT		10	/* seconds for one send */
#define NOTIFY_MIN_INTERVAL	60	/* seconds between two of one kind */
#define NOTIFY_KEYS		128	/* kinds x services remembered */
#define NOTIFY_KIND_MAX		32
#define NOTIFY_SERVICE_MAX	64	/* CONFIG_MAX_SERVICE_NAME + 1 */

struct notify_msg {
	char	 kind[32];
	char	*url;
	char	*body;
};

static pthread_t		 notify_thread;
static pthread_mutex_t		 notify_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t		 notify_cond = PTHREAD_COND_INITIALIZER;	/* notify_init: CLOCK_MONOTONIC */
static struct notify_msg	 notify_queue[NOTIFY_QUEUE_MAX];
static size_t			 notify_head, notify_count;
static int			 notify_running, notify_stop;
static long long		 notify_sent, notify_failed;

/*
 * per kind and service: when it was last sent, what was held back since
 * (loop thread only)
 */
struct notify_key {
	char		project[PROTO_PROJECT_NAME_MAX + 1];	/* "" for none */
	char		kind[NOTIFY_KIND_MAX];
	char		service[NOTIFY_SERVICE_MAX];	/* "" for none */
	time_t		last;
	unsigned	held;
	char		held_text[NOTIFY_TEXT_MAX];	/* the newest held back */
};
static struct notify_key	 notify_keys[NOTIFY_KEYS];
static struct event		*notify_flush_ev;	/* sends what was held back */

static size_t
discard_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
	return size * nmemb;
}

/* a send in progress ends at once when davit shuts down */
static int
notify_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	return __atomic_load_n(&notify_stop, __ATOMIC_RELAXED) ? 1 : 0;
}

/* waits secs between two tries; 1 when davit shuts down meanwhile */
static int
notify_backoff(unsigned secs)
{
	struct timespec	until;
	int		stop;

	long long	ms = clock_mono_ms() + secs * 1000LL;

	/* notify_cond waits on the monotonic clock (notify_init) */
	until.tv_sec = ms / 1000;
	until.tv_nsec = (ms % 1000) * 1000000;
	pthread_mutex_lock(&notify_lock);
	while (!notify_stop &&
	    pthread_cond_timedwait(&notify_cond, &notify_lock, &until) == 0)
		;
	stop = notify_stop;
	pthread_mutex_unlock(&notify_lock);
	return stop;
}

/* seconds that only go forward, for the rate limit */
static time_t
notify_clock(void)
{
	return (time_t)(clock_mono_ms() / 1000) + 1;	/* never 0: 0 means "never sent" */
}

/* one attempt; 0 when the receiver took it (2xx) */
static int
notify_post(CURL *curl, const char *url, const char *body, char *why,
    size_t whylen)
{
	struct curl_slist	*headers = NULL;
	long			 code = 0;
	CURLcode		 rc;

	headers = curl_slist_append(headers, "Content-Type: application/json");
	curl_easy_reset(curl);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)NOTIFY_TIMEOUT);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "davit/" DAVIT_VERSION);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard_body);
	curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, notify_progress);
	rc = curl_easy_perform(curl);
	curl_slist_free_all(headers);
	if (rc != CURLE_OK) {
		snprintf(why, whylen, "%s", curl_easy_strerror(rc));
		return -1;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
	if (code < 200 || code > 299) {
		snprintf(why, whylen, "HTTP %ld", code);
		return -1;
	}
	return 0;
}

static void *
notify_worker(void *arg)
{
	struct notify_msg	 m;
	CURL			*curl;
	char			 why[CURL_ERROR_SIZE + 32];
	int			 try;

	if ((curl = curl_easy_init()) == NULL) {
		log_warnx("%s: curl_easy_init failed; notifications are off", __func__);
		return NULL;
	}
	for (;;) {
		pthread_mutex_lock(&notify_lock);
		while (notify_count == 0 && !notify_stop)
			pthread_cond_wait(&notify_cond, &notify_lock);
		if (notify_stop) {
			pthread_mutex_unlock(&notify_lock);
			break;
		}
		m = notify_queue[notify_head];
		notify_head = (notify_head + 1) % NOTIFY_QUEUE_MAX;
		notify_count--;
		pthread_mutex_unlock(&notify_lock);

		for (try = 1; try <= NOTIFY_TRIES; try++) {
			if (notify_post(curl, m.url, m.body, why, sizeof(why)) == 0) {
				log_info("notification %s sent", m.kind);
				__atomic_add_fetch(&notify_sent, 1, __ATOMIC_RELAXED);
				break;
			}
			log_warnx("notification %s: try %d of %d failed: %s",
			    m.kind, try, NOTIFY_TRIES, why);
			if (try == NOTIFY_TRIES) {
				__atomic_add_fetch(&notify_failed, 1, __ATOMIC_RELAXED);
				break;
			}
			if (notify_backoff(1u << (try - 1)))	/* 1, 2, 4 s */
				break;
		}
		free(m.body);
		free(m.url);
	}
	curl_easy_cleanup(curl);
	return NULL;
}

/* the flush runs when the first held-back key's interval is over */
static void
notify_flush_arm(void)
{
	struct timeval	tv = { 0, 0 };
	time_t		now = notify_clock(), due = 0, d;
	size_t		i;

	if (notify_flush_ev == NULL)
		return;
	for (i = 0; i < NOTIFY_KEYS; i++) {
		if (notify_keys[i].held == 0)
			continue;
		d = notify_keys[i].last + NOTIFY_MIN_INTERVAL;
		if (due == 0 || d < due)
			due = d;
	}
	if (due == 0)
		return;
	tv.tv_sec = due > now ? due - now : 0;
	evtimer_add(notify_flush_ev, &tv);	/* replaces a pending one */
}

struct notify_to {
	const char	*project;	/* "" for none */
	const char	*label;		/* shown in the text: the project's name */
	const char	*url;
};
static void	notify_send(const struct notify_to *, const char *, const char *,
		    const char *, unsigned);
static void	notify_to_key(struct notify_to *, const struct notify_key *);

/*
 * The slot of kind and service: the one they had, else a free one, else the
 * one sent longest ago (what it held back is sent first, not lost).
 */
static struct notify_key *
notify_key_get(const struct notify_to *to, const char *kind,
    const char *service)
{
	struct notify_key	*k, *victim = NULL;
	struct notify_to	 kto;
	size_t			 i;

	for (i = 0; i < NOTIFY_KEYS; i++) {
		k = &notify_keys[i];
		if (k->last != 0 && strcmp(k->kind, kind) == 0 &&
		    strcmp(k->service, service) == 0 &&
		    strcmp(k->project, to->project) == 0)
			return k;
		if (victim == NULL || (victim->held > 0 && k->held == 0) ||
		    ((victim->held > 0) == (k->held > 0) && k->last < victim->last))
			victim = k;
	}
	k = victim;
	if (k->held > 0) {
		notify_to_key(&kto, k);
		notify_send(&kto, k->kind, k->service, k->held_text, k->held - 1);
	}
	memset(k, 0, sizeof(*k));
	snprintf(k->project, sizeof(k->project), "%s", to->project);
	snprintf(k->kind, sizeof(k->kind), "%s", kind);
	snprintf(k->service, sizeof(k->service), "%s", service);
	return k;
}

/*
 * 1 when this kind may be sent now for this service.  Otherwise it is held
 * back: counted, its text kept, and sent (with the count) once the interval
 * is over.
 */
static int
notify_rate_ok(const struct notify_to *to, const char *kind,
    const char *service, const char *text, unsigned *held)
{
	time_t			 now = notify_clock();
	struct notify_key	*k = notify_key_get(to, kind, service);

	if (k->last != 0 && now - k->last < NOTIFY_MIN_INTERVAL) {
		k->held++;
		snprintf(k->held_text, sizeof(k->held_text), "%s", text);
		notify_flush_arm();
		return 0;
	}
	*held = k->held;
	k->held = 0;
	k->last = now;
	return 1;
}

/* where a key's held-back message goes: its project's name and URL now */
static void
notify_to_key(struct notify_to *to, const struct notify_key *k)
{
	struct project	*p = k->project[0] != '\0' ? project_find(k->project) :
			    NULL;

	to->project = k->project;
	to->label = k->project[0] != '\0' ? k->project :
	    benv->cfg.compose_project;
	to->url = p != NULL && p->cfg->notify_url != NULL ? p->cfg->notify_url :
	    benv->cfg.notify_url;
}

/* builds the document and queues it for the worker */
static void
notify_send(const struct notify_to *to, const char *kind, const char *service,
    const char *text, unsigned held)
{
	char		 full[NOTIFY_TEXT_MAX + 160], label[80] = "";
	yajl_gen	 g;
	char		*body, *url;

	if (to->url == NULL)
		return;
	if (to->label != NULL)
		snprintf(label, sizeof(label), " [%s]", to->label);
	if (held > 0)
		snprintf(full, sizeof(full), "davit%s: %s (%u like it in the "
		    "last %d s)", label, text, held, NOTIFY_MIN_INTERVAL);
	else
		snprintf(full, sizeof(full), "davit%s: %s", label, text);
	g = json_gen_new();
	yajl_gen_map_open(g);
	json_kstr(g, "text", full);
	json_kstr(g, "content", full);
	json_kstr(g, "kind", kind);
	json_kstr(g, "service", service[0] != '\0' ? service : NULL);
	json_kstr(g, "project", to->label);
	json_kint(g, "held_back", held);
	json_ktime(g, "time", json_now_ms());
	yajl_gen_map_close(g);
	body = json_gen_take(g, NULL);
	yajl_gen_free(g);

	if ((url = strdup(to->url)) == NULL)
		fatal("%s", __func__);
	pthread_mutex_lock(&notify_lock);
	if (notify_count == NOTIFY_QUEUE_MAX) {
		pthread_mutex_unlock(&notify_lock);
		log_warnx("notification queue full: %s dropped", kind);
		free(body);
		free(url);
		return;
	}
	snprintf(notify_queue[(notify_head + notify_count) % NOTIFY_QUEUE_MAX].kind,
	    sizeof(notify_queue[0].kind), "%s", kind);
	notify_queue[(notify_head + notify_count) % NOTIFY_QUEUE_MAX].body = body;
	notify_queue[(notify_head + notify_count) % NOTIFY_QUEUE_MAX].url = url;
	notify_count++;
	pthread_cond_signal(&notify_cond);
	pthread_mutex_unlock(&notify_lock);
}

/* what was held back goes out once its kind's interval is over */
static void
notify_flush(evutil_socket_t fd, short ev, void *arg)
{
	time_t			 now = notify_clock();
	struct notify_key	*k;
	struct notify_to	 to;
	size_t			 i;

	for (i = 0; i < NOTIFY_KEYS; i++) {
		k = &notify_keys[i];
		if (k->held == 0 || now - k->last < NOTIFY_MIN_INTERVAL)
			continue;
		/* the newest one, and how many came since the last sent */
		notify_to_key(&to, k);
		notify_send(&to, k->kind, k->service, k->held_text, k->held - 1);
		k->held = 0;
		k->last = now;	/* the next ones wait a whole interval again */
	}
	notify_flush_arm();
}

static void
notify_vcritical(const struct project *p, const char *kind,
    const char *service, const char *fmt, va_list ap)
{
	struct notify_to	 to;
	char			 text[NOTIFY_TEXT_MAX];
	unsigned		 held = 0;

	vsnprintf(text, sizeof(text), fmt, ap);
	log_warnx("critical: %s%s%s: %s", p != NULL ? p->name : "",
	    p != NULL ? ": " : "", kind, text);
	to.project = p != NULL ? p->name : "";
	to.label = p != NULL ? p->name : benv->cfg.compose_project;
	to.url = p != NULL && p->cfg->notify_url != NULL ? p->cfg->notify_url :
	    benv->cfg.notify_url;
	if (to.url == NULL || !notify_running)
		return;
	if (service == NULL)
		service = "";
	if (!notify_rate_ok(&to, kind, service, text, &held)) {
		log_info("notification %s%s%s held back: at most one a %d s, the "
		    "next one says how many", kind, service[0] ? " for " : "",
		    service, NOTIFY_MIN_INTERVAL);
		return;
	}
	notify_send(&to, kind, service, text, held);
}

void
notify_critical(const char *kind, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	notify_vcritical(NULL, kind, NULL, fmt, ap);
	va_end(ap);
}

void
notify_project(const struct project *p, const char *kind, const char *service,
    const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	notify_vcritical(p, kind, service, fmt, ap);
	va_end(ap);
}

/* a URL to send to: the main file's, or a project's */
static int
notify_wanted(void)
{
	struct project	*p;

	if (benv->cfg.notify_url != NULL)
		return 1;
	TAILQ_FOREACH(p, &projects, entry)
		if (p->cfg->notify_url != NULL)
			return 1;
	return 0;
}

void
notify_init(void)
{
	pthread_condattr_t	attr;

	if (pthread_condattr_init(&attr) != 0 ||
	    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&notify_cond, &attr) != 0)
		fatalx("%s: pthread_cond_init", __func__);
	pthread_condattr_destroy(&attr);
	/* a reload that adds a project with a URL needs a restart for it */
	if (!notify_wanted())
		return;
	if ((notify_flush_ev = evtimer_new(benv->base, notify_flush, NULL)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	if (pthread_create(&notify_thread, NULL, notify_worker, NULL) != 0)
		fatalx("%s: pthread_create", __func__);
	notify_running = 1;
	log_info("notifications go to DAVIT_NOTIFY_URL%s",
	    benv->cfg.notify_url == NULL ? " of the projects that have one" : "");
}

void
notify_shutdown(void)
{
	size_t	i;

	if (notify_running) {
		pthread_mutex_lock(&notify_lock);
		__atomic_store_n(&notify_stop, 1, __ATOMIC_RELAXED);
		pthread_cond_signal(&notify_cond);
		pthread_mutex_unlock(&notify_lock);
		pthread_join(notify_thread, NULL);
		notify_running = 0;
	}
	if (notify_flush_ev != NULL) {
		event_free(notify_flush_ev);
		notify_flush_ev = NULL;
	}
	for (i = 0; i < notify_count; i++) {
		free(notify_queue[(notify_head + i) % NOTIFY_QUEUE_MAX].body);
		free(notify_queue[(notify_head + i) % NOTIFY_QUEUE_MAX].url);
	}
	notify_count = 0;
}
