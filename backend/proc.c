/*
 * Child processes: fork and exec a fixed argv (never a shell) in its own
 * process group, optionally as another user, with an input written to its
 * stdin (how a token reaches it: never argv, never the environment), its
 * merged stdout and stderr read line by line, and a timeout that kills the
 * whole group.  on_exit runs once the child has exited and its output is
 * read; the proc is freed right after it returns.  Every child gets
 * PDEATH_SIGNAL when the backend dies (common/pdeath.c): none outlives it.
 * Its environment is the spec's or proc_default_env, never the backend's,
 * and never a DAVIT_ variable (the backend's configuration may come from
 * its environment): proc_child drops any such entry as a last guard.
 *
 * A child may also be started ahead, waiting on its stdin (hold_input: a
 * spare, git_spare.c): proc_adopt gives it its callbacks and timeout when
 * it is used, and proc_input its input, once.
 *
 * What root runs by a path must be root's to change: proc_exe_trusted()
 * checks a file and every directory above it as sudo does its secure path.
 */
#include <sys/queue.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "backend/backend.h"
#include "common/log.h"
#include "common/pdeath.h"

#define PROC_MAX_INPUT		4096	/* fits a pipe buffer: written at once */
#define PROC_DRAIN_WAIT		5	/* seconds to wait for output after exit */
#define PROC_UNTRUSTED_MODE	(S_IWGRP | S_IWOTH)	/* write for anyone but root */
#define PROC_MAX_ENV		32	/* entries of a child's environment */
#define PROC_CONFIG_PREFIX	"DAVIT_"	/* the configuration's, never a child's */

struct proc {
	LIST_ENTRY(proc)	 entry;
	pid_t			 pid;
	struct bufferevent	*out;
	struct event		*timer;
	int			 exited;
	int			 status;
	int			 eof;
	int			 timed_out;
	int			 killing;	/* proc_kill was called */
	int			 in;		/* hold_input: stdin's write end, or -1 */
	int			 kill_stage;	/* 0 none, 1 SIGTERM sent, 2 SIGKILL sent */
	void			(*on_line)(void *, const char *, size_t);
	void			(*on_exit)(void *, int, int);
	void			*arg;
};

static LIST_HEAD(, proc)	procs = LIST_HEAD_INITIALIZER(procs);
static pid_t			proc_parent;	/* getpid() before fork, for pdeath_arm */

static const char *const	proc_default_env[] = {
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"LANG=C.UTF-8",
	NULL
};

static void	proc_timer(evutil_socket_t, short, void *);

static void
proc_free(struct proc *p)
{
	LIST_REMOVE(p, entry);
	if (p->in != -1)
		close(p->in);
	if (p->out != NULL)
		bufferevent_free(p->out);
	if (p->timer != NULL)
		event_free(p->timer);
	free(p);
}

static void
proc_flush_line(struct proc *p, const char *line, size_t len)
{
	if (p->on_line != NULL)
		p->on_line(p->arg, line, len);
}

static void
proc_read(struct bufferevent *bev, void *arg)
{
	struct proc	*p = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);
	char		*line, cut[JOB_LOG_LINE_MAX];
	size_t		 len;

	for (;;) {
		if ((line = evbuffer_readln(in, &len, EVBUFFER_EOL_ANY)) != NULL) {
			if (len > JOB_LOG_LINE_MAX)
				len = JOB_LOG_LINE_MAX;
			proc_flush_line(p, line, len);
			free(line);
			continue;
		}
		/* no newline in sight: a line this long is cut, not buffered */
		if (evbuffer_get_length(in) >= JOB_LOG_LINE_MAX) {
			len = evbuffer_remove(in, cut, sizeof(cut));
			proc_flush_line(p, cut, len);
			continue;
		}
		break;
	}
}

static void
proc_finish(struct proc *p)
{
	struct evbuffer	*in;
	char		 rest[JOB_LOG_LINE_MAX];
	size_t		 len;

	if (p->out != NULL) {
		proc_read(p->out, p);
		in = bufferevent_get_input(p->out);
		if ((len = evbuffer_remove(in, rest, sizeof(rest))) > 0 &&
		    len != (size_t)-1)
			proc_flush_line(p, rest, len);
	}
	if (p->on_exit != NULL)
		p->on_exit(p->arg, p->status, p->timed_out);
	proc_free(p);
}

static void
proc_event(struct bufferevent *bev, short what, void *arg)
{
	struct proc	*p = arg;
	struct timeval	 tv = { 0, 0 };

	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		p->eof = 1;
		bufferevent_disable(bev, EV_READ);
		if (p->exited)	/* finish from the loop, not from this callback */
			evtimer_add(p->timer, &tv);
	}
}

/* one timer: the timeout, the kill grace, and the wait for output after exit */
static void
proc_timer(evutil_socket_t fd, short ev, void *arg)
{
	struct proc	*p = arg;
	struct timeval	 tv = { PROC_KILL_GRACE, 0 };

	if (p->exited) {
		proc_finish(p);
		return;
	}
	if (p->kill_stage == 0) {
		if (!p->killing) {
			p->timed_out = 1;
			log_warnx("process %d timed out, killing its group",
			    (int)p->pid);
		}
		if (killpg(p->pid, SIGTERM) == -1 && errno != ESRCH)
			log_warn("%s: killpg %d", __func__, (int)p->pid);
		p->kill_stage = 1;
		evtimer_add(p->timer, &tv);
	} else if (p->kill_stage == 1) {
		if (killpg(p->pid, SIGKILL) == -1 && errno != ESRCH)
			log_warn("%s: killpg %d", __func__, (int)p->pid);
		p->kill_stage = 2;
	}
}

/* a held child's input, written at once (it fits the pipe), then closed */
int
proc_input(struct proc *p, const void *input, size_t len)
{
	int	rv = 0;

	if (p->in == -1 || p->exited || len > PROC_MAX_INPUT)
		return -1;
	if (write(p->in, input, len) != (ssize_t)len) {
		log_warn("%s: write to child %d", __func__, (int)p->pid);
		rv = -1;
	}
	close(p->in);
	p->in = -1;
	return rv;
}

/* a held child's new owner: its callbacks and its timeout from now */
void
proc_adopt(struct proc *p, void (*on_line)(void *, const char *, size_t),
    void (*on_exit)(void *, int, int), void *arg, int timeout)
{
	struct timeval	tv = { timeout, 0 };

	p->on_line = on_line;
	p->on_exit = on_exit;
	p->arg = arg;
	if (timeout > 0 && !p->exited && !p->killing)
		evtimer_add(p->timer, &tv);
}

/*
 * Its owner is done with it (a git child's final line came): no exit
 * callback, on_line (if any) for what it still writes, and killed if it
 * has not exited within timeout seconds.  Reaped and freed as any other.
 */
void
proc_release(struct proc *p, void (*on_line)(void *, const char *, size_t),
    int timeout)
{
	struct timeval	tv = { timeout, 0 };

	p->on_line = on_line;
	p->on_exit = NULL;
	p->arg = NULL;
	if (!p->exited && !p->killing)
		evtimer_add(p->timer, &tv);
}

void
proc_kill(struct proc *p)
{
	struct timeval	tv = { 0, 0 };

	if (p->exited || p->killing)
		return;
	p->killing = 1;
	evtimer_add(p->timer, &tv);
}

void
proc_forget(struct proc *p)
{
	p->on_line = NULL;
	p->on_exit = NULL;
	proc_kill(p);
}

pid_t
proc_pid(const struct proc *p)
{
	return p->pid;
}

void
proc_sigchld(void)
{
	struct proc	*p;
	struct timeval	 tv;
	pid_t		 pid;
	int		 status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		LIST_FOREACH(p, &procs, entry)
			if (p->pid == pid)
				break;
		if (p == NULL)
			continue;
		p->exited = 1;
		p->status = status;
		/* the group may still hold the pipe: wait a little for eof */
		tv.tv_sec = (p->out == NULL || p->eof) ? 0 : PROC_DRAIN_WAIT;
		tv.tv_usec = 0;
		evtimer_add(p->timer, &tv);
	}
}

void
proc_killall(void)
{
	struct proc	*p;

	LIST_FOREACH(p, &procs, entry)
		if (!p->exited)
			killpg(p->pid, SIGTERM);
}

/* in the child, after fork: never returns */
static void __attribute__((noreturn))
proc_child(const struct proc_spec *spec, int in_fd, int out_fd)
{
	const char *const	*envp = spec->envp != NULL ? spec->envp : proc_default_env;
	const char		*env[PROC_MAX_ENV + 1];
	sigset_t		 set;
	uid_t			 ruid, euid, suid;
	size_t			 i, n = 0;
	int			 sig;

	/* no DAVIT_ variable reaches a child, whatever a caller built */
	for (i = 0; envp[i] != NULL && n < PROC_MAX_ENV; i++)
		if (strncmp(envp[i], PROC_CONFIG_PREFIX,
		    sizeof(PROC_CONFIG_PREFIX) - 1) != 0)
			env[n++] = envp[i];
	env[n] = NULL;

	setpgid(0, 0);
	sigemptyset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);
	for (sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	if (in_fd != -1) {
		if (dup2(in_fd, STDIN_FILENO) == -1)
			_exit(127);
	} else {
		int	null = open("/dev/null", O_RDONLY);

		if (null == -1 || dup2(null, STDIN_FILENO) == -1)
			_exit(127);
	}
	if (out_fd != -1) {
		if (dup2(out_fd, STDOUT_FILENO) == -1 ||
		    dup2(out_fd, STDERR_FILENO) == -1)
			_exit(127);
	}
	closefrom(STDERR_FILENO + 1);
	if (spec->drop) {
		if (setgroups(1, &spec->gid) == -1 ||
		    setresgid(spec->gid, spec->gid, spec->gid) == -1 ||
		    setresuid(spec->uid, spec->uid, spec->uid) == -1) {
			dprintf(STDERR_FILENO, "cannot drop to uid %u: %s\n",
			    (unsigned)spec->uid, strerror(errno));
			_exit(127);
		}
		if (getresuid(&ruid, &euid, &suid) == -1 || ruid != spec->uid ||
		    euid != spec->uid || suid != spec->uid)
			_exit(127);
	}
	if (pdeath_arm(proc_parent) == -1)	/* die with the backend */
		_exit(127);
	if (chdir(spec->cwd != NULL ? spec->cwd : "/") == -1) {
		dprintf(STDERR_FILENO, "cannot enter %s: %s\n",
		    spec->cwd != NULL ? spec->cwd : "/", strerror(errno));
		_exit(127);
	}
	if (strchr(spec->argv[0], '/') != NULL)
		execve(spec->argv[0], (char *const *)spec->argv, (char *const *)env);
	else
		execvpe(spec->argv[0], (char *const *)spec->argv, (char *const *)env);
	dprintf(STDERR_FILENO, "cannot run %s: %s\n", spec->argv[0], strerror(errno));
	_exit(127);
}

struct proc *
proc_start(const struct proc_spec *spec, char *err, size_t errlen)
{
	struct proc	*p;
	struct timeval	 tv;
	int		 inp[2] = { -1, -1 }, outp[2] = { -1, -1 };
	pid_t		 pid;

	if (spec->inputlen > PROC_MAX_INPUT) {
		snprintf(err, errlen, "process input too large");
		return NULL;
	}
	if ((spec->input != NULL || spec->hold_input) &&
	    pipe2(inp, O_CLOEXEC) == -1)
		goto syserr;
	if (!spec->inherit_output && pipe2(outp, O_CLOEXEC) == -1)
		goto syserr;
	proc_parent = getpid();
	if ((pid = fork()) == -1)
		goto syserr;
	if (pid == 0)
		proc_child(spec, spec->stdin_fd > 0 ? spec->stdin_fd : inp[0],
		    outp[1]);

	/* the parent: also set the group here, to win the race with killpg */
	setpgid(pid, pid);
	if ((p = calloc(1, sizeof(*p))) == NULL)
		fatal("%s", __func__);
	p->pid = pid;
	p->on_line = spec->on_line;
	p->on_exit = spec->on_exit;
	p->arg = spec->arg;
	p->in = -1;
	if (inp[0] != -1 && spec->hold_input) {
		close(inp[0]);
		p->in = inp[1];		/* proc_input writes it */
	} else if (inp[0] != -1) {
		close(inp[0]);
		/* small enough for the pipe buffer: the write cannot block */
		if (write(inp[1], spec->input, spec->inputlen) != (ssize_t)spec->inputlen)
			log_warn("%s: write to child %d", __func__, (int)pid);
		close(inp[1]);
	}
	if (outp[0] != -1) {
		close(outp[1]);
		evutil_make_socket_nonblocking(outp[0]);
		if ((p->out = bufferevent_socket_new(benv->base, outp[0],
		    BEV_OPT_CLOSE_ON_FREE)) == NULL)
			fatalx("%s: bufferevent_socket_new", __func__);
		bufferevent_setcb(p->out, proc_read, NULL, proc_event, p);
		bufferevent_enable(p->out, EV_READ);
	} else
		p->eof = 1;
	p->timer = evtimer_new(benv->base, proc_timer, p);
	if (spec->timeout > 0) {
		tv.tv_sec = spec->timeout;
		tv.tv_usec = 0;
		evtimer_add(p->timer, &tv);
	}
	LIST_INSERT_HEAD(&procs, p, entry);
	log_debug("started %s as pid %d", spec->argv[0], (int)pid);
	return p;
 syserr:
	snprintf(err, errlen, "cannot start %s: %s", spec->argv[0], strerror(errno));
	if (inp[0] != -1) {
		close(inp[0]);
		close(inp[1]);
	}
	if (outp[0] != -1) {
		close(outp[0]);
		close(outp[1]);
	}
	return NULL;
}

/* path and every directory above it: root's, not writable by group or others */
static int
path_chain_trusted(const char *path, char *why, size_t whylen)
{
	char		 buf[PATH_MAX], *slash;
	struct stat	 st;

	if (strlen(path) >= sizeof(buf) || path[0] != '/') {
		snprintf(why, whylen, "%s: not an absolute path", path);
		return -1;
	}
	strcpy(buf, path);
	for (;;) {
		if (stat(buf[0] != '\0' ? buf : "/", &st) == -1) {
			snprintf(why, whylen, "%s: %s", buf[0] != '\0' ? buf : "/",
			    strerror(errno));
			return -1;
		}
		if (st.st_uid != 0 || (st.st_mode & PROC_UNTRUSTED_MODE)) {
			snprintf(why, whylen, "%s is %s (uid %u, mode %04o)",
			    buf[0] != '\0' ? buf : "/", st.st_uid != 0 ?
			    "not root's" : "writable by group or others",
			    (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
			return -1;
		}
		if (buf[0] == '\0')
			return 0;
		slash = strrchr(buf, '/');
		*slash = '\0';		/* "/usr/bin" -> "/usr" -> "" (the root) */
	}
}

int
proc_exe_trusted(const char *path, char *why, size_t whylen)
{
	char		 real[PATH_MAX];
	struct stat	 st;

	/* the name as given (its directories could swap a symlink) ... */
	if (path_chain_trusted(path, why, whylen) == -1)
		return -1;
	/* ... and what it resolves to */
	if (realpath(path, real) == NULL) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (stat(real, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "%s is not a regular file", real);
		return -1;
	}
	return path_chain_trusted(real, why, whylen);
}
