/*
 * The pure parts of releases: DAVIT_DEPLOY_RUN's words (common/argv.c),
 * the release members of a deploy record, tag names, and the reading of
 * the engine's container list (backend/release_record.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backend/deploy.h"
#include "common/argv.h"
#include "common/json.h"

static void
t_argv(void **state)
{
	char	 buf[64], *argv[6], err[64];

	assert_int_equal(argv_split("web ./manage.py  migrate", buf, sizeof(buf),
	    argv, 4, err, sizeof(err)), 3);
	assert_string_equal(argv[0], "web");
	assert_string_equal(argv[2], "migrate");
	assert_null(argv[3]);
	assert_int_equal(argv_split("web sh -c 'echo $A; x' \"a\\\"b\\n\"",
	    buf, sizeof(buf), argv, 5, err, sizeof(err)), 5);
	assert_string_equal(argv[3], "echo $A; x");
	assert_string_equal(argv[4], "a\"b\n");
	assert_int_equal(argv_split("w ''", buf, sizeof(buf), argv, 4, err,
	    sizeof(err)), 2);
	assert_string_equal(argv[1], "");
	assert_int_equal(argv_split("", buf, sizeof(buf), argv, 4, err,
	    sizeof(err)), 0);
	assert_null(argv[0]);
	assert_int_equal(argv_split("a 'b", buf, sizeof(buf), argv, 4, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "an unterminated single quote");
	assert_int_equal(argv_split("a \"\\q\"", buf, sizeof(buf), argv, 4,
	    err, sizeof(err)), -1);
	assert_int_equal(argv_split("a b c d e", buf, sizeof(buf), argv, 4,
	    err, sizeof(err)), -1);
	assert_string_equal(err, "more than 4 words");
	assert_int_equal(argv_split("a\001", buf, sizeof(buf), argv, 4, err,
	    sizeof(err)), -1);
	/* buf bounds: every byte and NUL counted */
	assert_int_equal(argv_split("abcd efgh", buf, 9, argv, 4, err,
	    sizeof(err)), -1);
	assert_int_equal(argv_split("abcd efgh", buf, 10, argv, 4, err,
	    sizeof(err)), 2);
	assert_string_equal(argv[1], "efgh");
}

static void
t_tag_name(void **state)
{
	char	repo[64], tag[32];
	const char *c = "0123456789abcdef0123456789abcdef01234567";

	assert_int_equal(release_tag_name("p-web", c, repo, sizeof(repo), tag,
	    sizeof(tag)), 0);
	assert_string_equal(repo, "p-web");
	assert_string_equal(tag, "davit-0123456789ab");
	assert_int_equal(release_tag_name("reg:5000/a/b:1.2", c, repo,
	    sizeof(repo), tag, sizeof(tag)), 0);
	assert_string_equal(repo, "reg:5000/a/b");
	assert_int_equal(release_tag_name("reg:5000/a/b", c, repo,
	    sizeof(repo), tag, sizeof(tag)), 0);
	assert_string_equal(repo, "reg:5000/a/b");
	assert_int_equal(release_tag_name("a@sha256:00", c, repo,
	    sizeof(repo), tag, sizeof(tag)), -1);
	assert_int_equal(release_tag_name("a", "0123", repo, sizeof(repo), tag,
	    sizeof(tag)), -1);
}

#define ID(x)	x x x x x x x x		/* 8 * 8 = 64 hex */
#define IMG(x)	"sha256:" ID(x)

static void
t_containers(void **state)
{
	char			*svcs[] = { "web", "worker", "db" };
	char			 ids[3][65], err[128];
	struct deploy_image	 im[3];
	const char		*list = "["
	    /* an older, exited web */
	    "{\"Id\":\"" ID("11111111") "\",\"Image\":\"p-web\",\"ImageID\":\""
	    IMG("aaaaaaaa") "\",\"State\":\"exited\",\"Created\":5,"
	    "\"Labels\":{\"com.docker.compose.project\":\"p\","
	    "\"com.docker.compose.service\":\"web\"}},"
	    "{\"Id\":\"" ID("22222222") "\",\"Image\":\"p-web\",\"ImageID\":\""
	    IMG("bbbbbbbb") "\",\"State\":\"running\",\"Created\":4,"
	    "\"Labels\":{\"com.docker.compose.project\":\"p\","
	    "\"com.docker.compose.service\":\"web\"}},"
	    /* a one-off of worker, and another project's worker: skipped */
	    "{\"Id\":\"" ID("33333333") "\",\"Image\":\"x\",\"ImageID\":\""
	    IMG("cccccccc") "\",\"State\":\"running\",\"Created\":9,"
	    "\"Labels\":{\"com.docker.compose.project\":\"p\","
	    "\"com.docker.compose.oneoff\":\"True\","
	    "\"com.docker.compose.service\":\"worker\"}},"
	    "{\"Id\":\"" ID("44444444") "\",\"Image\":\"x\",\"ImageID\":\""
	    IMG("dddddddd") "\",\"State\":\"running\",\"Created\":9,"
	    "\"Labels\":{\"com.docker.compose.project\":\"q\","
	    "\"com.docker.compose.service\":\"worker\"}},"
	    "{\"Id\":\"" ID("55555555") "\",\"Image\":\"p-worker:1\",\"ImageID\":\""
	    IMG("eeeeeeee") "\",\"State\":\"running\",\"Created\":1,"
	    "\"Labels\":{\"com.docker.compose.project\":\"p\","
	    "\"com.docker.compose.service\":\"worker\"}}]";

	assert_int_equal(release_parse_containers(list, strlen(list), "p", svcs,
	    3, ids, im, err, sizeof(err)), 0);
	assert_string_equal(ids[0], ID("22222222"));
	assert_string_equal(im[0].id, IMG("bbbbbbbb"));
	assert_string_equal(im[0].image, "p-web");
	assert_string_equal(ids[1], ID("55555555"));
	assert_string_equal(im[1].image, "p-worker:1");
	assert_string_equal(ids[2], "");
	assert_string_equal(im[2].service, "db");
	assert_string_equal(im[2].id, "");
	/* hostile replies */
	assert_int_equal(release_parse_containers("{}", 2, "p", svcs, 3, ids,
	    im, err, sizeof(err)), -1);
	assert_int_equal(release_parse_containers("[1", 2, "p", svcs, 3, ids,
	    im, err, sizeof(err)), -1);
	assert_int_equal(release_parse_containers("[\0]", 3, "p", svcs, 3, ids,
	    im, err, sizeof(err)), -1);
	list = "[{\"Id\":\"zz\",\"Image\":\"p-web\",\"ImageID\":\"x\","
	    "\"State\":\"running\",\"Created\":1,\"Labels\":{"
	    "\"com.docker.compose.project\":\"p\","
	    "\"com.docker.compose.service\":\"web\"}}]";
	assert_int_equal(release_parse_containers(list, strlen(list), "p", svcs,
	    3, ids, im, err, sizeof(err)), -1);
}

static void
t_record(void **state)
{
	struct deploy_record	 r, back;
	struct deploy_image	 im = { "web", "p-web", IMG("aaaaaaaa"), 1 };
	yajl_gen		 g = json_gen_new();
	const unsigned char	*buf;
	size_t			 len;
	char			 err[64];

	memset(&r, 0, sizeof(r));
	r.id = 3;
	r.job = 7;
	snprintf(r.state, sizeof(r.state), "rolled_back");
	snprintf(r.rolled_back_to, sizeof(r.rolled_back_to), "%s", "abc");
	r.release_of = 2;
	r.images = &im;
	r.nimages = 1;
	deploy_record_gen(g, &r);
	yajl_gen_get_buf(g, &buf, &len);
	assert_non_null(strstr((const char *)buf, "\"recreated\":true"));
	assert_non_null(strstr((const char *)buf, "\"kept\":false"));
	assert_int_equal(deploy_record_parse((const char *)buf, len, &back, err,
	    sizeof(err)), 0);
	assert_int_equal(back.nimages, 1);
	assert_string_equal(back.images[0].image, "p-web");
	assert_int_equal(back.images[0].recreated, 1);
	assert_string_equal(back.rolled_back_to, "abc");
	assert_int_equal(back.release_of, 2);
	deploy_record_clear(&back);
	yajl_gen_free(g);
	/* bad members */
	assert_int_equal(deploy_record_parse("{\"job\":1,\"images\":[{}]}", 23,
	    &back, err, sizeof(err)), -1);
	assert_string_equal(err, "bad release");
	assert_int_equal(deploy_record_parse("{\"job\":1,\"release_of\":-1}", 25,
	    &back, err, sizeof(err)), -1);
	/* an old line without them */
	assert_int_equal(deploy_record_parse("{\"job\":1}", 9, &back, err,
	    sizeof(err)), 0);
	assert_int_equal(back.nimages, 0);
	deploy_record_clear(&back);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_argv),
		cmocka_unit_test(t_tag_name),
		cmocka_unit_test(t_containers),
		cmocka_unit_test(t_record),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
