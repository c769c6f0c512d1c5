/*
 * The op table and the codec that validates every message against it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/log.h"
#include "proto/proto.h"

#define F_SERVICE	{ "service", PF_STRING, PF_REQUIRED, PC_NAME, 1, \
			    PROTO_SERVICE_NAME_MAX, 0 }
#define F_TRIGGER	{ "by", PF_STRING, 0, PC_TEXT, 1, 64, 0 }
#define F_CLIENT	{ "client", PF_STRING, 0, PC_TEXT, 1, PROTO_CLIENT_MAX, 0 }
#define F_PROJECT	{ "project", PF_STRING, 0, PC_PROJECT, 1, \
			    PROTO_PROJECT_NAME_MAX, 0 }
#define F_END		{ NULL, 0, 0, 0, 0, 0, 0 }

#define ANY		PROTO_CALLER_ANY
#define DASH		PROTO_OP_DASHBOARD
#define RO		PROTO_OP_READONLY
#define PRJ		PROTO_OP_PROJECT

/*
 * Every op: name, who may call it, flags, its fields.  What each does is
 * its section in PROTOCOL.md; its handler is its row in backend/dispatch.c.
 * "by" names who asked (a dashboard session, a webhook delivery): audit only.
 */
const struct proto_op proto_ops[OP__COUNT] = {
	{ OP_HELLO, "hello", ANY, RO, { F_END } },
	{ OP_PROJECT_GET, "project.get", ANY, RO | PRJ, { F_PROJECT, F_END } },
	{ OP_FRONTEND_CONFIG, "frontend.config", PROTO_CALLER_FRONTEND, 0,
	    { F_END } },
	{ OP_AUTH_LOGIN, "auth.login", ANY, 0, {
		{ "password", PF_STRING, PF_REQUIRED | PF_SECRET, PC_SECRET, 1,
		    PROTO_PASSWORD_MAX, 0 },
		F_CLIENT,
		F_END } },
	{ OP_SUBSCRIBE, "subscribe", ANY, RO, { F_END } },
	{ OP_SERVICES_LIST, "services.list", ANY, RO | PRJ,
	    { F_PROJECT, F_END } },
	{ OP_SERVICE_START, "service.start", ANY, DASH | PRJ,
	    { F_PROJECT, F_SERVICE, F_TRIGGER, F_END } },
	{ OP_SERVICE_STOP, "service.stop", ANY, DASH | PRJ,
	    { F_PROJECT, F_SERVICE, F_TRIGGER, F_END } },
	{ OP_SERVICE_RESTART, "service.restart", ANY, DASH | PRJ,
	    { F_PROJECT, F_SERVICE, F_TRIGGER, F_END } },
	{ OP_SERVICE_REBUILD, "service.rebuild", ANY, DASH | PRJ,
	    { F_PROJECT, F_SERVICE, F_TRIGGER, F_END } },
	{ OP_STACK_START, "stack.start", ANY, DASH | PRJ,
	    { F_PROJECT, F_TRIGGER, F_END } },
	{ OP_STACK_STOP, "stack.stop", ANY, DASH | PRJ,
	    { F_PROJECT, F_TRIGGER, F_END } },
	{ OP_STACK_RESTART, "stack.restart", ANY, DASH | PRJ,
	    { F_PROJECT, F_TRIGGER, F_END } },
	{ OP_STACK_REBUILD, "stack.rebuild", ANY, DASH | PRJ,
	    { F_PROJECT, F_TRIGGER, F_END } },
	{ OP_JOB_GET, "job.get", ANY, RO, {
		{ "job", PF_INT, PF_REQUIRED, PC_TEXT, 1, PROTO_MAX_ID, 0 },
		F_END } },
	{ OP_JOBS_LIST, "jobs.list", ANY, RO | PRJ, { F_PROJECT, F_END } },
	{ OP_GIT_STATUS, "git.status", ANY, RO | PRJ, { F_PROJECT, F_END } },
	{ OP_GIT_FETCH, "git.fetch", ANY, DASH | PRJ,
	    { F_PROJECT, F_TRIGGER, F_END } },
	{ OP_GIT_PULL, "git.pull", ANY, DASH | PRJ,
	    { F_PROJECT, F_TRIGGER, F_END } },
	{ OP_DEPLOY, "deploy", ANY, DASH | PRJ,
	    { F_PROJECT, F_TRIGGER, F_END } },
	{ OP_DEPLOYS_LIST, "deploys.list", ANY, RO | PRJ,
	    { F_PROJECT, F_END } },
	{ OP_WEBHOOK_PUSH, "webhook.push", ANY, DASH | PRJ, {
		F_PROJECT,
		{ "delivery", PF_STRING, PF_REQUIRED, PC_NAME, 1, 64, 0 },
		{ "ref", PF_STRING, PF_REQUIRED, PC_REF, 1, 255, 0 },
		{ "before", PF_STRING, 0, PC_HEX, 40, 64, 0 },
		{ "after", PF_STRING, PF_REQUIRED, PC_HEX, 40, 64, 0 },
		{ "repository", PF_STRING, PF_REQUIRED, PC_TEXT, 1, 200, 0 },
		{ "paths", PF_STRLIST, 0, PC_PATH, 0, 100, 255 },
		{ "digest", PF_STRING, 0, PC_HEX, 64, 64, 0 },
		F_END } },
	/* not PRJ: a rejected delivery may name no project, or an unknown one */
	{ OP_WEBHOOK_REJECTED, "webhook.rejected", ANY, 0, {
		F_PROJECT,	/* the project named by the URL, if it exists */
		{ "reason", PF_STRING, PF_REQUIRED, PC_TEXT, 1, 128, 0 },
		F_CLIENT,
		F_END } },
	{ OP_STATE_GET, "state.get", ANY, RO | PRJ, { F_PROJECT, F_END } },
	/* the TLS certificate and key: the frontend's uid only, never audited */
	{ OP_TLS_GET, "tls.get", PROTO_CALLER_FRONTEND, 0, { F_END } },
	{ OP_PROJECTS_LIST, "projects.list", ANY, RO, { F_END } },
	/* a kept release back (backend/rollback.c): its deploy's id */
	{ OP_DEPLOY_ROLLBACK, "deploy.rollback", ANY, DASH | PRJ, {
		F_PROJECT,
		{ "deploy", PF_INT, PF_REQUIRED, PC_TEXT, 1, PROTO_MAX_ID, 0 },
		F_TRIGGER,
		F_END } },
};

#define P(part)		PROTO_PART_BIT(PART_##part)
#define BK		PROTO_EV_BACKEND
#define BR		PROTO_EV_BROWSER

/* the members of GET /api/state, in the order of enum proto_part */
const char *const proto_parts[PART__COUNT] = {
	[PART_PROJECT] = "project",
	[PART_GIT] = "git",
	[PART_SERVICES] = "services",
	[PART_JOBS] = "jobs",
	[PART_DEPLOYS] = "deploys",
};

/*
 * Every event: name, who sends it, the parts of the state it makes stale,
 * what its data holds.  To add one: a row here, its section in
 * PROTOCOL.md, events_begin(EV_...) where the backend publishes it
 * (backend/events.c).
 */
const struct proto_event proto_events[EV__COUNT] = {
	{ EV_JOB_STATE, "job.state", BK | BR | PROTO_EV_FINAL_ALL, P(JOBS),
	    "a job as in jobs.list" },
	{ EV_JOB_LOG, "job.log", BK | BR, 0,
	    "{job, line}: one line of a running job's log" },
	{ EV_SERVICE_STATE, "service.state", BK | BR, P(SERVICES),
	    "one service as in services.list" },
	{ EV_GIT_STATE, "git.state", BK | BR, P(GIT),
	    "the checkout as in git.status" },
	{ EV_DEPLOY_STATE, "deploy.state", BK | BR, P(DEPLOYS) | P(JOBS),
	    "a deploy as in deploys.list" },
	{ EV_ENGINE_STATE, "engine.state", BK | BR, P(SERVICES),
	    "Docker reachable or not: services.list's \"engine\"" },
	{ EV_MISSED, "missed", BK | BR, PROTO_PARTS_ALL,
	    "{count}: events dropped while the peer was slow" },
	{ EV_BACKEND, "backend", BR, PROTO_PARTS_ALL,
	    "{up}: the frontend's link to the backend (SSE only)" },
	{ EV_TLS_RELOAD, "tls.reload", BK, 0,
	    "{}: SIGHUP re-read DAVIT_TLS_CERT/KEY: call tls.get again" },
	{ EV_PROJECTS_CHANGED, "projects.changed", BK | BR, PROTO_PARTS_ALL,
	    "{}: a reload changed the projects: frontend.config, projects.list again" },
};

static const char *const proto_errcodes[PE__COUNT] = {
	[PE_BAD_JSON] = "bad_json",
	[PE_BAD_REQUEST] = "bad_request",
	[PE_UNKNOWN_OP] = "unknown_op",
	[PE_NOT_ALLOWED] = "not_allowed",
	[PE_NOT_FOUND] = "not_found",
	[PE_BUSY] = "busy",
	[PE_CONFLICT] = "conflict",
	[PE_UNAVAILABLE] = "unavailable",
	[PE_UNAUTHORIZED] = "unauthorized",
	[PE_TOO_LARGE] = "too_large",
	[PE_INTERNAL] = "internal",
};

const struct proto_op *
proto_op_by_name(const char *name)
{
	size_t	i;

	for (i = 0; i < OP__COUNT; i++)
		if (strcmp(proto_ops[i].name, name) == 0)
			return &proto_ops[i];
	return NULL;
}

const struct proto_op *
proto_op_by_id(enum proto_op_id id)
{
	if ((unsigned)id >= OP__COUNT)
		return NULL;
	return &proto_ops[id];
}

const struct proto_event *
proto_event_by_name(const char *name)
{
	size_t	i;

	for (i = 0; i < EV__COUNT; i++)
		if (strcmp(proto_events[i].name, name) == 0)
			return &proto_events[i];
	return NULL;
}

const struct proto_event *
proto_event_by_id(enum proto_event_id id)
{
	if ((unsigned)id >= EV__COUNT)
		return NULL;
	return &proto_events[id];
}

unsigned
proto_event_stale(const struct proto_event *ev, yajl_val data)
{
	const char	*st;

	if (ev->flags & PROTO_EV_FINAL_ALL) {
		/* a job that ended may have changed anything */
		st = json_get_str(data, "state");
		if (st != NULL && (strcmp(st, "succeeded") == 0 ||
		    strcmp(st, "failed") == 0))
			return PROTO_PARTS_ALL;
	}
	return ev->parts;
}

int
proto_field_index(const struct proto_op *op, const char *name)
{
	int	i;

	for (i = 0; i < PROTO_MAX_FIELDS && op->fields[i].name != NULL; i++)
		if (strcmp(op->fields[i].name, name) == 0)
			return i;
	return -1;
}

const char *
proto_errcode_name(enum proto_errcode code)
{
	if ((unsigned)code >= PE__COUNT)
		return "internal";
	return proto_errcodes[code];
}

int
proto_errcode_parse(const char *name, enum proto_errcode *code)
{
	int	i;

	for (i = 0; i < PE__COUNT; i++)
		if (strcmp(proto_errcodes[i], name) == 0) {
			*code = i;
			return 0;
		}
	return -1;
}

void
proto_seterr(struct proto_error *err, enum proto_errcode code, const char *fmt, ...)
{
	va_list	ap;

	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
}

int
proto_op_allowed(const struct proto_op *op, unsigned caller)
{
	return (op->callers & caller) != 0;
}

int
proto_project_name_ok(const char *s, size_t len)
{
	size_t	i;

	if (len == 0 || len > PROTO_PROJECT_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		    (i > 0 && s[i] == '-')))
			return 0;
	return 1;
}

/* validates a string against a field's charset and length bounds */
static int
string_valid(const struct proto_field *f, const char *s, size_t len,
    long long minlen, long long maxlen, struct proto_error *err)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i;

	if ((long long)len < minlen || (long long)len > maxlen) {
		proto_seterr(err, PE_BAD_REQUEST,
		    "field \"%s\": length %zu not in %lld..%lld", f->name, len,
		    minlen, maxlen);
		return -1;
	}
	for (i = 0; i < len; i++) {
		unsigned char	c = u[i];
		int		ok;

		/* C1, bidi and line separators: they disguise what is shown */
		if (f->charset == PC_TEXT && log_unsafe_seq(s + i, len - i) != 0) {
			proto_seterr(err, PE_BAD_REQUEST,
			    "field \"%s\": character %zu not allowed (a C1 or "
			    "bidi control, or a line separator)", f->name, i);
			return -1;
		}

		switch (f->charset) {
		case PC_NAME:
			ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9') ||
			    (i > 0 && (c == '_' || c == '.' || c == '-'));
			break;
		case PC_HEX:
			ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
			break;
		case PC_PROJECT:
			ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			    (i > 0 && c == '-');
			break;
		case PC_REF:	/* git's rules; UTF-8 names are allowed */
			ok = c > 0x20 && c != 0x7f && strchr("~^:?*[\\", c) == NULL;
			break;
		case PC_TEXT:
		case PC_PATH:
		case PC_SECRET:
		default:
			ok = c >= 0x20 && c != 0x7f;
			break;
		}
		if (!ok) {
			proto_seterr(err, PE_BAD_REQUEST,
			    "field \"%s\": character %zu not allowed", f->name, i);
			return -1;
		}
	}
	return 0;
}

static void
value_clear(struct proto_value *v)
{
	size_t	i;

	if (v->s != NULL) {
		explicit_bzero(v->s, v->slen);
		free(v->s);
	}
	for (i = 0; i < v->nlist; i++)
		free(v->list[i]);
	free(v->list);
	memset(v, 0, sizeof(*v));
}

static char *
xstrndup(const char *s, size_t len)
{
	char	*p;

	if ((p = malloc(len + 1)) == NULL)
		fatal("%s", __func__);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

/* yajl keeps strings NUL-terminated; a JSON "\u0000" shows up as a short strlen */
static int
tree_string(yajl_val v, const char **s, size_t *len)
{
	if (v == NULL || v->type != yajl_t_string)
		return -1;
	*s = v->u.string;
	*len = strlen(v->u.string);
	return 0;
}

static int
value_from_tree(const struct proto_field *f, yajl_val v, struct proto_value *out,
    struct proto_error *err)
{
	const char	*s;
	size_t		 len, i;

	switch (f->type) {
	case PF_INT:
		if (v->type != yajl_t_number || !YAJL_IS_INTEGER(v)) {
			proto_seterr(err, PE_BAD_REQUEST,
			    "field \"%s\": expected an integer", f->name);
			return -1;
		}
		if (v->u.number.i < f->min || v->u.number.i > f->max) {
			proto_seterr(err, PE_BAD_REQUEST,
			    "field \"%s\": %lld not in %lld..%lld", f->name,
			    v->u.number.i, f->min, f->max);
			return -1;
		}
		out->i = v->u.number.i;
		break;
	case PF_BOOL:
		if (v->type != yajl_t_true && v->type != yajl_t_false) {
			proto_seterr(err, PE_BAD_REQUEST,
			    "field \"%s\": expected true or false", f->name);
			return -1;
		}
		out->i = v->type == yajl_t_true;
		break;
	case PF_STRING:
		if (tree_string(v, &s, &len) == -1) {
			proto_seterr(err, PE_BAD_REQUEST,
			    "field \"%s\": expected a string", f->name);
			return -1;
		}
		if (string_valid(f, s, len, f->min, f->max, err) == -1)
			return -1;
		out->s = xstrndup(s, len);
		out->slen = len;
		break;
	case PF_STRLIST:
		if (v->type != yajl_t_array) {
			proto_seterr(err, PE_BAD_REQUEST,
			    "field \"%s\": expected an array of strings", f->name);
			return -1;
		}
		if ((long long)v->u.array.len < f->min ||
		    (long long)v->u.array.len > f->max) {
			proto_seterr(err, PE_BAD_REQUEST,
			    "field \"%s\": %zu items not in %lld..%lld", f->name,
			    v->u.array.len, f->min, f->max);
			return -1;
		}
		if (v->u.array.len > 0 &&
		    (out->list = calloc(v->u.array.len, sizeof(char *))) == NULL)
			fatal("%s", __func__);
		for (i = 0; i < v->u.array.len; i++) {
			if (tree_string(v->u.array.values[i], &s, &len) == -1) {
				proto_seterr(err, PE_BAD_REQUEST,
				    "field \"%s\": item %zu is not a string",
				    f->name, i);
				return -1;
			}
			if (string_valid(f, s, len, 1, f->item_max, err) == -1)
				return -1;
			out->list[out->nlist++] = xstrndup(s, len);
		}
		break;
	}
	out->present = 1;
	return 0;
}

static int
args_from_tree(struct proto_request *req, yajl_val args, struct proto_error *err)
{
	const struct proto_op	*op = req->op;
	size_t			 i;
	int			 fi;

	if (args != NULL) {
		if (args->type != yajl_t_object) {
			proto_seterr(err, PE_BAD_REQUEST, "\"args\" must be an object");
			return -1;
		}
		for (i = 0; i < args->u.object.len; i++) {
			const char	*key = args->u.object.keys[i];

			if ((fi = proto_field_index(op, key)) == -1) {
				proto_seterr(err, PE_BAD_REQUEST,
				    "unknown field \"%.64s\" for op %s", key, op->name);
				return -1;
			}
			if (req->args[fi].present) {
				proto_seterr(err, PE_BAD_REQUEST,
				    "field \"%s\" given twice", key);
				return -1;
			}
			if (args->u.object.values[i]->type == yajl_t_null &&
			    !(op->fields[fi].flags & PF_REQUIRED))
				continue;	/* null means absent */
			if (value_from_tree(&op->fields[fi],
			    args->u.object.values[i], &req->args[fi], err) == -1)
				return -1;
		}
	}
	for (fi = 0; fi < PROTO_MAX_FIELDS && op->fields[fi].name != NULL; fi++)
		if ((op->fields[fi].flags & PF_REQUIRED) && !req->args[fi].present) {
			proto_seterr(err, PE_BAD_REQUEST,
			    "missing field \"%s\" for op %s", op->fields[fi].name,
			    op->name);
			return -1;
		}
	return 0;
}

int
proto_request_decode(const char *line, size_t len, struct proto_request *req,
    struct proto_error *err)
{
	yajl_val	 tree = NULL, vid = NULL, vop = NULL, vargs = NULL;
	char		 perr[128];
	size_t		 i;
	int		 rv = -1;

	memset(req, 0, sizeof(*req));
	req->id = -1;
	if (len > PROTO_MAX_LINE) {
		proto_seterr(err, PE_TOO_LARGE, "line longer than %d bytes",
		    PROTO_MAX_LINE);
		return -1;
	}
	if ((tree = json_parse(line, len, perr, sizeof(perr))) == NULL) {
		proto_seterr(err, PE_BAD_JSON, "%s", perr);
		return -1;
	}
	if (tree->type != yajl_t_object) {
		proto_seterr(err, PE_BAD_REQUEST, "a request is a JSON object");
		goto done;
	}
	for (i = 0; i < tree->u.object.len; i++) {
		const char	*key = tree->u.object.keys[i];
		yajl_val	*slot;

		if (strcmp(key, "id") == 0)
			slot = &vid;
		else if (strcmp(key, "op") == 0)
			slot = &vop;
		else if (strcmp(key, "args") == 0)
			slot = &vargs;
		else {
			proto_seterr(err, PE_BAD_REQUEST,
			    "unknown member \"%.64s\" in request", key);
			goto done;
		}
		if (*slot != NULL) {
			proto_seterr(err, PE_BAD_REQUEST, "member \"%s\" given twice", key);
			goto done;
		}
		*slot = tree->u.object.values[i];
	}
	if (vid == NULL || vid->type != yajl_t_number || !YAJL_IS_INTEGER(vid) ||
	    vid->u.number.i < 0 || vid->u.number.i > PROTO_MAX_ID) {
		proto_seterr(err, PE_BAD_REQUEST,
		    "\"id\" must be an integer in 0..%lld", PROTO_MAX_ID);
		goto done;
	}
	req->id = vid->u.number.i;
	if (vop == NULL || vop->type != yajl_t_string) {
		proto_seterr(err, PE_BAD_REQUEST, "\"op\" must be a string");
		goto done;
	}
	if ((req->op = proto_op_by_name(vop->u.string)) == NULL) {
		proto_seterr(err, PE_UNKNOWN_OP, "unknown op \"%.64s\"", vop->u.string);
		goto done;
	}
	if (vargs != NULL && vargs->type == yajl_t_null)
		vargs = NULL;
	if (args_from_tree(req, vargs, err) == -1)
		goto done;
	rv = 0;
 done:
	if (rv == -1) {
		/* keep id and op for the reply and the audit line */
		for (i = 0; i < PROTO_MAX_FIELDS; i++)
			value_clear(&req->args[i]);
	}
	yajl_tree_free(tree);
	return rv;
}

void
proto_request_free(struct proto_request *req)
{
	size_t	i;

	for (i = 0; i < PROTO_MAX_FIELDS; i++)
		value_clear(&req->args[i]);
}

const struct proto_value *
proto_arg(const struct proto_request *req, const char *name)
{
	int	fi;

	if (req->op == NULL || (fi = proto_field_index(req->op, name)) == -1)
		fatalx("%s: op %s has no field %s", __func__,
		    req->op ? req->op->name : "?", name);
	return &req->args[fi];
}

const char *
proto_arg_str(const struct proto_request *req, const char *name)
{
	const struct proto_value	*v = proto_arg(req, name);

	return v->present ? v->s : NULL;
}

long long
proto_arg_int(const struct proto_request *req, const char *name, long long def)
{
	const struct proto_value	*v = proto_arg(req, name);

	return v->present ? v->i : def;
}

void
proto_request_init(struct proto_request *req, enum proto_op_id op, long long id)
{
	memset(req, 0, sizeof(*req));
	req->id = id;
	if ((req->op = proto_op_by_id(op)) == NULL)
		fatalx("%s: bad op %d", __func__, op);
}

static struct proto_value *
arg_slot(struct proto_request *req, const char *name, enum proto_ftype type,
    const struct proto_field **f)
{
	int	fi;

	if ((fi = proto_field_index(req->op, name)) == -1 ||
	    req->op->fields[fi].type != type)
		fatalx("%s: op %s has no %s field of that type", __func__,
		    req->op->name, name);
	*f = &req->op->fields[fi];
	return &req->args[fi];
}

int
proto_request_set_str(struct proto_request *req, const char *name, const char *s)
{
	const struct proto_field	*f;
	struct proto_value		*v = arg_slot(req, name, PF_STRING, &f);

	value_clear(v);
	v->s = xstrndup(s, strlen(s));
	v->slen = strlen(s);
	v->present = 1;
	return 0;
}

int
proto_request_set_int(struct proto_request *req, const char *name, long long i)
{
	const struct proto_field	*f;
	struct proto_value		*v = arg_slot(req, name, PF_INT, &f);

	v->i = i;
	v->present = 1;
	return 0;
}

int
proto_request_add_item(struct proto_request *req, const char *name, const char *s)
{
	const struct proto_field	*f;
	struct proto_value		*v = arg_slot(req, name, PF_STRLIST, &f);
	char				**list;

	if (v->nlist >= PROTO_MAX_LIST)
		return -1;
	if ((list = reallocarray(v->list, v->nlist + 1, sizeof(char *))) == NULL)
		fatal("%s", __func__);
	v->list = list;
	v->list[v->nlist++] = xstrndup(s, strlen(s));
	v->present = 1;
	return 0;
}

/* the same checks as on receipt, on values about to be sent */
static int
request_validate(const struct proto_request *req, struct proto_error *err)
{
	const struct proto_field	*f;
	const struct proto_value	*v;
	int				 fi;
	size_t				 i;

	for (fi = 0; fi < PROTO_MAX_FIELDS && req->op->fields[fi].name; fi++) {
		f = &req->op->fields[fi];
		v = &req->args[fi];
		if (!v->present) {
			if (f->flags & PF_REQUIRED) {
				proto_seterr(err, PE_BAD_REQUEST,
				    "missing field \"%s\" for op %s", f->name,
				    req->op->name);
				return -1;
			}
			continue;
		}
		switch (f->type) {
		case PF_INT:
			if (v->i < f->min || v->i > f->max) {
				proto_seterr(err, PE_BAD_REQUEST,
				    "field \"%s\": %lld not in %lld..%lld",
				    f->name, v->i, f->min, f->max);
				return -1;
			}
			break;
		case PF_BOOL:
			break;
		case PF_STRING:
			if (string_valid(f, v->s, v->slen, f->min, f->max, err) == -1)
				return -1;
			break;
		case PF_STRLIST:
			if ((long long)v->nlist < f->min ||
			    (long long)v->nlist > f->max) {
				proto_seterr(err, PE_BAD_REQUEST,
				    "field \"%s\": %zu items not in %lld..%lld",
				    f->name, v->nlist, f->min, f->max);
				return -1;
			}
			for (i = 0; i < v->nlist; i++)
				if (string_valid(f, v->list[i], strlen(v->list[i]),
				    1, f->item_max, err) == -1)
					return -1;
			break;
		}
	}
	return 0;
}

static void
args_gen(yajl_gen g, const struct proto_request *req, int redact)
{
	const struct proto_field	*f;
	const struct proto_value	*v;
	int				 fi;
	size_t				 i;

	yajl_gen_map_open(g);
	for (fi = 0; fi < PROTO_MAX_FIELDS && req->op->fields[fi].name; fi++) {
		f = &req->op->fields[fi];
		v = &req->args[fi];
		if (!v->present)
			continue;
		json_key(g, f->name);
		if (redact && (f->flags & PF_SECRET)) {
			json_str(g, "***");
			continue;
		}
		switch (f->type) {
		case PF_INT:
			yajl_gen_integer(g, v->i);
			break;
		case PF_BOOL:
			yajl_gen_bool(g, (int)v->i);
			break;
		case PF_STRING:
			json_strn(g, v->s, v->slen);
			break;
		case PF_STRLIST:
			yajl_gen_array_open(g);
			for (i = 0; i < v->nlist; i++)
				json_str(g, v->list[i]);
			yajl_gen_array_close(g);
			break;
		}
	}
	yajl_gen_map_close(g);
}

char *
proto_args_json(const struct proto_request *req, int redact)
{
	yajl_gen	 g = json_gen_new();
	char		*out;

	if (req->op == NULL)
		yajl_gen_null(g);
	else
		args_gen(g, req, redact);
	out = json_gen_take(g, NULL);
	yajl_gen_free(g);
	return out;
}

int
proto_request_encode(const struct proto_request *req, char **out, size_t *outlen,
    struct proto_error *err)
{
	yajl_gen	 g;
	char		*line;
	size_t		 len;

	*out = NULL;
	if (request_validate(req, err) == -1)
		return -1;
	g = json_gen_new();
	yajl_gen_map_open(g);
	json_kint(g, "id", req->id);
	json_kstr(g, "op", req->op->name);
	json_key(g, "args");
	args_gen(g, req, 0);
	yajl_gen_map_close(g);
	line = json_gen_take(g, &len);
	yajl_gen_free(g);
	if (len > PROTO_MAX_LINE) {
		explicit_bzero(line, len);
		free(line);
		proto_seterr(err, PE_TOO_LARGE, "request longer than %d bytes",
		    PROTO_MAX_LINE);
		return -1;
	}
	line[len] = '\n';	/* json_gen_take left room for the NUL */
	*out = line;
	*outlen = len + 1;
	return 0;
}

yajl_gen
proto_reply_begin(long long id)
{
	yajl_gen	g = json_gen_new();

	yajl_gen_map_open(g);
	json_kint(g, "id", id);
	json_kbool(g, "ok", 1);
	json_key(g, "result");
	return g;
}

yajl_gen
proto_event_begin(enum proto_event_id event)
{
	const struct proto_event	*ev;
	yajl_gen			 g;

	if ((ev = proto_event_by_id(event)) == NULL)
		fatalx("%s: bad event %d", __func__, event);
	g = json_gen_new();
	yajl_gen_map_open(g);
	json_kstr(g, "event", ev->name);
	json_key(g, "data");
	return g;
}

char *
proto_finish(yajl_gen g, size_t *len)
{
	char	*line, *p;
	size_t	 n;

	yajl_gen_map_close(g);
	line = json_gen_take(g, &n);
	yajl_gen_free(g);
	if ((p = realloc(line, n + 2)) == NULL)
		fatal("%s", __func__);
	p[n] = '\n';
	p[n + 1] = '\0';
	*len = n + 1;
	return p;
}

char *
proto_reply_error(long long id, const struct proto_error *err, size_t *len)
{
	yajl_gen	g = json_gen_new();

	yajl_gen_map_open(g);
	json_key(g, "id");
	if (id < 0)
		yajl_gen_null(g);
	else
		yajl_gen_integer(g, id);
	json_kbool(g, "ok", 0);
	json_key(g, "error");
	yajl_gen_map_open(g);
	json_kstr(g, "code", proto_errcode_name(err->code));
	json_kstr(g, "message", err->message);
	yajl_gen_map_close(g);
	return proto_finish(g, len);
}

int
proto_reply_decode(const char *line, size_t len, struct proto_reply *r)
{
	char		 perr[128];
	yajl_val	 v, e;

	memset(r, 0, sizeof(*r));
	r->id = -1;
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if ((r->tree = json_parse(line, len, perr, sizeof(perr))) == NULL)
		return -1;
	if (r->tree->type != yajl_t_object)
		goto fail;
	if ((r->event = json_get_str(r->tree, "event")) != NULL) {
		r->is_event = 1;
		r->data = json_get(r->tree, "data");
		return 0;
	}
	v = json_get(r->tree, "id");
	if (v != NULL && v->type == yajl_t_number && YAJL_IS_INTEGER(v))
		r->id = v->u.number.i;
	else if (v == NULL || v->type != yajl_t_null)
		goto fail;
	v = json_get(r->tree, "ok");
	if (v == NULL || (v->type != yajl_t_true && v->type != yajl_t_false))
		goto fail;
	r->ok = v->type == yajl_t_true;
	if (r->ok) {
		r->result = json_get(r->tree, "result");
		return 0;
	}
	e = json_get(r->tree, "error");
	if ((r->error_code = json_get_str(e, "code")) == NULL)
		goto fail;
	if ((r->error_message = json_get_str(e, "message")) == NULL)
		r->error_message = "";
	return 0;
 fail:
	proto_reply_free(r);
	return -1;
}

void
proto_reply_free(struct proto_reply *r)
{
	if (r->tree != NULL)
		yajl_tree_free(r->tree);
	memset(r, 0, sizeof(*r));
	r->id = -1;
}
