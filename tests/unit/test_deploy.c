/*
 * The deploy concern's pure parts and its store: merging pushes into a
 * deploy (deploy_record.c), the replay set (deploy_replay.c), the record's
 * JSON written and read back, and loading the history file
 * (deploy_history.c), torn and damaged lines included.
 */
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "backend/deploy.h"
#include "common/json.h"

#define C1	"1111111111111111111111111111111111111111"
#define C2	"2222222222222222222222222222222222222222"
#define B1	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define B2	"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static char			dir[64];
static struct deploy_history	hist;
static struct deploy_replay	rp;

static int
setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/davit-test-deploy.XXXXXX");
	assert_non_null(mkdtemp(dir));
	deploy_history_open(&hist, dir);
	return 0;
}

static int
teardown(void **state)
{
	char	cmd[128];

	deploy_history_close(&hist);
	deploy_replay_clear(&rp);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void
write_file(const char *name, const char *data, size_t len)
{
	char	 path[128];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static char *
record_json(const struct deploy_record *r)
{
	yajl_gen	 g = json_gen_new();
	char		*s;

	deploy_record_gen(g, r);
	s = json_gen_take(g, NULL);
	yajl_gen_free(g);
	return s;
}

/* ------------------------------------------------------------ merging -- */

static void
test_merge(void **state)
{
	struct deploy_record	r;
	char			id[32];
	int			i;

	memset(&r, 0, sizeof(r));
	deploy_record_add_delivery(&r, "d1", B1, C1);
	assert_int_equal(r.ndeliveries, 1);
	assert_string_equal(r.pushed, C1);
	/* the same delivery again, and a push without a delivery: no new id */
	deploy_record_add_delivery(&r, "d1", B1, NULL);
	deploy_record_add_delivery(&r, NULL, NULL, NULL);
	assert_int_equal(r.ndeliveries, 1);
	assert_int_equal(r.nbodies, 1);
	assert_string_equal(r.pushed, C1);
	/* a newer push: the newest commit is what gets deployed */
	deploy_record_add_delivery(&r, "d2", B2, C2);
	assert_int_equal(r.ndeliveries, 2);
	assert_string_equal(r.pushed, C2);
	/* known by its id, or by its body under another id */
	assert_true(deploy_record_has_delivery(&r, "d2", NULL));
	assert_true(deploy_record_has_delivery(&r, "other", B1));
	assert_false(deploy_record_has_delivery(&r, "other", "cccc"));
	assert_false(deploy_record_has_delivery(NULL, "d1", B1));
	/* bounded: the oldest ids go first */
	for (i = 0; i < DEPLOY_DELIVERIES; i++) {
		snprintf(id, sizeof(id), "x%d", i);
		deploy_record_add_delivery(&r, id, NULL, NULL);
	}
	assert_int_equal(r.ndeliveries, DEPLOY_DELIVERIES);
	assert_false(deploy_record_has_delivery(&r, "d1", NULL));
	assert_false(deploy_record_has_delivery(&r, "d2", NULL));
	assert_string_equal(r.deliveries[0], "x0");
	assert_true(deploy_record_has_delivery(&r, "other", B2));	/* bodies kept */
	deploy_record_clear(&r);
	assert_int_equal(r.ndeliveries, 0);
}

/* --------------------------------------------------------- replay set -- */

static void
test_replay(void **state)
{
	struct deploy_record	r;
	char			id[32];
	int			i;

	assert_false(deploy_delivery_seen(&rp, "d1"));
	assert_false(deploy_delivery_seen(&rp, NULL));
	deploy_delivery_remember(&rp, "d1");
	deploy_delivery_remember(&rp, "d1");
	assert_true(deploy_delivery_seen(&rp, "d1"));
	/* a body's digest is no delivery id, and the other way round */
	deploy_body_remember(&rp, B1);
	assert_true(deploy_body_seen(&rp, B1));
	assert_false(deploy_delivery_seen(&rp, B1));
	assert_false(deploy_body_seen(&rp, "d1"));
	assert_false(deploy_body_seen(&rp, NULL));
	/* a whole record */
	memset(&r, 0, sizeof(r));
	deploy_record_add_delivery(&r, "d2", B2, C2);
	deploy_replay_remember(&rp, &r);
	deploy_record_clear(&r);
	assert_true(deploy_delivery_seen(&rp, "d2"));
	assert_true(deploy_body_seen(&rp, B2));
	/* a ring: DEPLOY_SEEN_MAX newer ones push the oldest out */
	for (i = 0; i < DEPLOY_SEEN_MAX - 4; i++) {
		snprintf(id, sizeof(id), "r%d", i);
		deploy_delivery_remember(&rp, id);
	}
	assert_true(deploy_delivery_seen(&rp, "d1"));
	deploy_delivery_remember(&rp, "one more");
	assert_false(deploy_delivery_seen(&rp, "d1"));
	assert_true(deploy_body_seen(&rp, B1));
	assert_true(deploy_delivery_seen(&rp, "r0"));
	deploy_replay_clear(&rp);
	assert_false(deploy_delivery_seen(&rp, "r0"));
	assert_false(deploy_body_seen(&rp, B2));
}

/* ------------------------------------------------------ the record -- */

static void
test_record_roundtrip(void **state)
{
	struct deploy_record	 r, back;
	char			*a, *b, err[64];

	memset(&r, 0, sizeof(r));
	r.id = 7;
	r.job = 12;
	snprintf(r.trigger, sizeof(r.trigger), "webhook");
	r.by = strdup("webhook:d1");
	deploy_record_add_delivery(&r, "d1", B1, C2);
	snprintf(r.from, sizeof(r.from), C1);
	snprintf(r.to, sizeof(r.to), C2);
	r.has_files = 1;
	r.files = calloc(2, sizeof(*r.files));
	snprintf(r.files[0].status, sizeof(r.files[0].status), "modified");
	r.files[0].path = strdup("app.py");
	snprintf(r.files[1].status, sizeof(r.files[1].status), "renamed");
	r.files[1].path = strdup("new \"name\"");
	r.files[1].old_path = strdup("old");
	r.nfiles = 2;
	r.files_total = 120;
	r.steps[STEP_FETCH].done = r.steps[STEP_FETCH].ok = 1;
	r.steps[STEP_FETCH].ms = 15;
	r.steps[STEP_REBUILD].done = r.steps[STEP_REBUILD].skipped = 1;
	r.steps[STEP_REBUILD].ok = 1;
	snprintf(r.state, sizeof(r.state), "failed");
	r.created_ms = 1795721658123LL;
	r.started_ms = 1795721658200LL;
	r.ended_ms = 1795721659000LL;
	r.error = strdup("pull refused");
	a = record_json(&r);
	assert_int_equal(deploy_record_parse(a, strlen(a), &back, err,
	    sizeof(err)), 0);
	b = record_json(&back);
	assert_string_equal(a, b);
	assert_int_equal(back.files_total, 120);
	assert_string_equal(back.files[1].old_path, "old");
	assert_null(back.files[0].old_path);
	assert_true(back.steps[STEP_REBUILD].skipped);
	assert_false(back.steps[STEP_PULL].done);
	free(a);
	free(b);
	deploy_record_clear(&back);
	/* "files": null stays null; "job": null reads as none */
	deploy_record_clear(&r);
	r.id = 1;
	snprintf(r.state, sizeof(r.state), "interrupted");
	a = record_json(&r);
	assert_non_null(strstr(a, "\"job\":null"));
	assert_non_null(strstr(a, "\"files\":null"));
	assert_int_equal(deploy_record_parse(a, strlen(a), &back, err,
	    sizeof(err)), 0);
	assert_false(back.has_files);
	assert_int_equal(back.job, 0);
	deploy_record_clear(&back);
	free(a);
}

static void
test_record_refused(void **state)
{
	static const struct {
		const char	*line;
		const char	*why;
	} bad[] = {
		{ "{\"id\":1,\"job\":2", "not JSON" },
		{ "[1,2]", "not a deploy record" },
		{ "{\"id\":1}", "not a deploy record" },
		{ "{\"job\":null,\"id\":\"1\"}", "bad id" },
		{ "{\"job\":null,\"id\":-4}", "bad id" },
		{ "{\"job\":null,\"trigger\":\"a-trigger-longer-than-16\"}", "bad trigger" },
		{ "{\"job\":null,\"deliveries\":[1]}", "bad deliveries" },
		{ "{\"job\":null,\"bodies\":\"x\"}", "bad bodies" },
		{ "{\"job\":null,\"to\":\"" B1 "0\"}", "bad to" },
		{ "{\"job\":null,\"files\":[{\"status\":\"added\"}]}", "bad files" },
		{ "{\"job\":null,\"steps\":[{\"name\":\"dance\",\"ok\":true}]}", "bad steps" },
		{ "{\"job\":null,\"steps\":[{\"name\":\"pull\",\"ok\":true},"
		  "{\"name\":\"pull\",\"ok\":false}]}", "bad steps" },
		{ "{\"job\":null,\"created_at\":\"yesterday\"}", "bad created_at" },
		{ "{\"job\":null,\"error\":42}", "bad error" },
	};
	struct deploy_record	r;
	char			err[64];
	size_t			i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(deploy_record_parse(bad[i].line, strlen(bad[i].line),
		    &r, err, sizeof(err)), -1);
		if (strncmp(err, bad[i].why, strlen(bad[i].why)) != 0)
			fail_msg("%s: \"%s\", not \"%s\"", bad[i].line, err, bad[i].why);
		assert_null(r.by);
		assert_int_equal(r.ndeliveries, 0);
	}
	/* an embedded NUL: what a crash mid-write leaves */
	assert_int_equal(deploy_record_parse("{\"job\":null}\0x", 14, &r, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "a NUL byte");
}

/* ---------------------------------------------------------- the store -- */

#define GOOD(id, state, delivery) \
	"{\"id\":" #id ",\"job\":" #id ",\"trigger\":\"webhook\",\"by\":null," \
	"\"deliveries\":[\"" delivery "\"],\"bodies\":[],\"pushed\":null," \
	"\"from\":null,\"to\":\"" C2 "\",\"files\":null,\"files_total\":0," \
	"\"steps\":[],\"state\":\"" state "\",\"created_at\":" \
	"\"2026-11-29T12:00:00.000Z\",\"started_at\":null,\"ended_at\":null," \
	"\"error\":null}"

static void
test_history_load(void **state)
{
	static const char	 file[] =
	    GOOD(3, "succeeded", "ok-3") "\n"
	    "\n"
	    "not json at all\n"
	    GOOD(9, "failed", "failed-9") "\n"
	    "{\"id\":10,\"job\":10,\"trigger\":\"web\0\0\0\0\0\0\n"	/* torn, NULs */
	    "[\"an array\"]\n"
	    GOOD(5, "succeeded", "ok-5") "\n"
	    "{\"id\":11,\"job\":11,\"trigger\":\"webh";	/* torn at the end */
	const struct deploy_record	*r;
	char				*json;

	write_file(DEPLOY_HISTORY_FILE, file, sizeof(file) - 1);
	write_file(DEPLOY_COMMIT_FILE, C1 "\n", sizeof(C1));
	assert_int_equal(deploy_history_load(&hist, &rp), 10);	/* after the highest id */
	assert_int_equal(deploy_history_count(&hist), 3);
	assert_string_equal(deploy_commit_get(&hist), C1);
	r = deploy_history_get(&hist, 0);
	assert_int_equal(r->id, 3);
	assert_int_equal(r->job, 0);	/* an earlier backend's job */
	json = record_json(r);
	assert_non_null(strstr(json, "\"job\":null"));
	free(json);
	assert_int_equal(deploy_history_get(&hist, 1)->id, 9);
	assert_int_equal(deploy_history_get(&hist, 2)->id, 5);
	assert_null(deploy_history_get(&hist, 3));
	/* succeeded deploys' deliveries are replays from now; failed ones not */
	assert_true(deploy_delivery_seen(&rp, "ok-3"));
	assert_true(deploy_delivery_seen(&rp, "ok-5"));
	assert_false(deploy_delivery_seen(&rp, "failed-9"));
}

static void
test_history_bad_commit(void **state)
{
	write_file(DEPLOY_COMMIT_FILE, "ABCDEF\n", 7);
	assert_int_equal(deploy_history_load(&hist, &rp), 1);	/* no history: id 1 */
	assert_string_equal(deploy_commit_get(&hist), "");
	assert_int_equal(deploy_history_count(&hist), 0);
}

/* appended records come back after a restart; a torn tail costs one line */
static void
test_history_append_reload(void **state)
{
	struct deploy_record	r;
	char			path[128];
	FILE			*f;
	int			i;

	for (i = 1; i <= 3; i++) {
		memset(&r, 0, sizeof(r));
		r.id = i;
		r.job = 40 + i;
		snprintf(r.state, sizeof(r.state), "succeeded");
		snprintf(r.trigger, sizeof(r.trigger), "dashboard");
		deploy_history_append(&hist, &r);
	}
	deploy_commit_save(&hist, C2);
	assert_int_equal(deploy_history_count(&hist), 3);
	assert_int_equal(deploy_history_get(&hist, 2)->job, 43);	/* this run's job */
	/* a crash mid-write: a line without its newline */
	snprintf(path, sizeof(path), "%s/%s", dir, DEPLOY_HISTORY_FILE);
	assert_non_null(f = fopen(path, "a"));
	fputs("{\"id\":4,\"job\":4", f);
	fclose(f);
	/* the next append starts on a line of its own */
	memset(&r, 0, sizeof(r));
	r.id = 5;
	snprintf(r.state, sizeof(r.state), "failed");
	deploy_history_append(&hist, &r);

	deploy_history_close(&hist);
	deploy_replay_clear(&rp);
	deploy_history_open(&hist, dir);
	assert_int_equal(deploy_history_load(&hist, &rp), 6);
	assert_int_equal(deploy_history_count(&hist), 4);
	assert_int_equal(deploy_history_get(&hist, 3)->id, 5);
	assert_int_equal(deploy_history_get(&hist, 0)->job, 0);
	assert_string_equal(deploy_commit_get(&hist), C2);
}

/*
 * A journal left at start: a damaged one is logged and removed and adds no
 * record; a good one becomes an "interrupted" record numbered after the
 * history's, and is removed.
 */
static void
test_journal_recover(void **state)
{
	static const char	 junk[] = "{\"id\":3,\"job\":\"x\"\0\xff";
	struct deploy_record	 r;
	const struct deploy_record *got;
	char			 path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, DEPLOY_JOURNAL_FILE);
	write_file(DEPLOY_JOURNAL_FILE, junk, sizeof(junk) - 1);
	assert_int_equal(deploy_journal_recover(&hist, 7), 7);
	assert_int_equal(deploy_history_count(&hist), 0);
	assert_int_equal(access(path, F_OK), -1);

	memset(&r, 0, sizeof(r));
	r.id = 2;
	r.job = 12;
	snprintf(r.state, sizeof(r.state), "running");
	snprintf(r.from, sizeof(r.from), C1);
	snprintf(r.to, sizeof(r.to), C2);
	deploy_journal_write(&hist, &r);
	assert_int_equal(access(path, F_OK), 0);
	/* a history written since holds ids up to 6: the record is #7 */
	assert_int_equal(deploy_journal_recover(&hist, 7), 8);
	assert_int_equal(deploy_history_count(&hist), 1);
	got = deploy_history_get(&hist, 0);
	assert_int_equal(got->id, 7);
	assert_string_equal(got->state, "interrupted");
	assert_string_equal(got->from, C1);
	assert_string_equal(got->to, C2);
	assert_non_null(got->error);
	assert_int_equal(access(path, F_OK), -1);
}

/*
 * The records kept in memory grow with the history (a project never
 * deployed holds none) up to DEPLOY_HISTORY_KEEP, the oldest dropped.
 */
static void
test_history_keep(void **state)
{
	struct deploy_record	r;
	char			by[32];
	int			i, n = DEPLOY_HISTORY_KEEP + 30;

	assert_int_equal(deploy_history_count(&hist), 0);
	assert_null(deploy_history_get(&hist, 0));
	for (i = 1; i <= n; i++) {
		memset(&r, 0, sizeof(r));
		r.id = i;
		r.job = i;
		snprintf(by, sizeof(by), "by-%d", i);
		r.by = by;
		snprintf(r.state, sizeof(r.state), "succeeded");
		snprintf(r.trigger, sizeof(r.trigger), "dashboard");
		deploy_history_append(&hist, &r);
		assert_int_equal(deploy_history_count(&hist),
		    i < DEPLOY_HISTORY_KEEP ? i : DEPLOY_HISTORY_KEEP);
		assert_int_equal(deploy_history_get(&hist,
		    deploy_history_count(&hist) - 1)->id, i);
	}
	assert_int_equal(deploy_history_get(&hist, 0)->id, n - DEPLOY_HISTORY_KEEP + 1);
	assert_string_equal(deploy_history_get(&hist, 0)->by, "by-31");
	snprintf(by, sizeof(by), "by-%d", n);
	assert_string_equal(deploy_history_get(&hist, DEPLOY_HISTORY_KEEP - 1)->by,
	    by);
	assert_null(deploy_history_get(&hist, DEPLOY_HISTORY_KEEP));
	/* and again from the file: the last DEPLOY_HISTORY_KEEP */
	deploy_history_close(&hist);
	deploy_history_open(&hist, dir);
	assert_int_equal(deploy_history_load(&hist, &rp), n + 1);
	assert_int_equal(deploy_history_count(&hist), DEPLOY_HISTORY_KEEP);
	assert_int_equal(deploy_history_get(&hist, DEPLOY_HISTORY_KEEP - 1)->id, n);
}

/*
 * Two projects: each its own history directory, ids, deployed commit and
 * replay set.  A delivery deployed for one is no replay for the other.
 */
static void
test_projects_apart(void **state)
{
	struct deploy_history	h2;
	struct deploy_replay	rp2;
	struct deploy_record	r;
	char			dir2[64], cmd[160];

	snprintf(dir2, sizeof(dir2), "/tmp/davit-test-deploy2.XXXXXX");
	assert_non_null(mkdtemp(dir2));
	memset(&rp2, 0, sizeof(rp2));
	deploy_history_open(&h2, dir2);
	assert_int_equal(deploy_history_load(&h2, &rp2), 1);

	memset(&r, 0, sizeof(r));
	r.id = 7;
	snprintf(r.state, sizeof(r.state), "succeeded");
	snprintf(r.trigger, sizeof(r.trigger), "webhook");
	deploy_record_add_delivery(&r, "push-a", B1, C1);
	deploy_history_append(&hist, &r);
	deploy_replay_remember(&rp, &r);
	deploy_commit_save(&hist, C1);
	deploy_record_clear(&r);

	/* the first project's deploy is nowhere in the second's */
	assert_true(deploy_delivery_seen(&rp, "push-a"));
	assert_false(deploy_delivery_seen(&rp2, "push-a"));
	assert_false(deploy_body_seen(&rp2, B1));
	assert_int_equal(deploy_history_count(&h2), 0);
	assert_string_equal(deploy_commit_get(&h2), "");

	/* after a restart, each reads its own directory back */
	deploy_history_close(&hist);
	deploy_replay_clear(&rp);
	deploy_history_close(&h2);
	deploy_replay_clear(&rp2);
	deploy_history_open(&hist, dir);
	deploy_history_open(&h2, dir2);
	assert_int_equal(deploy_history_load(&hist, &rp), 8);
	assert_int_equal(deploy_history_load(&h2, &rp2), 1);
	assert_true(deploy_delivery_seen(&rp, "push-a"));
	assert_false(deploy_delivery_seen(&rp2, "push-a"));
	assert_string_equal(deploy_commit_get(&hist), C1);
	assert_string_equal(deploy_commit_get(&h2), "");

	deploy_history_close(&h2);
	deploy_replay_clear(&rp2);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir2);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_merge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_projects_apart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_history_load, setup, teardown),
		cmocka_unit_test_setup_teardown(test_history_bad_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_history_append_reload, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_history_keep, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_recover, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
