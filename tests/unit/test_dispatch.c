/*
 * Unit tests for backend/dispatch.c: every op of proto_ops[] has its
 * handler (the build checks that a row exists; this checks what the rows
 * say), the ops whose failed jobs are notified and the read-only ops the
 * audit log counts are exactly those davit had before the tables held them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backend/backend.h"

static struct backend_env	test_env;
struct backend_env		*benv = &test_env;

/* 1 if name is in the NULL-ended list */
static int
listed(const char *name, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(name, *list) == 0)
			return 1;
	return 0;
}

static void
test_every_op_has_a_handler(void **state)
{
	int	op;

	for (op = 0; op < OP__COUNT; op++)
		if (ctl_ops[op].handler == NULL)
			fail_msg("op %s has no handler", proto_ops[op].name);
	/* shared handlers: the row says which one */
	assert_ptr_equal(ctl_ops[OP_SERVICE_STOP].handler, op_service_action);
	assert_ptr_equal(ctl_ops[OP_STACK_REBUILD].handler, op_stack_action);
	assert_ptr_equal(ctl_ops[OP_GIT_PULL].handler, op_git_job);
	assert_ptr_equal(ctl_ops[OP_SUBSCRIBE].handler, op_subscribe);
	assert_ptr_equal(ctl_ops[OP_WEBHOOK_REJECTED].handler, op_webhook_rejected);
}

static void
test_critical_ops(void **state)
{
	static const char *const critical[] = {
		"service.start", "service.restart", "service.rebuild",
		"stack.start", "stack.restart", "stack.rebuild", "deploy",
		"deploy.rollback", NULL,
	};
	int	op;

	for (op = 0; op < OP__COUNT; op++)
		if (!!(ctl_ops[op].flags & CTL_F_CRITICAL) !=
		    listed(proto_ops[op].name, critical))
			fail_msg("op %s: critical flag wrong", proto_ops[op].name);
}

static void
test_readonly_ops(void **state)
{
	static const char *const readonly[] = {
		"hello", "project.get", "services.list", "git.status", "job.get",
		"jobs.list", "deploys.list", "subscribe", "state.get",
		"projects.list", NULL,
	};
	int	op;

	for (op = 0; op < OP__COUNT; op++)
		if (!!(proto_ops[op].flags & PROTO_OP_READONLY) !=
		    listed(proto_ops[op].name, readonly))
			fail_msg("op %s: read-only flag wrong", proto_ops[op].name);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_op_has_a_handler),
		cmocka_unit_test(test_critical_ops),
		cmocka_unit_test(test_readonly_ops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
