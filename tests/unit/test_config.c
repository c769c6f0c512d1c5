/*
 * Unit tests for common/config.c: defaults, every validator, the error
 * message shape, secrets kept out of messages and logs, password hashing.
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
#include <sodium.h>

#include "common/config.h"

#define F		"t.env"
#define SECRET		"Zq7SECRETvalue"
/* the base text is three lines: a test's own lines start at line 4 */
#define LINE4		F ":4: "

static char			 hash[crypto_pwhash_STRBYTES];
static struct davit_config	 C;
static char			 E[CONFIG_ERR_LEN];
static char			 text[64 * 1024];

/* stderr capture, for log_warnx */
static int			 saved_stderr = -1;
static FILE			*capfp;
static char			 captured[8192];

static void
capture_begin(void)
{
	fflush(stderr);
	capfp = tmpfile();
	assert_non_null(capfp);
	saved_stderr = dup(STDERR_FILENO);
	assert_true(saved_stderr != -1);
	assert_true(dup2(fileno(capfp), STDERR_FILENO) != -1);
}

static const char *
capture_end(void)
{
	size_t	 n;

	fflush(stderr);
	assert_true(dup2(saved_stderr, STDERR_FILENO) != -1);
	close(saved_stderr);
	saved_stderr = -1;
	rewind(capfp);
	n = fread(captured, 1, sizeof(captured) - 1, capfp);
	captured[n] = '\0';
	fclose(capfp);
	capfp = NULL;
	return (captured);
}

static int
group_setup(void **state)
{
	if (sodium_init() == -1)
		return (-1);
	return (config_hash_password("the base password", hash, sizeof(hash)));
}

static int
teardown(void **state)
{
	config_free(&C);
	return (0);
}

static int
parse_raw(const char *s)
{
	memset(E, 0, sizeof(E));
	return (config_parse(F, s, strlen(s), &C, E, sizeof(E)));
}

/* base (3 lines: hash, workdir, services) followed by extra */
static int
parse(const char *extra)
{
	int	 n;

	n = snprintf(text, sizeof(text), "DAVIT_PASSWORD_HASH=%s\n"
	    "DAVIT_WORKDIR=/srv/My App\nDAVIT_SERVICES=web\n%s", hash,
	    extra);
	assert_true(n > 0 && (size_t)n < sizeof(text));
	config_free(&C);
	return (parse_raw(text));
}

/* parse() expecting failure with exactly this message */
static void
expect_err(const char *extra, const char *msg)
{
	int	 rc;

	capture_begin();	/* base keys set again warn: keep quiet */
	rc = parse(extra);
	capture_end();
	assert_int_equal(rc, -1);
	assert_string_equal(E, msg);
	/* a failed parse leaves nothing behind */
	assert_null(C.workdir);
	assert_null(C.password_hash);
	assert_int_equal(C.nservices, 0);
}

/* parse() expecting failure naming line 4 and key */
static void
expect_bad(const char *key, const char *value)
{
	char	 line[8192], prefix[128];
	int	 rc;

	snprintf(line, sizeof(line), "%s=%s\n", key, value);
	snprintf(prefix, sizeof(prefix), LINE4 "%s: ", key);
	capture_begin();
	rc = parse(line);
	capture_end();
	assert_int_equal(rc, -1);
	if (strncmp(E, prefix, strlen(prefix)) != 0)
		fail_msg("%s=%s: got \"%s\"", key, value, E);
	assert_true(strlen(E) > strlen(prefix));
}

static void
expect_good(const char *key, const char *value)
{
	char	 line[8192];

	int	 rc;

	snprintf(line, sizeof(line), "%s=%s\n", key, value);
	capture_begin();
	rc = parse(line);
	capture_end();
	if (rc != 0)
		fail_msg("%s=%s: %s", key, value, E);
}

static void
t_defaults(void **state)
{
	char	 buf[64];

	capture_begin();
	assert_int_equal(parse(""), 0);
	assert_string_equal(capture_end(), "");

	assert_string_equal(C.password_hash, hash);
	assert_null(C.github_token);
	assert_null(C.webhook_secret);
	assert_null(C.repo_url);
	assert_string_equal(C.branch, "main");
	assert_string_equal(C.workdir, "/srv/My App");
	assert_int_equal(C.nservices, 1);
	assert_string_equal(C.services[0], "web");
	assert_string_equal(C.compose_project, "myapp");
	assert_null(C.compose_file);
	assert_null(C.compose_command);
	assert_string_equal(C.docker_socket, "/var/run/docker.sock");
	assert_string_equal(C.listen, "127.0.0.1:8080");
	assert_string_equal(C.socket_path, "/run/davit/backend.sock");
	assert_string_equal(C.user, "davit");
	assert_string_equal(C.audit_log, "/var/log/davit/audit.jsonl");
	assert_null(C.notify_url);
	assert_null(C.github_repo);
	assert_string_equal(C.state_dir, "/var/lib/davit");
	assert_null(C.www_dir);
	assert_int_equal(C.stop_timeout, 10);
	assert_int_equal(C.job_timeout, 1800);
	assert_int_equal(C.poll_interval, 300);
	assert_int_equal(C.deploy_verify, 60);
	assert_int_equal(C.session_idle, 3600);
	assert_int_equal(C.session_max, 43200);
	assert_int_equal(C.cookie_secure, 0);
	config_repo_display(&C, buf, sizeof(buf));
	assert_string_equal(buf, "");
}

static void
t_all_keys(void **state)
{
	assert_int_equal(parse(
	    "DAVIT_GITHUB_TOKEN=ghp_abc\n"
	    "DAVIT_WEBHOOK_SECRET='s e c r e t 16 b'\n"
	    "DAVIT_REPO_URL=https://github.com/acme/shop.git\n"
	    "DAVIT_BRANCH=release/1.2\n"
	    "DAVIT_COMPOSE_PROJECT=shop\n"
	    "DAVIT_COMPOSE_FILE=deploy/compose.yml\n"
	    "DAVIT_COMPOSE_COMMAND=/usr/local/bin/docker compose\n"
	    "DAVIT_DOCKER_SOCKET=/run/docker.sock\n"
	    "DAVIT_LISTEN=[::1]:9000\n"
	    "DAVIT_SOCKET=/run/d/b.sock\n"
	    "DAVIT_USER=deploy\n"
	    "DAVIT_AUDIT_LOG=/var/log/a.jsonl\n"
	    "DAVIT_NOTIFY_URL=https://hooks.example.com/x\n"
	    "DAVIT_GITHUB_REPO=other/repo\n"
	    "DAVIT_STATE_DIR=/var/lib/x\n"
	    "DAVIT_WWW_DIR=/usr/share/davit/www\n"
	    "DAVIT_STOP_TIMEOUT=0\n"
	    "DAVIT_JOB_TIMEOUT=86400\n"
	    "DAVIT_POLL_INTERVAL=0\n"
	    "DAVIT_DEPLOY_VERIFY=3600\n"
	    "DAVIT_SESSION_IDLE=60\n"
	    "DAVIT_SESSION_MAX=2592000\n"
	    "DAVIT_COOKIE_SECURE=yes\n"), 0);
	assert_string_equal(C.github_token, "ghp_abc");
	assert_string_equal(C.webhook_secret, "s e c r e t 16 b");
	assert_string_equal(C.repo_url, "https://github.com/acme/shop.git");
	assert_string_equal(C.branch, "release/1.2");
	assert_string_equal(C.compose_project, "shop");
	assert_string_equal(C.compose_file, "deploy/compose.yml");
	assert_string_equal(C.compose_command, "/usr/local/bin/docker compose");
	assert_string_equal(C.docker_socket, "/run/docker.sock");
	assert_string_equal(C.listen, "[::1]:9000");
	assert_string_equal(C.socket_path, "/run/d/b.sock");
	assert_string_equal(C.user, "deploy");
	assert_string_equal(C.audit_log, "/var/log/a.jsonl");
	assert_string_equal(C.notify_url, "https://hooks.example.com/x");
	assert_string_equal(C.github_repo, "other/repo");
	assert_string_equal(C.state_dir, "/var/lib/x");
	assert_string_equal(C.www_dir, "/usr/share/davit/www");
	assert_int_equal(C.stop_timeout, 0);
	assert_int_equal(C.job_timeout, 86400);
	assert_int_equal(C.poll_interval, 0);
	assert_int_equal(C.deploy_verify, 3600);
	assert_int_equal(C.session_idle, 60);
	assert_int_equal(C.session_max, 2592000);
	assert_int_equal(C.cookie_secure, 1);
}

static void
t_required(void **state)
{
	assert_int_equal(parse_raw("DAVIT_PASSWORD_HASH=x\n"), -1);
	/* the first failure wins: the bad hash, on its line */
	assert_string_equal(E, F ":1: DAVIT_PASSWORD_HASH: must be an "
	    "argon2id hash (starting with $argon2id$)");

	snprintf(text, sizeof(text), "DAVIT_PASSWORD_HASH=%s\n"
	    "DAVIT_SERVICES=web\n", hash);
	assert_int_equal(parse_raw(text), -1);
	/* no DAVIT_WORKDIR: the projects are in DAVIT_PROJECTS_DIR */
	assert_string_equal(E, F ":2: DAVIT_SERVICES: project key: put it in "
	    "DAVIT_PROJECTS_DIR/NAME.env");

	snprintf(text, sizeof(text), "DAVIT_PASSWORD_HASH=%s\n"
	    "DAVIT_WORKDIR=/srv/x\n", hash);
	assert_int_equal(parse_raw(text), -1);
	assert_string_equal(E, F ": DAVIT_SERVICES is required");

	assert_int_equal(parse_raw("DAVIT_WORKDIR=/srv/x\n"
	    "DAVIT_SERVICES=web\n"), -1);
	assert_string_equal(E,
	    F ": DAVIT_PASSWORD_HASH (or DAVIT_PASSWORD) is required");

	/* an empty file: several projects, and the password still required */
	assert_int_equal(parse_raw(""), -1);
	assert_string_equal(E,
	    F ": DAVIT_PASSWORD_HASH (or DAVIT_PASSWORD) is required");
}

static void
t_required_not_empty(void **state)
{
	expect_err("DAVIT_WORKDIR=\n",
	    LINE4 "DAVIT_WORKDIR: must not be empty");
	expect_err("DAVIT_SERVICES=''\n",
	    LINE4 "DAVIT_SERVICES: must not be empty");
}

static void
t_empty_optional_resets(void **state)
{
	capture_begin();
	assert_int_equal(parse("DAVIT_BRANCH=dev\nDAVIT_BRANCH=\n"
	    "DAVIT_JOB_TIMEOUT=5\nDAVIT_JOB_TIMEOUT=\nDAVIT_GITHUB_TOKEN=\n"
	    "DAVIT_COMPOSE_PROJECT=\n"), 0);
	capture_end();
	assert_string_equal(C.branch, "main");
	assert_int_equal(C.job_timeout, 1800);
	assert_null(C.github_token);
	assert_string_equal(C.compose_project, "myapp");
}

static void
t_password_hashed(void **state)
{
	snprintf(text, sizeof(text), "DAVIT_PASSWORD='correct horse'\n"
	    "DAVIT_WORKDIR=/srv/app\nDAVIT_SERVICES=web\n");
	assert_int_equal(parse_raw(text), 0);
	assert_non_null(C.password_hash);
	assert_true(strncmp(C.password_hash, "$argon2id$", 10) == 0);
	assert_null(strstr(C.password_hash, "correct horse"));
	assert_int_equal(crypto_pwhash_str_verify(C.password_hash,
	    "correct horse", strlen("correct horse")), 0);
	assert_int_equal(crypto_pwhash_str_verify(C.password_hash,
	    "correct horsf", strlen("correct horsf")), -1);
	/* interactive parameters, as asked */
	assert_int_equal(crypto_pwhash_str_needs_rehash(C.password_hash,
	    crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE,
	    crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE), 0);
}

static void
t_password_and_hash_exclusive(void **state)
{
	expect_err("DAVIT_PASSWORD=" SECRET "\n", F ": DAVIT_PASSWORD and "
	    "DAVIT_PASSWORD_HASH are both set, use only one");
	assert_null(strstr(E, SECRET));
	/* an empty DAVIT_PASSWORD= is "unset" */
	assert_int_equal(parse("DAVIT_PASSWORD=\n"), 0);
	assert_string_equal(C.password_hash, hash);
}

static void
t_password_hash_validation(void **state)
{
	const char	*bad[] = {
		"$argon2i$v=19$m=65536,t=2,p=1$" SECRET,
		"$2y$10$" SECRET,
		"$argon2id$v=19$m=65536,t=2,p=1$" SECRET,
		"$argon2id$" SECRET,
		SECRET,
	};
	char		 line[512];
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "DAVIT_WORKDIR=/srv/app\n"
		    "DAVIT_SERVICES=web\nDAVIT_PASSWORD_HASH='%s'\n", bad[i]);
		assert_int_equal(parse_raw(text), -1);
		snprintf(line, sizeof(line), F ":3: DAVIT_PASSWORD_HASH: ");
		assert_true(strncmp(E, line, strlen(line)) == 0);
		assert_null(strstr(E, SECRET));
	}
	/* a valid hash of other (moderate) parameters is accepted as is */
	assert_int_equal(crypto_pwhash_str_alg(line, "x", 1,
	    crypto_pwhash_argon2id_OPSLIMIT_MIN,
	    crypto_pwhash_argon2id_MEMLIMIT_MIN,
	    crypto_pwhash_ALG_ARGON2ID13), 0);
	snprintf(text, sizeof(text), "DAVIT_WORKDIR=/srv/app\n"
	    "DAVIT_SERVICES=web\nDAVIT_PASSWORD_HASH=%s\n", line);
	assert_int_equal(parse_raw(text), 0);
	assert_string_equal(C.password_hash, line);
}

static void
t_secrets_not_in_messages(void **state)
{
	const char	*cases[] = {
		"DAVIT_GITHUB_TOKEN=\"tok\\n" SECRET "\"\n",
		"DAVIT_WEBHOOK_SECRET=\"a\\t" SECRET "\"\n",
		"DAVIT_GITHUB_TOKEN=\"" SECRET "\n",
		"DAVIT_WEBHOOK_SECRET='" SECRET "' " SECRET "\n",
		"DAVIT_PASSWORD_HASH=" SECRET "\n",
		"DAVIT_PASSWORD=\"" SECRET "\n",
		SECRET "\n",
	};
	const char	*log;
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		capture_begin();
		assert_int_equal(parse(cases[i]), -1);
		log = capture_end();
		if (strncmp(E, LINE4, strlen(LINE4)) != 0)
			fail_msg("case %zu: \"%s\"", i, E);
		assert_null(strstr(E, SECRET));
		assert_null(strstr(log, SECRET));
	}
	/* the two with control characters name the key and say why */
	assert_int_equal(parse(cases[0]), -1);
	assert_string_equal(E, LINE4 "DAVIT_GITHUB_TOKEN: must not contain "
	    "control characters");
	assert_int_equal(parse(cases[2]), -1);
	assert_string_equal(E, LINE4 "unterminated quote");
}

/* a webhook secret shorter than 16 bytes is refused; its value is never shown */
static void
t_webhook_secret_min(void **state)
{
	assert_int_equal(parse("DAVIT_WEBHOOK_SECRET=Zq7SECRETvalu15\n"), -1);
	assert_string_equal(E, LINE4 "DAVIT_WEBHOOK_SECRET: too short, at "
	    "least 16 bytes (openssl rand -hex 32 makes one)");
	assert_null(strstr(E, "Zq7SECRETvalu15"));
	assert_int_equal(parse("DAVIT_WEBHOOK_SECRET=x\n"), -1);
	assert_int_equal(parse("DAVIT_WEBHOOK_SECRET=Zq7SECRETvalue16\n"), 0);
	assert_string_equal(C.webhook_secret, "Zq7SECRETvalue16");
	/* unset (webhooks off) stays fine, and the token has no minimum */
	assert_int_equal(parse("DAVIT_WEBHOOK_SECRET=\nDAVIT_GITHUB_TOKEN=t\n"),
	    0);
	assert_null(C.webhook_secret);
}

/* the permissions of the mapping that holds p, from /proc/self/maps */
static void
map_perms(const void *p, char perms[5])
{
	FILE		*fp;
	char		 line[512];
	unsigned long	 lo, hi, a = (unsigned long)p;

	perms[0] = '\0';
	fp = fopen("/proc/self/maps", "r");
	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perms) == 3 &&
		    a >= lo && a < hi)
			break;
	fclose(fp);
}

/* secrets live in their own read-only pages once protected */
static void
t_secrets_protected(void **state)
{
	char	 perms[5];

	assert_int_equal(parse("DAVIT_WEBHOOK_SECRET=Zq7SECRETvalue16\n"
	    "DAVIT_GITHUB_TOKEN=ghp_tok\n"), 0);
	config_protect(&C);
	map_perms(C.webhook_secret, perms);
	assert_string_equal(perms, "r--p");
	map_perms(C.github_token, perms);
	assert_string_equal(perms, "r--p");
	map_perms(C.password_hash, perms);
	assert_string_equal(perms, "r--p");
	map_perms(C.workdir, perms);
	assert_string_equal(perms, "rw-p");	/* not a secret */
	assert_string_equal(C.webhook_secret, "Zq7SECRETvalue16");
	config_free(&C);	/* frees read-only secrets without a fault */
	assert_null(C.webhook_secret);
}

static void
t_duplicate_key_warns(void **state)
{
	const char	*log;

	capture_begin();
	assert_int_equal(parse("DAVIT_BRANCH=alpha\nDAVIT_GITHUB_TOKEN=" SECRET
	    "\nDAVIT_BRANCH=beta\nDAVIT_GITHUB_TOKEN=" SECRET "2\n"), 0);
	log = capture_end();
	assert_string_equal(C.branch, "beta");
	assert_string_equal(C.github_token, SECRET "2");
	assert_non_null(strstr(log, F ":6: DAVIT_BRANCH was already set on "
	    "line 4, the last one wins"));
	assert_non_null(strstr(log, F ":7: DAVIT_GITHUB_TOKEN was already "
	    "set on line 5, the last one wins"));
	assert_null(strstr(log, SECRET));
	assert_null(strstr(log, "alpha"));
	assert_null(strstr(log, "beta"));
}

static void
t_unknown_key_warns(void **state)
{
	const char	*log;

	capture_begin();
	assert_int_equal(parse("DAVIT_PASWORD=" SECRET "\nCOMPOSE_PROFILES=x\n"
	    "POSTGRES_PASSWORD=" SECRET "\nDAVIT_BRANCH=dev\n"), 0);
	log = capture_end();
	assert_non_null(strstr(log, F ":4: unknown key DAVIT_PASWORD, "
	    "ignored"));
	assert_null(strstr(log, SECRET));
	/* keys of others are ignored silently */
	assert_null(strstr(log, "COMPOSE_PROFILES"));
	assert_null(strstr(log, "POSTGRES"));
	assert_string_equal(C.branch, "dev");
	/* case matters: davit_branch is someone else's */
	capture_begin();
	assert_int_equal(parse("davit_branch=x\n"), 0);
	assert_string_equal(capture_end(), "");
	assert_string_equal(C.branch, "main");
}

static void
t_syntax_error_shape(void **state)
{
	expect_err("DAVIT_BRANCH=dev\nNOT A LINE\n",
	    F ":5: expected '=' after key");
	expect_err("\n\nJUSTKEY\n", F ":6: missing '=' after key");
	expect_err("A=\"x\0y\"\n", F ":4: unterminated quote");
	assert_int_equal(config_parse(F, "A=1\nB\0=2\n", 9, &C, E,
	    sizeof(E)), -1);
	assert_string_equal(E, F ":2: NUL byte in input");
}

static void
t_workdir(void **state)
{
	expect_err("DAVIT_WORKDIR=srv/app\n",
	    LINE4 "DAVIT_WORKDIR: must be an absolute path");
	expect_err("DAVIT_WORKDIR=\"/srv/a\\tb\"\n",
	    LINE4 "DAVIT_WORKDIR: must not contain control characters");
	expect_bad("DAVIT_WORKDIR", "~/app");
	expect_good("DAVIT_WORKDIR", "/srv/app");
	assert_string_equal(C.workdir, "/srv/app");
}

static void
t_services(void **state)
{
	capture_begin();
	assert_int_equal(parse("DAVIT_SERVICES= web , db,worker.1 ,\tq-2\n"),
	    0);
	assert_non_null(strstr(capture_end(), F ":4: DAVIT_SERVICES was "
	    "already set on line 3"));
	assert_int_equal(C.nservices, 4);
	assert_string_equal(C.services[0], "web");
	assert_string_equal(C.services[1], "db");
	assert_string_equal(C.services[2], "worker.1");
	assert_string_equal(C.services[3], "q-2");
	assert_int_equal(config_has_service(&C, "db"), 1);
	assert_int_equal(config_has_service(&C, "worker.1"), 1);
	assert_int_equal(config_has_service(&C, "Web"), 0);
	assert_int_equal(config_has_service(&C, "we"), 0);
	assert_int_equal(config_has_service(&C, ""), 0);
	assert_int_equal(config_has_service(NULL, "db"), 0);
}

static void
t_services_invalid(void **state)
{
	char	 list[CONFIG_MAX_SERVICES * 8 + 32], name[80];
	size_t	 i, n;

	expect_err("DAVIT_SERVICES=web,db,web\n",
	    LINE4 "DAVIT_SERVICES: duplicate service name \"web\"");
	expect_err("DAVIT_SERVICES=web,,db\n",
	    LINE4 "DAVIT_SERVICES: empty service name (item 2)");
	expect_err("DAVIT_SERVICES=web,\n",
	    LINE4 "DAVIT_SERVICES: empty service name (item 2)");
	expect_err("DAVIT_SERVICES=web,-db\n",
	    LINE4 "DAVIT_SERVICES: invalid service name (item 2), must match "
	    "[a-zA-Z0-9][a-zA-Z0-9_.-]*");
	expect_bad("DAVIT_SERVICES", "we b");
	expect_bad("DAVIT_SERVICES", "web;db");
	expect_bad("DAVIT_SERVICES", "_web");
	expect_bad("DAVIT_SERVICES", "caf\xc3\xa9");

	/* name length: 63 fine, 64 not */
	memset(name, 'a', CONFIG_MAX_SERVICE_NAME);
	name[CONFIG_MAX_SERVICE_NAME] = '\0';
	expect_good("DAVIT_SERVICES", name);
	assert_int_equal(strlen(C.services[0]), CONFIG_MAX_SERVICE_NAME);
	name[CONFIG_MAX_SERVICE_NAME] = 'a';
	name[CONFIG_MAX_SERVICE_NAME + 1] = '\0';
	snprintf(list, sizeof(list), "DAVIT_SERVICES=x,%s\n", name);
	expect_err(list,
	    LINE4 "DAVIT_SERVICES: service name too long (item 2, max 63)");

	/* count: 64 fine, 65 not */
	for (i = 0, n = 0; i < CONFIG_MAX_SERVICES; i++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%ss%zu",
		    i ? "," : "", i);
	expect_good("DAVIT_SERVICES", list);
	assert_int_equal(C.nservices, CONFIG_MAX_SERVICES);
	assert_string_equal(C.services[CONFIG_MAX_SERVICES - 1], "s63");
	snprintf(list + n, sizeof(list) - n, ",extra");
	snprintf(name, sizeof(name), "DAVIT_SERVICES: too many services "
	    "(max %d)", CONFIG_MAX_SERVICES);
	expect_bad("DAVIT_SERVICES", list);
	assert_string_equal(E + strlen(LINE4), name);
}

static void
t_compose_project_default(void **state)
{
	static const struct {
		const char	*workdir;
		const char	*project;
	} cases[] = {
		{ "/srv/My App", "myapp" },
		{ "/srv/My_App-2.0", "my_app-20" },
		{ "/srv/__Foo/", "foo" },
		{ "/home/x/--Shop.Front--//", "shopfront--" },
		{ "/opt/caf\xc3\xa9", "caf" },
		{ "/x", "x" },
	};
	size_t	 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		expect_good("DAVIT_WORKDIR", cases[i].workdir);
		assert_string_equal(C.compose_project, cases[i].project);
	}
	expect_err("DAVIT_WORKDIR=/\n", F ": DAVIT_COMPOSE_PROJECT cannot be "
	    "derived from DAVIT_WORKDIR, set it");
	expect_err("DAVIT_WORKDIR=/srv/...\n", F ": DAVIT_COMPOSE_PROJECT "
	    "cannot be derived from DAVIT_WORKDIR, set it");
	/* but it may be set */
	capture_begin();
	assert_int_equal(parse("DAVIT_WORKDIR=/\nDAVIT_COMPOSE_PROJECT=root\n"),
	    0);
	capture_end();
	assert_string_equal(C.compose_project, "root");
}

static void
t_compose_project_explicit(void **state)
{
	expect_good("DAVIT_COMPOSE_PROJECT", "abc_1-2");
	assert_string_equal(C.compose_project, "abc_1-2");
	expect_good("DAVIT_COMPOSE_PROJECT", "9x");
	expect_err("DAVIT_COMPOSE_PROJECT=My-App\n", LINE4
	    "DAVIT_COMPOSE_PROJECT: must match ^[a-z0-9][a-z0-9_-]*$");
	expect_bad("DAVIT_COMPOSE_PROJECT", "_x");
	expect_bad("DAVIT_COMPOSE_PROJECT", "-x");
	expect_bad("DAVIT_COMPOSE_PROJECT", "a.b");
	expect_bad("DAVIT_COMPOSE_PROJECT", "'a b'");
}

static void
t_branch(void **state)
{
	static const char	*good[] = {
		"main", "feature/x-1", "release-1.2", "a.b", "v1@2", "UPPER",
		"x/y/z",
	};
	static const char	*bad[] = {
		"-main", "a..b", "'a b'", "a~1", "a^", "a:b", "a?", "a*",
		"a[b", "a\\\\b", "x.lock", "x/", "/x", "x.", ".x", "a/.b",
		"a//b", "a@{1}", "@", "a.lock/b", "\"a\\tb\"",
	};
	char			 longname[256];
	size_t			 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		expect_good("DAVIT_BRANCH", good[i]);
		assert_string_equal(C.branch, good[i]);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_bad("DAVIT_BRANCH", bad[i]);
	expect_err("DAVIT_BRANCH=a..b\n",
	    LINE4 "DAVIT_BRANCH: branch name must not contain \"..\"");
	expect_err("DAVIT_BRANCH=-x\n",
	    LINE4 "DAVIT_BRANCH: branch name must not start with '-'");

	memset(longname, 'b', 200);
	longname[200] = '\0';
	expect_good("DAVIT_BRANCH", longname);
	longname[200] = 'b';
	longname[201] = '\0';
	expect_bad("DAVIT_BRANCH", longname);
	assert_string_equal(E, LINE4 "DAVIT_BRANCH: branch name too long "
	    "(max 200)");
}

static void
t_repo_url(void **state)
{
	static const char	*good[] = {
		"https://github.com/acme/shop.git",
		"http://git.local:3000/acme/shop",
		"ssh://git@github.com:22/acme/shop.git",
		"file:///srv/git/shop.git",
		"git@github.com:acme/shop.git",
		"https://x-access-token:abc@github.com/acme/shop",
	};
	static const char	*bad[] = {
		"ftp://host/x", "github.com/acme/shop", "git@github.com",
		"git@:x", "git@host:", "https://", "https:///x",
		"ssh://-oProxyCommand=touch/x", "ssh://git@-oProxy/x",
		"'https://host/a b'", "file://relative", "-u/x",
		"git@-host:x", "us er@host:x", "@host:x",
	};
	char			 big[2100];
	size_t			 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		expect_good("DAVIT_REPO_URL", good[i]);
		assert_string_equal(C.repo_url, good[i]);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_bad("DAVIT_REPO_URL", bad[i]);
	expect_err("DAVIT_REPO_URL=ftp://x/y\n", LINE4 "DAVIT_REPO_URL: must "
	    "be an https://, http://, ssh://, file:// URL or user@host:path");

	/* credentials in the URL never reach the message */
	expect_err("DAVIT_REPO_URL='https://" SECRET "@h/x y'\n",
	    LINE4 "DAVIT_REPO_URL: must not contain blanks or control "
	    "characters");

	memcpy(big, "https://h/", 10);
	memset(big + 10, 'a', 2048 - 10);
	big[2048] = '\0';
	expect_good("DAVIT_REPO_URL", big);
	big[2048] = 'a';
	big[2049] = '\0';
	expect_bad("DAVIT_REPO_URL", big);
}

static void
t_repo_display(void **state)
{
	static const struct {
		const char	*url;
		const char	*shown;
	} cases[] = {
		{ "https://user:" SECRET "@github.com/o/r.git",
		    "https://github.com/o/r.git" },
		{ "https://" SECRET "@github.com/o/r",
		    "https://github.com/o/r" },
		{ "https://a@b:" SECRET "@host:8443/o/r",
		    "https://host:8443/o/r" },
		{ "ssh://git@github.com/o/r.git", "ssh://github.com/o/r.git" },
		{ "https://github.com/o/r@v1", "https://github.com/o/r@v1" },
		{ "https://github.com/o/r.git", "https://github.com/o/r.git" },
		{ "git@github.com:o/r.git", "git@github.com:o/r.git" },
		{ "file:///srv/r.git", "file:///srv/r.git" },
	};
	char	 buf[256], small[12];
	size_t	 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		expect_good("DAVIT_REPO_URL", cases[i].url);
		config_repo_display(&C, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].shown);
		assert_null(strstr(buf, SECRET));
	}
	/* truncation stays terminated and never shows the credential */
	expect_good("DAVIT_REPO_URL", cases[0].url);
	memset(small, 'X', sizeof(small));
	config_repo_display(&C, small, sizeof(small));
	assert_string_equal(small, "https://git");
	config_repo_display(&C, small, 0);
	config_repo_display(NULL, buf, sizeof(buf));
	assert_string_equal(buf, "");
}

static void
t_github_repo(void **state)
{
	static const struct {
		const char	*url;
		const char	*repo;	/* NULL: none derived */
	} cases[] = {
		{ "https://github.com/acme/shop.git", "acme/shop" },
		{ "https://github.com/acme/shop", "acme/shop" },
		{ "https://github.com/acme/shop/", "acme/shop" },
		{ "https://tok@github.com/acme/shop.git", "acme/shop" },
		{ "git@github.com:acme/shop.git", "acme/shop" },
		{ "ssh://git@github.com/acme/Shop_2.x", "acme/Shop_2.x" },
		{ "https://git.local/group/sub/proj.git", "sub/proj" },
		{ "https://github.com/shop.git", NULL },
		{ "git@github.com:shop.git", NULL },
		{ "https://host", NULL },
		{ "https://host/a/b?x=1", NULL },
	};
	size_t	 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		expect_good("DAVIT_REPO_URL", cases[i].url);
		if (cases[i].repo == NULL)
			assert_null(C.github_repo);
		else
			assert_string_equal(C.github_repo, cases[i].repo);
	}
	/* explicit wins */
	assert_int_equal(parse("DAVIT_REPO_URL=https://github.com/a/b\n"
	    "DAVIT_GITHUB_REPO=c/d\n"), 0);
	assert_string_equal(C.github_repo, "c/d");
	expect_good("DAVIT_GITHUB_REPO", "Owner-1/repo.name_x");
	assert_string_equal(C.github_repo, "Owner-1/repo.name_x");
	expect_err("DAVIT_GITHUB_REPO=a/b/c\n", LINE4 "DAVIT_GITHUB_REPO: "
	    "must be owner/name, each of [A-Za-z0-9_.-]");
	expect_bad("DAVIT_GITHUB_REPO", "ab");
	expect_bad("DAVIT_GITHUB_REPO", "/b");
	expect_bad("DAVIT_GITHUB_REPO", "a/");
	expect_bad("DAVIT_GITHUB_REPO", "a/b c");
	expect_bad("DAVIT_GITHUB_REPO", "../b");
	expect_bad("DAVIT_GITHUB_REPO", "a/..");
}

static void
t_listen(void **state)
{
	static const char	*good[] = {
		"0.0.0.0:80", "127.0.0.1:8080", "[::1]:8080", "[::]:1",
		"localhost:65535", "my-host.example:443",
	};
	static const char	*bad[] = {
		":80", "host", "host:", "host:0", "host:65536", "host:8a",
		"host:+80", "::1:80", "[::1]80", "[::1]", "[zz]:80", "[]:80",
		"ho_st:80", "-h:80", "host:123456", "'ho st:80'",
	};
	size_t			 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		expect_good("DAVIT_LISTEN", good[i]);
		assert_string_equal(C.listen, good[i]);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_bad("DAVIT_LISTEN", bad[i]);
	expect_err("DAVIT_LISTEN=h:0\n",
	    LINE4 "DAVIT_LISTEN: port must be 1..65535");
}

static void
t_user(void **state)
{
	expect_good("DAVIT_USER", "www-data");
	assert_string_equal(C.user, "www-data");
	expect_good("DAVIT_USER", "_svc9");
	expect_good("DAVIT_USER", "abcdefghijklmnopqrstuvwxyzabcdef");
	expect_bad("DAVIT_USER", "abcdefghijklmnopqrstuvwxyzabcdefg");
	expect_bad("DAVIT_USER", "Root");
	expect_bad("DAVIT_USER", "1abc");
	expect_bad("DAVIT_USER", "-x");
	expect_bad("DAVIT_USER", "a.b");
	expect_err("DAVIT_USER=x:y\n", LINE4 "DAVIT_USER: invalid user name");
}

static void
t_notify_url(void **state)
{
	expect_good("DAVIT_NOTIFY_URL", "https://ntfy.sh/topic");
	assert_string_equal(C.notify_url, "https://ntfy.sh/topic");
	expect_good("DAVIT_NOTIFY_URL", "http://127.0.0.1:9/x");
	expect_err("DAVIT_NOTIFY_URL=ftp://x/y\n",
	    LINE4 "DAVIT_NOTIFY_URL: must be an http:// or https:// URL");
	expect_bad("DAVIT_NOTIFY_URL", "https://");
	expect_bad("DAVIT_NOTIFY_URL", "file:///etc/passwd");
	expect_bad("DAVIT_NOTIFY_URL", "'https://h/a b'");
	expect_bad("DAVIT_NOTIFY_URL", "HTTPS://h/");
}

static void
t_abs_paths(void **state)
{
	static const char	*keys[] = {
		"DAVIT_SOCKET", "DAVIT_AUDIT_LOG", "DAVIT_STATE_DIR",
		"DAVIT_DOCKER_SOCKET", "DAVIT_WWW_DIR",
	};
	char			 line[256], sock[200];
	size_t			 i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		expect_good(keys[i], "/a/b");
		expect_bad(keys[i], "a/b");
		expect_bad(keys[i], "\"/a\\nb\"");
		snprintf(line, sizeof(line), "%s=relative\n", keys[i]);
		assert_int_equal(parse(line), -1);
		snprintf(line, sizeof(line), LINE4 "%s: must be an absolute "
		    "path", keys[i]);
		assert_string_equal(E, line);
	}
	/* sockets must fit in sun_path (108 on Linux) */
	sock[0] = '/';
	memset(sock + 1, 's', 106);
	sock[107] = '\0';
	expect_good("DAVIT_SOCKET", sock);
	sock[107] = 's';
	sock[108] = '\0';
	snprintf(line, sizeof(line), "DAVIT_SOCKET=%s\n", sock);
	expect_err(line,
	    LINE4 "DAVIT_SOCKET: socket path too long (max 107 bytes)");
	expect_bad("DAVIT_DOCKER_SOCKET", sock);
	expect_good("DAVIT_STATE_DIR", sock);
}

static void
t_compose_file(void **state)
{
	expect_good("DAVIT_COMPOSE_FILE", "compose.prod.yml");
	assert_string_equal(C.compose_file, "compose.prod.yml");
	expect_good("DAVIT_COMPOSE_FILE", "/etc/app/compose.yml");
	expect_good("DAVIT_COMPOSE_FILE", "../shared/compose.yml");
	expect_err("DAVIT_COMPOSE_FILE=\"a\\nb\"\n",
	    LINE4 "DAVIT_COMPOSE_FILE: must not contain control characters");
	expect_bad("DAVIT_COMPOSE_FILE", "-");
	expect_bad("DAVIT_COMPOSE_FILE", "-f.yml");
}

static void
t_compose_command(void **state)
{
	static const char	*good[] = {
		"docker compose", "docker-compose", "/usr/bin/docker compose",
		"/usr/local/bin/docker-compose",
	};
	static const char	*bad[] = {
		"docker", "podman compose", "docker  compose",
		"/usr/bin/docker compose -f x", "/usr/bin/docker up",
		"/usr/bin/", "/", "bin/docker compose", "'docker compose '",
		"/usr/bin/dock\\ er",
	};
	size_t			 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		expect_good("DAVIT_COMPOSE_COMMAND", good[i]);
		assert_string_equal(C.compose_command, good[i]);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_bad("DAVIT_COMPOSE_COMMAND", bad[i]);
}

static void
t_ints(void **state)
{
	expect_good("DAVIT_STOP_TIMEOUT", "3600");
	assert_int_equal(C.stop_timeout, 3600);
	expect_err("DAVIT_STOP_TIMEOUT=3601\n", LINE4 "DAVIT_STOP_TIMEOUT: "
	    "must be an integer from 0 to 3600");
	expect_err("DAVIT_JOB_TIMEOUT=0\n", LINE4 "DAVIT_JOB_TIMEOUT: "
	    "must be an integer from 1 to 86400");
	expect_good("DAVIT_POLL_INTERVAL", "10");
	assert_int_equal(C.poll_interval, 10);
	expect_good("DAVIT_POLL_INTERVAL", "0");
	assert_int_equal(C.poll_interval, 0);
	expect_err("DAVIT_POLL_INTERVAL=9\n", LINE4 "DAVIT_POLL_INTERVAL: "
	    "must be an integer from 10 to 86400, or 0");
	expect_bad("DAVIT_SESSION_IDLE", "59");
	expect_bad("DAVIT_SESSION_IDLE", "604801");
	expect_bad("DAVIT_SESSION_MAX", "2592001");
	expect_bad("DAVIT_DEPLOY_VERIFY", "-1");
	expect_bad("DAVIT_DEPLOY_VERIFY", "+5");
	expect_bad("DAVIT_DEPLOY_VERIFY", "' 5'");
	expect_bad("DAVIT_DEPLOY_VERIFY", "5s");
	expect_bad("DAVIT_DEPLOY_VERIFY", "0x10");
	expect_bad("DAVIT_DEPLOY_VERIFY", "-");
	expect_bad("DAVIT_DEPLOY_VERIFY", "99999999999999999999999");
	expect_bad("DAVIT_DEPLOY_VERIFY", "4294967356");
	expect_good("DAVIT_DEPLOY_VERIFY", "007");
	assert_int_equal(C.deploy_verify, 7);
}

static void
t_bools(void **state)
{
	static const struct {
		const char	*in;
		int		 out;
	} cases[] = {
		{ "1", 1 }, { "0", 0 }, { "true", 1 }, { "false", 0 },
		{ "yes", 1 }, { "no", 0 }, { "TRUE", 1 }, { "No", 0 },
	};
	size_t	 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		expect_good("DAVIT_COOKIE_SECURE", cases[i].in);
		assert_int_equal(C.cookie_secure, cases[i].out);
	}
	expect_err("DAVIT_COOKIE_SECURE=maybe\n", LINE4 "DAVIT_COOKIE_SECURE: "
	    "must be one of 0, 1, true, false, yes, no, on, off");
	expect_bad("DAVIT_COOKIE_SECURE", "2");
	expect_bad("DAVIT_COOKIE_SECURE", "enabled");
	expect_good("DAVIT_ROLLBACK", "off");
	assert_int_equal(C.rollback, 0);
	expect_good("DAVIT_ROLLBACK", "On");
	assert_int_equal(C.rollback, 1);
}

/* DAVIT_KEEP_RELEASES, DAVIT_DEPLOY_RUN: the first word a listed service */
static void
t_releases(void **state)
{
	expect_good("DAVIT_COOKIE_SECURE", "0");
	assert_int_equal(C.keep_releases, 5);
	assert_int_equal(C.rollback, 1);
	assert_null(C.deploy_run);
	expect_good("DAVIT_KEEP_RELEASES", "1");
	assert_int_equal(C.keep_releases, 1);
	expect_bad("DAVIT_KEEP_RELEASES", "0");
	expect_bad("DAVIT_KEEP_RELEASES", "101");
	expect_good("DAVIT_DEPLOY_RUN", "web ./manage.py migrate");
	assert_string_equal(C.deploy_run, "web ./manage.py migrate");
	expect_good("DAVIT_DEPLOY_RUN", "\"web sh -c 'echo a; exit 0'\"");
	expect_good("DAVIT_DEPLOY_RUN", "web");
	expect_err("DAVIT_DEPLOY_RUN=db migrate\n", F ": DAVIT_DEPLOY_RUN: "
	    "its first word must be a service of DAVIT_SERVICES");
	expect_err("DAVIT_DEPLOY_RUN=\"web 'x\"\n", F ": DAVIT_DEPLOY_RUN: "
	    "an unterminated single quote");
}

static void
t_trusted_proxies(void **state)
{
	char	many[1024];
	int	i;

	expect_good("DAVIT_TRUSTED_PROXIES", "10.0.0.1");
	assert_string_equal(C.trusted_proxies, "10.0.0.1");
	expect_good("DAVIT_TRUSTED_PROXIES",
	    "\"10.0.0.1, 192.168.0.0/16,2001:db8::/32 , ::1\"");
	expect_bad("DAVIT_TRUSTED_PROXIES", "proxy.example.com");
	expect_bad("DAVIT_TRUSTED_PROXIES", "10.0.0.1,");
	expect_bad("DAVIT_TRUSTED_PROXIES", "10.0.0.1,,10.0.0.2");
	expect_bad("DAVIT_TRUSTED_PROXIES", "10.0.0.0/33");
	expect_bad("DAVIT_TRUSTED_PROXIES", "::/129");
	expect_bad("DAVIT_TRUSTED_PROXIES", "10.0.0.0/");
	expect_bad("DAVIT_TRUSTED_PROXIES", "10.0.0.0/x");
	expect_bad("DAVIT_TRUSTED_PROXIES", "10.0.0.1:80");
	many[0] = '\0';
	for (i = 0; i < 33; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many),
		    "%s10.0.0.%d", i ? "," : "", i);
	expect_bad("DAVIT_TRUSTED_PROXIES", many);
	many[strlen(many) - strlen(",10.0.0.32")] = '\0';
	expect_good("DAVIT_TRUSTED_PROXIES", many);
}

static void
t_too_large(void **state)
{
	char	*big;

	big = malloc(CONFIG_MAX_FILE + 1);
	assert_non_null(big);
	memset(big, '\n', CONFIG_MAX_FILE + 1);
	assert_int_equal(config_parse(F, big, CONFIG_MAX_FILE + 1, &C, E,
	    sizeof(E)), -1);
	assert_string_equal(E, F ": larger than 262144 bytes");
	free(big);
}

static void
t_free_zeroes(void **state)
{
	struct davit_config	 zero;

	assert_int_equal(parse("DAVIT_GITHUB_TOKEN=abc\n"), 0);
	config_free(&C);
	memset(&zero, 0, sizeof(zero));
	assert_memory_equal(&C, &zero, sizeof(zero));
	config_free(&C);	/* twice is harmless */
	config_free(NULL);
}

static void
t_hash_password_api(void **state)
{
	char	 out[crypto_pwhash_STRBYTES];
	char	 small[crypto_pwhash_STRBYTES - 1];

	assert_int_equal(config_hash_password("pw", small, sizeof(small)), -1);
	assert_int_equal(config_hash_password(NULL, out, sizeof(out)), -1);
	assert_int_equal(config_hash_password("pw", out, sizeof(out)), 0);
	assert_true(strncmp(out, "$argon2id$", 10) == 0);
	assert_int_equal(crypto_pwhash_str_verify(out, "pw", 2), 0);
	assert_int_equal(crypto_pwhash_str_verify(out, "pW", 2), -1);
}

static void
write_file(const char *path, const char *s, size_t len, mode_t mode)
{
	FILE	*fp;

	fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(fwrite(s, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static void
t_load(void **state)
{
	char		 dir[] = "/tmp/davit-test-XXXXXX";
	static const mode_t modes[] = { 0640, 0620, 0610, 0604, 0602, 0601,
	    0660, 0644, 0666 };
	char		 path[128], link[128], wlink[128], msg[512];
	char		*big;
	size_t		 i;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/davit.env", dir);
	snprintf(link, sizeof(link), "%s/link.env", dir);
	snprintf(text, sizeof(text), "DAVIT_PASSWORD_HASH=%s\n"
	    "DAVIT_WORKDIR=/srv/app\nDAVIT_SERVICES=web,db\n", hash);

	/* private: no warning */
	write_file(path, text, strlen(text), 0600);
	capture_begin();
	assert_int_equal(config_load(path, &C, E, sizeof(E)), 0);
	assert_string_equal(capture_end(), "");
	assert_int_equal(C.nservices, 2);
	config_free(&C);
	write_file(path, text, strlen(text), 0400);
	assert_int_equal(config_load(path, &C, E, sizeof(E)), 0);
	config_free(&C);

	/* any permission for group or others: refused, by mode */
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		assert_int_equal(chmod(path, modes[i]), 0);
		assert_int_equal(config_load(path, &C, E, sizeof(E)), -1);
		snprintf(msg, sizeof(msg), "%s: mode %04o lets group or "
		    "others at it (it holds the secrets): chmod 600 %s", path,
		    (unsigned)modes[i], path);
		assert_string_equal(E, msg);
		assert_null(strstr(E, hash));
		assert_null(C.password_hash);
	}

	/* not root's: refused (the tests run as root, so chown works) */
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(chown(path, 1, 1), 0);
	assert_int_equal(config_load(path, &C, E, sizeof(E)), -1);
	snprintf(msg, sizeof(msg), "%s: owned by uid 1, must be owned by root "
	    "(it holds the secrets): chown root: %s", path, path);
	assert_string_equal(E, msg);
	assert_int_equal(chown(path, 0, 0), 0);

	/* a symlink is refused, even to a good file */
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(config_load(link, &C, E, sizeof(E)), -1);
	snprintf(msg, sizeof(msg), "%s: is a symbolic link; give --config the "
	    "file itself (it must be root's, mode 0600)", link);
	assert_string_equal(E, msg);
	assert_null(C.workdir);
	/* a project's NAME.env too, with its own advice */
	{
		struct davit_config	 pcfg, pmain;
		struct config_errors	*perrs;
		char			 perr[CONFIG_ERR_LEN + 512];

		memset(&pmain, 0, sizeof(pmain));
		assert_non_null(perrs = calloc(1, sizeof(*perrs)));
		assert_int_equal(config_load_project(link, &pmain, &pcfg,
		    perrs), -1);
		assert_true(perrs->n >= 1);
		config_error_str(&perrs->e[0], perr, sizeof(perr));
		snprintf(msg, sizeof(msg), "%s: is a symbolic link; put in "
		    "DAVIT_PROJECTS_DIR the file itself (it must be root's, "
		    "mode 0600)", link);
		assert_string_equal(perr, msg);
		config_free(&pcfg);
		free(perrs);
	}

	/* inside DAVIT_WORKDIR, compared by real path: refused */
	snprintf(text, sizeof(text), "DAVIT_PASSWORD_HASH=%s\n"
	    "DAVIT_WORKDIR=%s\nDAVIT_SERVICES=web\n", hash, dir);
	write_file(path, text, strlen(text), 0600);
	assert_int_equal(config_load(path, &C, E, sizeof(E)), -1);
	snprintf(msg, sizeof(msg), "%s: inside DAVIT_WORKDIR %s, the compose "
	    "build context, where an image or a container could read the "
	    "secrets: move it out (e.g. to /etc/davit/davit.env, mode 0600)",
	    path, dir);
	assert_string_equal(E, msg);
	assert_null(C.workdir);
	/* the workdir named through a symlink to it, and "/" */
	snprintf(wlink, sizeof(wlink), "%s-wl", dir);
	assert_int_equal(symlink(dir, wlink), 0);
	snprintf(text, sizeof(text), "DAVIT_PASSWORD_HASH=%s\n"
	    "DAVIT_WORKDIR=%s/\nDAVIT_SERVICES=web\n", hash, wlink);
	write_file(path, text, strlen(text), 0600);
	assert_int_equal(config_load(path, &C, E, sizeof(E)), -1);
	assert_non_null(strstr(E, "inside DAVIT_WORKDIR"));
	assert_int_equal(unlink(wlink), 0);
	snprintf(text, sizeof(text), "DAVIT_PASSWORD_HASH=%s\n"
	    "DAVIT_WORKDIR=/\nDAVIT_SERVICES=web\nDAVIT_COMPOSE_PROJECT=x\n",
	    hash);
	write_file(path, text, strlen(text), 0600);
	assert_int_equal(config_load(path, &C, E, sizeof(E)), -1);
	assert_non_null(strstr(E, "inside DAVIT_WORKDIR /,"));
	/* a sibling whose name starts like the workdir is outside */
	snprintf(text, sizeof(text), "DAVIT_PASSWORD_HASH=%s\n"
	    "DAVIT_WORKDIR=%.*s\nDAVIT_SERVICES=web\n", hash,
	    (int)strlen(dir) - 1, dir);
	write_file(path, text, strlen(text), 0600);
	assert_int_equal(config_load(path, &C, E, sizeof(E)), 0);
	config_free(&C);
	snprintf(text, sizeof(text), "DAVIT_PASSWORD_HASH=%s\n"
	    "DAVIT_WORKDIR=/srv/app\nDAVIT_SERVICES=web,db\n", hash);
	write_file(path, text, strlen(text), 0600);

	/* errors carry the file name */
	write_file(path, "DAVIT_WORKDIR=x\n", 16, 0600);
	assert_int_equal(config_load(path, &C, E, sizeof(E)), -1);
	snprintf(msg, sizeof(msg), "%s:1: DAVIT_WORKDIR: must be an absolute "
	    "path", path);
	assert_string_equal(E, msg);

	big = malloc(CONFIG_MAX_FILE + 1);
	assert_non_null(big);
	memset(big, '#', CONFIG_MAX_FILE + 1);
	write_file(path, big, CONFIG_MAX_FILE, 0600);
	assert_int_equal(config_load(path, &C, E, sizeof(E)), -1);
	snprintf(msg, sizeof(msg), "%s: DAVIT_PASSWORD_HASH (or DAVIT_PASSWORD) "
	    "is required", path);
	assert_string_equal(E, msg);
	write_file(path, big, CONFIG_MAX_FILE + 1, 0600);
	assert_int_equal(config_load(path, &C, E, sizeof(E)), -1);
	snprintf(msg, sizeof(msg), "%s: larger than %d bytes", path,
	    CONFIG_MAX_FILE);
	assert_string_equal(E, msg);
	free(big);

	assert_int_equal(config_load(dir, &C, E, sizeof(E)), -1);
	snprintf(msg, sizeof(msg), "%s: not a regular file", dir);
	assert_string_equal(E, msg);

	assert_int_equal(unlink(link), 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(config_load(path, &C, E, sizeof(E)), -1);
	snprintf(msg, sizeof(msg), "%s: No such file or directory", path);
	assert_string_equal(E, msg);
	assert_int_equal(rmdir(dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(t_defaults, teardown),
		cmocka_unit_test_teardown(t_all_keys, teardown),
		cmocka_unit_test_teardown(t_required, teardown),
		cmocka_unit_test_teardown(t_required_not_empty, teardown),
		cmocka_unit_test_teardown(t_empty_optional_resets, teardown),
		cmocka_unit_test_teardown(t_password_hashed, teardown),
		cmocka_unit_test_teardown(t_password_and_hash_exclusive,
		    teardown),
		cmocka_unit_test_teardown(t_password_hash_validation, teardown),
		cmocka_unit_test_teardown(t_secrets_not_in_messages, teardown),
		cmocka_unit_test_teardown(t_webhook_secret_min, teardown),
		cmocka_unit_test_teardown(t_secrets_protected, teardown),
		cmocka_unit_test_teardown(t_duplicate_key_warns, teardown),
		cmocka_unit_test_teardown(t_unknown_key_warns, teardown),
		cmocka_unit_test_teardown(t_syntax_error_shape, teardown),
		cmocka_unit_test_teardown(t_workdir, teardown),
		cmocka_unit_test_teardown(t_services, teardown),
		cmocka_unit_test_teardown(t_services_invalid, teardown),
		cmocka_unit_test_teardown(t_compose_project_default, teardown),
		cmocka_unit_test_teardown(t_compose_project_explicit, teardown),
		cmocka_unit_test_teardown(t_branch, teardown),
		cmocka_unit_test_teardown(t_repo_url, teardown),
		cmocka_unit_test_teardown(t_repo_display, teardown),
		cmocka_unit_test_teardown(t_github_repo, teardown),
		cmocka_unit_test_teardown(t_listen, teardown),
		cmocka_unit_test_teardown(t_user, teardown),
		cmocka_unit_test_teardown(t_notify_url, teardown),
		cmocka_unit_test_teardown(t_abs_paths, teardown),
		cmocka_unit_test_teardown(t_compose_file, teardown),
		cmocka_unit_test_teardown(t_compose_command, teardown),
		cmocka_unit_test_teardown(t_ints, teardown),
		cmocka_unit_test_teardown(t_bools, teardown),
		cmocka_unit_test_teardown(t_releases, teardown),
		cmocka_unit_test_teardown(t_too_large, teardown),
		cmocka_unit_test_teardown(t_free_zeroes, teardown),
		cmocka_unit_test_teardown(t_hash_password_api, teardown),
		cmocka_unit_test_teardown(t_load, teardown),
		cmocka_unit_test_teardown(t_trusted_proxies, teardown),
	};

	return (cmocka_run_group_tests(tests, group_setup, NULL));
}
