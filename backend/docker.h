/*
 * Docker in the backend, a file per role: the Engine API transport
 * (docker_engine.c, its own header docker_engine.h), the in-memory state of
 * the listed services (docker_state.c), the actions on a service's
 * containers (docker_act.c), the pure parsers of the engine's replies
 * (docker_parse.c) with its times and status text (docker_time.c), the
 * ops and the lifecycle (docker_ops.c), the jobs of the service and stack
 * ops (docker_jobs.c), and the compose CLI (compose.c).  Calls go one way:
 * ops -> jobs -> act/compose -> state -> engine.
 */
#ifndef DAVIT_DOCKER_H
#define DAVIT_DOCKER_H

#include <stddef.h>

#include <yajl/yajl_gen.h>

#include "common/config.h"

struct job;

/* what davit accepts from the engine */
#define DOCKER_MAX_REPLY	(4 * 1024 * 1024)	/* one API reply */
#define DOCKER_MAX_CONTAINERS	1024		/* containers of the project */
#define DOCKER_MAX_EVENT_LINE	(64 * 1024)	/* one line of /events */
#define DOCKER_ID_LEN		64		/* hex digits of a container id */
#define DOCKER_SHORT_ID		12
#define DOCKER_NAME_MAX		255		/* container names, images, labels */
#define DOCKER_ACTION_MAX	31		/* an event's action, up to ':' */
#define DOCKER_API_MAJOR	1
#define DOCKER_API_MINOR_MAX	41		/* the newest API davit speaks */
#define DOCKER_API_MINOR_MIN	25		/* the oldest it accepts */
#define DOCKER_ERR_LEN		256
#define DOCKER_STATUS_LEN	128		/* "Up 3 minutes (health: starting)" */

/* talking to the engine */
#define DOCKER_CONNECT_TIMEOUT	5		/* seconds */
#define DOCKER_REQUEST_TIMEOUT	30		/* seconds, one call (a stop adds its t) */
#define DOCKER_BACKOFF_MIN	1		/* seconds before reconnecting, doubling */
#define DOCKER_BACKOFF_MAX	30
#define DOCKER_RESYNC_DELAY_MS	10		/* events closer than this share a resync */
#define DOCKER_MAX_DIRTY	64		/* containers named by events between syncs */
#define DOCKER_MAX_CONNECTIONS	8		/* to the engine at once; more calls wait */
#define DOCKER_RESTART_LOOP	3		/* restarts of a service ... */
#define DOCKER_RESTART_WINDOW	600		/* ... within these seconds: notify */

/* compose */
#define COMPOSE_MAX_ARGV	(12 + CONFIG_MAX_SERVICES)	/* -p P -f F up -d --no-deps SVC... */
#define COMPOSE_DETECT_TIMEOUT	30		/* seconds for "docker compose version" */
#define COMPOSE_RESTORE_TIMEOUT	600		/* seconds for "up -d" after a failed "down" */
#define COMPOSE_REDETECT_MS	10000		/* a missing compose is looked for again */

/* the compose labels that tie a container to a project and a service */
#define LABEL_PROJECT		"com.docker.compose.project"
#define LABEL_SERVICE		"com.docker.compose.service"
#define LABEL_ONEOFF		"com.docker.compose.oneoff"
#define LABEL_NUMBER		"com.docker.compose.container-number"

enum docker_state {
	DS_MISSING,		/* no container */
	DS_CREATED,
	DS_RUNNING,
	DS_PAUSED,
	DS_RESTARTING,
	DS_REMOVING,		/* shown as exited: about to disappear */
	DS_EXITED,
	DS_DEAD,
	DS__COUNT
};

enum docker_health {
	DH_NONE,		/* no healthcheck */
	DH_STARTING,
	DH_HEALTHY,
	DH_UNHEALTHY,
};

/* one container of the project, from the list and (when inspected) inspect */
struct docker_container {
	char			 id[DOCKER_ID_LEN + 1];
	char			 name[DOCKER_NAME_MAX + 1];	/* without the '/' */
	char			 service[DOCKER_NAME_MAX + 1];	/* "" when unlabelled */
	char			 image[DOCKER_NAME_MAX + 1];
	enum docker_state	 state;
	enum docker_health	 health;
	int			 oneoff;	/* "compose run" containers */
	long long		 number;	/* container-number label, 0 if none */
	long long		 created_ms;
	int			 inspected;	/* the fields below are known */
	long long		 started_ms;	/* 0: never started */
	long long		 finished_ms;	/* 0: never finished */
	long long		 restarts;
	long long		 exit_code;
};

struct docker_version {
	int	 major, minor;		/* the engine's newest API */
	int	 min_major, min_minor;	/* its oldest, 0.0 if not said */
	char	 engine[64];		/* "20.10.24", for logs */
};

enum docker_event_kind {
	DE_IGNORE,		/* exec_*, attach, ...: no state change */
	DE_CHANGE,		/* the container's state may have changed */
	DE_DESTROY,		/* it is gone */
};

struct docker_event {
	enum docker_event_kind	 kind;
	char			 id[DOCKER_ID_LEN + 1];
	char			 action[DOCKER_ACTION_MAX + 1];
	char			 project[DOCKER_NAME_MAX + 1];	/* its compose project */
	char			 service[DOCKER_NAME_MAX + 1];	/* "" if unlabelled */
};

/* docker_parse.c: no I/O, every reply treated as hostile */
int	 docker_parse_version(const char *buf, size_t len, struct docker_version *v,
	    char *err, size_t errlen);
/*
 * The reply of GET /containers/json: containers of project only (others are
 * skipped), at most DOCKER_MAX_CONTAINERS.  *out is malloc'd (NULL if none).
 */
int	 docker_parse_list(const char *buf, size_t len, const char *project,
	    struct docker_container **out, size_t *nout, char *err, size_t errlen);
/* GET /containers/{id}/json into c (every field it carries) */
int	 docker_parse_inspect(const char *buf, size_t len, struct docker_container *c,
	    char *err, size_t errlen);
/*
 * one line of GET /events; an event of another project is DE_IGNORE (project
 * NULL: any compose project's is taken, named in ev->project)
 */
int	 docker_parse_event(const char *buf, size_t len, const char *project,
	    struct docker_event *ev, char *err, size_t errlen);
/* the engine's {"message":"..."} error body; -1 if it is not one */
int	 docker_parse_error(const char *buf, size_t len, char *msg, size_t msglen);
int	 docker_id_valid(const char *s);
int	 docker_state_parse(const char *s, enum docker_state *st);
const char *docker_state_name(enum docker_state st);	/* as services.list says it */
const char *docker_health_name(enum docker_health h);	/* NULL for DH_NONE */

/* docker_time.c: no I/O either */
/* RFC 3339 with optional fraction, Z or +hh:mm; 0 for Docker's zero time */
int	 docker_parse_time(const char *s, long long *ms);
/* Docker's own status text ("Up 5 minutes (healthy)") at time now_ms */
void	 docker_status_text(const struct docker_container *c, long long now_ms,
	    char *buf, size_t len);
/* Go's units.HumanDuration, as Docker uses it */
void	 docker_human_duration(long long ms, char *buf, size_t len);

/*
 * docker_state.c: the services' state, from memory.  One engine connection
 * and event stream for every project; each project's containers (those
 * labelled com.docker.compose.project=its DAVIT_COMPOSE_PROJECT) are kept
 * apart (struct docker_project, p->docker).
 */
struct project;
int	 docker_engine_reachable(void);
/* 1 when the engine is known to be down (not merely still connecting) */
int	 docker_engine_down(char *why, size_t whylen);
/* 1 when every listed service of p runs, and is healthy where it has a healthcheck */
int	 docker_services_ready(const struct project *p, char *why, size_t whylen);
/* changes when a listed service's container of p is recreated or restarts */
unsigned long long docker_services_fingerprint(const struct project *p);
/*
 * How many services not in p's DAVIT_SERVICES have containers in its
 * compose project (one-off ones too), as of the last sync, the first one's
 * name in name; -1 when the engine is not synced.
 */
int	 docker_unlisted_services(const struct project *p, char *name,
	    size_t namelen);
/* p's services.list result value (for /api/state too) */
void	 docker_services_gen(yajl_gen g, const struct project *p);
/* a project's services: made when it is added, freed when it is removed */
void	 docker_project_add(struct project *p);
void	 docker_project_remove(struct project *p);
/* for projects.list: p's listed services, and how many of them run */
void	 docker_project_counts(const struct project *p, int *running, int *total);
/* the engine's problem, when it is down (the same for every project), or NULL */
const char *project_last_error_docker(const struct project *p);

/* docker_act.c: the Engine API actions of the service and stack jobs */
enum docker_act {
	DA_START,
	DA_STOP,
	DA_RESTART,
};
const char *docker_act_name(enum docker_act act);
/*
 * Runs act on every container of service through the Engine API, logging
 * into j and auditing each action; calls done exactly once (not from within
 * this call), unless docker_act_cancel is called first.  Returns a handle.
 */
struct docker_act_run;
struct docker_act_run *docker_service_act(struct job *j, const char *service,
	    enum docker_act act, void (*done)(struct job *j, int ok, const char *err));
void	 docker_act_cancel(struct docker_act_run *r);

/* compose.c: the compose CLI */
/* -1: no compose command found, 0: not yet known, 1: available */
int	 compose_available(char *why, size_t whylen);
void	 compose_detect(void);
void	 compose_shutdown(void);
/* what a rebuild left, for the caller's log, audit and job result */
struct compose_result {
	int		 ok;
	int		 untouched;	/* it ended before taking anything down */
	const char	*err;		/* why it failed, "" if compose said nothing */
};
/*
 * Rebuilds service (build, up -d --no-deps), or with service NULL the
 * stack: compose build, then, only if it succeeded, down and up -d (or,
 * when the project has services not in DAVIT_SERVICES, stop, rm -f and up
 * -d --no-deps of the listed services, by name).  Logs into j, keeps
 * j->proc set while a child runs, and calls done once (also when the job
 * timed out: then r->ok is 0); r lives for the call only.
 */
void	 compose_rebuild(struct job *j, const char *service,
	    void (*done)(struct job *j, const struct compose_result *r));
/*
 * A deploy's rebuild: compose build of the listed services (if build),
 * then run --rm --no-deps RUN... (if run is not NULL: it lives until done
 * is called), then up -d --no-deps of the listed services by name, without
 * a down: compose recreates only the services whose image or configuration
 * changed.  A failure before up leaves the running app untouched.
 */
void	 compose_deploy(struct job *j, int build, const char *const *run,
	    void (*done)(struct job *j, const struct compose_result *r));
/* the audit record of a rebuild: kind "docker.rebuild", "docker.stack_rebuild" */
void	 compose_audit(struct job *j, const char *kind, const char *service,
	    const char *result);

/* docker_jobs.c: the start function of service.* and stack.* jobs */
void	 docker_job_start(struct job *j);

#endif
