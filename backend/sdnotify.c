/*
 * systemd's notify protocol (sd_notify(3)), a few lines of our own: one
 * datagram per message, "READY=1" once the backend's socket listens (the
 * unit is Type=notify), then "WATCHDOG=1" from a timer on the event loop
 * every WATCHDOG_USEC / 2, so that a loop that stops turning (SIGSTOP, a
 * deadlock) is noticed by systemd and the service restarted.
 *
 * Rules: without NOTIFY_SOCKET (not under systemd) every call is a no-op.
 * NOTIFY_SOCKET is an absolute path or "@name" (an abstract socket);
 * anything else is refused with a log line, never fatal.  The watchdog is
 * armed only when WATCHDOG_PID is unset or ours.  Nothing here blocks: a
 * full socket loses a ping, the next one follows.  The variables stay in
 * our environment (children get proc.c's minimal one, not ours).
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/sdnotify.h"
#include "common/log.h"

static struct {
	int			 fd;
	struct sockaddr_un	 sun;
	socklen_t		 len;
	struct event		*watchdog;
} sdn = { .fd = -1 };

int
sdnotify_addr(const char *env, struct sockaddr_un *sun, socklen_t *len)
{
	size_t	n;

	if (env == NULL || (env[0] != '/' && env[0] != '@'))
		return -1;
	n = strlen(env);
	if (n < 2 || n >= sizeof(sun->sun_path))
		return -1;
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, env, n);
	if (env[0] == '@') {
		/* abstract: a leading NUL, the length says where it ends */
		sun->sun_path[0] = '\0';
		*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	} else
		*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	return 0;
}

static int
parse_ll(const char *s, long long min, long long max, long long *out)
{
	char		*end;
	long long	 v;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

long long
sdnotify_watchdog_usec(const char *usec, const char *pid, pid_t self)
{
	long long	v, p;

	if (usec == NULL)
		return 0;
	if (pid != NULL) {
		if (parse_ll(pid, 1, INT_MAX, &p) == -1)
			return -1;
		if (p != (long long)self)
			return 0;	/* meant for another process */
	}
	if (parse_ll(usec, SDNOTIFY_MIN_WATCHDOG, SDNOTIFY_MAX_WATCHDOG,
	    &v) == -1)
		return -1;
	return v;
}

static void
sdnotify_send(const char *msg)
{
	if (sdn.fd == -1)
		return;
	if (sendto(sdn.fd, msg, strlen(msg), MSG_NOSIGNAL | MSG_DONTWAIT,
	    (struct sockaddr *)&sdn.sun, sdn.len) == -1)
		log_warn("%s: %s to NOTIFY_SOCKET", __func__, msg);
}

static void
sdnotify_ping(evutil_socket_t fd, short ev, void *arg)
{
	sdnotify_send("WATCHDOG=1");
}

void
sdnotify_ready(struct event_base *base)
{
	const char	*env = getenv("NOTIFY_SOCKET");
	struct timeval	 tv;
	long long	 usec;

	if (env == NULL)
		return;
	if (sdnotify_addr(env, &sdn.sun, &sdn.len) == -1) {
		log_warnx("NOTIFY_SOCKET: not an absolute path or @name; "
		    "not telling systemd we are ready");
		return;
	}
	if ((sdn.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1) {
		log_warn("%s: socket", __func__);
		return;
	}
	sdnotify_send("READY=1");
	usec = sdnotify_watchdog_usec(getenv("WATCHDOG_USEC"),
	    getenv("WATCHDOG_PID"), getpid());
	if (usec == -1) {
		log_warnx("WATCHDOG_USEC/WATCHDOG_PID: not valid (at least %lld "
		    "µs); no watchdog pings", SDNOTIFY_MIN_WATCHDOG);
		return;
	}
	if (usec == 0)
		return;
	usec /= 2;
	tv.tv_sec = (time_t)(usec / 1000000);
	tv.tv_usec = (suseconds_t)(usec % 1000000);
	if ((sdn.watchdog = event_new(base, -1, EV_PERSIST, sdnotify_ping,
	    NULL)) == NULL || event_add(sdn.watchdog, &tv) == -1)
		fatalx("%s: watchdog timer", __func__);
	sdnotify_send("WATCHDOG=1");
	log_info("systemd watchdog: a ping every %lld ms", usec / 1000);
}

void
sdnotify_stopping(void)
{
	sdnotify_send("STOPPING=1");
	if (sdn.watchdog != NULL)
		event_free(sdn.watchdog);
	sdn.watchdog = NULL;
	if (sdn.fd != -1)
		close(sdn.fd);
	sdn.fd = -1;
}
