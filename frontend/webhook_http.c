/*
 * POST /hooks/github/NAME (and /hooks/github when the backend says
 * "single": its one project): GitHub's push webhooks.  No session: the
 * delivery is authenticated by its X-Hub-Signature-256 alone, checked with
 * that project's secret over the raw body before anything in it is parsed.
 * A NAME that is no project (or bad syntax), a project without a secret,
 * and /hooks/github with several projects get the 401 of a bad signature,
 * after an HMAC with a key of our own, and count for the throttle: nothing
 * tells an outsider which projects exist.  A push is cut down to the
 * fields davit uses and forwarded as a typed webhook.push request (with
 * "project"), with the SHA-256 of
 * the signed body (a replayed body may come under a new delivery id); the
 * backend filters (branch, repository, deletion, replay) and answers with a
 * job at once.
 *
 *   401  missing or wrong signature, or no such project (no detail;
 *        logged; reported to the backend, which notifies, rate-limited)
 *   429  the client address sent too many bad signatures (throttle.c's
 *        THROTTLE_WEBHOOK table, as failed logins, without the delays):
 *        refused before the HMAC is computed, with Retry-After
 *   404  /hooks/github of a single project without DAVIT_WEBHOOK_SECRET:
 *        the endpoint is off (as before projects had names)
 *   413  a body over 25 MB (evhttp refuses it from its Content-Length)
 *   415  neither application/json nor application/x-www-form-urlencoded
 *   400  a signed body that is not a push
 *   503  the backend is not running, or went away before answering
 *   504  the backend did not answer within WEBHOOK_REPLY_TIMEOUT seconds
 *        (GitHub gives up at 10 s); its late answer is logged.  A delivery
 *        that GitHub sends again is recognised by the backend's replay set.
 *   200  ping; 202 a push (queued or ignored with a reason), other events
 *
 * Lifetimes: the request is answered exactly once, by webhook_reply or by
 * the deadline, whichever comes first; call->req is NULL from then on.  The
 * call itself lives until the backend's callback (which link.c always
 * makes: a reply, or NULL when the link drops or at shutdown).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <sodium.h>

#include "common/json.h"
#include "common/log.h"
#include "frontend/frontend.h"
#include "frontend/webhook.h"

#define WEBHOOK_REPORT_INTERVAL	60	/* seconds between rejection reports */
#define WEBHOOK_EVENT_MAX	64
#define WEBHOOK_REPLY_TIMEOUT	8	/* seconds for the backend's answer */

struct webhook_call {
	struct evhttp_request	*req;		/* NULL once answered */
	struct event		*deadline;
	char			 delivery[WEBHOOK_MAX_DELIVERY + 1];
};

static time_t		 webhook_last_report;
static unsigned		 webhook_unreported;
static char		 webhook_held_reason[64], webhook_held_addr[FE_ADDR_MAX];
static char		 webhook_held_project[PROTO_PROJECT_NAME_MAX + 1];
static struct event	*webhook_report_ev;	/* reports what the interval held */

static void
webhook_report_done(void *arg, const struct proto_reply *r)
{
}

/* tells the backend about the deliveries refused since the last report */
static void
webhook_report(const char *reason, const char *addr, const char *project)
{
	struct proto_request	 preq;
	struct proto_error	 err;
	char			 text[128];

	webhook_last_report = fe_now();
	snprintf(text, sizeof(text), "%s (%u refused since the last report)",
	    reason, webhook_unreported);
	webhook_unreported = 0;
	proto_request_init(&preq, OP_WEBHOOK_REJECTED, 0);
	proto_request_set_str(&preq, "reason", text);
	if (addr[0] != '\0')
		proto_request_set_str(&preq, "client", addr);
	if (project[0] != '\0')
		proto_request_set_str(&preq, "project", project);
	if (backend_request(&preq, webhook_report_done, NULL, &err) == -1)
		log_warnx("webhook rejection not reported: %s", err.message);
	proto_request_free(&preq);
}

/* the interval is over: what it held back is reported, the newest named */
static void
webhook_report_held(evutil_socket_t fd, short ev, void *arg)
{
	if (webhook_unreported > 0)
		webhook_report(webhook_held_reason, webhook_held_addr,
		    webhook_held_project);
}

/*
 * Bad signatures: logged each, reported to the backend at most once a
 * minute; those of a minute are reported when it is over.  project: the
 * project the URL named when it exists, else "".
 */
static void
webhook_rejected(struct evhttp_request *req, const char *reason,
    const char *project)
{
	char		addr[FE_ADDR_MAX];
	time_t		now = fe_now();
	struct timeval	tv = { 0, 0 };

	http_client_addr(req, addr, sizeof(addr));
	log_warnx("webhook from %s refused: %s", addr, reason);
	webhook_unreported++;
	if (webhook_last_report == 0 ||
	    now - webhook_last_report >= WEBHOOK_REPORT_INTERVAL) {
		webhook_report(reason, addr, project);
		return;
	}
	snprintf(webhook_held_reason, sizeof(webhook_held_reason), "%s", reason);
	snprintf(webhook_held_addr, sizeof(webhook_held_addr), "%s", addr);
	snprintf(webhook_held_project, sizeof(webhook_held_project), "%s",
	    project);
	if (webhook_report_ev == NULL &&
	    (webhook_report_ev = evtimer_new(fenv->base, webhook_report_held,
	    NULL)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	if (!evtimer_pending(webhook_report_ev, NULL)) {
		tv.tv_sec = webhook_last_report + WEBHOOK_REPORT_INTERVAL - now;
		evtimer_add(webhook_report_ev, &tv);
	}
}

/* the backend is too slow for GitHub: answer now, its reply comes later */
static void
webhook_deadline(evutil_socket_t fd, short ev, void *arg)
{
	struct webhook_call	*call = arg;

	log_warnx("webhook delivery %s: no answer from the backend in %d s",
	    call->delivery, WEBHOOK_REPLY_TIMEOUT);
	http_reply_error(call->req, 504, "timeout", "the davit backend did not "
	    "answer in time; GitHub may redeliver");
	call->req = NULL;
}

static void
webhook_call_free(struct webhook_call *call)
{
	if (call->deadline != NULL)
		event_free(call->deadline);
	free(call);
}

static void
webhook_reply(void *arg, const struct proto_reply *r)
{
	struct webhook_call	*call = arg;
	char			*json;
	size_t			 len;

	if (call->req == NULL) {
		/* answered 504 already */
		if (r == NULL)
			log_warnx("webhook delivery %s: the backend went away",
			    call->delivery);
		else if (!r->ok)
			log_warnx("webhook delivery %s: late: backend: %.32s: "
			    "%.200s", call->delivery, r->error_code,
			    r->error_message);
		else {
			json = backend_result_json(r, &len);
			log_info("webhook delivery %s: late: %.200s",
			    call->delivery, json);
			free(json);
		}
	} else if (r == NULL)
		http_reply_error(call->req, 503, "unavailable",
		    "the davit backend went away; GitHub may redeliver");
	else if (!r->ok) {
		log_warnx("webhook delivery %s: backend: %.32s: %.200s",
		    call->delivery, r->error_code, r->error_message);
		/* GitHub is told "later" (503) or "not this" (400) only */
		http_reply_error(call->req,
		    http_backend_status(r->error_code) == 503 ? 503 : 400,
		    r->error_code, "%s", r->error_message);
	} else {
		json = backend_result_json(r, &len);
		log_info("webhook delivery %s: %.200s", call->delivery, json);
		http_reply_json(call->req, 202, json, len);
		free(json);
	}
	webhook_call_free(call);
}

/* a printable copy of a header for a log line */
static void
printable(const char *s, char *out, size_t outlen)
{
	size_t	i;

	for (i = 0; s != NULL && s[i] != '\0' && i + 1 < outlen; i++)
		out[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	out[i] = '\0';
}

static void
webhook_push(struct evhttp_request *req, const char *project,
    const char *delivery, const char *body, size_t len)
{
	struct webhook_push	 push;
	struct proto_request	 preq;
	struct proto_error	 err;
	struct webhook_call	*call;
	struct timeval		 tv = { WEBHOOK_REPLY_TIMEOUT, 0 };
	unsigned char		 sum[crypto_hash_sha256_BYTES];
	char			 digest[2 * crypto_hash_sha256_BYTES + 1];
	char			*json, msg[256];
	size_t			 jsonlen, i;
	int			 unsupported;

	if (webhook_payload(http_header(req, "Content-Type"), body, len, &json,
	    &jsonlen, &unsupported, msg, sizeof(msg)) == -1) {
		log_warnx("webhook delivery %s: %s", delivery, msg);
		http_reply_error(req, unsupported ? 415 : 400,
		    unsupported ? "unsupported_media_type" : "bad_request", "%s", msg);
		return;
	}
	if (webhook_parse_push(json, jsonlen, &push, msg, sizeof(msg)) == -1) {
		free(json);
		log_warnx("webhook delivery %s: %s", delivery, msg);
		http_reply_error(req, 400, "bad_request", "%s", msg);
		return;
	}
	free(json);
	if (push.paths_dropped > 0)
		log_info("webhook delivery %s: %zu changed paths not forwarded",
		    delivery, push.paths_dropped);

	proto_request_init(&preq, OP_WEBHOOK_PUSH, 0);
	proto_request_set_str(&preq, "delivery", delivery);
	proto_request_set_str(&preq, "ref", push.ref);
	if (push.before[0] != '\0')
		proto_request_set_str(&preq, "before", push.before);
	proto_request_set_str(&preq, "after", push.after);
	proto_request_set_str(&preq, "repository", push.repository);
	/*
	 * The signature covers the body, not the delivery id: the backend
	 * also knows a body it has deployed by this.
	 */
	crypto_hash_sha256(sum, (const unsigned char *)body, len);
	http_hex(sum, sizeof(sum), digest);
	proto_request_set_str(&preq, "digest", digest);
	for (i = 0; i < push.npaths; i++)
		proto_request_add_item(&preq, "paths", push.paths[i]);
	if (project[0] != '\0')
		proto_request_set_str(&preq, "project", project);
	webhook_push_free(&push);

	if ((call = calloc(1, sizeof(*call))) == NULL)
		fatal("%s", __func__);
	call->req = req;
	snprintf(call->delivery, sizeof(call->delivery), "%s", delivery);
	if ((call->deadline = evtimer_new(fenv->base, webhook_deadline,
	    call)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	if (backend_request(&preq, webhook_reply, call, &err) == -1) {
		webhook_call_free(call);
		if (err.code == PE_BAD_REQUEST) {
			/* the table refused a value: say which, as GitHub shows it */
			log_warnx("webhook delivery %s: %s", delivery, err.message);
			http_reply_error(req, 400, "bad_request", "%s", err.message);
		} else
			http_reply_error(req, 503, "unavailable", "%s", err.message);
	} else
		evtimer_add(call->deadline, &tv);
	proto_request_free(&preq);
}

/*
 * The project a URL names, if it has a secret: /hooks/github is the single
 * project's, /hooks/github/NAME is NAME's.  NULL: the same 401 for all.
 */
static const struct fe_project *
webhook_project(const char *name)
{
	const struct fe_config	*cfg = &fenv->cfg;
	const struct fe_project	*p;

	if (name == NULL)
		p = cfg->single && cfg->nprojects == 1 ? &cfg->projects[0] : NULL;
	else if (!proto_project_name_ok(name, strlen(name)))
		p = NULL;
	else
		p = fe_project_find(cfg, name, strlen(name));
	return p != NULL && p->webhook_secret != NULL ? p : NULL;
}

/*
 * The signature, with p's secret; without p, an HMAC with a key of our own
 * all the same (an unknown name costs what a wrong signature costs), and
 * the answer is no.
 */
static int
webhook_verify(const struct fe_project *p, const char *body, size_t len,
    const char *sig)
{
	static unsigned char	nokey[32];
	static int		nokey_set;

	if (p != NULL)
		return webhook_signature_ok(
		    (const unsigned char *)p->webhook_secret,
		    p->webhook_secret_len, body, len, sig);
	if (!nokey_set) {
		randombytes_buf(nokey, sizeof(nokey));
		nokey_set = 1;
	}
	(void)webhook_signature_ok(nokey, sizeof(nokey), body, len, sig);
	return 0;
}

void
webhook_route(struct evhttp_request *req, const char *name)
{
	struct evbuffer	*in = evhttp_request_get_input_buffer(req);
	const struct fe_project *p;
	const char	*event, *delivery, *sig;
	const char	*body;
	char		 shown[WEBHOOK_EVENT_MAX + 1], addr[FE_ADDR_MAX], retry[16];
	char		 project[PROTO_PROJECT_NAME_MAX + 1];
	size_t		 len = evbuffer_get_length(in);
	int		 wait, delay;

	if (name == NULL && fenv->cfg.single && fenv->cfg.nprojects == 1 &&
	    fenv->cfg.projects[0].webhook_secret == NULL) {
		http_reply_error(req, 404, "not_found",
		    "webhooks are off (no DAVIT_WEBHOOK_SECRET)");
		return;
	}
	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "POST");
		http_reply_error(req, 405, "method_not_allowed", "use POST");
		return;
	}
	if (len > WEBHOOK_MAX_BODY) {
		http_reply_error(req, 413, "too_large", "body over 25 MB");
		return;
	}
	http_client_addr(req, addr, sizeof(addr));
	if ((wait = throttle_check(THROTTLE_WEBHOOK, addr, fe_now(),
	    &delay)) > 0) {
		log_warnx("webhook from %s refused for %d s: too many bad "
		    "signatures", addr, wait);
		snprintf(retry, sizeof(retry), "%d", wait);
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Retry-After", retry);
		http_reply_error(req, 429, "throttled",
		    "too many bad signatures; try again in %d s", wait);
		return;
	}
	body = len > 0 ? (const char *)evbuffer_pullup(in, -1) : "";
	sig = http_header(req, "X-Hub-Signature-256");
	p = webhook_project(name);
	/* a copy: the table may be swapped (projects.changed) before the reply */
	snprintf(project, sizeof(project), "%s", p != NULL ? p->name : "");
	if (!webhook_verify(p, body, len, sig)) {
		webhook_rejected(req, p == NULL ? "no such project, or no secret" :
		    sig == NULL ? "no X-Hub-Signature-256" :
		    "bad X-Hub-Signature-256", project);
		http_reply_error(req, 401, "unauthorized", "signature missing or invalid");
		return;
	}
	throttle_success(THROTTLE_WEBHOOK, addr);
	/* from here on the body is GitHub's (or the secret leaked) */
	event = http_header(req, "X-GitHub-Event");
	delivery = http_header(req, "X-GitHub-Delivery");
	printable(event, shown, sizeof(shown));
	if (!webhook_delivery_ok(delivery)) {
		log_warnx("signed webhook (event %s) without a valid X-GitHub-Delivery",
		    shown);
		http_reply_error(req, 400, "bad_request",
		    "missing or invalid X-GitHub-Delivery");
		return;
	}
	if (event != NULL && strcmp(event, "ping") == 0) {
		log_info("webhook ping %s", delivery);
		http_reply_json(req, 200, "{\"pong\":true}", 13);
		return;
	}
	if (event == NULL || strcmp(event, "push") != 0) {
		char	reply[160];
		int	n;

		log_info("webhook delivery %s: event %s ignored", delivery, shown);
		n = snprintf(reply, sizeof(reply),
		    "{\"ignored\":true,\"reason\":\"only push events deploy\"}");
		http_reply_json(req, 202, reply, (size_t)n);
		return;
	}
	webhook_push(req, project, delivery, body, len);
}

void
webhook_shutdown(void)
{
	if (webhook_report_ev != NULL) {
		event_free(webhook_report_ev);
		webhook_report_ev = NULL;
	}
}
