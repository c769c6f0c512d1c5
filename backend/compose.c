/*
 * The compose CLI, for what only it knows how to do from the user's compose
 * file, build contexts and .env: build and recreate.  "docker compose" (v2)
 * when it works, else docker-compose (v1), or DAVIT_COMPOSE_COMMAND.  Always
 * a fixed argv (never a shell) with -p DAVIT_COMPOSE_PROJECT and -f
 * DAVIT_COMPOSE_FILE when set, run in DAVIT_WORKDIR with an environment that
 * holds no davit secret; every output line goes to the job's log.
 *
 * It runs the rebuilds of the service and stack jobs (docker_jobs.c) and of
 * the deploy pipeline (deploy.c), and reports each in its callback's
 * arguments (struct compose_result); start, stop and restart go through
 * the Engine API instead (docker_act.c).
 *
 * Rule: a stack rebuild (and so a deploy) acts on the services of
 * DAVIT_SERVICES only.  "down" (which takes every service of the project
 * down) is used only when nothing else belongs to the project: not in the
 * compose file ("config --services", run first) and not among the project's
 * containers as the Engine shows them (a service of another profile or
 * file, an orphan).  Otherwise, or when either is not known, the listed
 * services are built, stopped, removed and brought up by name, with
 * --no-deps so that a dependency (a database) is not recreated.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/backend.h"
#include "backend/docker.h"
#include "backend/project.h"
#include "common/clock.h"
#include "common/json.h"
#include "common/log.h"
#include "common/text.h"

#define COMPOSE_DEFAULT_PATH	"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define COMPOSE_DEFAULT_SOCKET	"/var/run/docker.sock"
#define COMPOSE_ENV_MAX		4096		/* one variable */
#define COMPOSE_MAX_STEPS	5		/* config, build, stop, rm, up */
#define COMPOSE_STEP_ARGS	(CONFIG_MAX_SERVICES + 4)	/* "up -d --no-deps" SVC... NULL */

enum compose_found {
	CF_NONE = -1,
	CF_UNKNOWN = 0,
	CF_OK = 1,
};

struct crun;

/* the compose command, found once */
static struct {
	enum compose_found	 found;
	char			 path[PATH_MAX];	/* argv[0], absolute */
	int			 subcommand;		/* "docker compose": argv[1] */
	char			 why[DOCKER_ERR_LEN];	/* when CF_NONE */
	long long		 none_ms;		/* when it was found missing (monotonic) */
	struct proc		*detect;		/* "docker compose version" */
	char			 docker[PATH_MAX];
	struct crun		*waiting;		/* a run waiting for detection */
	struct crun		*current;		/* the run with a child */
} cc;

/* a sequence of compose commands for one job */
struct crun {
	struct job		*j;
	const char		*steps[COMPOSE_MAX_STEPS][COMPOSE_STEP_ARGS];	/* NULL-terminated */
	int			 nsteps, step;
	int			 down_step;	/* the first step taking containers down, or 0 */
	int			 up_step;	/* runs whenever down_step has run, or 0 */
	int			 restoring;	/* running it after a failure */
	int			(*plan)(struct crun *);	/* adds steps once the first ran */
	int			 collect;	/* step 0's output: the file's services */
	int			 nfile;		/* services "config --services" named */
	int			 nothers;	/* of them, those not in DAVIT_SERVICES */
	char			 other[CONFIG_MAX_SERVICE_NAME + 1];	/* the first */
	char			 in_file[CONFIG_MAX_SERVICES];	/* listed and named by it */
	char			*service;
	int			 deploy_build;	/* compose_deploy: build first */
	const char *const	*deploy_run;	/* compose_deploy: "run" words, or NULL */
	char			 err[PROTO_MAX_MESSAGE];
	void			(*done)(struct crun *, int);
	void			(*user_done)(struct job *,
				    const struct compose_result *);
};

static void	crun_next(struct crun *);
static void	crun_report(struct crun *, int);

/* --------------------------------------------------------- detection -- */

/* name searched in the PATH compose runs with; 0 with its path in out */
static int
path_lookup(const char *name, char *out, size_t outlen)
{
	const char	*path = getenv("PATH"), *p, *e;
	struct stat	 st;
	size_t		 dlen;

	if (path == NULL || path[0] == '\0' || strlen(path) >= COMPOSE_ENV_MAX)
		path = COMPOSE_DEFAULT_PATH;
	for (p = path; *p != '\0'; p = *e != '\0' ? e + 1 : e) {
		e = strchr(p, ':');
		if (e == NULL)
			e = p + strlen(p);
		dlen = (size_t)(e - p);
		if (dlen == 0 || p[0] != '/')	/* only absolute directories */
			continue;
		if ((size_t)snprintf(out, outlen, "%.*s/%s", (int)dlen, p, name) >=
		    outlen)
			continue;
		if (stat(out, &st) == 0 && S_ISREG(st.st_mode) &&
		    access(out, X_OK) == 0)
			return 0;
	}
	return -1;
}

static void	found_none(const char *, ...) __attribute__((format(printf, 1, 2)));

static void
found_none(const char *fmt, ...)
{
	va_list	ap;

	cc.found = CF_NONE;
	cc.none_ms = clock_mono_ms();
	va_start(ap, fmt);
	vsnprintf(cc.why, sizeof(cc.why), fmt, ap);
	va_end(ap);
	log_warnx("compose: %s", cc.why);
}

static void
found(const char *path, int subcommand)
{
	char	why[PATH_MAX + 128];

	/* root runs it: only root may have been able to change it */
	if (proc_exe_trusted(path, why, sizeof(why)) == -1) {
		found_none("compose command %s refused: %s (it must be "
		    "root's, in directories only root can write)", path, why);
		return;
	}
	cc.found = CF_OK;
	snprintf(cc.path, sizeof(cc.path), "%s", path);
	cc.subcommand = subcommand;
	cc.why[0] = '\0';
	log_info("compose command: %s%s", cc.path, subcommand ? " compose" : "");
}

/* v1 when "docker compose" does not work */
static void
detect_v1(void)
{
	char	path[PATH_MAX];

	if (path_lookup("docker-compose", path, sizeof(path)) == 0)
		found(path, 0);
	else
		found_none("neither \"docker compose\" (v2) works nor is "
		    "docker-compose (v1) on PATH");
}

static void
detect_resume(void)
{
	struct crun	*c = cc.waiting;

	cc.waiting = NULL;
	if (c == NULL)
		return;
	c->j->proc = NULL;
	if (c->j->timed_out) {
		c->done(c, 0);
		return;
	}
	if (cc.found != CF_OK) {
		msgf(c->err, sizeof(c->err), "no compose command: %s", cc.why);
		job_log(c->j, "davit: %s", c->err);
		c->done(c, 0);
		return;
	}
	crun_next(c);
}

static void
detect_exited(void *arg, int status, int timed_out)
{
	cc.detect = NULL;
	if (!timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0)
		found(cc.docker, 1);
	else
		detect_v1();
	detect_resume();
}

static void
detect_line(void *arg, const char *line, size_t len)
{
	log_debug("docker compose version: %.*s", (int)len, line);
}

static const char *const *compose_envp(void);

void
compose_detect(void)
{
	const char	*cmd = benv->cfg.compose_command;
	const char	*argv[4];
	struct proc_spec spec;
	char		 err[256];
	const char	*sp;

	if (cc.detect != NULL)
		return;		/* under way */
	cc.found = CF_UNKNOWN;
	if (cmd != NULL) {
		/* validated by config.c: one of four shapes */
		if (strcmp(cmd, "docker-compose") == 0) {
			detect_v1();
			return;
		}
		if (strcmp(cmd, "docker compose") == 0) {
			if (path_lookup("docker", cc.docker, sizeof(cc.docker)) == 0)
				found(cc.docker, 1);
			else
				found_none("DAVIT_COMPOSE_COMMAND is \"docker "
				    "compose\" but there is no docker on PATH");
			return;
		}
		sp = strchr(cmd, ' ');
		snprintf(cc.docker, sizeof(cc.docker), "%.*s",
		    sp != NULL ? (int)(sp - cmd) : (int)strlen(cmd), cmd);
		if (access(cc.docker, X_OK) == 0)
			found(cc.docker, sp != NULL);
		else
			found_none("DAVIT_COMPOSE_COMMAND %s is not an executable",
			    cc.docker);
		return;
	}
	if (path_lookup("docker", cc.docker, sizeof(cc.docker)) == -1) {
		detect_v1();
		return;
	}
	if (proc_exe_trusted(cc.docker, err, sizeof(err)) == -1) {
		found(cc.docker, 1);	/* refuses it, saying why */
		return;
	}
	argv[0] = cc.docker;
	argv[1] = "compose";
	argv[2] = "version";
	argv[3] = NULL;
	memset(&spec, 0, sizeof(spec));
	spec.argv = argv;
	spec.envp = compose_envp();
	spec.timeout = COMPOSE_DETECT_TIMEOUT;
	spec.on_line = detect_line;
	spec.on_exit = detect_exited;
	if ((cc.detect = proc_start(&spec, err, sizeof(err))) == NULL) {
		log_warnx("%s: %s", __func__, err);
		detect_v1();
	}
}

int
compose_available(char *why, size_t whylen)
{
	if (cc.found == CF_NONE) {
		/* installed since? the next job looks again */
		if (clock_mono_ms() - cc.none_ms > COMPOSE_REDETECT_MS)
			return CF_UNKNOWN;
		snprintf(why, whylen, "%s", cc.why);
	}
	return cc.found;
}

/* ------------------------------------------------------------- running -- */

/*
 * PATH, HOME, LANG and where the engine is: nothing of davit's own
 * environment or configuration, so no secret.  Compose reads the project's
 * .env from the working directory by itself.
 */
static const char *const *
compose_envp(void)
{
	static char		 path[COMPOSE_ENV_MAX + 8], lang[128];
	static char		 host[COMPOSE_ENV_MAX + 16];
	static const char	*envp[5];
	const char		*v;
	size_t			 n = 0;

	v = getenv("PATH");
	if (v == NULL || v[0] == '\0' || strlen(v) >= COMPOSE_ENV_MAX)
		v = COMPOSE_DEFAULT_PATH;
	snprintf(path, sizeof(path), "PATH=%s", v);
	envp[n++] = path;
	envp[n++] = "HOME=/root";
	v = getenv("LANG");
	if (v == NULL || v[0] == '\0' || strlen(v) >= sizeof(lang) - 6)
		v = "C.UTF-8";
	snprintf(lang, sizeof(lang), "LANG=%s", v);
	envp[n++] = lang;
	/* the engine davit talks to, so that compose talks to the same one */
	v = getenv("DOCKER_HOST");
	if (strcmp(benv->cfg.docker_socket, COMPOSE_DEFAULT_SOCKET) != 0) {
		snprintf(host, sizeof(host), "DOCKER_HOST=unix://%s",
		    benv->cfg.docker_socket);
		envp[n++] = host;
	} else if (v != NULL && v[0] != '\0' && strlen(v) < COMPOSE_ENV_MAX) {
		snprintf(host, sizeof(host), "DOCKER_HOST=%s", v);
		envp[n++] = host;
	}
	envp[n] = NULL;
	return envp;
}

/* a compose service name: [a-zA-Z0-9][a-zA-Z0-9._-]*, bounded */
static int
service_name_valid(const char *s, size_t len)
{
	size_t	i;

	if (len == 0 || len > CONFIG_MAX_SERVICE_NAME)
		return 0;
	for (i = 0; i < len; i++) {
		if ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9'))
			continue;
		if (i == 0 || (s[i] != '.' && s[i] != '_' && s[i] != '-'))
			return 0;
	}
	return 1;
}

/*
 * "config --services": one service a line.  stderr comes in the same
 * stream, so a line that is not a service name is skipped; one that looks
 * like a name but is not listed counts as another service, which only
 * makes the rebuild go by name: the safe side.
 */
static void
crun_collect(struct crun *c, const char *line, size_t len)
{
	char	name[CONFIG_MAX_SERVICE_NAME + 1];
	size_t	k;

	if (!service_name_valid(line, len))
		return;
	memcpy(name, line, len);
	name[len] = '\0';
	c->nfile++;
	for (k = 0; k < c->j->project->cfg->nservices; k++)
		if (strcmp(c->j->project->cfg->services[k], name) == 0) {
			c->in_file[k] = 1;
			return;
		}
	if (c->nothers++ == 0)
		snprintf(c->other, sizeof(c->other), "%s", name);
}

static void
crun_line(void *arg, const char *line, size_t len)
{
	struct crun	*c = arg;

	job_logn(c->j, line, len);
	if (c->collect && c->step == 0 && !c->restoring)
		crun_collect(c, line, len);
}

static void
crun_exited(void *arg, int status, int timed_out)
{
	struct crun	*c = arg;
	const char	*what = c->steps[c->step][0];

	cc.current = NULL;
	c->j->proc = NULL;
	if (c->restoring) {	/* the first failure is what the job reports */
		c->done(c, 0);
		return;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && !c->j->timed_out) {
		c->step++;
		if (c->plan != NULL && c->step == c->nsteps) {
			int	(*plan)(struct crun *) = c->plan;

			c->plan = NULL;
			if (plan(c) == -1) {
				c->done(c, 0);
				return;
			}
		}
		crun_next(c);
		return;
	}
	if (c->j->timed_out)
		msgf(c->err, sizeof(c->err), "compose %s stopped: the job timed "
		    "out", what);
	else if (WIFEXITED(status))
		msgf(c->err, sizeof(c->err), "compose %s failed (exit %d)", what,
		    WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		msgf(c->err, sizeof(c->err), "compose %s killed by signal %d",
		    what, WTERMSIG(status));
	else
		msgf(c->err, sizeof(c->err), "compose %s failed", what);
	/* once "down" (or stop, rm) has run, failed or cut short, the app goes up again */
	if (c->up_step > 0 && c->step >= c->down_step && c->step < c->up_step &&
	    !benv->shutting_down) {
		job_log(c->j, "davit: %s; bringing the services up again", c->err);
		c->restoring = 1;
		c->step = c->up_step;
		crun_next(c);
		return;
	}
	c->done(c, 0);
}

static void
crun_next(struct crun *c)
{
	const struct davit_config *cfg = c->j->project->cfg;
	const char	*argv[COMPOSE_MAX_ARGV + 1];
	struct proc_spec spec;
	char		 err[256], line[JOB_LOG_LINE_MAX];
	size_t		 n = 0, i, o;
	struct proc	*p;

	if (c->step >= c->nsteps) {
		c->done(c, 1);
		return;
	}
	argv[n++] = cc.path;
	if (cc.subcommand)
		argv[n++] = "compose";
	argv[n++] = "-p";
	argv[n++] = cfg->compose_project;
	if (cfg->compose_file != NULL) {
		argv[n++] = "-f";
		argv[n++] = cfg->compose_file;
	}
	for (i = 0; c->steps[c->step][i] != NULL; i++) {
		if (n + 2 >= COMPOSE_MAX_ARGV)	/* and --force-rm */
			fatalx("%s: too many arguments", __func__);
		argv[n++] = c->steps[c->step][i];
		/*
		 * The classic builder of docker-compose keeps the container of
		 * a failed step; a server that rebuilds often collects them.
		 * (The docker compose plugin builds with BuildKit: none.)
		 */
		if (i == 0 && !cc.subcommand && strcmp(argv[n - 1], "build") == 0)
			argv[n++] = "--force-rm";
	}
	argv[n] = NULL;
	/* the command, as a person would type it (nothing secret in it) */
	o = snprintf(line, sizeof(line), "$");
	for (i = 0; i < n && o < sizeof(line); i++)
		o += snprintf(line + o, sizeof(line) - o, " %s", argv[i]);
	job_log(c->j, "%s", line);

	memset(&spec, 0, sizeof(spec));
	spec.argv = argv;
	spec.cwd = cfg->workdir;
	spec.envp = compose_envp();
	spec.on_line = crun_line;
	spec.on_exit = crun_exited;
	if (c->restoring)	/* the job's own timeout may be over */
		spec.timeout = COMPOSE_RESTORE_TIMEOUT;
	spec.arg = c;
	if ((p = proc_start(&spec, err, sizeof(err))) == NULL) {
		msgf(c->err, sizeof(c->err), "%s", err);
		job_log(c->j, "davit: %s", err);
		c->done(c, 0);
		return;
	}
	cc.current = c;
	c->j->proc = p;
}

/* runs c's steps, after finding the compose command if need be */
static void
crun_start(struct crun *c)
{
	char	why[DOCKER_ERR_LEN];

	switch (compose_available(why, sizeof(why))) {
	case CF_OK:
		crun_next(c);
		return;
	case CF_NONE:
		msgf(c->err, sizeof(c->err), "no compose command: %s", why);
		job_log(c->j, "davit: %s", c->err);
		c->done(c, 0);
		return;
	default:
		cc.waiting = c;
		compose_detect();
		if (cc.detect != NULL)
			c->j->proc = cc.detect;	/* a timeout kills it */
		else
			detect_resume();	/* decided at once */
		return;
	}
}

static struct crun *
crun_new(struct job *j, void (*done)(struct crun *, int))
{
	struct crun	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		fatal("%s", __func__);
	c->j = j;
	c->done = done;
	return c;
}

static void
crun_free(struct crun *c)
{
	if (cc.current == c)
		cc.current = NULL;
	if (cc.waiting == c)
		cc.waiting = NULL;
	free(c->service);
	free(c);
}

/* 1 while no step that takes containers down has run */
static int
crun_untouched(const struct crun *c)
{
	return c->down_step == 0 || c->step < c->down_step;
}

/*
 * step i: words, then every listed service that the compose file has (all
 * of them when "config --services" named none at all), NULL-terminated;
 * the number of services
 */
static size_t
crun_step_services(struct crun *c, int i, const char *w0, const char *w1,
    const char *w2)
{
	const char	*words[] = { w0, w1, w2 };
	size_t		 n = 0, k, nsvc = 0;

	for (k = 0; k < 3 && words[k] != NULL; k++)
		c->steps[i][n++] = words[k];
	for (k = 0; k < c->j->project->cfg->nservices; k++)
		if (c->nfile == 0 || c->in_file[k]) {
			c->steps[i][n++] = c->j->project->cfg->services[k];
			nsvc++;
		}
	c->steps[i][n] = NULL;
	return nsvc;
}

/* after "config --services": down and up, or by name; -1 with c->err */
static int
stack_plan(struct crun *c)
{
	char	other[DOCKER_NAME_MAX + 1];
	int	nengine;

	nengine = docker_unlisted_services(c->j->project, other, sizeof(other));
	if (c->nfile > 0 && c->nothers == 0 && nengine == 0) {
		job_log(c->j, "davit: DAVIT_SERVICES covers every service of the "
		    "project: build, down, up");
		c->steps[1][0] = "build";
		c->steps[2][0] = "down";
		c->steps[3][0] = "up";
		c->steps[3][1] = "-d";
		c->nsteps = 4;
		c->down_step = 2;
		c->up_step = 3;
		return 0;
	}
	if (c->nothers > 0)
		job_log(c->j, "davit: the compose file has %d service%s not in "
		    "DAVIT_SERVICES (%s): only the listed ones are rebuilt, by "
		    "name", c->nothers, c->nothers > 1 ? "s" : "", c->other);
	else if (nengine > 0)
		job_log(c->j, "davit: the project has containers of %d service%s "
		    "not in DAVIT_SERVICES (%s): only the listed ones are "
		    "rebuilt, by name", nengine, nengine > 1 ? "s" : "", other);
	else
		job_log(c->j, "davit: the project's services are not known%s: "
		    "only the listed ones are rebuilt, by name", nengine == -1 ?
		    " (the engine is not synced)" : " (config named none)");
	/* no name would mean every service: never */
	if (crun_step_services(c, 1, "build", NULL, NULL) == 0) {
		msgf(c->err, sizeof(c->err), "compose config --services names "
		    "none of DAVIT_SERVICES");
		return -1;
	}
	crun_step_services(c, 2, "stop", NULL, NULL);
	crun_step_services(c, 3, "rm", "-f", NULL);
	crun_step_services(c, 4, "up", "-d", "--no-deps");
	c->nsteps = 5;
	c->down_step = 2;
	c->up_step = 4;
	return 0;
}

/*
 * A deploy's plan after "config --services" (compose_deploy): build, the
 * pre-deploy command, then up -d of the listed services by name, never a
 * down: compose recreates only what changed.  -1 with c->err.
 */
static int
deploy_plan(struct crun *c)
{
	size_t	i, n = 0;

	c->nsteps = 1;
	if (c->deploy_build && crun_step_services(c, c->nsteps++, "build",
	    NULL, NULL) == 0) {
		msgf(c->err, sizeof(c->err), "compose config --services names "
		    "none of DAVIT_SERVICES");
		return -1;
	}
	if (c->deploy_run != NULL) {
		c->steps[c->nsteps][n++] = "run";
		c->steps[c->nsteps][n++] = "--rm";
		c->steps[c->nsteps][n++] = "--no-deps";
		for (i = 0; c->deploy_run[i] != NULL; i++) {
			if (n + 1 >= COMPOSE_STEP_ARGS)
				fatalx("%s: too many words", __func__);
			c->steps[c->nsteps][n++] = c->deploy_run[i];
		}
		c->steps[c->nsteps++][n] = NULL;
	}
	c->down_step = c->nsteps;	/* untouched until up runs */
	if (crun_step_services(c, c->nsteps++, "up", "-d", "--no-deps") == 0) {
		msgf(c->err, sizeof(c->err), "compose config --services names "
		    "none of DAVIT_SERVICES");
		return -1;
	}
	return 0;
}

void
compose_deploy(struct job *j, int build, const char *const *run,
    void (*done)(struct job *, const struct compose_result *))
{
	struct crun	*c;

	c = crun_new(j, crun_report);
	c->user_done = done;
	c->deploy_build = build;
	c->deploy_run = run;
	c->steps[0][0] = "config";
	c->steps[0][1] = "--services";
	c->nsteps = 1;
	c->collect = 1;
	c->plan = deploy_plan;
	crun_start(c);
}

static void
crun_stack_rebuild_steps(struct crun *c)
{
	c->steps[0][0] = "config";
	c->steps[0][1] = "--services";
	c->nsteps = 1;
	c->collect = 1;
	c->plan = stack_plan;
}

void
compose_audit(struct job *j, const char *kind, const char *service,
    const char *result)
{
	yajl_gen	 g = audit_begin(kind);

	json_kstr(g, "project", j->project->name);
	json_kint(g, "job", j->id);
	json_kstr(g, "by", j->by);
	json_kstr(g, "service", service);
	json_kstr(g, "result", result);
	audit_end(g);
}

/* the run ended: its result to the caller, c freed first */
static void
crun_report(struct crun *c, int ok)
{
	void			(*done)(struct job *,
				    const struct compose_result *) = c->user_done;
	struct job		*j = c->j;
	struct compose_result	 r;
	char			 err[sizeof(c->err)];

	snprintf(err, sizeof(err), "%s", c->err);
	r.ok = ok;
	r.untouched = crun_untouched(c);
	r.err = err;
	crun_free(c);
	done(j, &r);
}

void
compose_rebuild(struct job *j, const char *service,
    void (*done)(struct job *, const struct compose_result *))
{
	struct crun	*c;

	c = crun_new(j, crun_report);
	c->user_done = done;
	if (service == NULL) {
		crun_stack_rebuild_steps(c);
		crun_start(c);
		return;
	}
	if ((c->service = strdup(service)) == NULL)
		fatal("%s", __func__);
	c->steps[0][0] = "build";
	c->steps[0][1] = c->service;
	c->steps[1][0] = "up";
	c->steps[1][1] = "-d";
	c->steps[1][2] = "--no-deps";
	c->steps[1][3] = c->service;
	c->nsteps = 2;
	crun_start(c);
}

void
compose_shutdown(void)
{
	struct crun	*c;

	if (cc.detect != NULL) {
		proc_forget(cc.detect);
		if (cc.waiting != NULL && cc.waiting->j->proc == cc.detect)
			cc.waiting->j->proc = NULL;
		cc.detect = NULL;
	}
	if ((c = cc.current) != NULL) {
		if (c->j->proc != NULL) {
			proc_forget(c->j->proc);
			c->j->proc = NULL;
		}
		crun_free(c);
	}
	if ((c = cc.waiting) != NULL)
		crun_free(c);
}
