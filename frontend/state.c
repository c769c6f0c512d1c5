/*
 * GET /api/state: the backend's state.get (project, git, services, jobs
 * and deploys in one reply) plus "backend":"up".  The document is kept as
 * JSON text and is fresh until an event says the state changed (job.state,
 * git.state, ...) or FE_STATE_TTL_MS passed; it is answered from memory
 * while fresh.  Otherwise state.get is asked once, however many browsers
 * wait; the waiters are answered when its reply is in.
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

static struct {
	char		*doc;		/* the document; NULL until fetched */
	size_t		 len;
	unsigned	 gen;		/* bumped by invalidation */
	unsigned	 fetched_gen;	/* gen when the request went out */
	long long	 fetched_ms;
	int		 inflight;
} st;

static TAILQ_HEAD(, waiter)	 waiters = TAILQ_HEAD_INITIALIZER(waiters);
static int			 nwaiters;

static long long
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
state_fresh(long long now)
{
	return st.doc != NULL && !st.inflight && st.fetched_gen == st.gen &&
	    now - st.fetched_ms < FE_STATE_TTL_MS;
}

static void
waiters_answer(const char *errmsg)
{
	TAILQ_HEAD(, waiter)	 list = TAILQ_HEAD_INITIALIZER(list);
	struct waiter		*w;

	/* detach first: a callback may ask again */
	TAILQ_CONCAT(&list, &waiters, entry);
	nwaiters = 0;
	while ((w = TAILQ_FIRST(&list)) != NULL) {
		TAILQ_REMOVE(&list, w, entry);
		if (errmsg == NULL && st.doc != NULL)
			w->cb(w->arg, st.doc, st.len, NULL);
		else
			w->cb(w->arg, NULL, 0, errmsg != NULL ? errmsg :
			    "the state is not available");
		free(w);
	}
}

/* state.get's result {...} with "backend":"up" as its last member */
static void
doc_take(const struct proto_reply *r)
{
	static const char	 up[] = "\"backend\":\"up\"}";
	char			*json;
	size_t			 len, off;

	free(st.doc);
	st.doc = NULL;
	json = backend_result_json(r, &len);
	if (len < 2 || json[0] != '{' || json[len - 1] != '}') {
		log_warnx("state: state.get did not answer an object");
		free(json);
		return;
	}
	if ((st.doc = realloc(json, len + sizeof(up))) == NULL)
		fatal("%s", __func__);
	off = len - 1;			/* over the closing brace */
	if (len > 2)
		st.doc[off++] = ',';
	memcpy(st.doc + off, up, sizeof(up));
	st.len = off + sizeof(up) - 1;
}

static void
state_reply(void *arg, const struct proto_reply *r)
{
	st.inflight = 0;
	if (r == NULL) {
		/* the backend went away: state_backend_down answered the waiters */
		waiters_answer("the davit backend is not running");
		return;
	}
	if (r->ok)
		doc_take(r);
	else
		log_warnx("state: state.get: %s: %s", r->error_code,
		    r->error_message);
	st.fetched_ms = now_ms();
	waiters_answer(r->ok ? NULL : "the state is not available");
}

/* asks for the state unless it is on its way; -1 with err if it could not go */
static int
state_fetch(struct proto_error *err)
{
	struct proto_request	req;

	if (st.inflight)
		return 0;
	proto_request_init(&req, OP_STATE_GET, 0);
	if (backend_request(&req, state_reply, NULL, err) == -1)
		return -1;
	st.inflight = 1;
	st.fetched_gen = st.gen;
	return 0;
}

int
state_get(state_cb cb, void *arg)
{
	struct proto_error	 err;
	struct waiter		*w;

	if (state_fresh(now_ms())) {
		cb(arg, st.doc, st.len, NULL);
		return 0;
	}
	if (!backend_up()) {
		cb(arg, NULL, 0, "the davit backend is not running");
		return 0;
	}
	if (nwaiters >= FE_STATE_MAX_WAITERS) {
		cb(arg, NULL, 0, "too many requests for the state at once");
		return 0;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL)
		fatal("%s", __func__);
	w->cb = cb;
	w->arg = arg;
	TAILQ_INSERT_TAIL(&waiters, w, entry);
	nwaiters++;
	if (state_fetch(&err) == -1)
		waiters_answer(err.message);
	return 0;
}

/*
 * An event about some parts of the state (STATE_* bits, for the day the
 * backend answers them apart): the whole document is stale.
 */
void
state_invalidate(unsigned parts)
{
	if (parts == 0)
		return;
	st.gen++;
}

void
state_backend_down(void)
{
	free(st.doc);
	st.doc = NULL;
	st.gen++;
	waiters_answer("the davit backend is not running");
}

void
state_shutdown(void)
{
	state_backend_down();
}
