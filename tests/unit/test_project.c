/*
 * Several projects: the main file's mode (one project in it, or one file
 * per project in DAVIT_PROJECTS_DIR), which keys go where, what a
 * project's configuration inherits, the reading of the directory and the
 * checks across projects (backend/project_conf.c), the names.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "backend/project.h"

static char			 hash[crypto_pwhash_STRBYTES];
static struct davit_config	 M, P;
static struct config_errors	 R;
static char			 tmp[256];

static int
group_setup(void **state)
{
	(void)state;
	if (sodium_init() == -1)
		return (-1);
	return (config_hash_password("pw", hash, sizeof(hash)));
}

static int
teardown(void **state)
{
	(void)state;
	config_free(&M);
	config_free(&P);
	return (0);
}

/* the main file: the password's hash, then extra */
static int
main_parse(const char *extra)
{
	char	 text[4096];

	snprintf(text, sizeof(text), "DAVIT_PASSWORD_HASH='%s'\n%s", hash,
	    extra);
	config_free(&M);
	return (config_parse_all("main.env", text, strlen(text), NULL, &M, &R));
}

static int
proj_parse(const char *text)
{
	config_free(&P);
	return (config_parse_project("a.env", text, strlen(text), &M, &P, &R));
}

static const char *
err_str(size_t i)
{
	static char	 buf[CONFIG_ERR_LEN + 512];

	assert_true(i < R.n);
	config_error_str(&R.e[i], buf, sizeof(buf));
	return (buf);
}

static void
t_modes(void **state)
{
	(void)state;
	/* DAVIT_WORKDIR in the main file: one project, as always */
	assert_int_equal(main_parse("DAVIT_WORKDIR=/srv/App_1\n"
	    "DAVIT_SERVICES=web\n"), 0);
	assert_int_equal(M.multi, 0);
	assert_int_equal(M.max_parallel, 2);
	assert_string_equal(M.projects_dir, "/etc/davit/projects.d");
	/* none: several, and the project keys are not required there */
	assert_int_equal(main_parse("DAVIT_MAX_PARALLEL=3\n"), 0);
	assert_int_equal(M.multi, 1);
	assert_int_equal(M.max_parallel, 3);
	assert_null(M.services[0]);
	assert_null(M.branch);
}

static void
t_project_key_in_main(void **state)
{
	(void)state;
	assert_int_equal(main_parse("DAVIT_BRANCH=dev\n"
	    "DAVIT_NOTIFY_URL=https://n.example/x\n"), -1);
	assert_int_equal(R.n, 1);
	assert_string_equal(err_str(0), "main.env:2: DAVIT_BRANCH: project "
	    "key: put it in DAVIT_PROJECTS_DIR/NAME.env");
	/* DAVIT_NOTIFY_URL is every project's default */
	assert_string_equal(M.notify_url, "https://n.example/x");
	/* DAVIT_PROJECT names the main file's project only */
	assert_int_equal(main_parse("DAVIT_PROJECT=abc\n"), -1);
	assert_non_null(strstr(err_str(0), "DAVIT_PROJECT"));
}

static void
t_bounds(void **state)
{
	(void)state;
	assert_int_equal(main_parse("DAVIT_MAX_PARALLEL=17\n"), -1);
	assert_non_null(strstr(err_str(0), "DAVIT_MAX_PARALLEL"));
	assert_int_equal(main_parse("DAVIT_MAX_PARALLEL=0\n"), -1);
	assert_int_equal(main_parse("DAVIT_WORKDIR=/srv/a\nDAVIT_SERVICES=w\n"
	    "DAVIT_PROJECT=-bad\n"), -1);
	assert_non_null(strstr(err_str(0), "not a project name"));
	assert_int_equal(main_parse("DAVIT_WORKDIR=/srv/a\nDAVIT_SERVICES=w\n"
	    "DAVIT_PROJECT=shop-2\n"), 0);
	assert_string_equal(M.project, "shop-2");
	assert_int_equal(main_parse("DAVIT_PROJECTS_DIR=rel\n"), -1);
}

static void
t_project_file(void **state)
{
	(void)state;
	assert_int_equal(main_parse("DAVIT_COMPOSE_COMMAND=docker compose\n"
	    "DAVIT_JOB_TIMEOUT=77\nDAVIT_NOTIFY_URL=https://n.example/x\n"),
	    0);
	/* a global key in NAME.env is refused; the required keys are asked */
	assert_int_equal(proj_parse("DAVIT_LISTEN=0.0.0.0:1\n"), -1);
	assert_string_equal(err_str(0), "a.env:1: DAVIT_LISTEN: global key: "
	    "put it in the main file");
	assert_non_null(strstr(err_str(1), "DAVIT_WORKDIR is required"));
	assert_non_null(strstr(err_str(2), "DAVIT_SERVICES is required"));
	assert_int_equal(R.n, 3);	/* not the password */
	assert_int_equal(proj_parse("DAVIT_PASSWORD=x\nDAVIT_WORKDIR=/srv/a\n"
	    "DAVIT_SERVICES=web\n"), -1);
	assert_non_null(strstr(err_str(0), "DAVIT_PASSWORD: global key"));
	/* whole: its keys, its defaults, the main file's globals */
	assert_int_equal(proj_parse("DAVIT_WORKDIR=/srv/Shop\n"
	    "DAVIT_SERVICES=web,db\nDAVIT_POLL_INTERVAL=0\n"), 0);
	assert_string_equal(P.workdir, "/srv/Shop");
	assert_string_equal(P.compose_project, "shop");
	assert_string_equal(P.branch, "main");
	assert_int_equal(P.poll_interval, 0);
	assert_string_equal(P.compose_command, "docker compose");
	assert_int_equal(P.job_timeout, 77);
	assert_string_equal(P.notify_url, "https://n.example/x");
	assert_null(P.password_hash);
	/* its own notification URL wins */
	assert_int_equal(proj_parse("DAVIT_WORKDIR=/srv/a\nDAVIT_SERVICES=w\n"
	    "DAVIT_NOTIFY_URL=https://own.example/\n"), 0);
	assert_string_equal(P.notify_url, "https://own.example/");
	assert_int_equal(config_key_is_project("DAVIT_WEBHOOK_SECRET"), 1);
	assert_int_equal(config_key_is_project("DAVIT_LISTEN"), 0);
}

static void
t_names(void **state)
{
	char	 n[PROTO_PROJECT_NAME_MAX + 1];

	(void)state;
	assert_int_equal(config_project_name_from_workdir("/srv/My_App/", n,
	    sizeof(n)), 0);
	assert_string_equal(n, "my-app");
	assert_int_equal(config_project_name_from_workdir("/srv/__", n,
	    sizeof(n)), 0);
	assert_string_equal(n, "app");
	assert_int_equal(config_project_name_valid("a-1"), 1);
	assert_int_equal(config_project_name_valid("-a"), 0);
	assert_int_equal(config_project_name_valid("A"), 0);
	assert_int_equal(config_project_name_valid(
	    "a23456789012345678901234567890123"), 0);
}

/* a root-owned 0600 file in tmp */
static void
put(const char *name, const char *text)
{
	char	 path[512];
	int	 fd;

	snprintf(path, sizeof(path), "%s/%s", tmp, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd != -1);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void
rm_tmp(void)
{
	char	 cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	assert_int_equal(system(cmd), 0);
}

static void
t_dir(void **state)
{
	struct project_confs	 pc;
	char			 main_text[512], buf[CONFIG_ERR_LEN + 512];

	(void)state;
	if (geteuid() != 0)
		skip();	/* the files must be root's */
	snprintf(tmp, sizeof(tmp), "/tmp/davit-test-project-XXXXXX");
	assert_non_null(mkdtemp(tmp));
	chmod(tmp, 0700);
	snprintf(main_text, sizeof(main_text), "DAVIT_PROJECTS_DIR=%s\n", tmp);
	assert_int_equal(main_parse(main_text), 0);

	/* an empty directory: no project is an error */
	assert_int_equal(project_confs_read("main.env", &M, &pc), -1);
	assert_int_equal(pc.n, 0);
	assert_non_null(strstr(pc.errs.e[0].msg, "no project"));
	project_confs_free(&pc);

	put("b.env", "DAVIT_WORKDIR=/srv/b\nDAVIT_SERVICES=web\n");
	put("a.env", "DAVIT_WORKDIR=/srv/a\nDAVIT_SERVICES=web\n");
	put("Bad_Name.env", "DAVIT_WORKDIR=/srv/x\nDAVIT_SERVICES=web\n");
	put("notes.txt", "hello\n");
	assert_int_equal(project_confs_read("main.env", &M, &pc), 0);
	assert_int_equal(pc.n, 2);
	assert_string_equal(pc.v[0].name, "a");	/* name order */
	assert_string_equal(pc.v[1].name, "b");
	assert_string_equal(pc.v[1].cfg->workdir, "/srv/b");
	assert_true(pc.v[0].ok && pc.v[1].ok);
	project_confs_free(&pc);

	/* the same workdir, then the same compose project: the later refused */
	put("c.env", "DAVIT_WORKDIR=/srv/a/\nDAVIT_SERVICES=web\n");
	put("d.env", "DAVIT_WORKDIR=/srv/d\nDAVIT_SERVICES=web\n"
	    "DAVIT_COMPOSE_PROJECT=b\n");
	assert_int_equal(project_confs_read("main.env", &M, &pc), -1);
	assert_int_equal(pc.n, 4);
	assert_true(pc.v[0].ok && pc.v[1].ok);
	assert_false(pc.v[2].ok);
	project_conf_error(&pc.v[2], buf, sizeof(buf));
	assert_non_null(strstr(buf, "DAVIT_WORKDIR: /srv/a is project a's "
	    "workdir too"));
	assert_false(pc.v[3].ok);
	project_conf_error(&pc.v[3], buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"b\" is project b's compose project"));
	project_confs_free(&pc);

	/* the main file's rules: 0600, root's */
	put("e.env", "DAVIT_WORKDIR=/srv/e\nDAVIT_SERVICES=web\n");
	snprintf(buf, sizeof(buf), "%s/e.env", tmp);
	chmod(buf, 0644);
	assert_int_equal(project_confs_read("main.env", &M, &pc), -1);
	assert_false(pc.v[4].ok);
	project_conf_error(&pc.v[4], buf, sizeof(buf));
	assert_non_null(strstr(buf, "chmod 600"));
	project_confs_free(&pc);

	/* DAVIT_WORKDIR in the main file and files here: choose one */
	snprintf(main_text, sizeof(main_text), "DAVIT_PROJECTS_DIR=%s\n"
	    "DAVIT_WORKDIR=/srv/Main\nDAVIT_SERVICES=web\n", tmp);
	assert_int_equal(main_parse(main_text), 0);
	assert_int_equal(project_confs_read("main.env", &M, &pc), -1);
	assert_int_equal(pc.n, 1);
	assert_string_equal(pc.v[0].name, "main");
	assert_null(pc.v[0].cfg);
	assert_non_null(strstr(pc.errs.e[0].msg, "choose one"));
	project_confs_free(&pc);
	rm_tmp();
	/* ... and alone, the single project of today, named by its workdir */
	assert_int_equal(project_confs_read("main.env", &M, &pc), 0);
	assert_int_equal(pc.n, 1);
	assert_string_equal(pc.v[0].name, "main");
	project_confs_free(&pc);
}

static void
t_diff(void **state)
{
	struct davit_config	 a;
	char			 first[64];

	(void)state;
	assert_int_equal(main_parse("DAVIT_JOB_TIMEOUT=5\n"), 0);
	assert_int_equal(proj_parse("DAVIT_WORKDIR=/srv/a\nDAVIT_SERVICES=w\n"),
	    0);
	a = P;
	memset(&P, 0, sizeof(P));
	assert_int_equal(proj_parse("DAVIT_WORKDIR=/srv/a\nDAVIT_SERVICES=w\n"),
	    0);
	assert_int_equal(config_diff(&a, &P, 1, first, sizeof(first)), 0);
	assert_int_equal(proj_parse("DAVIT_WORKDIR=/srv/a\nDAVIT_SERVICES=w,x\n"
	    "DAVIT_BRANCH=dev\n"), 0);
	assert_int_equal(config_diff(&a, &P, 1, first, sizeof(first)), 2);
	assert_string_equal(first, "DAVIT_BRANCH");
	assert_int_equal(config_diff(&a, &P, 0, first, sizeof(first)), 0);
	config_free(&a);
}

/*
 * A plaintext DAVIT_PASSWORD gets a new salt at each reading: a reload must
 * not take that for a change (it logged "needs a restart" every time).
 */
static void
t_diff_password(void **state)
{
	struct davit_config	 a, b;
	struct config_errors	 e;
	char			 first[64];
	static const char	 one[] = "DAVIT_PASSWORD=correct horse\n"
				    "DAVIT_WORKDIR=/srv/a\nDAVIT_SERVICES=web\n";
	static const char	 two[] = "DAVIT_PASSWORD=battery staple\n"
				    "DAVIT_WORKDIR=/srv/a\nDAVIT_SERVICES=web\n";

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&e, 0, sizeof(e));
	if (config_parse_all("m.env", one, strlen(one), NULL, &a, &e) != 0)
		fail_msg("%s", e.e[0].msg);
	assert_int_equal(config_parse_all("m.env", one, strlen(one), NULL, &b,
	    &e), 0);
	assert_string_not_equal(a.password_hash, b.password_hash);
	assert_int_equal(config_diff(&a, &b, 0, first, sizeof(first)), 0);
	config_free(&b);
	assert_int_equal(config_parse_all("m.env", two, strlen(two), NULL, &b,
	    &e), 0);
	assert_int_equal(config_diff(&a, &b, 0, first, sizeof(first)), 1);
	assert_string_equal(first, "DAVIT_PASSWORD_HASH");
	config_free(&a);
	config_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_diff_password),
		cmocka_unit_test_teardown(t_modes, teardown),
		cmocka_unit_test_teardown(t_project_key_in_main, teardown),
		cmocka_unit_test_teardown(t_bounds, teardown),
		cmocka_unit_test_teardown(t_project_file, teardown),
		cmocka_unit_test(t_names),
		cmocka_unit_test_teardown(t_dir, teardown),
		cmocka_unit_test_teardown(t_diff, teardown),
	};

	return (cmocka_run_group_tests(tests, group_setup, NULL));
}
