/*
 * The davit wire protocol: newline-delimited JSON over a Unix stream socket.
 *
 *   request  {"id":N,"op":"name","args":{...}}
 *   reply    {"id":N,"ok":true,"result":...}
 *            {"id":N,"ok":false,"error":{"code":"...","message":"..."}}
 *   event    {"event":"name","data":{...}}   (only after "subscribe")
 *
 * proto_ops[] in proto.c is the single table of operations: name, typed
 * argument fields with their bounds, who may call it.  Both the backend
 * (decoding) and the frontend (encoding) validate against it; the
 * backend's dispatch table (backend/dispatch.c) pairs each op with its
 * handler.  proto_events[] is the table of events: name, what their data
 * holds, which parts of the state each makes stale; the backend publishes
 * by it, the frontend's cache and the dashboard (GET /js/protocol.js)
 * read it.  Bounds shared by both processes are in proto/limits.h.
 * See proto/PROTOCOL.md.
 */
#ifndef DAVIT_PROTO_H
#define DAVIT_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "proto/limits.h"

#define PROTO_VERSION		1
#define PROTO_MAX_FIELDS	10		/* argument fields of one op, with F_END */
#define PROTO_MAX_ID		9007199254740991LL	/* 2^53 - 1: exact in JS */
#define PROTO_MAX_MESSAGE	256		/* error message text */
#define PROTO_MAX_LIST		256		/* items of a string-list argument */

/* who may call an op: the peer's uid, checked with SO_PEERCRED */
#define PROTO_CALLER_ROOT	0x01
#define PROTO_CALLER_FRONTEND	0x02
#define PROTO_CALLER_ANY	(PROTO_CALLER_ROOT | PROTO_CALLER_FRONTEND)

/* op flags */
#define PROTO_OP_DASHBOARD	0x01	/* the dashboard names its jobs: served in OPS */
#define PROTO_OP_READONLY	0x02	/* changes nothing: audited by count, not a line */
#define PROTO_OP_PROJECT	0x04	/* names a project ("project", optional when there is one) */

enum proto_ftype {
	PF_INT,
	PF_BOOL,
	PF_STRING,
	PF_STRLIST,
};

/* what characters a string field may hold; every class excludes NUL */
enum proto_charset {
	PC_TEXT,	/* printable UTF-8, no control characters */
	PC_NAME,	/* [A-Za-z0-9][A-Za-z0-9_.-]*: service names */
	PC_HEX,		/* [0-9a-f]: commit ids */
	PC_REF,		/* git ref: no control character, space or ~^:?*[\ (UTF-8 allowed) */
	PC_SECRET,	/* anything but NUL and control characters; redacted in logs */
	PC_PATH,	/* repository-relative path: printable, no control chars */
	PC_PROJECT,	/* [a-z0-9][a-z0-9-]*: project names */
};

/* field flags */
#define PF_REQUIRED		0x01
#define PF_SECRET		0x02	/* never written to a log or the audit log */

struct proto_field {
	const char		*name;
	enum proto_ftype	 type;
	unsigned		 flags;
	enum proto_charset	 charset;	/* PF_STRING, PF_STRLIST items */
	long long		 min;		/* PF_INT: value; PF_STRING: length; PF_STRLIST: count */
	long long		 max;
	size_t			 item_max;	/* PF_STRLIST: length of one item */
};

enum proto_op_id {
	OP_HELLO,
	OP_PROJECT_GET,
	OP_FRONTEND_CONFIG,
	OP_AUTH_LOGIN,
	OP_SUBSCRIBE,
	OP_SERVICES_LIST,
	OP_SERVICE_START,
	OP_SERVICE_STOP,
	OP_SERVICE_RESTART,
	OP_SERVICE_REBUILD,
	OP_STACK_START,
	OP_STACK_STOP,
	OP_STACK_RESTART,
	OP_STACK_REBUILD,
	OP_JOB_GET,
	OP_JOBS_LIST,
	OP_GIT_STATUS,
	OP_GIT_FETCH,
	OP_GIT_PULL,
	OP_DEPLOY,
	OP_DEPLOYS_LIST,
	OP_WEBHOOK_PUSH,
	OP_WEBHOOK_REJECTED,
	OP_STATE_GET,
	OP_TLS_GET,
	OP_PROJECTS_LIST,
	OP_DEPLOY_ROLLBACK,
	OP__COUNT
};

struct proto_op {
	enum proto_op_id	 id;
	const char		*name;
	unsigned		 callers;	/* PROTO_CALLER_* */
	unsigned		 flags;		/* PROTO_OP_* */
	struct proto_field	 fields[PROTO_MAX_FIELDS];	/* ends at name == NULL */
};

/*
 * The parts of the state (the members of GET /api/state): an event names
 * the parts it makes stale, as a mask of PROTO_PART_BIT()s.
 */
enum proto_part {
	PART_PROJECT,
	PART_GIT,
	PART_SERVICES,
	PART_JOBS,
	PART_DEPLOYS,
	PART__COUNT
};
#define PROTO_PART_BIT(p)	(1U << (p))
#define PROTO_PARTS_ALL		((1U << PART__COUNT) - 1)

enum proto_event_id {
	EV_JOB_STATE,
	EV_JOB_LOG,
	EV_SERVICE_STATE,
	EV_GIT_STATE,
	EV_DEPLOY_STATE,
	EV_ENGINE_STATE,
	EV_MISSED,
	EV_BACKEND,
	EV_TLS_RELOAD,
	EV_PROJECTS_CHANGED,
	EV__COUNT
};

/* event flags */
#define PROTO_EV_BACKEND	0x01	/* the backend publishes it to subscribers */
#define PROTO_EV_BROWSER	0x02	/* the frontend passes it to the browsers (SSE) */
#define PROTO_EV_FINAL_ALL	0x04	/* data.state final (succeeded, failed): every part */

struct proto_event {
	enum proto_event_id	 id;
	const char		*name;
	unsigned		 flags;		/* PROTO_EV_* */
	unsigned		 parts;		/* PROTO_PART_BIT()s it makes stale */
	const char		*payload;	/* what "data" holds (PROTOCOL.md) */
};

enum proto_errcode {
	PE_BAD_JSON,
	PE_BAD_REQUEST,
	PE_UNKNOWN_OP,
	PE_NOT_ALLOWED,
	PE_NOT_FOUND,
	PE_BUSY,
	PE_CONFLICT,
	PE_UNAVAILABLE,
	PE_UNAUTHORIZED,
	PE_TOO_LARGE,
	PE_INTERNAL,
	PE__COUNT
};

struct proto_error {
	enum proto_errcode	 code;
	char			 message[PROTO_MAX_MESSAGE];
};

/* one validated argument value */
struct proto_value {
	int		 present;
	long long	 i;		/* PF_INT, PF_BOOL (0/1) */
	char		*s;		/* PF_STRING: NUL-terminated, no NUL inside */
	size_t		 slen;
	char		**list;		/* PF_STRLIST */
	size_t		 nlist;
};

struct proto_request {
	long long		 id;		/* -1 when the line had no usable id */
	const struct proto_op	*op;		/* NULL when unknown */
	struct proto_value	 args[PROTO_MAX_FIELDS];	/* indexed like op->fields */
};

/* an incoming reply or event (the client side: frontend, tests) */
struct proto_reply {
	yajl_val		 tree;		/* owns everything below */
	int			 is_event;
	long long		 id;		/* replies */
	int			 ok;
	yajl_val		 result;	/* ok replies */
	const char		*error_code;	/* failed replies */
	const char		*error_message;
	const char		*event;		/* events */
	yajl_val		 data;
};

extern const struct proto_op	 proto_ops[OP__COUNT];
extern const struct proto_event	 proto_events[EV__COUNT];
extern const char *const	 proto_parts[PART__COUNT];

const struct proto_op	*proto_op_by_name(const char *name);
const struct proto_op	*proto_op_by_id(enum proto_op_id id);
const struct proto_event *proto_event_by_name(const char *name);
const struct proto_event *proto_event_by_id(enum proto_event_id id);
/* the parts of the state an event makes stale; data is the event's data */
unsigned		 proto_event_stale(const struct proto_event *ev, yajl_val data);
/* a project's name: [a-z0-9][a-z0-9-]{0,31} (PC_PROJECT) */
int			 proto_project_name_ok(const char *s, size_t len);
int			 proto_field_index(const struct proto_op *op, const char *name);
const char		*proto_errcode_name(enum proto_errcode code);
int			 proto_errcode_parse(const char *name, enum proto_errcode *code);
void			 proto_seterr(struct proto_error *err, enum proto_errcode code,
			    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Decodes one request line (without the newline).  On failure returns -1
 * with err set; req->id is then the request's id if one could be read, else -1.
 * The caller's uid class is NOT checked here (see proto_op_allowed).
 */
int	 proto_request_decode(const char *line, size_t len, struct proto_request *req,
	    struct proto_error *err);
void	 proto_request_free(struct proto_request *req);
int	 proto_op_allowed(const struct proto_op *op, unsigned caller);

/* typed access to validated arguments, by field name (a programming error if unknown) */
const struct proto_value *proto_arg(const struct proto_request *req, const char *name);
const char	*proto_arg_str(const struct proto_request *req, const char *name);
long long	 proto_arg_int(const struct proto_request *req, const char *name, long long def);

/* builds a request (client side); validates every value against the table */
void	 proto_request_init(struct proto_request *req, enum proto_op_id op, long long id);
int	 proto_request_set_str(struct proto_request *req, const char *name, const char *s);
int	 proto_request_set_int(struct proto_request *req, const char *name, long long i);
int	 proto_request_add_item(struct proto_request *req, const char *name, const char *s);
/* serialises with a trailing newline; *out is malloc'd.  -1 with err on invalid. */
int	 proto_request_encode(const struct proto_request *req, char **out, size_t *outlen,
	    struct proto_error *err);
/* canonical JSON of the arguments alone (audit log, job args); secrets as "***" */
char	*proto_args_json(const struct proto_request *req, int redact);

/*
 * Reply and event encoding (server side).  proto_reply_begin returns a
 * generator positioned where the result value goes; the caller generates
 * exactly one value, then proto_finish closes it and returns the line.
 */
yajl_gen proto_reply_begin(long long id);
yajl_gen proto_event_begin(enum proto_event_id event);
char	*proto_finish(yajl_gen g, size_t *len);	/* frees g; adds the newline */
char	*proto_reply_error(long long id, const struct proto_error *err, size_t *len);

/* client side: decode a reply or event line; -1 if it is not one */
int	 proto_reply_decode(const char *line, size_t len, struct proto_reply *r);
void	 proto_reply_free(struct proto_reply *r);

#endif
