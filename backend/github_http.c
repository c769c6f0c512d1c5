/*
 * GitHub's REST API over HTTP, for the worker thread (github_int.h): one
 * exchange with libcurl's easy interface (timeouts, no redirects, http(s)
 * only), retries with backoff for network errors and 5xx, rate limits
 * (403/429 with retry-after or x-ratelimit-*) waited out up to
 * GH_RATE_WAIT_MAX, and the messages of failures.
 *
 * Secrets: the Authorization header is built in sodium memory and the
 * header list wiped after use; never a log line, an error, a URL or an
 * argv.  Text that GitHub sends back is cut and stripped of control
 * characters before it is shown.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <sodium.h>
#include <yajl/yajl_tree.h>

#include "backend/backend.h"
#include "backend/github_int.h"
#include "common/log.h"

time_t
gh_now(void)
{
	return time(NULL);
}

/* printable ASCII of s, at most max bytes, into out */
void
gh_clean(char *out, size_t outlen, const char *s, size_t max)
{
	size_t	 i, n = 0;

	for (i = 0; s != NULL && s[i] != '\0' && i < max && n + 1 < outlen; i++)
		out[n++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (outlen > 0)
		out[n] = '\0';
}

/* GitHub's {"message": ...} of a reply, cleaned, or "" */
static void
gh_message(const struct gh_reply *r, char *out, size_t outlen)
{
	static const char	*path[] = { "message", NULL };
	yajl_val		 doc, v;

	out[0] = '\0';
	if (r->body == NULL || (doc = yajl_tree_parse(r->body, NULL, 0)) == NULL)
		return;
	if ((v = yajl_tree_get(doc, path, yajl_t_string)) != NULL)
		gh_clean(out, outlen, YAJL_GET_STRING(v), GH_MSG_MAX);
	yajl_tree_free(doc);
}

/* "2024-05-01T12:00:00Z" as seconds since the epoch, or -1 */
time_t
gh_parse_time(const char *s)
{
	struct tm	 tm;
	char		*end;

	memset(&tm, 0, sizeof(tm));
	if (s == NULL || (end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm)) == NULL ||
	    *end != '\0')
		return -1;
	return timegm(&tm);
}

static size_t
gh_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct gh_reply	*r = arg;
	size_t		 n = size * nmemb, room;

	if (r->body == NULL && (r->body = calloc(1, GH_REPLY_MAX + 1)) == NULL)
		return 0;
	room = GH_REPLY_MAX - r->len;
	if (n > room) {
		r->truncated = 1;
		n = room;
	}
	memcpy(r->body + r->len, ptr, n);
	r->len += n;
	r->body[r->len] = '\0';
	return size * nmemb;
}

static long long
gh_header_num(const char *v)
{
	char		*end;
	long long	 n;

	n = strtoll(v, &end, 10);
	if (end == v || n < 0)
		return -1;
	return n;
}

static size_t
gh_header(char *buf, size_t size, size_t nitems, void *arg)
{
	struct gh_reply	*r = arg;
	size_t		 n = size * nitems, klen;
	char		 line[256], *colon, *v, *e;

	if (n >= sizeof(line))
		return n;
	memcpy(line, buf, n);
	line[n] = '\0';
	if ((colon = strchr(line, ':')) == NULL)
		return n;
	klen = (size_t)(colon - line);
	*colon = '\0';
	for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
		;
	e = v + strlen(v);
	while (e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' '))
		*--e = '\0';
	if (klen == 4 && strcasecmp(line, "date") == 0)
		r->date = curl_getdate(v, NULL);
	else if (strcasecmp(line, "retry-after") == 0)
		r->retry_after = gh_header_num(v);
	else if (strcasecmp(line, "x-ratelimit-remaining") == 0)
		r->rl_remaining = gh_header_num(v);
	else if (strcasecmp(line, "x-ratelimit-reset") == 0)
		r->rl_reset = gh_header_num(v);
	else if (strcasecmp(line,
	    "github-authentication-token-expiration") == 0)
		gh_clean(r->expiration, sizeof(r->expiration), v, 60);
	return n;
}

void
gh_reply_reset(struct gh_reply *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
	r->date = -1;
	r->retry_after = -1;
	r->rl_remaining = -1;
	r->rl_reset = -1;
}

/* waits secs (interrupted by shutdown); 1 when davit stops meanwhile */
static int
gh_sleep(long long secs)
{
	struct timespec	until;
	int		stop;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += secs;
	pthread_mutex_lock(&gh_lock);
	while (!gh.stop &&
	    pthread_cond_timedwait(&gh_cond, &gh_lock, &until) == 0)
		;
	stop = gh.stop;
	pthread_mutex_unlock(&gh_lock);
	return stop;
}

static int
gh_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	return __atomic_load_n(&gh.stop, __ATOMIC_RELAXED) ? 1 : 0;
}

/* wipes and frees a header list that held a secret */
static void
gh_slist_wipe(struct curl_slist *l)
{
	struct curl_slist	*p;

	for (p = l; p != NULL; p = p->next)
		if (p->data != NULL)
			sodium_memzero(p->data, strlen(p->data));
	curl_slist_free_all(l);
}

/* one HTTP exchange; 0 when an answer came (any code), else -1 and why */
static int
gh_exchange(CURL *curl, struct gh_project *gp, const char *method,
    const char *path, const char *auth, const char *body, struct gh_reply *r,
    char *why, size_t whylen)
{
	struct curl_slist	*h = NULL;
	char			 url[GH_URL_MAX + 256];
	char			*authline;
	size_t			 alen;
	CURLcode		 rc;

	gh_reply_reset(r);
	snprintf(url, sizeof(url), "%s%s", gh.api, path);
	alen = strlen("Authorization: ") + strlen(auth) + 1;
	if ((authline = sodium_malloc(alen)) == NULL) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	snprintf(authline, alen, "Authorization: %s", auth);
	h = curl_slist_append(h, authline);
	sodium_free(authline);
	h = curl_slist_append(h, "Accept: application/vnd.github+json");
	h = curl_slist_append(h, "X-GitHub-Api-Version: 2022-11-28");
	if (body != NULL)
		h = curl_slist_append(h, "Content-Type: application/json");
	curl_easy_reset(curl);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)GH_HTTP_TIMEOUT);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "davit/" DAVIT_VERSION);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, gh_write);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, gh_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, gh_progress);
	if (benv->cfg.github_ca_file != NULL)
		curl_easy_setopt(curl, CURLOPT_CAINFO, benv->cfg.github_ca_file);
	if (body != NULL)
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	else
		curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
	(void)method;	/* GET without a body, POST with one */
	rc = curl_easy_perform(curl);
	gh_slist_wipe(h);
	if (rc != CURLE_OK) {
		snprintf(why, whylen, "%s", curl_easy_strerror(rc));
		return -1;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r->code);
	if (r->expiration[0] != '\0' && gp != NULL && !gp->app) {
		pthread_mutex_lock(&gh_lock);
		if (strcmp(gp->pat_expiration, r->expiration) != 0)
			log_info("GitHub: %s: the personal token expires %s",
			    gp->pname, r->expiration);
		snprintf(gp->pat_expiration, sizeof(gp->pat_expiration), "%s",
		    r->expiration);
		pthread_mutex_unlock(&gh_lock);
	}
	return 0;
}

/*
 * A request with retries: network errors and 5xx with backoff (1, 2, 4 s),
 * rate limits waited out when the wait is at most GH_RATE_WAIT_MAX.  0 with
 * r filled (any final code), -1 with why when no answer came.
 */
int
gh_request(CURL *curl, struct gh_project *gp, const char *method,
    const char *path, const char *auth, const char *body, struct gh_reply *r,
    char *why, size_t whylen)
{
	long long	 wait;
	int		 try;

	for (try = 1; try <= GH_TRIES; try++) {
		if (gh_exchange(curl, gp, method, path, auth, body, r, why,
		    whylen) == -1) {
			log_warnx("GitHub %s %s: try %d of %d failed: %s", method,
			    path, try, GH_TRIES, why);
			if (try == GH_TRIES || gh_sleep(1LL << (try - 1)))
				return -1;
			continue;
		}
		if ((r->code == 403 || r->code == 429) &&
		    (r->retry_after >= 0 || r->rl_remaining == 0)) {
			wait = r->retry_after >= 0 ? r->retry_after :
			    (r->rl_reset >= 0 ? r->rl_reset - gh_now() : 60);
			if (wait < 1)
				wait = 1;
			if (wait > GH_RATE_WAIT_MAX || try == GH_TRIES) {
				snprintf(why, whylen, "rate-limited by GitHub "
				    "(HTTP %ld) for %lld s more: try again later",
				    r->code, wait);
				return -1;
			}
			log_warnx("GitHub %s %s: rate-limited (HTTP %ld), "
			    "waiting %lld s", method, path, r->code, wait);
			if (gh_sleep(wait))
				return -1;
			continue;
		}
		if (r->code >= 500 && try < GH_TRIES) {
			log_warnx("GitHub %s %s: try %d of %d: HTTP %ld", method,
			    path, try, GH_TRIES, r->code);
			if (gh_sleep(1LL << (try - 1)))
				return -1;
			continue;
		}
		return 0;
	}
	return -1;
}

/* the message for a refused JWT */
void
gh_why_401(const struct gh_reply *r, char *why, size_t whylen)
{
	char		 msg[GH_MSG_MAX + 1], skew[96] = "";
	long long	 d;

	gh_message(r, msg, sizeof(msg));
	if (r->date != -1) {
		d = (long long)gh_now() - (long long)r->date;
		if (d > GH_SKEW_SHOWN || d < -GH_SKEW_SHOWN)
			snprintf(skew, sizeof(skew), "; this server's clock is "
			    "%lld s %s GitHub's", d > 0 ? d : -d,
			    d > 0 ? "ahead of" : "behind");
	}
	snprintf(why, whylen, "GitHub refused the App's JWT (HTTP 401%s%s): "
	    "check the App ID (DAVIT_GITHUB_APP_ID), its key "
	    "(DAVIT_GITHUB_APP_KEY) and the server's clock%s",
	    msg[0] ? ": " : "", msg, skew);
}

void
gh_why_other(const char *what, const struct gh_reply *r, char *why,
    size_t whylen)
{
	char	msg[GH_MSG_MAX + 1];

	gh_message(r, msg, sizeof(msg));
	snprintf(why, whylen, "%s: HTTP %ld%s%s", what, r->code,
	    msg[0] ? ": " : "", msg);
}
