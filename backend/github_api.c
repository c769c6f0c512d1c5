/*
 * GitHub's REST API, from the backend: installation tokens for a GitHub App
 * and commit statuses for deploys (github_api.h).
 *
 * Threads: one worker thread does all HTTP with libcurl's easy interface
 * (timeouts, no redirects, http(s) only).  The event loop hands it work
 * under gh_lock and is told of results by gh_ev (event_active from the
 * worker, safe with evthread_use_pthreads).  The loop keeps its own copy of
 * the current token for the git child (gl_tok); the worker keeps one for
 * statuses (gw_tok).  Both live in sodium_malloc'd memory and are wiped.
 *
 * Secrets: the JWT and tokens go only into the Authorization header of a
 * request to DAVIT_GITHUB_API_URL (whose header list is wiped after use);
 * never into a log line, an error, a URL or an argv.  Text that GitHub
 * sends back is cut and stripped of control characters before it is shown.
 *
 * Failures say what to do (401: the App ID and the clock, with the skew
 * from GitHub's Date; 404: the App is not installed; 422: permissions).
 * Network errors and 5xx are retried with backoff, rate limits (403/429
 * with retry-after or x-ratelimit-*) are waited out up to GH_RATE_WAIT_MAX;
 * a refused JWT is not retried (no storm of requests with a wrong key).
 *
 * The loop also keeps what git.status's "auth" shows (the installation, the
 * token's expiry, a personal token's expiry as GitHub announced it, the last
 * error) and publishes git.state when it changes; a personal token expiring
 * within GH_EXPIRY_NOTICE is notified once per expiry date.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <sodium.h>
#include <yajl/yajl_tree.h>

#include "backend/backend.h"
#include "backend/github_api.h"
#include "backend/github_jwt.h"
#include "backend/git.h"
#include "backend/notify.h"
#include "common/json.h"
#include "common/log.h"

#define GH_URL_MAX		2400
#define GH_BODY_MAX		1024
#define GH_MSG_MAX		120	/* of GitHub's "message", shown */
#define GH_SKEW_SHOWN		30	/* a clock skew worth saying */
#define GH_DESC_MAX		140	/* GitHub's limit on a description */
#define GH_SHA_MAX		65
#define GH_EXPIRY_NOTICE	(7 * 24 * 3600)	/* notify this long before */
#define GH_EXPIRY_CHECK		3600	/* seconds between two checks */

struct gh_reply {
	long		 code;
	char		*body;		/* NUL-terminated, at most GH_REPLY_MAX */
	size_t		 len;
	int		 truncated;
	time_t		 date;		/* GitHub's clock, or -1 */
	long long	 retry_after;	/* seconds, or -1 */
	long long	 rl_remaining;	/* -1 if absent */
	long long	 rl_reset;	/* epoch, or -1 */
	char		 expiration[64];	/* github-authentication-token-expiration */
};

struct gh_status {
	long long	 deploy;
	char		 sha[GH_SHA_MAX];
	char		 state[12];
	char		 desc[GH_DESC_MAX + 1];
	int		 ok;		/* results: posted */
	char		 why[GH_ERR_MAX];
};

static struct {
	int		 on;		/* github_init ran */
	int		 app;		/* a GitHub App, not a personal token */
	struct gh_key	*key;
	char		 api[GH_URL_MAX];	/* without a trailing '/' */
	char		 owner[128], name[128];
	long long	 installation;	/* 0: not known yet (worker only) */
	pthread_t	 thread;
	struct event	*ev;
	char		 pat_expiration[64];	/* personal token, as GitHub says */
} gh;

static pthread_mutex_t	 gh_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 gh_cond = PTHREAD_COND_INITIALIZER;
static int		 gh_stop, gh_refresh_wanted;
/* worker's token (statuses), under gh_lock only to copy it to the loop */
static char		*gw_tok;
static time_t		 gw_exp;
/* the last refresh's result, for the loop */
static int		 gr_ready, gr_ok;
static char		 gr_why[GH_ERR_MAX];
static long long	 gr_installation;
/* statuses to post, and posted (for the audit log) */
static struct gh_status	 gq[GH_STATUS_QUEUE], gd[GH_STATUS_QUEUE];
static size_t		 gq_head, gq_count, gd_count;

/* the loop's side */
static char		*gl_tok;
static time_t		 gl_exp;
static int		 gl_fetching;
static char		 gl_err[GH_ERR_MAX];
static long long	 gl_err_ms;
static long long	 gl_installation;	/* of the current token */
static char		 gl_pat_exp[64];	/* as GitHub announced it */
static char		 gl_notified[64];	/* the expiry notified of */
static struct event	*gl_expiry_ev;
static struct {
	void	(*cb)(void *, const char *);
	void	*arg;
} gl_wait[GH_WAITERS_MAX];
static size_t		 gl_nwait;

static time_t
gh_now(void)
{
	return time(NULL);
}

/* printable ASCII of s, at most max bytes, into out */
static void
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
static time_t
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

static void
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
	while (!gh_stop &&
	    pthread_cond_timedwait(&gh_cond, &gh_lock, &until) == 0)
		;
	stop = gh_stop;
	pthread_mutex_unlock(&gh_lock);
	return stop;
}

static int
gh_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	return __atomic_load_n(&gh_stop, __ATOMIC_RELAXED) ? 1 : 0;
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
gh_exchange(CURL *curl, const char *method, const char *path,
    const char *auth, const char *body, struct gh_reply *r, char *why,
    size_t whylen)
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
	if (r->expiration[0] != '\0' && !gh.app) {
		pthread_mutex_lock(&gh_lock);
		if (strcmp(gh.pat_expiration, r->expiration) != 0)
			log_info("GitHub: the personal token expires %s",
			    r->expiration);
		snprintf(gh.pat_expiration, sizeof(gh.pat_expiration), "%s",
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
static int
gh_request(CURL *curl, const char *method, const char *path, const char *auth,
    const char *body, struct gh_reply *r, char *why, size_t whylen)
{
	long long	 wait;
	int		 try;

	for (try = 1; try <= GH_TRIES; try++) {
		if (gh_exchange(curl, method, path, auth, body, r, why,
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
static void
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

static void
gh_why_other(const char *what, const struct gh_reply *r, char *why,
    size_t whylen)
{
	char	msg[GH_MSG_MAX + 1];

	gh_message(r, msg, sizeof(msg));
	snprintf(why, whylen, "%s: HTTP %ld%s%s", what, r->code,
	    msg[0] ? ": " : "", msg);
}

/* "Bearer JWT" in sodium memory, or NULL with why */
static char *
gh_bearer(char *why, size_t whylen)
{
	char	*jwt, *b;
	size_t	 len;

	if ((jwt = gh_jwt_sign(gh.key, benv->cfg.github_app_id,
	    (int64_t)gh_now(), why, whylen)) == NULL)
		return NULL;
	len = strlen("Bearer ") + strlen(jwt) + 1;
	if ((b = sodium_malloc(len)) != NULL)
		snprintf(b, len, "Bearer %s", jwt);
	else
		snprintf(why, whylen, "out of memory");
	gh_jwt_free(jwt);
	return b;
}

/* worker: the installation on owner/name (GET /repos/../installation) */
static int
gh_find_installation(CURL *curl, const char *bearer, char *why, size_t whylen)
{
	static const char	*idpath[] = { "id", NULL };
	struct gh_reply		 r;
	char			 path[512];
	yajl_val		 doc = NULL, v;
	int			 ret = -1;

	memset(&r, 0, sizeof(r));
	snprintf(path, sizeof(path), "/repos/%s/%s/installation", gh.owner,
	    gh.name);
	if (gh_request(curl, "GET", path, bearer, NULL, &r, why, whylen) == -1)
		goto done;
	if (r.code == 401) {
		gh_why_401(&r, why, whylen);
		goto done;
	}
	if (r.code == 404) {
		snprintf(why, whylen, "the App is not installed on %s/%s: "
		    "install it on that repository (the App's settings on "
		    "GitHub, Install App)", gh.owner, gh.name);
		goto done;
	}
	if (r.code != 200) {
		gh_why_other("finding the App's installation", &r, why, whylen);
		goto done;
	}
	if (r.body == NULL || r.truncated ||
	    (doc = yajl_tree_parse(r.body, NULL, 0)) == NULL ||
	    (v = yajl_tree_get(doc, idpath, yajl_t_number)) == NULL ||
	    !YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) <= 0) {
		snprintf(why, whylen, "finding the App's installation: GitHub's "
		    "reply has no installation id");
		goto done;
	}
	gh.installation = YAJL_GET_INTEGER(v);
	log_info("GitHub App %s: installation %lld on %s/%s",
	    benv->cfg.github_app_id, gh.installation, gh.owner, gh.name);
	ret = 0;
 done:
	if (doc != NULL)
		yajl_tree_free(doc);
	gh_reply_reset(&r);
	return ret;
}

/* worker: a new installation token into gw_tok; 0, or -1 and why */
static int
gh_refresh(CURL *curl, char *why, size_t whylen)
{
	static const char	*tokpath[] = { "token", NULL };
	static const char	*exppath[] = { "expires_at", NULL };
	struct gh_reply		 r;
	char			 path[128], body[GH_BODY_MAX];
	char			*bearer = NULL;
	yajl_val		 doc = NULL, t, e;
	char			*ts;
	time_t			 exp;
	size_t			 len;
	int			 ret = -1;

	memset(&r, 0, sizeof(r));
	if ((bearer = gh_bearer(why, whylen)) == NULL)
		goto done;
	if (gh.installation == 0 &&
	    gh_find_installation(curl, bearer, why, whylen) == -1)
		goto done;
	snprintf(path, sizeof(path), "/app/installations/%lld/access_tokens",
	    gh.installation);
	/* owner/name were checked by the config: [A-Za-z0-9_.-] only */
	snprintf(body, sizeof(body), "{\"repositories\":[\"%s\"],"
	    "\"permissions\":{\"contents\":\"read\"%s}}", gh.name,
	    benv->cfg.github_status ? ",\"statuses\":\"write\"" : "");
	if (gh_request(curl, "POST", path, bearer, body, &r, why,
	    whylen) == -1)
		goto done;
	if (r.code == 401) {
		gh_why_401(&r, why, whylen);
		goto done;
	}
	if (r.code == 404) {
		snprintf(why, whylen, "installation %lld not found: the App is "
		    "not installed on %s/%s%s", gh.installation, gh.owner,
		    gh.name, benv->cfg.github_installation_id != NULL ?
		    ", or DAVIT_GITHUB_INSTALLATION_ID is wrong" : "");
		if (benv->cfg.github_installation_id == NULL)
			gh.installation = 0;	/* look it up again next time */
		goto done;
	}
	if (r.code == 422 || r.code == 403) {
		gh_why_other("GitHub refused the token request (the App needs "
		    "Contents: read, and Commit statuses: write for "
		    "DAVIT_GITHUB_STATUS, on this repository)", &r, why, whylen);
		goto done;
	}
	if (r.code != 201 && r.code != 200) {
		gh_why_other("requesting an installation token", &r, why,
		    whylen);
		goto done;
	}
	if (r.body == NULL || r.truncated ||
	    (doc = yajl_tree_parse(r.body, NULL, 0)) == NULL ||
	    (t = yajl_tree_get(doc, tokpath, yajl_t_string)) == NULL ||
	    (e = yajl_tree_get(doc, exppath, yajl_t_string)) == NULL ||
	    (exp = gh_parse_time(YAJL_GET_STRING(e))) == -1) {
		snprintf(why, whylen, "requesting an installation token: "
		    "GitHub's reply has no token or expiry");
		goto done;
	}
	ts = YAJL_GET_STRING(t);
	len = ts != NULL ? strlen(ts) : 0;
	if (len == 0 || len >= GH_TOKEN_MAX ||
	    strspn(ts, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") != len) {
		snprintf(why, whylen, "requesting an installation token: "
		    "GitHub's token is empty, too long or not printable");
		goto done;
	}
	pthread_mutex_lock(&gh_lock);
	memcpy(gw_tok, ts, len + 1);
	gw_exp = exp;
	gr_installation = gh.installation;
	pthread_mutex_unlock(&gh_lock);
	log_info("GitHub App %s: installation %lld: a new token for %s/%s, "
	    "valid until %s", benv->cfg.github_app_id, gh.installation,
	    gh.owner, gh.name, YAJL_GET_STRING(e));
	ret = 0;
 done:
	if (doc != NULL) {
		if ((t = yajl_tree_get(doc, tokpath, yajl_t_string)) != NULL &&
		    (ts = YAJL_GET_STRING(t)) != NULL)
			sodium_memzero(ts, strlen(ts));
		yajl_tree_free(doc);
	}
	if (r.body != NULL)
		sodium_memzero(r.body, r.len);
	gh_reply_reset(&r);
	if (bearer != NULL)
		sodium_free(bearer);
	return ret;
}

static int
gh_worker_fresh(void)
{
	int	fresh;

	pthread_mutex_lock(&gh_lock);
	fresh = gw_tok[0] != '\0' && gw_exp - gh_now() > GH_REFRESH_MARGIN;
	pthread_mutex_unlock(&gh_lock);
	return fresh;
}

/* worker: posts one status; 0 or -1 with why */
static int
gh_post_status(CURL *curl, struct gh_status *s, char *why, size_t whylen)
{
	struct gh_reply	 r;
	yajl_gen	 g;
	char		 path[512], url[GH_URL_MAX + 64], *body, *auth;
	size_t		 alen;
	int		 ret = -1;

	memset(&r, 0, sizeof(r));
	if (gh.app && !gh_worker_fresh() && gh_refresh(curl, why, whylen) == -1)
		return -1;
	alen = strlen("token ") + GH_TOKEN_MAX;
	if ((auth = sodium_malloc(alen)) == NULL) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	pthread_mutex_lock(&gh_lock);
	snprintf(auth, alen, "token %s", gh.app ? gw_tok :
	    benv->cfg.github_token);
	pthread_mutex_unlock(&gh_lock);

	g = json_gen_new();
	yajl_gen_map_open(g);
	json_kstr(g, "state", s->state);
	json_kstr(g, "context", benv->cfg.github_status_context);
	json_kstr(g, "description", s->desc);
	if (benv->cfg.public_url != NULL) {
		snprintf(url, sizeof(url), "%s%s#deploy-%lld",
		    benv->cfg.public_url,
		    benv->cfg.public_url[strlen(benv->cfg.public_url) - 1] ==
		    '/' ? "" : "/", s->deploy);
		json_kstr(g, "target_url", url);
	}
	yajl_gen_map_close(g);
	body = json_gen_take(g, NULL);
	yajl_gen_free(g);

	snprintf(path, sizeof(path), "/repos/%s/%s/statuses/%s", gh.owner,
	    gh.name, s->sha);
	if (gh_request(curl, "POST", path, auth, body, &r, why, whylen) == 0) {
		if (r.code == 201 || r.code == 200)
			ret = 0;
		else {
			gh_why_other("posting the commit status", &r, why,
			    whylen);
			if (r.code == 401 && gh.app) {
				pthread_mutex_lock(&gh_lock);
				gw_tok[0] = '\0';
				pthread_mutex_unlock(&gh_lock);
			}
		}
	}
	free(body);
	sodium_free(auth);
	gh_reply_reset(&r);
	return ret;
}

static void *
gh_worker(void *arg)
{
	struct gh_status	 s;
	CURL			*curl;
	char			 why[GH_ERR_MAX];
	int			 ok;

	if ((curl = curl_easy_init()) == NULL)
		fatalx("%s: curl_easy_init", __func__);
	for (;;) {
		pthread_mutex_lock(&gh_lock);
		while (!gh_stop && !gh_refresh_wanted && gq_count == 0)
			pthread_cond_wait(&gh_cond, &gh_lock);
		if (gh_stop) {
			pthread_mutex_unlock(&gh_lock);
			break;
		}
		if (gh_refresh_wanted) {
			gh_refresh_wanted = 0;
			pthread_mutex_unlock(&gh_lock);
			why[0] = '\0';
			ok = gh_refresh(curl, why, sizeof(why)) == 0;
			pthread_mutex_lock(&gh_lock);
			gr_ready = 1;
			gr_ok = ok;
			snprintf(gr_why, sizeof(gr_why), "%s", why);
			pthread_mutex_unlock(&gh_lock);
			event_active(gh.ev, EV_READ, 0);
			continue;
		}
		s = gq[gq_head];
		gq_head = (gq_head + 1) % GH_STATUS_QUEUE;
		gq_count--;
		pthread_mutex_unlock(&gh_lock);
		s.why[0] = '\0';
		s.ok = gh_post_status(curl, &s, s.why, sizeof(s.why)) == 0;
		pthread_mutex_lock(&gh_lock);
		if (gd_count < GH_STATUS_QUEUE)
			gd[gd_count++] = s;
		pthread_mutex_unlock(&gh_lock);
		event_active(gh.ev, EV_READ, 0);
	}
	curl_easy_cleanup(curl);
	return NULL;
}

/*
 * GitHub's github-authentication-token-expiration, "2031-01-02 03:04:05 UTC"
 * (or with a "+0100"-style offset), as seconds since the epoch, or -1
 */
time_t
github_parse_expiration(const char *s)
{
	struct tm	 tm;
	const char	*end;
	time_t		 t;
	int		 off;

	memset(&tm, 0, sizeof(tm));
	if (s == NULL || (end = strptime(s, "%Y-%m-%d %H:%M:%S", &tm)) == NULL)
		return -1;
	if ((t = timegm(&tm)) == -1)
		return -1;
	while (*end == ' ')
		end++;
	if (*end == '\0' || strcmp(end, "UTC") == 0 || strcmp(end, "GMT") == 0 ||
	    strcmp(end, "Z") == 0)
		return t;
	if ((end[0] == '+' || end[0] == '-') && strlen(end) == 5 &&
	    strspn(end + 1, "0123456789") == 4) {
		off = ((end[1] - '0') * 10 + (end[2] - '0')) * 3600 +
		    ((end[3] - '0') * 10 + (end[4] - '0')) * 60;
		return end[0] == '+' ? t - off : t + off;
	}
	return -1;
}

/* loop: a personal token expiring within GH_EXPIRY_NOTICE is notified, once */
static void
gh_expiry_check(void)
{
	time_t		 t;
	long long	 left;

	if (gh.app || gl_pat_exp[0] == '\0' ||
	    strcmp(gl_notified, gl_pat_exp) == 0 ||
	    (t = github_parse_expiration(gl_pat_exp)) == -1)
		return;
	left = (long long)t - (long long)gh_now();
	if (left > GH_EXPIRY_NOTICE)
		return;
	snprintf(gl_notified, sizeof(gl_notified), "%s", gl_pat_exp);
	if (left <= 0)
		notify_critical("github.token_expiring", "the personal token "
		    "(DAVIT_GITHUB_TOKEN) for %s/%s expired %s: replace it, "
		    "or git and commit statuses fail", gh.owner, gh.name,
		    gl_pat_exp);
	else
		notify_critical("github.token_expiring", "the personal token "
		    "(DAVIT_GITHUB_TOKEN) for %s/%s expires %s (in %lld days "
		    "%lld hours): replace it before then", gh.owner, gh.name,
		    gl_pat_exp, left / 86400, (left % 86400) / 3600);
}

static void
gh_expiry_timer(evutil_socket_t fd, short ev, void *arg)
{
	gh_expiry_check();
}

/* loop: the last error of the client, for git.status's auth */
static void
gh_set_error(const char *why)
{
	if (why == NULL) {
		gl_err[0] = '\0';
		gl_err_ms = 0;
		return;
	}
	snprintf(gl_err, sizeof(gl_err), "%s", why);
	gl_err_ms = json_now_ms();
}

/* loop: a refresh ended, or statuses were posted */
static void
gh_result(evutil_socket_t fd, short ev, void *arg)
{
	struct gh_status	 done[GH_STATUS_QUEUE];
	size_t			 i, n, nwait;
	int			 ready, ok, changed = 0;
	char			 why[GH_ERR_MAX], why2[GH_ERR_MAX];
	yajl_gen		 g;
	typeof(gl_wait)		 wait;

	pthread_mutex_lock(&gh_lock);
	ready = gr_ready;
	ok = gr_ok;
	gr_ready = 0;
	snprintf(why, sizeof(why), "%s", gr_why);
	if (ready && ok) {
		memcpy(gl_tok, gw_tok, GH_TOKEN_MAX);
		gl_exp = gw_exp;
		gl_installation = gr_installation;
	}
	n = gd_count;
	memcpy(done, gd, n * sizeof(done[0]));
	gd_count = 0;
	if (strcmp(gl_pat_exp, gh.pat_expiration) != 0) {
		snprintf(gl_pat_exp, sizeof(gl_pat_exp), "%s",
		    gh.pat_expiration);
		changed = 1;
	}
	pthread_mutex_unlock(&gh_lock);

	for (i = 0; i < n; i++) {
		if (done[i].ok)
			log_info("GitHub: commit status %s for %.12s posted "
			    "(deploy #%lld)", done[i].state, done[i].sha,
			    done[i].deploy);
		else
			log_warnx("GitHub: commit status %s for %.12s not "
			    "posted: %s", done[i].state, done[i].sha,
			    done[i].why);
		g = audit_begin("github.status");
		json_kint(g, "deploy", done[i].deploy);
		json_kstr(g, "sha", done[i].sha);
		json_kstr(g, "state", done[i].state);
		json_kstr(g, "context", benv->cfg.github_status_context);
		json_kstr(g, "description", done[i].desc);
		json_kstr(g, "result", done[i].ok ? "posted" : "failed");
		if (!done[i].ok)
			json_kstr(g, "error", done[i].why);
		audit_end(g);
		if (done[i].ok)
			gh_set_error(NULL);
		else {
			snprintf(why2, sizeof(why2), "commit status: %.600s",
			    done[i].why);
			gh_set_error(why2);
		}
		changed = 1;
	}
	gh_expiry_check();
	if (ready) {
		gl_fetching = 0;
		if (ok)
			gh_set_error(NULL);
		else {
			gh_set_error(why);
			log_warnx("GitHub App: %s", why);
		}
		changed = 1;
	}
	if (changed)
		git_publish();	/* git.status's auth */
	if (!ready)
		return;
	/* the callbacks may wait again: call them from a copy */
	nwait = gl_nwait;
	memcpy(wait, gl_wait, sizeof(wait));
	gl_nwait = 0;
	for (i = 0; i < nwait; i++)
		wait[i].cb(wait[i].arg, ok ? NULL : why);
}

void
github_auth_gen(yajl_gen g)
{
	const struct davit_config	*cfg = &benv->cfg;
	time_t				 t;

	yajl_gen_map_open(g);
	if (cfg->github_app_id != NULL) {
		json_kstr(g, "mode", "app");
		json_kstr(g, "app_id", cfg->github_app_id);
		if (gl_installation > 0)
			json_kint(g, "installation", gl_installation);
		else if (gh.on && gh.installation > 0 &&
		    cfg->github_installation_id != NULL)
			json_kint(g, "installation", gh.installation);
		else
			json_knull(g, "installation");
		json_ktime(g, "token_expires_at", gh.on && gl_tok[0] != '\0' ?
		    (long long)gl_exp * 1000 : 0);
	} else if (cfg->github_token != NULL) {
		json_kstr(g, "mode", "token");
		t = github_parse_expiration(gl_pat_exp);
		json_ktime(g, "expires_at", t > 0 ? (long long)t * 1000 : 0);
	} else
		json_kstr(g, "mode", "none");
	json_kstr(g, "error", gl_err[0] != '\0' ? gl_err : NULL);
	json_ktime(g, "error_at", gl_err_ms);
	yajl_gen_map_close(g);
}

int
github_is_app(void)
{
	return benv->cfg.github_app_id != NULL;
}

int
github_token_wait(void (*cb)(void *, const char *), void *arg)
{
	if (!gh.on || !gh.app)
		return 0;
	if (gl_tok[0] != '\0' && gl_exp - gh_now() > GH_REFRESH_MARGIN)
		return 0;
	if (gl_nwait == GH_WAITERS_MAX) {
		cb(arg, "too many git steps wait for a GitHub App token");
		return 1;
	}
	gl_wait[gl_nwait].cb = cb;
	gl_wait[gl_nwait].arg = arg;
	gl_nwait++;
	if (!gl_fetching) {
		gl_fetching = 1;
		pthread_mutex_lock(&gh_lock);
		gh_refresh_wanted = 1;
		pthread_cond_signal(&gh_cond);
		pthread_mutex_unlock(&gh_lock);
	}
	return 1;
}

const char *
github_git_token(void)
{
	if (gh.on && gh.app)
		return gl_tok[0] != '\0' ? gl_tok : NULL;
	return benv->cfg.github_token;
}

void
github_token_invalidate(void)
{
	if (!gh.on || !gh.app)
		return;
	sodium_memzero(gl_tok, GH_TOKEN_MAX);
	gl_exp = 0;
}

void
github_deploy_status(long long deploy_id, const char *sha, const char *state,
    const char *description)
{
	struct gh_status	*s;

	if (!gh.on || !benv->cfg.github_status)
		return;
	if (sha == NULL || strlen(sha) != 40 ||
	    strspn(sha, "0123456789abcdef") != 40) {
		log_warnx("GitHub: no commit status %s for deploy #%lld: no "
		    "commit id", state, deploy_id);
		return;
	}
	pthread_mutex_lock(&gh_lock);
	if (gq_count == GH_STATUS_QUEUE) {
		pthread_mutex_unlock(&gh_lock);
		log_warnx("GitHub: status queue full: %s for %.12s dropped",
		    state, sha);
		return;
	}
	s = &gq[(gq_head + gq_count) % GH_STATUS_QUEUE];
	memset(s, 0, sizeof(*s));
	s->deploy = deploy_id;
	snprintf(s->sha, sizeof(s->sha), "%s", sha);
	snprintf(s->state, sizeof(s->state), "%s", state);
	gh_clean(s->desc, sizeof(s->desc), description, GH_DESC_MAX);
	gq_count++;
	pthread_cond_signal(&gh_cond);
	pthread_mutex_unlock(&gh_lock);
}

void
github_deploy_result(long long deploy_id, const char *sha, int ok,
    int timed_out, long long ms, const char *error)
{
	char	desc[GH_DESC_MAX + 1];

	if (ok)
		snprintf(desc, sizeof(desc), "deployed in %lld s",
		    (ms + 500) / 1000);
	else
		snprintf(desc, sizeof(desc), "%s", error != NULL ? error :
		    "deploy failed");
	github_deploy_status(deploy_id, sha, ok ? "success" : timed_out ?
	    "error" : "failure", desc);
}

int
github_check_config(const struct davit_config *cfg, char *err, size_t errlen)
{
	struct gh_key	*k;
	char		 why[GH_ERR_MAX];

	if (cfg->github_app_key == NULL)
		return 0;
	if (gh_key_load(cfg->github_app_key, 0, &k, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "DAVIT_GITHUB_APP_KEY %s: %s",
		    cfg->github_app_key, why);
		return -1;
	}
	gh_key_free(k);
	return 0;
}

void
github_init(void)
{
	const struct davit_config	*cfg = &benv->cfg;
	const char			*slash;
	char				 why[GH_ERR_MAX];
	size_t				 n;

	gh.app = cfg->github_app_id != NULL;
	if (!gh.app && !cfg->github_status)
		return;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		fatalx("%s: curl_global_init", __func__);
	if (cfg->github_repo == NULL ||
	    (slash = strchr(cfg->github_repo, '/')) == NULL)
		fatalx("%s: no DAVIT_GITHUB_REPO (the config checks this)",
		    __func__);
	snprintf(gh.owner, sizeof(gh.owner), "%.*s",
	    (int)(slash - cfg->github_repo), cfg->github_repo);
	snprintf(gh.name, sizeof(gh.name), "%s", slash + 1);
	snprintf(gh.api, sizeof(gh.api), "%s", cfg->github_api_url);
	n = strlen(gh.api);
	while (n > 0 && gh.api[n - 1] == '/')
		gh.api[--n] = '\0';
	if (gh.app) {
		if (gh_key_load(cfg->github_app_key, 0, &gh.key, why,
		    sizeof(why)) == -1)
			fatalx("DAVIT_GITHUB_APP_KEY %s: %s", cfg->github_app_key,
			    why);
		if (cfg->github_installation_id != NULL)
			gh.installation = strtoll(cfg->github_installation_id,
			    NULL, 10);
	}
	if ((gw_tok = sodium_malloc(GH_TOKEN_MAX)) == NULL ||
	    (gl_tok = sodium_malloc(GH_TOKEN_MAX)) == NULL)
		fatal("%s: sodium_malloc", __func__);
	sodium_memzero(gw_tok, GH_TOKEN_MAX);
	sodium_memzero(gl_tok, GH_TOKEN_MAX);
	if ((gh.ev = event_new(benv->base, -1, 0, gh_result, NULL)) == NULL)
		fatalx("%s: event_new", __func__);
	if (pthread_create(&gh.thread, NULL, gh_worker, NULL) != 0)
		fatalx("%s: pthread_create", __func__);
	gh.on = 1;
	if (!gh.app && cfg->github_token != NULL) {
		struct timeval	tv = { GH_EXPIRY_CHECK, 0 };

		if ((gl_expiry_ev = event_new(benv->base, -1, EV_PERSIST,
		    gh_expiry_timer, NULL)) == NULL)
			fatalx("%s: event_new", __func__);
		event_add(gl_expiry_ev, &tv);
	}
	if (gh.app)
		log_info("GitHub: App %s, installation %s, repository %s/%s",
		    cfg->github_app_id, gh.installation ?
		    cfg->github_installation_id : "found by repository",
		    gh.owner, gh.name);
	if (cfg->github_status)
		log_info("GitHub: deploys post commit statuses (%s) to %s/%s",
		    cfg->github_status_context, gh.owner, gh.name);
}

void
github_shutdown(void)
{
	if (!gh.on)
		return;
	pthread_mutex_lock(&gh_lock);
	__atomic_store_n(&gh_stop, 1, __ATOMIC_RELAXED);
	pthread_cond_broadcast(&gh_cond);
	pthread_mutex_unlock(&gh_lock);
	pthread_join(gh.thread, NULL);
	event_free(gh.ev);
	if (gl_expiry_ev != NULL)
		event_free(gl_expiry_ev);
	gl_expiry_ev = NULL;
	gl_installation = gl_err_ms = 0;
	gl_err[0] = gl_pat_exp[0] = gl_notified[0] = '\0';
	gh_key_free(gh.key);
	sodium_free(gw_tok);
	sodium_free(gl_tok);
	gw_tok = gl_tok = NULL;
	gl_nwait = 0;
	curl_global_cleanup();
	memset(&gh, 0, sizeof(gh));
}
