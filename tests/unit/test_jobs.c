/*
 * Unit tests for backend/jobs.c, the job queue: one job at a time in
 * arrival order, started from the event loop and never inside its
 * submitter; an identical queued job not queued twice; a bounded queue
 * (busy when full, the argument freed); the bounded log ring with its
 * cleaning of terminal escapes and control characters; a job ended once;
 * the timeout; only the last JOB_KEEP finished jobs kept.  Through the
 * public functions of backend.h only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>

#include "backend/backend.h"
#include "backend/project.h"
#include "common/json.h"

static struct backend_env	test_env;
struct backend_env		*benv = &test_env;

static struct job	*started[64];
static int		 nstarted;
static int		 nfreed, ncancelled;

static void
start_cb(struct job *j)
{
	assert_true(nstarted < 64);
	started[nstarted++] = j;
}

static void
arg_free_cb(void *arg)
{
	nfreed++;
	free(arg);
}

static void
cancel_cb(struct job *j)
{
	ncancelled++;
	job_done(j, -1, "cancelled by the test");
}

static int
setup(void **state)
{
	memset(&test_env, 0, sizeof(test_env));
	test_env.base = event_base_new();
	assert_non_null(test_env.base);
	test_env.cfg.job_timeout = 300;
	nstarted = nfreed = ncancelled = 0;
	jobs_init();
	return 0;
}

static int
teardown(void **state)
{
	jobs_shutdown();
	event_base_free(test_env.base);
	test_env.base = NULL;
	return 0;
}

/* runs the loop's ready events (the queue's kick) */
static void
loop_once(void)
{
	event_base_loop(test_env.base, EVLOOP_NONBLOCK);
}

static struct job *
submit(enum proto_op_id op, const char *args)
{
	struct proto_error	 err;
	struct job		*j;

	memset(&err, 0, sizeof(err));
	j = jobs_submit_internal(NULL, op, args, "test", start_cb, NULL, NULL, &err);
	assert_non_null(j);
	return j;
}

/* job_gen's JSON of j, parsed */
static yajl_val
job_json(const struct job *j, int with_log)
{
	yajl_gen	 g = json_gen_new();
	char		*s, err[128];
	yajl_val	 v;
	size_t		 len;

	job_gen(g, j, with_log);
	s = json_gen_take(g, &len);
	yajl_gen_free(g);
	v = json_parse(s, len, err, sizeof(err));
	assert_non_null(v);
	free(s);
	return v;
}

static const char *
jstr(yajl_val v, const char *key)
{
	yajl_val	f = json_get(v, key);

	return YAJL_IS_STRING(f) ? YAJL_GET_STRING(f) : NULL;
}

static long long
jint(yajl_val v, const char *key)
{
	yajl_val	f = json_get(v, key);

	assert_true(YAJL_IS_INTEGER(f));
	return YAJL_GET_INTEGER(f);
}

static void
test_one_at_a_time_in_order(void **state)
{
	struct job	*a, *b, *c;
	yajl_val	 v;

	a = submit(OP_SERVICE_RESTART, "{\"service\":\"web\"}");
	b = submit(OP_GIT_FETCH, "{}");
	c = submit(OP_STACK_STOP, "{}");
	/* nothing starts inside its submitter */
	assert_int_equal(nstarted, 0);
	assert_int_equal(a->state, JOB_QUEUED);
	assert_true(a->id < b->id && b->id < c->id);

	loop_once();
	assert_int_equal(nstarted, 1);
	assert_ptr_equal(started[0], a);
	assert_ptr_equal(job_running(NULL), a);
	assert_int_equal(a->state, JOB_RUNNING);
	assert_int_equal(b->state, JOB_QUEUED);
	loop_once();
	assert_int_equal(nstarted, 1);	/* b waits for a */

	job_done(a, 0, NULL);
	assert_int_equal(a->state, JOB_SUCCEEDED);
	assert_null(job_running(NULL));
	loop_once();
	assert_int_equal(nstarted, 2);
	assert_ptr_equal(started[1], b);

	job_done(b, 1, NULL);	/* a non-zero exit without a message fails */
	assert_int_equal(b->state, JOB_FAILED);
	loop_once();
	assert_ptr_equal(started[2], c);
	job_done(c, -1, "engine said %s", "no");
	assert_int_equal(c->state, JOB_FAILED);

	v = job_json(c, 1);
	assert_string_equal(jstr(v, "state"), "failed");
	assert_string_equal(jstr(v, "error"), "engine said no");
	assert_string_equal(jstr(v, "op"), "stack.stop");
	assert_string_equal(jstr(v, "by"), "test");
	assert_true(YAJL_IS_NULL(json_get(v, "exit")));
	/* the failure is in the job's log too */
	assert_string_equal(YAJL_GET_STRING(YAJL_GET_ARRAY(json_get(v, "log"))->values[0]),
	    "davit: failed: engine said no");
	yajl_tree_free(v);
	v = job_json(b, 0);
	assert_int_equal(jint(v, "exit"), 1);
	assert_null(json_get(v, "log"));
	yajl_tree_free(v);

	assert_ptr_equal(job_find(a->id), a);
	assert_ptr_equal(job_find(c->id), c);
	assert_null(job_find(c->id + 1));
}

static void
test_list_newest_first(void **state)
{
	struct job	*a, *b, *c;
	yajl_gen	 g = json_gen_new();
	yajl_val	 v;
	char		*s, err[128];
	size_t		 len;

	a = submit(OP_GIT_FETCH, "{}");
	loop_once();
	job_done(a, 0, NULL);
	loop_once();			/* nothing queued: nothing starts */
	b = submit(OP_GIT_PULL, "{}");
	loop_once();			/* b runs */
	c = submit(OP_DEPLOY, "{}");	/* c waits */

	jobs_list_gen(g, NULL);
	s = json_gen_take(g, &len);
	yajl_gen_free(g);
	v = json_parse(s, len, err, sizeof(err));
	assert_non_null(v);
	assert_true(YAJL_IS_ARRAY(v));
	assert_int_equal(YAJL_GET_ARRAY(v)->len, 3);
	assert_int_equal(jint(YAJL_GET_ARRAY(v)->values[0], "id"), c->id);
	assert_string_equal(jstr(YAJL_GET_ARRAY(v)->values[0], "state"), "queued");
	assert_int_equal(jint(YAJL_GET_ARRAY(v)->values[1], "id"), b->id);
	assert_string_equal(jstr(YAJL_GET_ARRAY(v)->values[1], "state"), "running");
	assert_int_equal(jint(YAJL_GET_ARRAY(v)->values[2], "id"), a->id);
	assert_string_equal(jstr(YAJL_GET_ARRAY(v)->values[2], "state"), "succeeded");
	yajl_tree_free(v);
	free(s);
}

static void
test_identical_queued_once(void **state)
{
	struct proto_error	 err;
	struct job		*run, *q1, *q2, *other;

	run = submit(OP_SERVICE_RESTART, "{\"service\":\"web\"}");
	loop_once();
	assert_ptr_equal(job_running(NULL), run);

	/* the running one does not count: this one is queued behind it */
	memset(&err, 0, sizeof(err));
	q1 = jobs_submit_internal(NULL, OP_SERVICE_RESTART, "{\"service\":\"web\"}",
	    "test", start_cb, strdup("a"), arg_free_cb, &err);
	assert_non_null(q1);
	assert_ptr_not_equal(q1, run);
	/* the same again while q1 waits: q1, and this one's argument freed */
	q2 = jobs_submit_internal(NULL, OP_SERVICE_RESTART, "{\"service\":\"web\"}",
	    "someone else", start_cb, strdup("b"), arg_free_cb, &err);
	assert_ptr_equal(q2, q1);
	assert_int_equal(nfreed, 1);
	/* other args, or another op with the same args, are other jobs */
	other = submit(OP_SERVICE_RESTART, "{\"service\":\"worker\"}");
	assert_ptr_not_equal(other, q1);
	assert_ptr_not_equal(submit(OP_SERVICE_STOP, "{\"service\":\"web\"}"), q1);

	job_done(run, 0, NULL);
	loop_once();
	assert_ptr_equal(job_running(NULL), q1);
	/* once q1 runs, the same request queues a new job */
	assert_ptr_not_equal(submit(OP_SERVICE_RESTART, "{\"service\":\"web\"}"), q1);
}

static void
test_queue_bound(void **state)
{
	struct proto_error	 err;
	struct job		*j;
	char			 args[64];
	int			 i;

	j = submit(OP_DEPLOY, "{}");
	loop_once();
	assert_ptr_equal(job_running(NULL), j);
	/* the running job is not counted: JOB_QUEUE_MAX wait behind it */
	for (i = 0; i < JOB_QUEUE_MAX; i++) {
		snprintf(args, sizeof(args), "{\"by\":\"n%d\"}", i);
		submit(OP_STACK_RESTART, args);
	}
	memset(&err, 0, sizeof(err));
	j = jobs_submit_internal(NULL, OP_STACK_RESTART, "{\"by\":\"one too many\"}",
	    "test", start_cb, strdup("x"), arg_free_cb, &err);
	assert_null(j);
	assert_int_equal(err.code, PE_BUSY);
	assert_non_null(strstr(err.message, "queue is full"));
	assert_int_equal(nfreed, 1);
	/* an identical one is still answered with the queued job */
	assert_non_null(jobs_submit_internal(NULL, OP_STACK_RESTART, "{\"by\":\"n3\"}",
	    "test", start_cb, NULL, NULL, &err));
}

static void
test_log_ring_and_cleaning(void **state)
{
	struct job	*j;
	yajl_val	 v, log;
	char		 long_line[JOB_LOG_LINE_MAX + 100];
	const char	*cut;
	static const char esc[] = "\x1b[31mred\x1b[0m\tand\rbell\a\x7f!";
	int		 i;

	j = submit(OP_SERVICE_REBUILD, "{\"service\":\"web\"}");
	loop_once();
	job_log(j, "plain %d", 1);
	job_logn(j, esc, sizeof(esc) - 1);
	job_logn(j, "nul\0inside", 10);
	memset(long_line, 'x', sizeof(long_line));
	job_logn(j, long_line, sizeof(long_line));

	v = job_json(j, 1);
	log = json_get(v, "log");
	assert_true(YAJL_IS_ARRAY(log));
	assert_int_equal(YAJL_GET_ARRAY(log)->len, 4);
	assert_string_equal(YAJL_GET_STRING(YAJL_GET_ARRAY(log)->values[0]), "plain 1");
	/* escape sequences dropped, control characters but TAB made spaces */
	assert_string_equal(YAJL_GET_STRING(YAJL_GET_ARRAY(log)->values[1]),
	    "red\tand bell  !");
	assert_string_equal(YAJL_GET_STRING(YAJL_GET_ARRAY(log)->values[2]),
	    "nul inside");
	/* a longer line is cut */
	cut = YAJL_GET_STRING(YAJL_GET_ARRAY(log)->values[3]);
	assert_non_null(cut);
	assert_int_equal(strlen(cut), JOB_LOG_LINE_MAX);
	assert_int_equal(jint(v, "log_lines"), 4);
	assert_int_equal(jint(v, "log_omitted"), 0);
	yajl_tree_free(v);

	/* the ring keeps the last JOB_LOG_LINES, counts all */
	for (i = 0; i < JOB_LOG_LINES + 6; i++)
		job_log(j, "line %d", i);
	v = job_json(j, 1);
	log = json_get(v, "log");
	assert_int_equal(jint(v, "log_lines"), JOB_LOG_LINES + 10);
	assert_int_equal(jint(v, "log_omitted"), 10);
	assert_int_equal(YAJL_GET_ARRAY(log)->len, JOB_LOG_LINES);
	assert_string_equal(YAJL_GET_STRING(YAJL_GET_ARRAY(log)->values[0]), "line 6");
	assert_string_equal(YAJL_GET_STRING(YAJL_GET_ARRAY(log)->values[JOB_LOG_LINES - 1]),
	    "line 1005");
	yajl_tree_free(v);
	/* without the log: the count only */
	v = job_json(j, 0);
	assert_null(json_get(v, "log"));
	assert_int_equal(jint(v, "log_lines"), JOB_LOG_LINES + 10);
	yajl_tree_free(v);
}

static void
test_done_once(void **state)
{
	struct job	*j;
	long long	 ended;

	j = submit(OP_GIT_PULL, "{}");
	loop_once();
	job_done(j, 0, NULL);
	ended = j->ended_ms;
	assert_int_equal(j->state, JOB_SUCCEEDED);
	assert_true(job_is_over(j));
	/* a late second end (a timeout racing the exit) changes nothing */
	job_done(j, 1, "too late");
	assert_int_equal(j->state, JOB_SUCCEEDED);
	assert_null(j->error);
	assert_int_equal(j->exit, 0);
	assert_int_equal(j->ended_ms, ended);
}

static void
test_timeout(void **state)
{
	struct job	*a, *b;

	test_env.cfg.job_timeout = 1;
	a = submit(OP_GIT_FETCH, "{}");
	b = submit(OP_GIT_PULL, "{}");
	loop_once();
	assert_ptr_equal(job_running(NULL), a);
	/* no process, no cancel: ended as timed out */
	event_base_loop(test_env.base, EVLOOP_ONCE);
	while (!job_is_over(a))
		event_base_loop(test_env.base, EVLOOP_ONCE);
	assert_int_equal(a->state, JOB_FAILED);
	assert_string_equal(a->error, "timed out after 1 s");
	loop_once();
	assert_ptr_equal(job_running(NULL), b);
	/* with a cancel: the cancel ends it, the error says timed out */
	b->cancel = cancel_cb;
	while (!job_is_over(b))
		event_base_loop(test_env.base, EVLOOP_ONCE);
	assert_int_equal(ncancelled, 1);
	assert_int_equal(b->state, JOB_FAILED);
	assert_string_equal(b->error, "timed out after 1 s");
}

static void
test_keep_last(void **state)
{
	struct job	*first, *j = NULL;
	long long	 first_id;
	char		 args[64];
	int		 i;

	first = submit(OP_GIT_FETCH, "{\"by\":\"first\"}");
	first_id = first->id;
	loop_once();
	job_done(first, 0, NULL);
	for (i = 0; i < JOB_KEEP; i++) {
		snprintf(args, sizeof(args), "{\"by\":\"n%d\"}", i);
		j = submit(OP_GIT_FETCH, args);
		loop_once();
		assert_ptr_equal(job_running(NULL), j);
		job_done(j, 0, NULL);
	}
	/* JOB_KEEP + 1 finished: the oldest is forgotten */
	assert_null(job_find(first_id));
	assert_non_null(job_find(first_id + 1));
	assert_ptr_equal(job_find(j->id), j);
}

/* ------------------------------------------------ several projects -- */

static struct project	 pa = { .name = "a" }, pb = { .name = "b" },
			 pc = { .name = "c" };

static int
setup_projects(void **state)
{
	setup(state);
	test_env.cfg.max_parallel = 2;
	jobs_project_add(&pa);
	jobs_project_add(&pb);
	jobs_project_add(&pc);
	return 0;
}

static int
teardown_projects(void **state)
{
	jobs_project_remove(&pa);
	jobs_project_remove(&pb);
	jobs_project_remove(&pc);
	return teardown(state);
}

static struct job *
psubmit(struct project *p, enum proto_op_id op, const char *args)
{
	struct proto_error	 err;
	struct job		*j;

	memset(&err, 0, sizeof(err));
	j = jobs_submit_internal(p, op, args, "test", start_cb, NULL, NULL,
	    &err);
	assert_non_null(j);
	return j;
}

/* one job per project, DAVIT_MAX_PARALLEL in all, the oldest waiting first */
static void
test_parallel_fifo(void **state)
{
	struct job	*a1, *a2, *b1, *c1;

	a1 = psubmit(&pa, OP_STACK_RESTART, "{}");
	a2 = psubmit(&pa, OP_GIT_FETCH, "{}");
	b1 = psubmit(&pb, OP_STACK_RESTART, "{}");
	c1 = psubmit(&pc, OP_STACK_RESTART, "{}");
	loop_once();
	/* a's second waits for a's first; c for a free slot */
	assert_int_equal(nstarted, 2);
	assert_ptr_equal(started[0], a1);
	assert_ptr_equal(started[1], b1);
	assert_ptr_equal(job_running(&pa), a1);
	assert_ptr_equal(job_running(&pb), b1);
	assert_null(job_running(&pc));
	assert_int_equal(c1->state, JOB_QUEUED);
	assert_string_equal(a1->project_name, "a");
	/* a's slot frees: a2 was there before c1 */
	job_done(a1, 0, NULL);
	loop_once();
	assert_int_equal(nstarted, 3);
	assert_ptr_equal(started[2], a2);
	assert_int_equal(c1->state, JOB_QUEUED);
	job_done(b1, 0, NULL);
	loop_once();
	assert_int_equal(nstarted, 4);
	assert_ptr_equal(started[3], c1);
	job_done(a2, 0, NULL);
	job_done(c1, 0, NULL);
}

/* each project's queue has its own bound; the same job in two projects is two */
static void
test_per_project_queue(void **state)
{
	struct proto_error	 err;
	char			 args[64];
	int			 i;

	psubmit(&pa, OP_STACK_RESTART, "{}");
	loop_once();
	for (i = 0; i < JOB_QUEUE_MAX; i++) {
		snprintf(args, sizeof(args), "{\"by\":\"n%d\"}", i);
		psubmit(&pa, OP_STACK_RESTART, args);
	}
	memset(&err, 0, sizeof(err));
	assert_null(jobs_submit_internal(&pa, OP_STACK_RESTART, "{\"by\":\"x\"}",
	    "test", start_cb, NULL, NULL, &err));
	assert_int_equal(err.code, PE_BUSY);
	/* b is not held up by a's full queue, and its "n0" is its own */
	assert_ptr_not_equal(psubmit(&pb, OP_STACK_RESTART, "{\"by\":\"n0\"}"),
	    psubmit(&pa, OP_STACK_RESTART, "{\"by\":\"n0\"}"));
}

/* a request's job: the same whether it named the project or not */
static long long
request_job(struct project *p, const char *project)
{
	struct proto_request	 req;
	struct proto_error	 err;
	yajl_gen		 g = json_gen_new();
	yajl_val		 v;
	char			*out, e[128];
	size_t			 len;
	long long		 id;
	int			 pi;

	memset(&req, 0, sizeof(req));
	memset(&err, 0, sizeof(err));
	req.op = proto_op_by_id(OP_STACK_RESTART);
	pi = proto_field_index(req.op, "project");
	assert_true(pi != -1);
	if (project != NULL) {
		req.args[pi].present = 1;
		req.args[pi].s = (char *)(uintptr_t)project;
		req.args[pi].slen = strlen(project);
	}
	assert_int_equal(jobs_submit(p, &req, start_cb, NULL, NULL, g, &err),
	    CTL_DONE);
	out = json_gen_take(g, &len);
	yajl_gen_free(g);
	v = json_parse(out, len, e, sizeof(e));
	free(out);
	id = jint(v, "job");
	yajl_tree_free(v);
	return id;
}

static void
test_dedupe_project_named(void **state)
{
	struct job	*run;
	yajl_gen	 g;
	char		*out;
	size_t		 len;
	long long	 id;

	run = psubmit(&pa, OP_GIT_FETCH, "{}");
	loop_once();
	id = request_job(&pa, NULL);
	assert_int_equal(request_job(&pa, "a"), id);
	assert_string_equal(job_find(id)->args_json, "{}");
	/* jobs.list of a project: its jobs only */
	psubmit(&pb, OP_GIT_FETCH, "{}");
	g = json_gen_new();
	jobs_list_gen(g, &pb);
	out = json_gen_take(g, &len);
	yajl_gen_free(g);
	assert_non_null(strstr(out, "\"project\":\"b\""));
	assert_null(strstr(out, "\"project\":\"a\""));
	free(out);
	job_done(run, 0, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_one_at_a_time_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_newest_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identical_queued_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_ring_and_cleaning, setup, teardown),
		cmocka_unit_test_setup_teardown(test_done_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keep_last, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parallel_fifo,
		    setup_projects, teardown_projects),
		cmocka_unit_test_setup_teardown(test_per_project_queue,
		    setup_projects, teardown_projects),
		cmocka_unit_test_setup_teardown(test_dedupe_project_named,
		    setup_projects, teardown_projects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
