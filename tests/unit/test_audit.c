/*
 * The audit log: one JSON object per line, secrets redacted.
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
	audit_close();
	unlink(audit_path);
	return 0;
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
	char	*log;

	audit_record("git.pull", "{\"from\":\"abc\",\"to\":\"def\",\"files\":[{\"path\":\"a\",\"change\":\"added\"}]}");
	audit_record("broken", "not json");
	log = slurp(audit_path);
	assert_non_null(strstr(log, "\"kind\":\"git.pull\",\"from\":\"abc\",\"to\":\"def\",\"files\":[{\"path\":\"a\""));
	assert_non_null(strstr(log, "\"kind\":\"broken\"}"));
	free(log);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_login_redacted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_request_logged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
