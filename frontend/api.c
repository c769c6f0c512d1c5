/*
 * The JSON API: the route table, sessions and CSRF, and the mapping of
 * routes to backend ops.  The rules every route follows, before its
 * handler runs:
 *   - a POST with an Origin header must come from the Host it names (403);
 *   - a route that needs a session gets 401 without a live one;
 *   - a POST needs X-Davit-CSRF equal to the session's token (403), login
 *     aside, which has no session yet;
 *   - a POST body is JSON or nothing: the types a plain HTML form can send
 *     get 415, as does a body of another type;
 *   - a project-scoped route's ?project=NAME is checked (a project name,
 *     once) and forwarded as the op's "project"; without it the backend
 *     takes its only project.
 * The login route (the password forwarded, wiped, held by throttle.c's
 * delay) is in api_login.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <sodium.h>
#include <yajl/yajl_tree.h>

#include "common/config.h"
#include "common/json.h"
#include "common/log.h"
#include "frontend/api.h"
#include "frontend/frontend.h"

#define API_SESSION	0x01	/* needs a live session */
#define API_PREFIX	0x02	/* path is a prefix; the handler reads the rest */

typedef void (*api_handler)(struct evhttp_request *, struct session *,
    const char *rest);

struct api_route {
	const char		*path;
	enum evhttp_cmd_type	 method;
	unsigned		 flags;
	api_handler		 fn;
};

static void	api_logout(struct evhttp_request *, struct session *, const char *);
static void	api_session(struct evhttp_request *, struct session *, const char *);
static void	api_state(struct evhttp_request *, struct session *, const char *);
static void	api_events(struct evhttp_request *, struct session *, const char *);
static void	api_git(struct evhttp_request *, struct session *, const char *);
static void	api_deploy(struct evhttp_request *, struct session *, const char *);
static void	api_stack(struct evhttp_request *, struct session *, const char *);
static void	api_service(struct evhttp_request *, struct session *, const char *);
static void	api_job(struct evhttp_request *, struct session *, const char *);
static void	api_projects(struct evhttp_request *, struct session *, const char *);
static void	api_deploys(struct evhttp_request *, struct session *, const char *);

static const struct api_route	api_routes[] = {
	{ "/api/login", EVHTTP_REQ_POST, 0, api_login },
	{ "/api/logout", EVHTTP_REQ_POST, API_SESSION, api_logout },
	{ "/api/session", EVHTTP_REQ_GET, API_SESSION, api_session },
	{ "/api/state", EVHTTP_REQ_GET, API_SESSION, api_state },
	{ "/api/events", EVHTTP_REQ_GET, API_SESSION, api_events },
	{ "/api/git/", EVHTTP_REQ_POST, API_SESSION | API_PREFIX, api_git },
	{ "/api/deploy", EVHTTP_REQ_POST, API_SESSION, api_deploy },
	{ "/api/deploys/", EVHTTP_REQ_POST, API_SESSION | API_PREFIX, api_deploys },
	{ "/api/stack/", EVHTTP_REQ_POST, API_SESSION | API_PREFIX, api_stack },
	{ "/api/services/", EVHTTP_REQ_POST, API_SESSION | API_PREFIX, api_service },
	{ "/api/jobs/", EVHTTP_REQ_GET, API_SESSION | API_PREFIX, api_job },
	{ "/api/projects", EVHTTP_REQ_GET, API_SESSION, api_projects },
};

/* the live session named by the request's cookie, if any */
static struct session *
api_find_session(struct evhttp_request *req)
{
	const char	*vals[4];
	size_t		 lens[4], n, i;
	const char	*cookie;
	struct session	*s;
	struct evkeyval	*kv;
	time_t		 now = fe_now();

	/* every Cookie header: a client may send more than one */
	TAILQ_FOREACH(kv, evhttp_request_get_input_headers(req), next) {
		if (strcasecmp(kv->key, "Cookie") != 0)
			continue;
		cookie = kv->value;
		n = http_cookie_find(cookie, strlen(cookie), FE_COOKIE_NAME, vals,
		    lens, 4);
		for (i = 0; i < n; i++)
			if ((s = session_lookup(vals[i], lens[i], now)) != NULL)
				return s;
	}
	return NULL;
}

void
api_set_cookie(struct evhttp_request *req, const char *id)
{
	char	buf[256];

	snprintf(buf, sizeof(buf), "%s=%s; HttpOnly; SameSite=Strict; Path=/%s%s",
	    FE_COOKIE_NAME, id, id[0] == '\0' ? "; Max-Age=0" : "",
	    fenv->cfg.cookie_secure || http_request_secure(req) ? "; Secure" : "");
	evhttp_add_header(evhttp_request_get_output_headers(req), "Set-Cookie", buf);
}

/* the body's type, for every POST */
static int
api_post_checks(struct evhttp_request *req)
{
	const char	*ctype;
	char		 media[128];
	size_t		 len;

	len = evbuffer_get_length(evhttp_request_get_input_buffer(req));
	if ((ctype = http_header(req, "Content-Type")) != NULL) {
		if (http_media_type(ctype, media, sizeof(media)) == -1 ||
		    http_media_is_form(media) ||
		    (strcmp(media, "application/json") != 0 && len > 0)) {
			http_reply_error(req, 415, "unsupported_media_type",
			    "the body must be application/json");
			return -1;
		}
	} else if (len > 0) {
		http_reply_error(req, 415, "unsupported_media_type",
		    "the body must be application/json");
		return -1;
	}
	return 0;
}

/* a body, if any, must be JSON (routes that take no arguments ignore it) */
static int
api_body_json_ok(struct evhttp_request *req)
{
	struct evbuffer	*in = evhttp_request_get_input_buffer(req);
	size_t		 len = evbuffer_get_length(in);
	yajl_val	 tree;
	char		 err[128];

	if (len == 0)
		return 1;
	tree = json_parse((const char *)evbuffer_pullup(in, -1), len, err,
	    sizeof(err));
	if (tree == NULL) {
		http_reply_error(req, 400, "bad_request", "body: %s", err);
		return 0;
	}
	yajl_tree_free(tree);
	return 1;
}

void
api_route(struct evhttp_request *req, const char *path)
{
	const struct api_route	*r = NULL;
	enum evhttp_cmd_type	 cmd = evhttp_request_get_command(req);
	struct session		*s = NULL;
	const char		*rest = "";
	size_t			 i, plen;

	for (i = 0; i < sizeof(api_routes) / sizeof(api_routes[0]); i++) {
		plen = strlen(api_routes[i].path);
		if (api_routes[i].flags & API_PREFIX) {
			if (strncmp(path, api_routes[i].path, plen) == 0) {
				r = &api_routes[i];
				rest = path + plen;
				break;
			}
		} else if (strcmp(path, api_routes[i].path) == 0) {
			r = &api_routes[i];
			break;
		}
	}
	if (r == NULL) {
		http_reply_error(req, 404, "not_found", "no such API route");
		return;
	}
	if (cmd == EVHTTP_REQ_HEAD && r->method == EVHTTP_REQ_GET)
		cmd = EVHTTP_REQ_GET;
	if (cmd != r->method) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
		    r->method == EVHTTP_REQ_GET ? "GET, HEAD" : "POST");
		http_reply_error(req, 405, "method_not_allowed", "use %s",
		    r->method == EVHTTP_REQ_GET ? "GET" : "POST");
		return;
	}
	if (cmd == EVHTTP_REQ_POST && http_header(req, "Origin") != NULL &&
	    !http_origin_ok(http_header(req, "Origin"), http_header(req, "Host"))) {
		log_warnx("refused a POST from origin %.100s", http_header(req, "Origin"));
		http_reply_error(req, 403, "forbidden", "cross-origin request refused");
		return;
	}
	if (r->flags & API_SESSION) {
		if ((s = api_find_session(req)) == NULL) {
			http_reply_error(req, 401, "unauthorized",
			    "not logged in, or the session expired");
			return;
		}
		if (cmd == EVHTTP_REQ_POST &&
		    !session_csrf_ok(s, http_header(req, FE_CSRF_HEADER))) {
			http_reply_error(req, 403, "forbidden",
			    "missing or wrong " FE_CSRF_HEADER " header");
			return;
		}
	}
	if (cmd == EVHTTP_REQ_POST && api_post_checks(req) == -1)
		return;
	r->fn(req, s, rest);
}

void
api_healthz(struct evhttp_request *req)
{
	enum evhttp_cmd_type	cmd = evhttp_request_get_command(req);

	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
		    "GET, HEAD");
		http_reply_error(req, 405, "method_not_allowed", "use GET");
		return;
	}
	if (backend_up())
		http_reply_json(req, 200, "{\"backend\":\"up\"}", 16);
	else
		http_reply_json(req, 200, "{\"backend\":\"down\"}", 18);
}

/* a failed backend reply, or none (r NULL), as an HTTP error */
void
api_backend_error(struct evhttp_request *req, const struct proto_reply *r,
    int service)
{
	int	status;

	if (r == NULL) {
		http_reply_error(req, 503, "unavailable",
		    "the davit backend went away before answering; try again");
		return;
	}
	if ((status = http_backend_status(r->error_code)) != 0) {
		http_reply_error(req, service && status == 403 ? 404 : status,
		    r->error_code, "%s", r->error_message);
		return;
	}
	log_warnx("backend error %.32s: %.200s", r->error_code, r->error_message);
	http_reply_error(req, 502, "bad_gateway", "the davit backend failed: %s",
	    r->error_message);
}

/* a refused backend_request */
void
api_request_error(struct evhttp_request *req, const struct proto_error *err)
{
	if (err->code == PE_BAD_REQUEST)
		http_reply_error(req, 400, "bad_request", "%s", err->message);
	else
		http_reply_error(req, 503, err->code == PE_BUSY ? "busy" :
		    "unavailable", "%s", err->message);
}

struct api_call *
api_call_new(struct evhttp_request *req, int status)
{
	struct api_call	*call;

	if ((call = calloc(1, sizeof(*call))) == NULL)
		fatal("%s", __func__);
	call->req = req;
	call->status = status;
	return call;
}

/* a plain op: its result is the reply */
static void
api_call_reply(void *arg, const struct proto_reply *r)
{
	struct api_call	*call = arg;
	char		*json;
	size_t		 len;

	if (r == NULL || !r->ok)
		api_backend_error(call->req, r, call->service);
	else {
		json = backend_result_json(r, &len);
		http_reply_json(call->req, call->status, json, len);
		free(json);
	}
	free(call);
}

static void
api_forward(struct evhttp_request *req, struct proto_request *preq, int status,
    int service)
{
	struct api_call		*call = api_call_new(req, status);
	struct proto_error	 err;

	call->service = service;
	if (backend_request(preq, api_call_reply, call, &err) == -1) {
		free(call);
		api_request_error(req, &err);
	}
	proto_request_free(preq);
}

/*
 * The query's project=NAME into name ("" without one): 0, or -1 once a 400
 * is sent (not a project name, given twice, a query that does not parse).
 */
static int
api_project(struct evhttp_request *req, char *name, size_t namelen)
{
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	const char		*query = uri != NULL ? evhttp_uri_get_query(uri) : NULL;
	struct evkeyvalq	 params;
	struct evkeyval		*kv;
	int			 n = 0, rv = 0;

	name[0] = '\0';
	if (query == NULL || query[0] == '\0')
		return 0;
	TAILQ_INIT(&params);
	if (evhttp_parse_query_str(query, &params) == -1) {
		http_reply_error(req, 400, "bad_request", "bad query string");
		return -1;
	}
	TAILQ_FOREACH(kv, &params, next) {
		if (strcmp(kv->key, "project") != 0)
			continue;
		if (n++ > 0 || !proto_project_name_ok(kv->value,
		    strlen(kv->value)) || strlen(kv->value) >= namelen) {
			if (n > 1)
				http_reply_error(req, 400, "bad_request",
				    "project: given twice");
			else
				http_reply_error(req, 400, "bad_request",
				    "project: not a project name ([a-z0-9]"
				    "[a-z0-9-], at most %d characters)",
				    PROTO_PROJECT_NAME_MAX);
			rv = -1;
			break;
		}
		memcpy(name, kv->value, strlen(kv->value) + 1);
	}
	evhttp_clear_headers(&params);
	return rv;
}

/* a job op: 202 {"job":N} */
static void
api_job_op(struct evhttp_request *req, enum proto_op_id op, const char *service)
{
	struct proto_request	preq;
	char			project[PROTO_PROJECT_NAME_MAX + 1];

	if (api_project(req, project, sizeof(project)) == -1 ||
	    !api_body_json_ok(req))
		return;
	proto_request_init(&preq, op, 0);
	if (service != NULL)
		proto_request_set_str(&preq, "service", service);
	if (project[0] != '\0')
		proto_request_set_str(&preq, "project", project);
	proto_request_set_str(&preq, "by", "dashboard");
	api_forward(req, &preq, 202, service != NULL);
}

static void
api_logout(struct evhttp_request *req, struct session *s, const char *rest)
{
	char	sid[FE_TOKEN_HEX + 1];

	memcpy(sid, s->id, sizeof(sid));
	session_destroy(s);
	sse_end_session(sid);
	sodium_memzero(sid, sizeof(sid));
	api_set_cookie(req, "");
	http_reply_json(req, 200, "{}", 2);
}

static void
api_session(struct evhttp_request *req, struct session *s, const char *rest)
{
	yajl_gen	 g = json_gen_new();
	char		*json;
	size_t		 len;

	yajl_gen_map_open(g);
	json_kstr(g, "csrf", s->csrf);
	json_kint(g, "idle_timeout", fenv->cfg.session_idle);
	json_ktime(g, "expires_at", json_now_ms() +
	    (long long)(session_expires(s) - fe_now()) * 1000);
	yajl_gen_map_close(g);
	json = json_gen_take(g, &len);
	yajl_gen_free(g);
	http_reply_json(req, 200, json, len);
	free(json);
}

static void
api_state_done(void *arg, const char *json, size_t len, const char *code,
    const char *errmsg)
{
	struct evhttp_request	*req = arg;
	int			 status;

	if (json != NULL)
		http_reply_json(req, 200, json, len);
	else if (code != NULL && (status = http_backend_status(code)) != 0 &&
	    status != 503)
		http_reply_error(req, status, code, "%s", errmsg);
	else
		http_reply_error(req, 503, "unavailable", "%s", errmsg);
}

static void
api_state(struct evhttp_request *req, struct session *s, const char *rest)
{
	char	project[PROTO_PROJECT_NAME_MAX + 1];

	if (api_project(req, project, sizeof(project)) == -1)
		return;
	state_get(project[0] != '\0' ? project : NULL, api_state_done, req);
}

/* GET /api/projects: projects.list's result */
static void
api_projects(struct evhttp_request *req, struct session *s, const char *rest)
{
	struct proto_request	preq;

	proto_request_init(&preq, OP_PROJECTS_LIST, 0);
	api_forward(req, &preq, 200, 0);
}

static void
api_events(struct evhttp_request *req, struct session *s, const char *rest)
{
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD)
		http_reply(req, 200, "text/event-stream", NULL);
	else
		sse_open(req, s);
}

static void
api_git(struct evhttp_request *req, struct session *s, const char *rest)
{
	if (strcmp(rest, "fetch") == 0)
		api_job_op(req, OP_GIT_FETCH, NULL);
	else if (strcmp(rest, "pull") == 0)
		api_job_op(req, OP_GIT_PULL, NULL);
	else
		http_reply_error(req, 404, "not_found", "no such git action");
}

static void
api_deploy(struct evhttp_request *req, struct session *s, const char *rest)
{
	api_job_op(req, OP_DEPLOY, NULL);
}

/* rest: "N/rollback": deploy.rollback of deploy N's release */
static void
api_deploys(struct evhttp_request *req, struct session *s, const char *rest)
{
	struct proto_request	 preq;
	const char		*slash = strchr(rest, '/');
	long long		 id;
	char			 project[PROTO_PROJECT_NAME_MAX + 1];

	if (slash == NULL || strcmp(slash + 1, "rollback") != 0 ||
	    http_parse_id(rest, (size_t)(slash - rest), PROTO_MAX_ID, &id) == -1) {
		http_reply_error(req, 404, "not_found", "no such deploy action");
		return;
	}
	if (api_project(req, project, sizeof(project)) == -1 ||
	    !api_body_json_ok(req))
		return;
	proto_request_init(&preq, OP_DEPLOY_ROLLBACK, 0);
	proto_request_set_int(&preq, "deploy", id);
	if (project[0] != '\0')
		proto_request_set_str(&preq, "project", project);
	proto_request_set_str(&preq, "by", "dashboard");
	api_forward(req, &preq, 202, 0);
}

static int
action_op(const char *action, enum proto_op_id start, enum proto_op_id *op)
{
	static const char *const	actions[] = {
		"start", "stop", "restart", "rebuild"
	};
	size_t				i;

	/* the four ops follow each other in the enum, in this order */
	for (i = 0; i < 4; i++)
		if (strcmp(action, actions[i]) == 0) {
			*op = start + (enum proto_op_id)i;
			return 0;
		}
	return -1;
}

static void
api_stack(struct evhttp_request *req, struct session *s, const char *rest)
{
	enum proto_op_id	op;

	if (action_op(rest, OP_STACK_START, &op) == -1) {
		http_reply_error(req, 404, "not_found", "no such stack action");
		return;
	}
	api_job_op(req, op, NULL);
}

/* rest: "NAME/ACTION", still percent-encoded: a name has no '%' anyway */
static void
api_service(struct evhttp_request *req, struct session *s, const char *rest)
{
	char			 name[CONFIG_MAX_SERVICE_NAME + 2];
	const char		*slash;
	enum proto_op_id	 op;
	size_t			 len;

	if ((slash = strchr(rest, '/')) == NULL ||
	    action_op(slash + 1, OP_SERVICE_START, &op) == -1) {
		http_reply_error(req, 404, "not_found", "no such service action");
		return;
	}
	len = (size_t)(slash - rest);
	if (len == 0 || len > CONFIG_MAX_SERVICE_NAME) {
		http_reply_error(req, 404, "not_found", "no such service");
		return;
	}
	memcpy(name, rest, len);
	name[len] = '\0';
	api_job_op(req, op, name);
}

static void
api_job(struct evhttp_request *req, struct session *s, const char *rest)
{
	struct proto_request	preq;
	long long		id;

	if (http_parse_id(rest, strlen(rest), PROTO_MAX_ID, &id) == -1) {
		http_reply_error(req, 404, "not_found", "no such job");
		return;
	}
	proto_request_init(&preq, OP_JOB_GET, 0);
	proto_request_set_int(&preq, "job", id);
	api_forward(req, &preq, 200, 0);
}

/* what a backend event changes (proto_events[]): the cached state, the browsers */
void
api_event(const struct proto_reply *r)
{
	const struct proto_event	*ev;
	const char			*raw;
	char				*json;
	size_t				 len;
	unsigned			 stale;
	yajl_gen			 g;
	yajl_val			 v;
	long long			 count;

	if ((ev = proto_event_by_name(r->event)) == NULL ||
	    !(ev->flags & PROTO_EV_BACKEND)) {
		log_debug("%s: event %.64s not passed on", __func__, r->event);
		return;
	}
	if ((stale = proto_event_stale(ev, r->data)) != 0) {
		v = json_get(r->data, "project");
		state_invalidate(v != NULL && YAJL_IS_STRING(v) ?
		    v->u.string : NULL, stale);
	}
	if (ev->id == EV_MISSED) {
		v = json_get(r->data, "count");
		count = v != NULL && YAJL_IS_INTEGER(v) && v->u.number.i > 0 &&
		    v->u.number.i <= PROTO_MAX_ID ? v->u.number.i : 1;
		log_debug("%s: the backend dropped %lld events for us", __func__,
		    count);
		sse_missed_all(count);
		return;
	}
	if (!(ev->flags & PROTO_EV_BROWSER))
		return;
	/* as the backend wrote it: we have no need to look inside */
	if ((raw = backend_raw(r, &len)) != NULL) {
		sse_broadcast(ev->name, raw, len);
		return;
	}
	g = json_gen_new();
	json_tree(g, r->data);
	json = json_gen_take(g, &len);
	yajl_gen_free(g);
	sse_broadcast(ev->name, json, len);
	free(json);
}

void
api_backend_changed(int up)
{
	if (up) {
		state_invalidate(NULL, PROTO_PARTS_ALL);
		sse_broadcast("backend", "{\"up\":true}", 11);
	} else {
		state_backend_down();
		sse_broadcast("backend", "{\"up\":false}", 12);
	}
}
