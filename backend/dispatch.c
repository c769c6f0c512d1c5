/*
 * The backend's dispatch table: for every op of proto_ops[] its handler
 * and flags, as OpenSSH's monitor pairs each request with its function.
 * proto/ says what an op looks like on the wire and who may call it; this
 * table says what runs.  control.c looks the row up by op id, nothing else.
 *
 * The build checks the table: a row names its op by the enum (an unknown
 * op does not compile), a row given twice is an override error (-Wextra),
 * a missing row fails the static assertion below, and a handler that is
 * not built fails the link.  To add an op: its row in proto/proto.c (and
 * its OP_ id in proto.h), a row here, its handler (prototype in
 * backend.h), its section in proto/PROTOCOL.md.
 */
#include "backend/backend.h"

#define C	CTL_F_CRITICAL

/*   op			handler			flags */
#define CTL_OPS(X)							\
	X(HELLO,		op_hello,		0)		\
	X(PROJECT_GET,		op_project_get,		0)		\
	X(FRONTEND_CONFIG,	op_frontend_config,	0)		\
	X(AUTH_LOGIN,		op_auth_login,		0)		\
	X(SUBSCRIBE,		op_subscribe,		0)		\
	X(SERVICES_LIST,	op_services_list,	0)		\
	X(SERVICE_START,	op_service_action,	C)		\
	X(SERVICE_STOP,		op_service_action,	0)		\
	X(SERVICE_RESTART,	op_service_action,	C)		\
	X(SERVICE_REBUILD,	op_service_action,	C)		\
	X(STACK_START,		op_stack_action,	C)		\
	X(STACK_STOP,		op_stack_action,	0)		\
	X(STACK_RESTART,	op_stack_action,	C)		\
	X(STACK_REBUILD,	op_stack_action,	C)		\
	X(JOB_GET,		op_job_get,		0)		\
	X(JOBS_LIST,		op_jobs_list,		0)		\
	X(GIT_STATUS,		op_git_status,		0)		\
	X(GIT_FETCH,		op_git_job,		0)		\
	X(GIT_PULL,		op_git_job,		0)		\
	X(DEPLOY,		op_deploy,		C)		\
	X(DEPLOYS_LIST,		op_deploys_list,	0)		\
	X(STATE_GET,		op_state_get,		0)		\
	X(WEBHOOK_PUSH,		op_webhook_push,	0)		\
	X(WEBHOOK_REJECTED,	op_webhook_rejected,	0)		\
	X(TLS_GET,		op_tls_get,		0)		\
	X(PROJECTS_LIST,	op_projects_list,	0)		\
	X(DEPLOY_ROLLBACK,	op_deploy_rollback,	C)

/* one enumerator per row: their count is the number of rows */
enum {
#define CTL_ROW(op, fn, fl)	CTL_ROW_##op,
	CTL_OPS(CTL_ROW)
#undef CTL_ROW
	CTL_NROWS
};
_Static_assert((int)CTL_NROWS == (int)OP__COUNT,
    "every op of proto_ops[] needs exactly one row in ctl_ops[]");

const struct ctl_op ctl_ops[OP__COUNT] = {
#define CTL_ROW(op, fn, fl)	[OP_##op] = { fn, fl },
	CTL_OPS(CTL_ROW)
#undef CTL_ROW
};
