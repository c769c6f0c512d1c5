/*
 * POST /api/login: the body {"password":"..."} parsed from a private copy,
 * the password forwarded to the backend, which decides; it is wiped from
 * every buffer the frontend owns once sent.  A login that throttle.c says
 * must wait is held (with its request built, the password in it) on a
 * timer, then sent; api_shutdown answers those still held.  On success a
 * session is created and its cookie set.  api.c routes here after its
 * checks (no session needed, CSRF aside: login has no session yet).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <sodium.h>
#include <yajl/yajl_tree.h>

#include "common/config.h"
#include "common/json.h"
#include "common/log.h"
#include "frontend/api.h"
#include "frontend/frontend.h"

/* a login held back by throttle.c's delay */
struct login_wait {
	TAILQ_ENTRY(login_wait)	 entry;
	struct api_call		*call;
	struct proto_request	 preq;
	struct event		*ev;
};
TAILQ_HEAD(login_wait_list, login_wait);
static struct login_wait_list	login_waiting =
    TAILQ_HEAD_INITIALIZER(login_waiting);

static void
login_reply(void *arg, const struct proto_reply *r)
{
	struct api_call	*call = arg;
	struct session	*s;
	yajl_gen	 g;
	yajl_val	 ok;
	char		*json;
	size_t		 len;
	time_t		 now = fe_now();

	if (r == NULL || (!r->ok && strcmp(r->error_code, "unauthorized") != 0)) {
		throttle_cancel(THROTTLE_LOGIN, call->addr);
		api_backend_error(call->req, r, 0);
		goto done;
	}
	ok = r->ok ? json_get(r->result, "ok") : NULL;
	if (ok == NULL || ok->type != yajl_t_true) {
		log_info("failed login from %s", call->addr);
		http_reply_error(call->req, 401, "unauthorized", "wrong password");
		goto done;
	}
	throttle_success(THROTTLE_LOGIN, call->addr);
	s = session_create(now);
	log_info("login from %s", call->addr);
	api_set_cookie(call->req, s->id);
	g = json_gen_new();
	yajl_gen_map_open(g);
	json_kstr(g, "csrf", s->csrf);
	json_kint(g, "idle_timeout", fenv->cfg.session_idle);
	json_ktime(g, "expires_at", json_now_ms() +
	    (long long)(session_expires(s) - now) * 1000);
	yajl_gen_map_close(g);
	json = json_gen_take(g, &len);
	yajl_gen_free(g);
	http_reply_json(call->req, 200, json, len);
	free(json);
 done:
	free(call);
}

/*
 * {"password":"..."}: parsed from a private copy that is wiped, as is the
 * request's own buffer.  Returns the tree (the caller wipes and frees it).
 */
static yajl_val
login_parse(struct evhttp_request *req, const char **pw)
{
	struct evbuffer	*in = evhttp_request_get_input_buffer(req);
	size_t		 len = evbuffer_get_length(in), i, pwlen;
	unsigned char	*data;
	char		*copy, ebuf[128];
	yajl_val	 tree = NULL, v;

	*pw = NULL;
	if (len == 0)
		return NULL;
	data = evbuffer_pullup(in, -1);
	if ((copy = malloc(len + 1)) == NULL)
		fatal("%s", __func__);
	memcpy(copy, data, len);
	copy[len] = '\0';
	sodium_memzero(data, len);
	/* no comments, no \u0000, at most 4 deep: common/json.c */
	tree = json_parse_max(copy, len, 4, ebuf, sizeof(ebuf));
	sodium_memzero(copy, len);
	free(copy);
	if (tree == NULL || tree->type != yajl_t_object)
		return tree;
	for (i = 0; i < tree->u.object.len; i++) {
		if (strcmp(tree->u.object.keys[i], "password") != 0)
			return tree;	/* only "password" */
		v = tree->u.object.values[i];
		if (v->type != yajl_t_string || *pw != NULL)
			return tree;
		*pw = v->u.string;
	}
	if (*pw == NULL)
		return tree;
	pwlen = strlen(*pw);
	for (i = 0; i < pwlen; i++)
		if ((unsigned char)(*pw)[i] < 0x20 || (*pw)[i] == 0x7f)
			break;
	if (pwlen == 0 || pwlen > FE_PASSWORD_MAX || i != pwlen)
		*pw = NULL;
	return tree;
}

static void
login_tree_free(yajl_val tree)
{
	size_t	i;

	if (tree == NULL)
		return;
	if (tree->type == yajl_t_object)
		for (i = 0; i < tree->u.object.len; i++)
			if (tree->u.object.values[i]->type == yajl_t_string)
				sodium_memzero(tree->u.object.values[i]->u.string,
				    strlen(tree->u.object.values[i]->u.string));
	yajl_tree_free(tree);
}

/* to the backend; the request (and the password in it) is wiped and freed */
static void
login_send(struct login_wait *w)
{
	struct proto_error	err;

	if (backend_request(&w->preq, login_reply, w->call, &err) == -1) {
		throttle_cancel(THROTTLE_LOGIN, w->call->addr);
		api_request_error(w->call->req, &err);
		free(w->call);
	}
	proto_request_free(&w->preq);	/* wipes the password */
	if (w->ev != NULL)
		event_free(w->ev);
	free(w);
}

static void
login_delayed(evutil_socket_t fd, short ev, void *arg)
{
	struct login_wait	*w = arg;

	TAILQ_REMOVE(&login_waiting, w, entry);
	login_send(w);
}

void
api_login(struct evhttp_request *req, struct session *unused, const char *rest)
{
	struct login_wait	*w;
	struct api_call		*call;
	struct timeval		 tv = { 0, 0 };
	const char		*pw;
	yajl_val		 tree;
	char			 retry[16];
	int			 wait, delay;

	tree = login_parse(req, &pw);
	if (pw == NULL) {
		login_tree_free(tree);
		http_reply_error(req, 400, "bad_request", "the body must be "
		    "{\"password\":\"...\"}, 1 to %d printable characters",
		    FE_PASSWORD_MAX);
		return;
	}
	call = api_call_new(req, 200);
	http_client_addr(req, call->addr, sizeof(call->addr));
	if ((wait = throttle_check(THROTTLE_LOGIN, call->addr, fe_now(),
	    &delay)) > 0) {
		login_tree_free(tree);
		log_warnx("login from %s refused for %d s: too many failures",
		    call->addr, wait);
		snprintf(retry, sizeof(retry), "%d", wait);
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Retry-After", retry);
		http_reply_error(req, 429, "throttled",
		    "too many failed logins; try again in %d s", wait);
		free(call);
		return;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL)
		fatal("%s", __func__);
	w->call = call;
	proto_request_init(&w->preq, OP_AUTH_LOGIN, 0);
	proto_request_set_str(&w->preq, "password", pw);
	proto_request_set_str(&w->preq, "client", call->addr);
	login_tree_free(tree);
	if (delay == 0) {
		login_send(w);
		return;
	}
	log_info("login from %s held for %d s", call->addr, delay);
	if ((w->ev = evtimer_new(fenv->base, login_delayed, w)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	tv.tv_sec = delay;
	evtimer_add(w->ev, &tv);
	TAILQ_INSERT_TAIL(&login_waiting, w, entry);
}

void
api_shutdown(void)
{
	struct login_wait	*w;

	while ((w = TAILQ_FIRST(&login_waiting)) != NULL) {
		TAILQ_REMOVE(&login_waiting, w, entry);
		event_free(w->ev);
		throttle_cancel(THROTTLE_LOGIN, w->call->addr);
		http_reply_error(w->call->req, 503, "unavailable",
		    "davit is shutting down");
		proto_request_free(&w->preq);
		free(w->call);
		free(w);
	}
}
