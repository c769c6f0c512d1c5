/*
 * GET /api/state: project.get, git.status, services.list, jobs.list and
 * deploys.list in one document.  Each part is kept as JSON text and is
 * fresh until an event says it changed (job.state, git.state, ...) or
 * FE_STATE_TTL_MS passed; the document is answered from memory while every
 * part is fresh.  Otherwise the stale parts are asked for, in parallel over
 * the backend connection, at most one request per part however many
 * browsers wait; the waiters are answered when the last reply is in.  A
 * part whose op fails (Docker or git unavailable) is null.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/log.h"
#include "frontend/frontend.h"

struct part {
	enum proto_op_id	 op;
	char			*json;		/* NULL until fetched */
	size_t			 len;
	unsigned		 gen;		/* bumped by invalidation */
	unsigned		 fetched_gen;	/* gen when the request went out */
	long long		 fetched_ms;
	int			 inflight;
};

struct waiter {
	TAILQ_ENTRY(waiter)	 entry;
	state_cb		 cb;
	void			*arg;
};

/* indexed by enum proto_part: its name (proto_parts[]) is the member's */
static struct part	parts[PART__COUNT] = {
	[PART_PROJECT] = { .op = OP_PROJECT_GET },
	[PART_GIT] = { .op = OP_GIT_STATUS },
	[PART_SERVICES] = { .op = OP_SERVICES_LIST },
	[PART_JOBS] = { .op = OP_JOBS_LIST },
	[PART_DEPLOYS] = { .op = OP_DEPLOYS_LIST },
};
#define NPARTS	PART__COUNT

static TAILQ_HEAD(, waiter)	 waiters = TAILQ_HEAD_INITIALIZER(waiters);
static int			 nwaiters;
static char			*doc;		/* the assembled document */
static size_t			 doclen;

static long long
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
part_fresh(const struct part *p, long long now)
{
	return p->json != NULL && !p->inflight && p->fetched_gen == p->gen &&
	    now - p->fetched_ms < FE_STATE_TTL_MS;
}

static void
doc_build(void)
{
	size_t	i, len = 0, off = 0;
	int	n;

	free(doc);
	doc = NULL;
	for (i = 0; i < NPARTS; i++) {
		if (parts[i].json == NULL)
			return;
		len += strlen(proto_parts[i]) + parts[i].len + 4;
	}
	len += sizeof("{,\"backend\":\"up\"}");
	if ((doc = malloc(len + 1)) == NULL)
		fatal("%s", __func__);
	doc[off++] = '{';
	for (i = 0; i < NPARTS; i++) {
		n = snprintf(doc + off, len + 1 - off, "\"%s\":", proto_parts[i]);
		off += (size_t)n;
		memcpy(doc + off, parts[i].json, parts[i].len);
		off += parts[i].len;
		doc[off++] = ',';
	}
	n = snprintf(doc + off, len + 1 - off, "\"backend\":\"up\"}");
	off += (size_t)n;
	doclen = off;
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
		if (errmsg == NULL && doc != NULL)
			w->cb(w->arg, doc, doclen, NULL);
		else
			w->cb(w->arg, NULL, 0, errmsg != NULL ? errmsg :
			    "the state is not available");
		free(w);
	}
}

static void
parts_done(void)
{
	size_t	i;

	for (i = 0; i < NPARTS; i++)
		if (parts[i].inflight || parts[i].json == NULL)
			return;
	doc_build();
	waiters_answer(NULL);
}

static void
part_reply(void *arg, const struct proto_reply *r)
{
	struct part	*p = arg;

	p->inflight = 0;
	if (r == NULL) {
		/* the backend went away: state_backend_down answered the waiters */
		waiters_answer("the davit backend is not running");
		return;
	}
	free(p->json);
	if (r->ok)
		p->json = backend_result_json(r, &p->len);
	else {
		log_debug("state: %s: %s: %s", proto_op_by_id(p->op)->name,
		    r->error_code, r->error_message);
		if ((p->json = strdup("null")) == NULL)
			fatal("%s", __func__);
		p->len = 4;
	}
	p->fetched_ms = now_ms();
	parts_done();
}

/* asks for every part that is not fresh; -1 with err if one could not go */
static int
parts_fetch(long long now, struct proto_error *err)
{
	struct proto_request	req;
	size_t			i;

	for (i = 0; i < NPARTS; i++) {
		if (parts[i].inflight || part_fresh(&parts[i], now))
			continue;
		proto_request_init(&req, parts[i].op, 0);
		if (backend_request(&req, part_reply, &parts[i], err) == -1)
			return -1;
		parts[i].inflight = 1;
		parts[i].fetched_gen = parts[i].gen;
	}
	return 0;
}

int
state_get(state_cb cb, void *arg)
{
	struct proto_error	 err;
	struct waiter		*w;
	long long		 now = now_ms();
	size_t			 i;

	for (i = 0; i < NPARTS; i++)
		if (!part_fresh(&parts[i], now))
			break;
	if (i == NPARTS && doc != NULL) {
		cb(arg, doc, doclen, NULL);
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
	if (parts_fetch(now, &err) == -1) {
		waiters_answer(err.message);
		return 0;
	}
	parts_done();	/* everything may have been in memory already */
	return 0;
}

void
state_invalidate(unsigned mask)
{
	struct proto_error	err;
	size_t			i;

	for (i = 0; i < NPARTS; i++)
		if (mask & PROTO_PART_BIT(i))
			parts[i].gen++;
	/* browsers waiting now get what the event announced */
	if (nwaiters > 0 && backend_up() && parts_fetch(now_ms(), &err) == -1)
		waiters_answer(err.message);
}

void
state_backend_down(void)
{
	size_t	i;

	for (i = 0; i < NPARTS; i++) {
		free(parts[i].json);
		parts[i].json = NULL;
		parts[i].gen++;
	}
	free(doc);
	doc = NULL;
	waiters_answer("the davit backend is not running");
}

void
state_shutdown(void)
{
	state_backend_down();
}
