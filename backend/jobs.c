/*
 * Jobs: every mutating op becomes a job.  Each project has its own queue
 * (JOB_QUEUE_MAX waiting) and runs one job at a time; jobs of different
 * projects run at once, at most DAVIT_MAX_PARALLEL, a free slot going to
 * the oldest waiting job whose project runs nothing (one FIFO across
 * projects).  An identical job already queued for the same project is not
 * queued twice; "project" is not part of a job's arguments, so naming it
 * or not makes no difference.  Job ids are unique across projects.  Each keeps a bounded log (a ring of its last lines) and is killed
 * when it runs longer than DAVIT_JOB_TIMEOUT.  Subscribers see job.state and
 * job.log events.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "backend/project.h"
#include "backend/notify.h"
#include "common/json.h"
#include "common/log.h"

TAILQ_HEAD(job_list, job);
/* a project's share: its running job and how many of its jobs wait */
struct job_queue {
	struct job	*current;
	size_t		 nqueued;
};

/* every project's waiting jobs, oldest first */
static struct job_list	 jobs_queued = TAILQ_HEAD_INITIALIZER(jobs_queued);
/* the running ones, and the finished ones (newest first) */
static struct job_list	 jobs_running = TAILQ_HEAD_INITIALIZER(jobs_running);
static struct job_list	 jobs_done = TAILQ_HEAD_INITIALIZER(jobs_done);
static struct job_queue	 jobs_noproject;	/* jobs of no project: tests */
static long long	 jobs_next_id = 1;
static size_t		 jobs_nrunning, jobs_ndone;
static struct event	*jobs_kick;

static struct job_queue *
job_queue(const struct project *p)
{
	if (p == NULL)
		return &jobs_noproject;
	if (p->jobs == NULL)
		fatalx("%s: project %s has no queue", __func__, p->name);
	return p->jobs;
}

static int
jobs_max_parallel(void)
{
	return benv->cfg.max_parallel >= 1 ? benv->cfg.max_parallel : 1;
}

static const char *const job_state_names[] = {
	[JOB_QUEUED] = "queued",
	[JOB_RUNNING] = "running",
	[JOB_SUCCEEDED] = "succeeded",
	[JOB_FAILED] = "failed",
};

static void
job_free(struct job *j)
{
	size_t	i;

	for (i = 0; i < JOB_LOG_LINES; i++)
		free(j->log[i]);
	if (j->arg_free != NULL)
		j->arg_free(j->arg);
	if (j->timer != NULL)
		event_free(j->timer);
	free(j->args_json);
	free(j->service);
	free(j->by);
	free(j->error);
	free(j->result_json);
	free(j);
}

const char *
job_state_name(enum job_state s)
{
	return job_state_names[s];
}

static const char *
job_op_name(const struct job *j)
{
	return proto_op_by_id(j->op)->name;
}

/* a failure of these is worth a notification: the app may be down */
static int
job_is_critical(const struct job *j)
{
	return (ctl_ops[j->op].flags & CTL_F_CRITICAL) != 0;
}

void
job_gen(yajl_gen g, const struct job *j, int with_log)
{
	const char	*line;
	size_t		 i, first, bytes;

	yajl_gen_map_open(g);
	json_kint(g, "id", j->id);
	json_kstr(g, "project", j->project_name[0] != '\0' ? j->project_name :
	    NULL);
	json_kstr(g, "op", job_op_name(j));
	json_key(g, "args");
	json_raw(g, j->args_json);	/* proto_args_json's, or the deploy's */
	json_kstr(g, "by", j->by);
	json_kstr(g, "state", job_state_names[j->state]);
	json_ktime(g, "created_at", j->created_ms);
	json_ktime(g, "started_at", j->started_ms);
	json_ktime(g, "ended_at", j->ended_ms);
	json_key(g, "exit");
	if (j->exit >= 0)
		yajl_gen_integer(g, j->exit);
	else
		yajl_gen_null(g);
	json_kstr(g, "error", j->error);
	json_key(g, "result");
	json_raw(g, j->result_json);	/* a generator's output, or NULL */
	json_kint(g, "log_lines", j->log_total);
	if (with_log) {
		/* the newest lines, up to JOB_GET_LOG_MAX bytes */
		for (first = j->log_count, bytes = 0; first > 0; first--) {
			line = j->log[(j->log_head + first - 1) % JOB_LOG_LINES];
			if (bytes + strlen(line) > JOB_GET_LOG_MAX)
				break;
			bytes += strlen(line);
		}
		json_kint(g, "log_omitted", j->log_total -
		    (long long)(j->log_count - first));
		json_key(g, "log");
		yajl_gen_array_open(g);
		for (i = first; i < j->log_count; i++)
			json_str(g, j->log[(j->log_head + i) % JOB_LOG_LINES]);
		yajl_gen_array_close(g);
	}
	yajl_gen_map_close(g);
}

static void
job_publish_state(const struct job *j)
{
	yajl_gen	g = events_begin(EV_JOB_STATE);

	job_gen(g, j, 0);
	events_publish(g);
}

/*
 * A line as a log keeps it: terminal escape sequences (ESC [ ... final byte)
 * dropped, other control characters but TAB made spaces.  Returns its length.
 */
static size_t
job_log_clean(char *dst, const char *src, size_t len)
{
	size_t		 i, n = 0;
	unsigned char	 ch;

	for (i = 0; i < len; i++) {
		ch = (unsigned char)src[i];
		if (ch == 0x1b) {
			if (i + 1 < len && src[i + 1] == '[') {
				for (i += 2; i < len; i++)
					if ((unsigned char)src[i] >= 0x40 &&
					    (unsigned char)src[i] <= 0x7e)
						break;
			}
			continue;
		}
		dst[n++] = (ch < 0x20 && ch != '\t') || ch == 0x7f ? ' ' : (char)ch;
	}
	dst[n] = '\0';
	return n;
}

void
job_logn(struct job *j, const char *line, size_t len)
{
	yajl_gen	 g;
	size_t		 slot;
	char		*copy;

	if (len > JOB_LOG_LINE_MAX)
		len = JOB_LOG_LINE_MAX;
	if ((copy = malloc(len + 1)) == NULL)
		fatal("%s", __func__);
	len = job_log_clean(copy, line, len);
	if (j->log_count < JOB_LOG_LINES) {
		slot = (j->log_head + j->log_count) % JOB_LOG_LINES;
		j->log_count++;
	} else {
		slot = j->log_head;
		free(j->log[slot]);
		j->log_head = (j->log_head + 1) % JOB_LOG_LINES;
	}
	j->log[slot] = copy;
	j->log_total++;

	g = events_begin(EV_JOB_LOG);
	yajl_gen_map_open(g);
	json_kstr(g, "project", j->project_name[0] != '\0' ? j->project_name :
	    NULL);
	json_kint(g, "job", j->id);
	json_kint(g, "n", j->log_total);
	json_key(g, "line");
	json_strn(g, copy, len);
	yajl_gen_map_close(g);
	events_publish(g);
}

void
job_log(struct job *j, const char *fmt, ...)
{
	char	buf[JOB_LOG_LINE_MAX];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	job_logn(j, buf, strnlen(buf, sizeof(buf)));
}

int
job_is_over(const struct job *j)
{
	return j->state == JOB_SUCCEEDED || j->state == JOB_FAILED;
}

static void
job_start(struct job *j)
{
	struct job_queue	*q = job_queue(j->project);
	struct timeval		 tv;

	TAILQ_REMOVE(&jobs_queued, j, entry);
	q->nqueued--;
	q->current = j;
	TAILQ_INSERT_TAIL(&jobs_running, j, entry);
	jobs_nrunning++;
	j->state = JOB_RUNNING;
	j->started_ms = json_now_ms();
	log_info("job %lld: %s%s%s started%s%s", j->id, job_op_name(j),
	    j->project_name[0] != '\0' ? " of " : "", j->project_name,
	    j->by ? " by " : "", j->by ? j->by : "");
	job_publish_state(j);
	tv.tv_sec = benv->cfg.job_timeout;
	tv.tv_usec = 0;
	evtimer_add(j->timer, &tv);
	j->start(j);
}

/* the oldest waiting job of a project that runs nothing, while slots are free */
static void
jobs_start_next(evutil_socket_t fd, short ev, void *arg)
{
	struct job	*j, *next;

	projects_settle();	/* a reload's changes, on projects now quiet */
	for (j = TAILQ_FIRST(&jobs_queued); j != NULL &&
	    jobs_nrunning < (size_t)jobs_max_parallel(); j = next) {
		next = TAILQ_NEXT(j, entry);
		if (job_queue(j->project)->current != NULL)
			continue;
		job_start(j);
		/* its start may have ended jobs: the queue may have changed */
		next = TAILQ_FIRST(&jobs_queued);
	}
}

static void
jobs_schedule(void)
{
	struct timeval	tv = { 0, 0 };

	/* from the loop: a job's start never runs inside its submitter */
	evtimer_add(jobs_kick, &tv);
}

static void
job_timeout(evutil_socket_t fd, short ev, void *arg)
{
	struct job	*j = arg;

	if (job_is_over(j))
		return;
	j->timed_out = 1;
	job_log(j, "davit: job timed out after %d s; stopping it",
	    benv->cfg.job_timeout);
	log_warnx("job %lld: %s timed out after %d s", j->id, job_op_name(j),
	    benv->cfg.job_timeout);
	if (j->proc != NULL)
		proc_kill(j->proc);	/* its exit callback ends the job */
	else if (j->cancel != NULL)
		j->cancel(j);
	else
		job_done(j, -1, "timed out after %d s", benv->cfg.job_timeout);
}

void
job_done(struct job *j, int exit, const char *errfmt, ...)
{
	char			 msg[PROTO_MAX_MESSAGE], kind[32];
	va_list			 ap;
	struct job		*old;
	struct job_queue	*q;

	if (job_is_over(j))
		return;
	j->exit = exit;
	j->ended_ms = json_now_ms();
	if (errfmt != NULL || j->timed_out) {
		if (j->timed_out)
			snprintf(msg, sizeof(msg), "timed out after %d s",
			    benv->cfg.job_timeout);
		else {
			va_start(ap, errfmt);
			vsnprintf(msg, sizeof(msg), errfmt, ap);
			va_end(ap);
		}
		free(j->error);
		if ((j->error = strdup(msg)) == NULL)
			fatal("%s", __func__);
		j->state = JOB_FAILED;
		job_log(j, "davit: failed: %s", msg);
	} else
		j->state = exit == 0 ? JOB_SUCCEEDED : JOB_FAILED;
	evtimer_del(j->timer);
	log_info("job %lld: %s %s in %lld ms%s%s", j->id, job_op_name(j),
	    job_state_names[j->state], j->ended_ms - j->started_ms,
	    j->error ? ": " : "", j->error ? j->error : "");
	job_publish_state(j);
	if (j->state == JOB_FAILED && job_is_critical(j)) {
		snprintf(kind, sizeof(kind), "%s.failed", job_op_name(j));
		notify_project(j->project, kind, j->service, "%s%s%s failed: %s",
		    job_op_name(j), j->service ? " " : "",
		    j->service ? j->service : "",
		    j->error ? j->error : "see the job's log");
	}
	q = job_queue(j->project);
	if (q->current == j) {
		q->current = NULL;
		TAILQ_REMOVE(&jobs_running, j, entry);
		jobs_nrunning--;
	}
	TAILQ_INSERT_HEAD(&jobs_done, j, entry);
	jobs_ndone++;
	/* forget the oldest finished jobs; a job whose child still runs stays */
	while (jobs_ndone > JOB_KEEP) {
		old = TAILQ_LAST(&jobs_done, job_list);
		if (old->proc != NULL)
			break;
		TAILQ_REMOVE(&jobs_done, old, entry);
		jobs_ndone--;
		job_free(old);
	}
	/*
	 * A reload's change or removal of the project waits for the loop's
	 * next turn (jobs_start_next): the job's owner (a deploy, a git run)
	 * still uses the project and its concerns' state after this returns.
	 */
	jobs_schedule();
}

struct job *
jobs_submit_internal(struct project *p, enum proto_op_id op,
    const char *args_json, const char *by, void (*start)(struct job *),
    void *arg, void (*arg_free)(void *), struct proto_error *err)
{
	struct job		*j;
	struct job_queue	*q;

	if (p != NULL && p->removed) {
		if (arg_free != NULL)
			arg_free(arg);
		proto_seterr(err, PE_NOT_ALLOWED, "no such project");
		return NULL;
	}
	q = job_queue(p);
	TAILQ_FOREACH(j, &jobs_queued, entry)
		if (j->project == p && j->op == op &&
		    strcmp(j->args_json, args_json) == 0) {
			log_debug("job %lld: identical %s already queued", j->id,
			    proto_op_by_id(op)->name);
			if (arg_free != NULL)
				arg_free(arg);
			return j;
		}
	if (q->nqueued >= JOB_QUEUE_MAX) {
		proto_seterr(err, PE_BUSY, "the job queue is full (%d jobs waiting)",
		    JOB_QUEUE_MAX);
		if (arg_free != NULL)
			arg_free(arg);
		return NULL;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL)
		fatal("%s", __func__);
	j->id = jobs_next_id++;
	j->project = p;
	if (p != NULL)
		memcpy(j->project_name, p->name, sizeof(j->project_name));
	j->op = op;
	if ((j->args_json = strdup(args_json)) == NULL ||
	    (by != NULL && (j->by = strdup(by)) == NULL))
		fatal("%s", __func__);
	j->state = JOB_QUEUED;
	j->created_ms = json_now_ms();
	j->exit = -1;
	j->start = start;
	j->arg = arg;
	j->arg_free = arg_free;
	j->timer = evtimer_new(benv->base, job_timeout, j);
	TAILQ_INSERT_TAIL(&jobs_queued, j, entry);
	q->nqueued++;
	job_publish_state(j);
	jobs_schedule();
	return j;
}

int
jobs_submit(struct project *p, const struct proto_request *req,
    void (*start)(struct job *), void *arg, void (*arg_free)(void *),
    yajl_gen g, struct proto_error *err)
{
	struct proto_request	 noproj;
	int			 pi;
	struct job	*j;
	char		*args;
	const char	*service = NULL, *by = NULL;

	if (proto_field_index(req->op, "service") != -1)
		service = proto_arg_str(req, "service");
	if (proto_field_index(req->op, "by") != -1)
		by = proto_arg_str(req, "by");
	/* the same job whether the caller named the project or not */
	if ((pi = proto_field_index(req->op, "project")) != -1) {
		noproj = *req;
		noproj.args[pi].present = 0;
		req = &noproj;
	}
	args = proto_args_json(req, 1);
	j = jobs_submit_internal(p, req->op->id, args, by, start, arg, arg_free,
	    err);
	free(args);
	if (j == NULL)
		return CTL_FAIL;
	if (service != NULL && j->service == NULL &&
	    (j->service = strdup(service)) == NULL)
		fatal("%s", __func__);
	yajl_gen_map_open(g);
	json_kint(g, "job", j->id);
	yajl_gen_map_close(g);
	return CTL_DONE;
}

struct job *
job_find(long long id)
{
	struct job_list	*lists[] = { &jobs_running, &jobs_queued, &jobs_done };
	struct job	*j;
	size_t		 i;

	for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		TAILQ_FOREACH(j, lists[i], entry)
			if (j->id == id)
				return j;
	return NULL;
}

struct job *
job_running(const struct project *p)
{
	return job_queue(p)->current;
}

int
jobs_project_quiet(const struct project *p)
{
	const struct job_queue	*q = job_queue(p);

	return q->current == NULL && q->nqueued == 0;
}

void
jobs_project_add(struct project *p)
{
	if (p->jobs == NULL && (p->jobs = calloc(1, sizeof(*p->jobs))) == NULL)
		fatal("%s", __func__);
}

/*
 * Before p is freed: its waiting jobs fail (a reload removed it), its
 * finished ones forget it (they keep its name).  It runs nothing by now,
 * but at the shutdown.
 */
void
jobs_project_drop_queued(struct project *p)
{
	struct job	*j, *next;

	if (p->jobs == NULL)
		return;
	for (j = TAILQ_FIRST(&jobs_queued); j != NULL; j = next) {
		next = TAILQ_NEXT(j, entry);
		if (j->project != p)
			continue;
		TAILQ_REMOVE(&jobs_queued, j, entry);
		p->jobs->nqueued--;
		j->state = JOB_FAILED;
		j->ended_ms = json_now_ms();
		if ((j->error = strdup("its project was removed")) == NULL)
			fatal("%s", __func__);
		log_info("job %lld: %s of %s dropped: %s", j->id,
		    job_op_name(j), p->name, j->error);
		job_publish_state(j);
		TAILQ_INSERT_HEAD(&jobs_done, j, entry);
		jobs_ndone++;
	}
}

void
jobs_project_remove(struct project *p)
{
	struct job	*j;

	if (p->jobs == NULL)
		return;
	jobs_project_drop_queued(p);
	TAILQ_FOREACH(j, &jobs_running, entry)
		if (j->project == p)
			j->project = NULL;
	TAILQ_FOREACH(j, &jobs_done, entry)
		if (j->project == p)
			j->project = NULL;
	free(p->jobs);
	p->jobs = NULL;
}

int
op_job_get(struct ctl_request *cr, yajl_gen g, struct proto_error *err)
{
	struct job	*j;
	long long	 id = proto_arg_int(&cr->req, "job", 0);

	if ((j = job_find(id)) == NULL) {
		proto_seterr(err, PE_NOT_FOUND, "no job %lld (only the last %d are kept)",
		    id, JOB_KEEP);
		return CTL_FAIL;
	}
	job_gen(g, j, 1);
	return CTL_DONE;
}

/* newest first: queued, running, then finished; p's, or every one (NULL) */
void
jobs_list_gen(yajl_gen g, const struct project *p)
{
	struct job_list	*lists[] = { &jobs_queued, &jobs_running, &jobs_done };
	struct job	*j;
	size_t		 i;

	yajl_gen_array_open(g);
	for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		if (i < 2) {
			TAILQ_FOREACH_REVERSE(j, lists[i], job_list, entry)
				if (p == NULL || j->project == p)
					job_gen(g, j, 0);
		} else {
			TAILQ_FOREACH(j, lists[i], entry)
				if (p == NULL || j->project == p)
					job_gen(g, j, 0);
		}
	}
	yajl_gen_array_close(g);
}

int
op_jobs_list(struct ctl_request *cr, yajl_gen g, struct proto_error *err)
{
	jobs_list_gen(g, cr->project);
	return CTL_DONE;
}

void
jobs_init(void)
{
	if ((jobs_kick = evtimer_new(benv->base, jobs_start_next, NULL)) == NULL)
		fatalx("%s: evtimer_new", __func__);
}

void
jobs_shutdown(void)
{
	struct job_list	*lists[] = { &jobs_queued, &jobs_running, &jobs_done };
	struct job	*j;
	size_t		 i;

	TAILQ_FOREACH(j, &jobs_running, entry)
		if (j->proc != NULL)
			proc_forget(j->proc);
	for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		while ((j = TAILQ_FIRST(lists[i])) != NULL) {
			TAILQ_REMOVE(lists[i], j, entry);
			job_free(j);
		}
	memset(&jobs_noproject, 0, sizeof(jobs_noproject));
	jobs_nrunning = jobs_ndone = 0;	/* jobs_init may follow (unit tests) */
	if (jobs_kick != NULL)
		event_free(jobs_kick);
	jobs_kick = NULL;
}
