/*
 * The audit log: one JSON object per line, secrets redacted; read-only
 * requests counted in a summary line; rotation by size, 4 files kept;
 * reopening after the file was moved away.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "backend/backend.h"
#include "common/json.h"

static char	audit_path[64];

static char *
slurp(const char *path)
{
	FILE	*f = fopen(path, "r");
	char	*buf;
	size_t	 n;

	assert_non_null(f);
	buf = calloc(1, 65536);
	assert_non_null(buf);
	n = fread(buf, 1, 65535, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static int
setup(void **state)
{
	int	fd;

	snprintf(audit_path, sizeof(audit_path), "/tmp/davit-test-audit-XXXXXX");
	fd = mkstemp(audit_path);

	assert_true(fd != -1);
	close(fd);
	audit_open(audit_path);
	return 0;
}

static int
teardown(void **state)
{
	char	p[96];
	int	i;

	audit_close();
	unlink(audit_path);
	for (i = 1; i <= 5; i++) {
		snprintf(p, sizeof(p), "%s.%d", audit_path, i);
		unlink(p);
	}
	snprintf(p, sizeof(p), "%s.moved", audit_path);
	unlink(p);
	return 0;
}

/* lines in a file, each checked to be a JSON object; -1 if it is missing */
static int
count_lines(const char *path, size_t *size)
{
	FILE	*f = fopen(path, "r");
	char	 line[4096], perr[64];
	yajl_val v;
	int	 n = 0;

	if (f == NULL)
		return -1;
	*size = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		*size += strlen(line);
		assert_non_null(strchr(line, '\n'));
		v = json_parse(line, strlen(line), perr, sizeof(perr));
		assert_non_null(v);
		assert_true(YAJL_IS_OBJECT(v));
		yajl_tree_free(v);
		n++;
	}
	fclose(f);
	return n;
}

static void
request_line(const char *line, struct ctl_request *cr)
{
	struct proto_error	err;

	memset(cr, 0, sizeof(*cr));
	cr->uid = 995;
	cr->pid = 4242;
	cr->started_ms = json_now_ms();
	proto_request_decode(line, strlen(line), &cr->req, &err);
}

static void
test_login_redacted(void **state)
{
	struct ctl_request	 cr;
	struct proto_error	 err;
	char			*log, *nl;
	yajl_val		 v;
	char			 perr[64];

	request_line("{\"id\":3,\"op\":\"auth.login\",\"args\":{\"password\":\"S3cret-pw\",\"client\":\"10.0.0.1\"}}", &cr);
	proto_seterr(&err, PE_UNAUTHORIZED, "wrong password");
	audit_request(&cr, &err);
	proto_request_free(&cr.req);

	log = slurp(audit_path);
	assert_null(strstr(log, "S3cret-pw"));
	nl = strchr(log, '\n');
	assert_non_null(nl);
	assert_int_equal(nl[1], '\0');		/* exactly one line */
	v = json_parse(log, nl - log, perr, sizeof(perr));
	assert_non_null(v);
	assert_string_equal(json_get_str(v, "kind"), "request");
	assert_string_equal(json_get_str(v, "op"), "auth.login");
	assert_string_equal(json_get_str(v, "result"), "unauthorized");
	assert_string_equal(json_get_str(json_get(v, "args"), "password"), "***");
	assert_string_equal(json_get_str(json_get(v, "args"), "client"), "10.0.0.1");
	assert_int_equal(json_get(v, "uid")->u.number.i, 995);
	assert_int_equal(json_get(v, "pid")->u.number.i, 4242);
	assert_int_equal(json_get(v, "id")->u.number.i, 3);
	assert_non_null(json_get(v, "ms"));
	assert_non_null(json_get_str(v, "time"));
	yajl_tree_free(v);
	free(log);
}

static void
test_bad_request_logged(void **state)
{
	struct ctl_request	 cr;
	struct proto_error	 err;
	char			*log;

	/* an undecodable line: no op, no id, no args, still one record */
	memset(&cr, 0, sizeof(cr));
	assert_int_equal(proto_request_decode("{\"password\":\"x\"", 15, &cr.req, &err), -1);
	audit_request(&cr, &err);
	log = slurp(audit_path);
	assert_non_null(strstr(log, "\"op\":null,\"id\":null,\"args\":null,\"result\":\"bad_json\""));
	free(log);
}

static void
test_record(void **state)
{
	char		*log;

	yajl_gen	 g;

	g = audit_begin("git.pull");
	json_kstr(g, "from", "abc");
	json_kstr(g, "to", "def");
	json_key(g, "files");
	yajl_gen_array_open(g);
	yajl_gen_map_open(g);
	json_kstr(g, "path", "a");
	json_kstr(g, "change", "added");
	yajl_gen_map_close(g);
	yajl_gen_array_close(g);
	audit_end(g);
	/* a record with no members of its own */
	audit_end(audit_begin("broken"));
	log = slurp(audit_path);
	assert_non_null(strstr(log, "\"kind\":\"git.pull\",\"from\":\"abc\",\"to\":\"def\",\"files\":[{\"path\":\"a\""));
	assert_non_null(strstr(log, "\"kind\":\"broken\"}"));
	free(log);
}

/* one request through audit_request, as control.c passes it */
static void
request(const char *line, int fails)
{
	struct ctl_request	 cr;
	struct proto_error	 err;

	request_line(line, &cr);
	assert_non_null(cr.req.op);
	proto_seterr(&err, PE_NOT_FOUND, "no such job");
	audit_request(&cr, fails ? &err : NULL);
	proto_request_free(&cr.req);
}

static void
test_quiet_ops_summarized(void **state)
{
	char		*log, *nl, perr[64];
	yajl_val	 v;
	int		 i;

	for (i = 0; i < 3; i++)
		request("{\"id\":1,\"op\":\"hello\"}", 0);
	for (i = 0; i < 2; i++)
		request("{\"id\":2,\"op\":\"services.list\"}", 0);
	request("{\"id\":3,\"op\":\"job.get\",\"args\":{\"job\":7}}", 1);
	request("{\"id\":4,\"op\":\"stack.stop\",\"args\":{\"by\":\"me\"}}", 0);
	/* only the stack.stop so far */
	log = slurp(audit_path);
	nl = strchr(log, '\n');
	assert_non_null(nl);
	assert_int_equal(nl[1], '\0');
	assert_non_null(strstr(log, "\"op\":\"stack.stop\""));
	free(log);
	/* the counts are written when the log is closed */
	audit_close();
	log = slurp(audit_path);
	nl = strchr(log, '\n');
	v = json_parse(nl + 1, strlen(nl + 1), perr, sizeof(perr));
	assert_non_null(v);
	assert_string_equal(json_get_str(v, "kind"), "requests.summary");
	assert_int_equal(json_get(json_get(v, "ok"), "hello")->u.number.i, 3);
	assert_int_equal(json_get(json_get(v, "ok"), "services.list")->u.number.i, 2);
	assert_null(json_get(json_get(v, "ok"), "job.get"));
	assert_int_equal(json_get(json_get(v, "failed"), "job.get")->u.number.i, 1);
	assert_int_equal(json_get(v, "requests")->u.number.i, 6);
	assert_int_equal(json_get(v, "uids")->u.array.len, 1);
	assert_int_equal(json_get(v, "uids")->u.array.values[0]->u.number.i, 995);
	assert_non_null(json_get_str(v, "since"));
	yajl_tree_free(v);
	free(log);
	/* nothing counted since: no second summary */
	audit_open(audit_path);
	audit_close();
	log = slurp(audit_path);
	assert_null(strstr(strstr(log, "requests.summary") + 1, "requests.summary"));
	free(log);
}

#define ROT_MAX		65536
static void
test_rotation(void **state)
{
	char	 p[96], rec[256], *log;
	size_t	 size;
	int	 i, n, total = 0, summaries = 0;
	yajl_gen g;

	audit_start(NULL, ROT_MAX);
	/* ~200 bytes a record: about 7 times DAVIT_AUDIT_MAX */
	for (i = 0; i < 2400; i++) {
		if (i == 2000)	/* counted: its summary ends the file rotated next */
			request("{\"id\":1,\"op\":\"hello\"}", 0);
		snprintf(rec, sizeof(rec), "%0150d", 0);
		g = audit_begin("test.fill");
		json_kint(g, "n", i);
		json_kstr(g, "pad", rec);
		audit_end(g);
	}
	n = count_lines(audit_path, &size);
	assert_true(n > 0);
	assert_true(size <= ROT_MAX);
	total += n;
	for (i = 1; i <= 4; i++) {
		snprintf(p, sizeof(p), "%s.%d", audit_path, i);
		n = count_lines(p, &size);
		assert_true(n > 0);		/* four kept */
		assert_true(size <= ROT_MAX + 512);	/* + the summary line */
		assert_true(size > ROT_MAX / 2);
		total += n;
		log = slurp(p);
		if (strstr(log, "requests.summary") != NULL)
			summaries++;
		free(log);
	}
	snprintf(p, sizeof(p), "%s.5", audit_path);
	assert_int_equal(access(p, F_OK), -1);	/* not five */
	/* the newest record is in the file, the one before it in .1 */
	log = slurp(audit_path);
	assert_non_null(strstr(log, "\"n\":2399,"));
	free(log);
	assert_int_equal(summaries, 1);
	/* nothing lost between the kept files: the last 4 and a bit of records */
	assert_true(total >= 4 * (ROT_MAX / 220));
}

static void
test_reopen_after_move(void **state)
{
	char	moved[96], *log;

	audit_end(audit_begin("test.before"));
	snprintf(moved, sizeof(moved), "%s.moved", audit_path);
	assert_int_equal(rename(audit_path, moved), 0);
	audit_end(audit_begin("test.still_old"));	/* the open file, moved */
	audit_reopen();
	audit_end(audit_begin("test.after"));
	log = slurp(moved);
	assert_non_null(strstr(log, "test.before"));
	assert_non_null(strstr(log, "test.still_old"));
	assert_null(strstr(log, "test.after"));
	free(log);
	log = slurp(audit_path);
	assert_non_null(strstr(log, "test.after"));
	assert_null(strstr(log, "test.before"));
	free(log);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_login_redacted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_request_logged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quiet_ops_summarized, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_after_move, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
