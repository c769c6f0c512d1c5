/*
 * Unit tests for backend/compose.c's command lines, through
 * compose_rebuild(j, NULL, ...) (the stack rebuild and the deploy's rebuild): a fake
 * compose command records each argv and its environment's names; "config
 * --services" names the services of a file.  Checked: -p PROJECT and -f FILE
 * on every command, v1's build --force-rm, the listed services by name
 * (never "down") when the engine's view is not known, only those the compose
 * file has, nothing after a failed build or a config naming none, and an
 * environment of PATH HOME LANG DOCKER_HOST only.  The compose command must
 * be root's in root's directories (proc_exe_trusted): skipped unless root.
 */
#include <sys/stat.h>

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "backend/backend.h"
#include "backend/docker.h"
#include "backend/project.h"

#define TRUSTED_PARENT	"/var/lib/davit-test"	/* root's, as t_*.sh use it */

static struct backend_env	test_env;
struct backend_env		*benv = &test_env;
/* the project a job is for: compose reads its keys, not benv's */
static struct project		test_project = { .name = "proj",
				    .cfg = &test_env.cfg };

static char	 bindir[64] = TRUSTED_PARENT "/unit-compose-XXXXXX";
static char	 tmpdir[64] = "/tmp/davit-test-compose-XXXXXX";
static char	 fake[128], calls[128], services_file[128], breaks[128], envs[128];
static char	*svc_names[] = { "web", "worker" };
static struct event	*ev_chld;
static int	 done_ok = -1;

static void
on_chld(evutil_socket_t sig, short ev, void *arg)
{
	proc_sigchld();
}

static void
write_file(const char *path, const char *s)
{
	FILE	*f = fopen(path, "w");

	assert_non_null(f);
	fputs(s, f);
	fclose(f);
}

static char *
slurp(const char *path)
{
	FILE	*f = fopen(path, "r");
	char	*buf;
	size_t	 n;

	buf = calloc(1, 8192);
	assert_non_null(buf);
	if (f == NULL)
		return buf;
	n = fread(buf, 1, 8191, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static int
group_setup(void **state)
{
	char	script[1024];

	if (geteuid() != 0)
		return 0;	/* each test skips */
	mkdir(TRUSTED_PARENT, 0755);
	chmod(TRUSTED_PARENT, 0755);
	if (mkdtemp(bindir) == NULL || mkdtemp(tmpdir) == NULL)
		return -1;
	chmod(bindir, 0755);
	snprintf(fake, sizeof(fake), "%s/docker-compose", bindir);
	snprintf(calls, sizeof(calls), "%s/calls", tmpdir);
	snprintf(services_file, sizeof(services_file), "%s/services", tmpdir);
	snprintf(breaks, sizeof(breaks), "%s/breaks", tmpdir);
	snprintf(envs, sizeof(envs), "%s/env", tmpdir);
	snprintf(script, sizeof(script),
	    "#!/bin/sh\n"
	    "echo \"$*\" >>%s\n"
	    "env | cut -d= -f1 | grep -vx PWD | sort | tr '\\n' ' ' >%s\n"
	    "case \"$*\" in *\" config --services\") cat %s; exit 0 ;; esac\n"
	    "case \"$*\" in *\" $(cat %s)\"*) echo \"breaks\"; exit 1 ;; esac\n"
	    "echo \"fake compose: $*\"\n", calls, envs, services_file, breaks);
	write_file(fake, script);
	chmod(fake, 0755);

	memset(&test_env, 0, sizeof(test_env));
	test_env.base = event_base_new();
	if (test_env.base == NULL)
		return -1;
	test_env.cfg.workdir = tmpdir;
	test_env.cfg.compose_project = "proj";
	test_env.cfg.compose_command = fake;
	test_env.cfg.docker_socket = "/run/davit-test-docker.sock";
	test_env.cfg.services[0] = svc_names[0];
	test_env.cfg.services[1] = svc_names[1];
	test_env.cfg.nservices = 2;
	test_env.cfg.job_timeout = 120;
	ev_chld = evsignal_new(test_env.base, SIGCHLD, on_chld, NULL);
	evsignal_add(ev_chld, NULL);
	jobs_init();
	jobs_project_add(&test_project);
	return 0;
}

static int
group_teardown(void **state)
{
	char	p[160];

	if (geteuid() != 0)
		return 0;
	compose_shutdown();
	jobs_shutdown();
	jobs_project_remove(&test_project);
	event_free(ev_chld);
	event_base_free(test_env.base);
	unlink(fake);
	rmdir(bindir);
	snprintf(p, sizeof(p), "rm -rf '%s'", tmpdir);
	return system(p) == 0 ? 0 : -1;
}

static void
rebuilt(struct job *j, const struct compose_result *r)
{
	done_ok = r->ok;
	job_done(j, r->ok ? 0 : 1, NULL);
}

static void
start_rebuild(struct job *j)
{
	compose_rebuild(j, NULL, rebuilt);
}

/*
 * One stack rebuild with "config --services" naming file_services and the
 * step containing "breaks" failing; returns the calls, one a line; *ok is
 * what the rebuild said.
 */
static char *
rebuild(const char *file_services, const char *breaks_step, int *ok,
    struct job **jp)
{
	struct proto_error	 err;
	struct job		*j;

	if (geteuid() != 0)
		skip();
	write_file(services_file, file_services);
	write_file(breaks, breaks_step);
	unlink(calls);
	done_ok = -1;
	memset(&err, 0, sizeof(err));
	j = jobs_submit_internal(&test_project, OP_STACK_REBUILD, "{}", "test", start_rebuild,
	    NULL, NULL, &err);
	assert_non_null(j);
	while (done_ok == -1 || !job_is_over(j))
		event_base_loop(test_env.base, EVLOOP_ONCE);
	*ok = done_ok;
	if (jp != NULL)
		*jp = j;
	return slurp(calls);
}

static void
test_by_name_when_the_engine_is_not_known(void **state)
{
	char	*c, *e;
	int	 ok;

	test_env.cfg.compose_file = NULL;
	/* db is in the file, not listed: web and worker by name, never down */
	c = rebuild("web\nworker\ndb\n", "nothing-breaks", &ok, NULL);
	assert_int_equal(ok, 1);
	assert_string_equal(c,
	    "-p proj config --services\n"
	    "-p proj build --force-rm web worker\n"
	    "-p proj stop web worker\n"
	    "-p proj rm -f web worker\n"
	    "-p proj up -d --no-deps web worker\n");
	free(c);
	/* nothing of davit's environment: PATH HOME LANG and the engine */
	e = slurp(envs);
	assert_string_equal(e, "DOCKER_HOST HOME LANG PATH ");
	free(e);
}

static void
test_compose_file_and_only_the_files_services(void **state)
{
	char	*c;
	int	 ok;

	test_env.cfg.compose_file = "deploy/compose.prod.yml";
	/* worker is not in this file: web alone (stderr noise is no name) */
	c = rebuild("web\nWARNING: noise\n", "nothing-breaks", &ok, NULL);
	test_env.cfg.compose_file = NULL;
	assert_int_equal(ok, 1);
	assert_string_equal(c,
	    "-p proj -f deploy/compose.prod.yml config --services\n"
	    "-p proj -f deploy/compose.prod.yml build --force-rm web\n"
	    "-p proj -f deploy/compose.prod.yml stop web\n"
	    "-p proj -f deploy/compose.prod.yml rm -f web\n"
	    "-p proj -f deploy/compose.prod.yml up -d --no-deps web\n");
	free(c);
}

static void
test_nothing_after_a_failed_build(void **state)
{
	struct job	*j;
	char		*c;
	int		 ok;

	c = rebuild("web\nworker\n", "build", &ok, &j);
	assert_int_equal(ok, 0);
	assert_string_equal(c,
	    "-p proj config --services\n"
	    "-p proj build --force-rm web worker\n");
	free(c);
	assert_int_equal(j->state, JOB_FAILED);
}

static void
test_a_file_without_a_listed_service(void **state)
{
	char	*c;
	int	 ok;

	/* no name would mean every service: nothing runs after config */
	c = rebuild("db\n", "nothing-breaks", &ok, NULL);
	assert_int_equal(ok, 0);
	assert_string_equal(c, "-p proj config --services\n");
	free(c);
}

static void
test_up_after_a_failed_stop(void **state)
{
	char	*c;
	int	 ok;

	/* the services were stopped, maybe: they are brought up again */
	c = rebuild("web\nworker\n", "stop", &ok, NULL);
	assert_int_equal(ok, 0);
	assert_string_equal(c,
	    "-p proj config --services\n"
	    "-p proj build --force-rm web worker\n"
	    "-p proj stop web worker\n"
	    "-p proj up -d --no-deps web worker\n");
	free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_by_name_when_the_engine_is_not_known),
		cmocka_unit_test(test_compose_file_and_only_the_files_services),
		cmocka_unit_test(test_nothing_after_a_failed_build),
		cmocka_unit_test(test_a_file_without_a_listed_service),
		cmocka_unit_test(test_up_after_a_failed_stop),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
