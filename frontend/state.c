/*
 * GET /api/state[?project=NAME]: the backend's state.get (project, git,
 * services, jobs and deploys in one reply) plus "backend":"up".  A document
 * per project named (and one for no name: the only project) is kept as
 * JSON text and is fresh until an event about that project says its state
 * changed (job.state, git.state, ...; an event without "project" is about
 * every one) or FE_STATE_TTL_MS passed; it is answered from memory while
 * fresh.  Otherwise state.get is asked once, however many browsers wait;
 * the waiters are answered when its reply is in.  At most
 * FE_STATE_MAX_DOCS documents: the least recently asked idle one goes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/log.h"
#include "frontend/frontend.h"

struct waiter {
	TAILQ_ENTRY(waiter)	 entry;
	state_cb		 cb;
	void			*arg;
};
TAILQ_HEAD(waiter_list, waiter);

struct state_doc {
	TAILQ_ENTRY(state_doc)	 entry;		/* most recently asked first */
	char		 project[PROTO_PROJECT_NAME_MAX + 1];	/* "": none named */
	char		*doc;		/* the document; NULL until fetched */
	size_t		 len;
	unsigned	 gen;		/* bumped by invalidation */
	unsigned	 fetched_gen;	/* gen when the request went out */
	long long	 fetched_ms;
	int		 inflight;
	struct waiter_list waiters;
	int		 nwaiters;
};

TAILQ_HEAD(state_doc_list, state_doc);
static struct state_doc_list	 docs = TAILQ_HEAD_INITIALIZER(docs);
static int			 ndocs, nwaiters;

static long long
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
state_fresh(const struct state_doc *d, long long now)
{
	return d->doc != NULL && !d->inflight && d->fetched_gen == d->gen &&
	    now - d->fetched_ms < FE_STATE_TTL_MS;
}

/* code: the backend's error code, NULL when it is not there */
static void
waiters_answer(struct state_doc *d, const char *code, const char *errmsg)
{
	struct waiter_list	 list = TAILQ_HEAD_INITIALIZER(list);
	struct waiter		*w;

	/* detach first: a callback may ask again */
	TAILQ_CONCAT(&list, &d->waiters, entry);
	nwaiters -= d->nwaiters;
	d->nwaiters = 0;
	while ((w = TAILQ_FIRST(&list)) != NULL) {
		TAILQ_REMOVE(&list, w, entry);
		if (errmsg == NULL && d->doc != NULL)
			w->cb(w->arg, d->doc, d->len, NULL, NULL);
		else
			w->cb(w->arg, NULL, 0, code, errmsg != NULL ? errmsg :
			    "the state is not available");
		free(w);
	}
}

/* state.get's result {...} with "backend":"up" as its last member */
static void
doc_take(struct state_doc *d, const struct proto_reply *r)
{
	static const char	 up[] = "\"backend\":\"up\"}";
	char			*json;
	size_t			 len, off;

	free(d->doc);
	d->doc = NULL;
	json = backend_result_json(r, &len);
	if (len < 2 || json[0] != '{' || json[len - 1] != '}') {
		log_warnx("state: state.get did not answer an object");
		free(json);
		return;
	}
	if ((d->doc = realloc(json, len + sizeof(up))) == NULL)
		fatal("%s", __func__);
	off = len - 1;			/* over the closing brace */
	if (len > 2)
		d->doc[off++] = ',';
	memcpy(d->doc + off, up, sizeof(up));
	d->len = off + sizeof(up) - 1;
}

static void
state_reply(void *arg, const struct proto_reply *r)
{
	struct state_doc	*d = arg;

	d->inflight = 0;
	if (r == NULL) {
		/* the backend went away: state_backend_down answered the waiters */
		waiters_answer(d, NULL, "the davit backend is not running");
		return;
	}
	if (r->ok) {
		doc_take(d, r);
		d->fetched_ms = now_ms();
		waiters_answer(d, NULL, NULL);
		return;
	}
	log_warnx("state: state.get%s%s: %s: %s", d->project[0] ? " of " : "",
	    d->project, r->error_code, r->error_message);
	free(d->doc);
	d->doc = NULL;
	waiters_answer(d, r->error_code, r->error_message);
}

/* asks for the state unless it is on its way; -1 with err if it could not go */
static int
state_fetch(struct state_doc *d, struct proto_error *err)
{
	struct proto_request	req;
	int			rv;

	if (d->inflight)
		return 0;
	proto_request_init(&req, OP_STATE_GET, 0);
	if (d->project[0] != '\0')
		proto_request_set_str(&req, "project", d->project);
	rv = backend_request(&req, state_reply, d, err);
	proto_request_free(&req);
	if (rv == -1)
		return -1;
	d->inflight = 1;
	d->fetched_gen = d->gen;
	return 0;
}

static void
doc_free(struct state_doc *d)
{
	TAILQ_REMOVE(&docs, d, entry);
	ndocs--;
	free(d->doc);
	free(d);
}

/* the document of that project, made (or an idle one reused) if need be */
static struct state_doc *
doc_find(const char *project)
{
	struct state_doc	*d;

	TAILQ_FOREACH(d, &docs, entry)
		if (strcmp(d->project, project) == 0) {
			TAILQ_REMOVE(&docs, d, entry);
			TAILQ_INSERT_HEAD(&docs, d, entry);
			return d;
		}
	if (ndocs >= FE_STATE_MAX_DOCS) {
		TAILQ_FOREACH_REVERSE(d, &docs, state_doc_list, entry)
			if (!d->inflight && d->nwaiters == 0)
				break;
		if (d == NULL)
			return NULL;
		doc_free(d);
	}
	if ((d = calloc(1, sizeof(*d))) == NULL)
		fatal("%s", __func__);
	snprintf(d->project, sizeof(d->project), "%s", project);
	TAILQ_INIT(&d->waiters);
	TAILQ_INSERT_HEAD(&docs, d, entry);
	ndocs++;
	return d;
}

int
state_get(const char *project, state_cb cb, void *arg)
{
	struct proto_error	 err;
	struct state_doc	*d;
	struct waiter		*w;

	if (project == NULL)
		project = "";
	if (!backend_up()) {
		cb(arg, NULL, 0, NULL, "the davit backend is not running");
		return 0;
	}
	if ((d = doc_find(project)) == NULL || nwaiters >= FE_STATE_MAX_WAITERS) {
		cb(arg, NULL, 0, NULL, "too many requests for the state at once");
		return 0;
	}
	if (state_fresh(d, now_ms())) {
		cb(arg, d->doc, d->len, NULL, NULL);
		return 0;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL)
		fatal("%s", __func__);
	w->cb = cb;
	w->arg = arg;
	TAILQ_INSERT_TAIL(&d->waiters, w, entry);
	d->nwaiters++;
	nwaiters++;
	if (state_fetch(d, &err) == -1)
		waiters_answer(d, NULL, err.message);
	return 0;
}

/*
 * An event about some parts of the state (for the day the backend answers
 * them apart) of one project (NULL: of every one): its whole document is
 * stale, and the unnamed one's, which may be the same project's.
 */
void
state_invalidate(const char *project, unsigned parts)
{
	struct state_doc	*d;

	if (parts == 0)
		return;
	TAILQ_FOREACH(d, &docs, entry)
		if (project == NULL || d->project[0] == '\0' ||
		    strcmp(d->project, project) == 0)
			d->gen++;
}

void
state_backend_down(void)
{
	struct state_doc	*d;

	TAILQ_FOREACH(d, &docs, entry) {
		free(d->doc);
		d->doc = NULL;
		d->gen++;
		waiters_answer(d, NULL, "the davit backend is not running");
	}
}

void
state_shutdown(void)
{
	struct state_doc	*d;

	state_backend_down();
	while ((d = TAILQ_FIRST(&docs)) != NULL)
		doc_free(d);
}
