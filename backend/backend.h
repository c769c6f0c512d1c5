/*
 * davit-backend: the privileged process.  It alone reads .env, holds the
 * GitHub token and the password hash, runs git (as the checkout's owner),
 * talks to Docker, and serves the protocol on a Unix socket.
 */
#ifndef DAVIT_BACKEND_H
#define DAVIT_BACKEND_H

#include <sys/queue.h>
#include <sys/types.h>

#include <signal.h>

#include <event2/event.h>
#include <yajl/yajl_gen.h>

#include "common/config.h"
#include "proto/proto.h"

/* limits, all in one place */
#define CTL_MAX_CONNS		64		/* peers at once */
#define CTL_MAX_OUTPUT		(1024 * 1024)	/* queued output of one peer, before a reply */
#define CTL_MAX_PENDING		PROTO_MAX_PENDING	/* requests of one peer awaiting a reply */
#define CTL_BACKLOG		16
#define CTL_WRITE_TIMEOUT	30		/* seconds a peer may leave output unread */
#define JOB_QUEUE_MAX		16		/* queued, not yet running */
#define JOB_KEEP		50		/* finished jobs kept for jobs.list */
#define JOB_LOG_LINES		1000		/* ring of the last log lines */
#define JOB_LOG_LINE_MAX	2048		/* a longer output line is cut */
#define JOB_GET_LOG_MAX		(192 * 1024)	/* log bytes in one job.get: with JSON's
						   escapes, a reply stays under 1.5 MiB */
#define PROC_KILL_GRACE		5		/* seconds between SIGTERM and SIGKILL */

/* handler results */
#define CTL_FAIL		-1
#define CTL_DONE		0
#define CTL_PENDING		1

/* the process-wide state */
struct backend_env {
	struct event_base	*base;
	struct davit_config	 cfg;
	uid_t			 frontend_uid;
	gid_t			 frontend_gid;
	const char		*config_path;
	const char		*self_exe;	/* absolute path of davit-backend */
	int			 no_frontend;	/* --no-frontend: not supervised here */
	volatile int		 shutting_down;
};
extern struct backend_env	*benv;

/* control.c: the Unix socket, peers, dispatch */
struct ctl_conn;
struct project;
struct ctl_request {
	struct ctl_conn		*conn;		/* NULL once the peer went away */
	struct proto_request	 req;
	unsigned		 caller;	/* PROTO_CALLER_* */
	uid_t			 uid;
	pid_t			 pid;
	long long		 started_ms;
	struct project		*project;	/* a PROTO_OP_PROJECT op's, resolved */
	int			 secret;	/* the reply holds one: wiped once written */
	sigset_t		 secret_mask;	/* a secret's: signals blocked till complete (common/wipe.c) */
	TAILQ_ENTRY(ctl_request) entry;
};
/*
 * A handler writes one result value into g and returns CTL_DONE, or sets
 * err and returns CTL_FAIL, or keeps cr and returns CTL_PENDING, then later
 * calls ctl_request_complete exactly once.
 */
typedef int (*ctl_handler)(struct ctl_request *cr, yajl_gen g, struct proto_error *err);

/* dispatch.c: the backend's row of each op, indexed by enum proto_op_id */
struct ctl_op {
	ctl_handler		 handler;
	unsigned		 flags;		/* CTL_F_* */
};
#define CTL_F_CRITICAL		0x01	/* a failed job of it is notified: the app may be down */
extern const struct ctl_op	 ctl_ops[OP__COUNT];

void	 control_init(void);
void	 control_shutdown(void);
void	 control_broadcast(const char *line, size_t len);	/* to subscribers */
/* g from proto_reply_begin(cr->req.id) with the result written, or NULL and err */
void	 ctl_request_complete(struct ctl_request *cr, yajl_gen g,
	    const struct proto_error *err);

/* audit.c: one JSON line per request, file updates, Docker actions */
void	 audit_open(const char *path);
/* rotation past max bytes; with base, the summary timer and SIGHUP's reopen */
void	 audit_start(struct event_base *base, long long max);
void	 audit_reopen(void);
void	 audit_close(void);	/* writes the pending summary first */
void	 audit_request(const struct ctl_request *cr, const struct proto_error *err);
/*
 * A free-form record: audit_begin opens it (time, kind: "git.pull",
 * "docker.restart", ...), the caller adds members, audit_end writes it.
 */
yajl_gen audit_begin(const char *kind);
void	 audit_end(yajl_gen g);

/* events.c */
yajl_gen events_begin(enum proto_event_id id);	/* a PROTO_EV_BACKEND event */
void	 events_publish(yajl_gen g);	/* g from events_begin, data written */

/* proc.c: child processes with captured output and a kill timer */
struct proc;
struct proc_spec {
	const char *const	*argv;		/* argv[0] absolute, or searched in PATH */
	const char		*cwd;		/* NULL: / */
	const char *const	*envp;		/* NULL: a minimal safe environment */
	int			 drop;		/* run as uid/gid below */
	uid_t			 uid;
	gid_t			 gid;
	const void		*input;		/* written to stdin, then closed (a token) */
	size_t			 inputlen;
	int			 hold_input;	/* stdin a pipe for proc_input, later */
	int			 inherit_output;	/* stdout/stderr to ours, no on_line */
	int			 stdin_fd;	/* > 0: the child's stdin (not input) */
	int			 timeout;	/* seconds, 0: none */
	void			(*on_line)(void *arg, const char *line, size_t len);
	void			(*on_exit)(void *arg, int status, int timed_out);
	void			*arg;
};
struct proc	*proc_start(const struct proc_spec *spec, char *err, size_t errlen);
int		 proc_input(struct proc *p, const void *input, size_t len);
void		 proc_adopt(struct proc *p,
		    void (*on_line)(void *, const char *, size_t),
		    void (*on_exit)(void *, int, int), void *arg, int timeout);
void		 proc_release(struct proc *p,
		    void (*on_line)(void *, const char *, size_t), int timeout);
void		 proc_kill(struct proc *p);	/* SIGTERM to its group, SIGKILL later */
void		 proc_forget(struct proc *p);	/* no more callbacks; keeps reaping */
void		 proc_sigchld(void);
void		 proc_killall(void);
/* 0 if path is a root-owned file in root-owned directories nobody else can write */
int		 proc_exe_trusted(const char *path, char *why, size_t whylen);
pid_t		 proc_pid(const struct proc *p);

/* jobs.c: one job at a time, from a bounded queue */
enum job_state {
	JOB_QUEUED,
	JOB_RUNNING,
	JOB_SUCCEEDED,
	JOB_FAILED,
};
struct job {
	TAILQ_ENTRY(job)	 entry;
	long long		 id;
	struct project		*project;	/* whose job it is; NULL once freed */
	char			 project_name[PROTO_PROJECT_NAME_MAX + 1];
	enum proto_op_id	 op;
	char			*args_json;	/* canonical, redacted */
	char			*service;	/* "service" argument, or NULL */
	char			*by;		/* who asked, or NULL */
	enum job_state		 state;
	long long		 created_ms, started_ms, ended_ms;
	int			 exit;		/* -1: none */
	char			*error;
	char			*result_json;	/* optional extra result, a JSON object */
	char			*log[JOB_LOG_LINES];
	size_t			 log_head, log_count;
	long long		 log_total;
	struct proc		*proc;		/* the running child, if any */
	int			 timed_out;
	struct event		*timer;
	void			(*start)(struct job *);
	void			(*cancel)(struct job *);	/* timeout of a non-process step */
	void			*arg;
	void			(*arg_free)(void *);
};
void	 jobs_init(void);
void	 jobs_shutdown(void);
/*
 * Queues a job for cr's op and writes {"job":N} into g.  An identical job
 * (same op and args) already queued is returned instead of a new one.
 * Returns CTL_DONE or CTL_FAIL (busy).
 */
int	 jobs_submit(struct project *p, const struct proto_request *req,
	    void (*start)(struct job *), void *arg, void (*arg_free)(void *),
	    yajl_gen g, struct proto_error *err);
/* the same without a request, for internal triggers (webhook deploys, polls) */
struct job *jobs_submit_internal(struct project *p, enum proto_op_id op,
	    const char *args_json, const char *by, void (*start)(struct job *),
	    void *arg, void (*arg_free)(void *), struct proto_error *err);
struct job *job_find(long long id);
struct job *job_running(const struct project *p);	/* p's running job */
int	 jobs_project_quiet(const struct project *p);	/* none running or waiting */
void	 jobs_project_add(struct project *p);
void	 jobs_project_remove(struct project *p);	/* before p is freed */
void	 jobs_project_drop_queued(struct project *p);	/* its waiting jobs fail */
void	 job_log(struct job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void	 job_logn(struct job *j, const char *line, size_t len);
/* ends the job: exit 0 and no error is success; starts the next one */
void	 job_done(struct job *j, int exit, const char *errfmt, ...)
	    __attribute__((format(printf, 3, 4)));
int	 job_is_over(const struct job *j);
void	 job_gen(yajl_gen g, const struct job *j, int with_log);
void	 jobs_list_gen(yajl_gen g, const struct project *p);	/* p's, or all: NULL */
const char *job_state_name(enum job_state s);
int	 op_job_get(struct ctl_request *, yajl_gen, struct proto_error *);
int	 op_jobs_list(struct ctl_request *, yajl_gen, struct proto_error *);

/* the concerns' entry points, called from backend.c */
void	 docker_init(void);
void	 docker_shutdown(void);
void	 git_init(void);
void	 git_shutdown(void);
void	 auth_init(void);
void	 auth_shutdown(void);
/* auth.c's own bound on guessing, whatever the frontend does */
int	 auth_throttle_check(const char *client, time_t now, const char **why,
	    int *hold);
void	 auth_throttle_done(const char *client, int ok);
void	 auth_throttle_reset(void);
void	 deploy_init(void);
void	 deploy_shutdown(void);
void	 notify_init(void);
void	 notify_shutdown(void);
void	 supervise_init(void);
void	 supervise_shutdown(void);
void	 supervise_tls_init(void);	/* SIGHUP: tls.reload */
/* DAVIT_TLS_CERT/KEY: root's, 0600, PEM, bounded; 0 or -1 with err */
int	 supervise_tls_check(const struct davit_config *, char *err, size_t errlen);

/*
 * The op handlers, defined by the concern that owns each; ctl_ops[] in
 * dispatch.c pairs each op with one.  A handler missing from the build
 * fails the link.
 */
int	 op_frontend_config(struct ctl_request *, yajl_gen, struct proto_error *);	/* auth.c */
int	 op_auth_login(struct ctl_request *, yajl_gen, struct proto_error *);
int	 op_tls_get(struct ctl_request *, yajl_gen, struct proto_error *);	/* supervise.c */
int	 op_services_list(struct ctl_request *, yajl_gen, struct proto_error *);	/* docker.c */
int	 op_service_action(struct ctl_request *, yajl_gen, struct proto_error *);
int	 op_stack_action(struct ctl_request *, yajl_gen, struct proto_error *);
int	 op_git_status(struct ctl_request *, yajl_gen, struct proto_error *);	/* git.c */
int	 op_git_job(struct ctl_request *, yajl_gen, struct proto_error *);
int	 op_deploy(struct ctl_request *, yajl_gen, struct proto_error *);	/* deploy.c */
int	 op_deploys_list(struct ctl_request *, yajl_gen, struct proto_error *);
int	 op_deploy_rollback(struct ctl_request *, yajl_gen, struct proto_error *);	/* deploy.c */
int	 op_webhook_push(struct ctl_request *, yajl_gen, struct proto_error *);
int	 op_webhook_rejected(struct ctl_request *, yajl_gen, struct proto_error *);
int	 op_subscribe(struct ctl_request *, yajl_gen, struct proto_error *);	/* control.c */

/* deploy.c: deploys_list_gen(g, p) is in deploy.h */
void	 deploys_list_gen(yajl_gen g, const struct project *p);

/* project.c: hello, project.get */
int	 op_hello(struct ctl_request *, yajl_gen, struct proto_error *);
int	 op_project_get(struct ctl_request *, yajl_gen, struct proto_error *);
int	 op_state_get(struct ctl_request *, yajl_gen, struct proto_error *);
int	 op_projects_list(struct ctl_request *, yajl_gen, struct proto_error *);
void	 project_gen(yajl_gen g, const struct project *p);

#endif
