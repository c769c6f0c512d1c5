/*
 * Notifications: on a critical failure, POST a small JSON document to
 * DAVIT_NOTIFY_URL.  The body carries both "text" (Slack) and "content"
 * (Discord) so that either kind of incoming webhook shows it.
 *
 * Sending never blocks the event loop or a deploy: messages go into a
 * bounded queue served by one worker thread (libcurl's easy interface, with
 * timeouts), each retried with backoff.  A kind of message is sent at most
 * once per NOTIFY_MIN_INTERVAL; what is held back is sent when the interval
 * is over, its newest text with the count of the others.
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
#include "common/json.h"
#include "common/log.h"

#define NOTIFY_QUEUE_MAX	32
#define NOTIFY_TEXT_MAX		1024
#define NOTIFY_TRIES		4	/* sends of one message at most */
#define NOTIFY_TIMEOUT		10	/* seconds for one send */
#define NOTIFY_MIN_INTERVAL	60	/* seconds between two of one kind */
#define NOTIFY_KINDS		16

struct notify_msg {
	char	 kind[32];
	char	*body;
};

static pthread_t		 notify_thread;
static pthread_mutex_t		 notify_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t		 notify_cond = PTHREAD_COND_INITIALIZER;
static struct notify_msg	 notify_queue[NOTIFY_QUEUE_MAX];
static size_t			 notify_head, notify_count;
static int			 notify_running, notify_stop;
static char			*notify_url;
static long long		 notify_sent, notify_failed;

/* per kind: when it was last sent, what was held back since (loop thread only) */
static struct {
	char		kind[32];
	time_t		last;
	unsigned	held;
	char		held_text[NOTIFY_TEXT_MAX];	/* the newest held back */
} notify_kinds[NOTIFY_KINDS];
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

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += secs;
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
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + 1;	/* never 0: 0 means "never sent" */
}

/* one attempt; 0 when the receiver took it (2xx) */
static int
notify_post(CURL *curl, const char *body, char *why, size_t whylen)
{
	struct curl_slist	*headers = NULL;
	long			 code = 0;
	CURLcode		 rc;

	headers = curl_slist_append(headers, "Content-Type: application/json");
	curl_easy_reset(curl);
	curl_easy_setopt(curl, CURLOPT_URL, notify_url);
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
			if (notify_post(curl, m.body, why, sizeof(why)) == 0) {
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
	}
	curl_easy_cleanup(curl);
	return NULL;
}

static void
notify_flush_arm(void)
{
	struct timeval	tv = { NOTIFY_MIN_INTERVAL, 0 };

	if (notify_flush_ev != NULL && !evtimer_pending(notify_flush_ev, NULL))
		evtimer_add(notify_flush_ev, &tv);
}

/*
 * 1 when this kind may be sent now.  Otherwise it is held back: counted,
 * its text kept, and sent (with the count) once the interval is over.
 */
static int
notify_rate_ok(const char *kind, const char *text, unsigned *held)
{
	time_t	now = notify_clock();
	size_t	i, oldest = 0;

	for (i = 0; i < NOTIFY_KINDS; i++) {
		if (strcmp(notify_kinds[i].kind, kind) == 0)
			break;
		if (notify_kinds[i].last < notify_kinds[oldest].last)
			oldest = i;
	}
	if (i == NOTIFY_KINDS) {
		i = oldest;
		snprintf(notify_kinds[i].kind, sizeof(notify_kinds[i].kind), "%s", kind);
		notify_kinds[i].last = 0;
		notify_kinds[i].held = 0;
	}
	if (notify_kinds[i].last != 0 &&
	    now - notify_kinds[i].last < NOTIFY_MIN_INTERVAL) {
		notify_kinds[i].held++;
		snprintf(notify_kinds[i].held_text,
		    sizeof(notify_kinds[i].held_text), "%s", text);
		notify_flush_arm();
		return 0;
	}
	*held = notify_kinds[i].held;
	notify_kinds[i].held = 0;
	notify_kinds[i].last = now;
	return 1;
}

/* builds the document and queues it for the worker */
static void
notify_send(const char *kind, const char *text, unsigned held)
{
	char		 full[NOTIFY_TEXT_MAX + 160];
	yajl_gen	 g;
	char		*body;

	if (held > 0)
		snprintf(full, sizeof(full), "davit [%s]: %s (%u like it in the "
		    "last %d s)", benv->cfg.compose_project, text, held,
		    NOTIFY_MIN_INTERVAL);
	else
		snprintf(full, sizeof(full), "davit [%s]: %s",
		    benv->cfg.compose_project, text);
	g = json_gen_new();
	yajl_gen_map_open(g);
	json_kstr(g, "text", full);
	json_kstr(g, "content", full);
	json_kstr(g, "kind", kind);
	json_kstr(g, "project", benv->cfg.compose_project);
	json_kint(g, "held_back", held);
	json_ktime(g, "time", json_now_ms());
	yajl_gen_map_close(g);
	body = json_gen_take(g, NULL);
	yajl_gen_free(g);

	pthread_mutex_lock(&notify_lock);
	if (notify_count == NOTIFY_QUEUE_MAX) {
		pthread_mutex_unlock(&notify_lock);
		log_warnx("notification queue full: %s dropped", kind);
		free(body);
		return;
	}
	snprintf(notify_queue[(notify_head + notify_count) % NOTIFY_QUEUE_MAX].kind,
	    sizeof(notify_queue[0].kind), "%s", kind);
	notify_queue[(notify_head + notify_count) % NOTIFY_QUEUE_MAX].body = body;
	notify_count++;
	pthread_cond_signal(&notify_cond);
	pthread_mutex_unlock(&notify_lock);
}

/* what was held back goes out once its kind's interval is over */
static void
notify_flush(evutil_socket_t fd, short ev, void *arg)
{
	time_t	now = notify_clock();
	size_t	i;
	int	again = 0;

	for (i = 0; i < NOTIFY_KINDS; i++) {
		if (notify_kinds[i].held == 0)
			continue;
		if (now - notify_kinds[i].last < NOTIFY_MIN_INTERVAL) {
			again = 1;
			continue;
		}
		/* the newest one, and how many came since the last sent */
		notify_send(notify_kinds[i].kind, notify_kinds[i].held_text,
		    notify_kinds[i].held - 1);
		notify_kinds[i].held = 0;
		notify_kinds[i].last = now;
		again = 1;	/* the next ones wait a whole interval again */
	}
	if (again)
		notify_flush_arm();
}

static int
is_job_failure(const char *kind)
{
	size_t	n = strlen(kind), m = strlen(".failed");

	return n > m && strcmp(kind + n - m, ".failed") == 0;
}

void
notify_critical(const char *kind, const char *fmt, ...)
{
	char		 text[NOTIFY_TEXT_MAX];
	va_list		 ap;
	unsigned	 held = 0;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	log_warnx("critical: %s: %s", kind, text);
	if (notify_url == NULL || !notify_running)
		return;
	/*
	 * Failed jobs are each sent (the job queue spaces them out); the
	 * conditions that repeat by themselves are rate-limited.
	 */
	if (!is_job_failure(kind) && !notify_rate_ok(kind, text, &held)) {
		log_info("notification %s held back: at most one a %d s, the "
		    "next one says how many", kind, NOTIFY_MIN_INTERVAL);
		return;
	}
	notify_send(kind, text, held);
}

void
notify_init(void)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		fatalx("%s: curl_global_init", __func__);
	if (benv->cfg.notify_url == NULL)
		return;
	if ((notify_url = strdup(benv->cfg.notify_url)) == NULL)
		fatal("%s", __func__);
	if ((notify_flush_ev = evtimer_new(benv->base, notify_flush, NULL)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	if (pthread_create(&notify_thread, NULL, notify_worker, NULL) != 0)
		fatalx("%s: pthread_create", __func__);
	notify_running = 1;
	log_info("notifications go to DAVIT_NOTIFY_URL");
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
	for (i = 0; i < notify_count; i++)
		free(notify_queue[(notify_head + i) % NOTIFY_QUEUE_MAX].body);
	notify_count = 0;
	free(notify_url);
	notify_url = NULL;
	curl_global_cleanup();
}
