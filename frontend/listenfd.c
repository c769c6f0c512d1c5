/*
 * Socket activation (sd_listen_fds(3), our own few lines): when systemd
 * starts davit-frontend from davit-frontend.socket it passes the listening
 * socket as fd 3 with LISTEN_PID (ours) and LISTEN_FDS (1).  The frontend
 * then binds nothing itself, so its unit may run with PrivateNetwork=yes and
 * RestrictAddressFamilies=AF_UNIX.
 *
 * Rules: the variables count only when LISTEN_PID is our pid (else they were
 * meant for another process and are ignored).  Exactly one socket, a
 * listening SOCK_STREAM one, else fatal: a unit that hands over something
 * else is misconfigured and must not half work.  The variables are removed
 * from the environment once read.
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/log.h"
#include "frontend/listenfd.h"

/* pure: how many fds systemd passed us; 0: none for us, -1: bad values */
int
listenfd_count(const char *pid, const char *fds, pid_t self)
{
	char	*end;
	long	 p, n;

	if (pid == NULL || fds == NULL)
		return 0;
	if (*pid < '1' || *pid > '9' || *fds < '0' || *fds > '9')
		return -1;
	errno = 0;
	p = strtol(pid, &end, 10);
	if (errno != 0 || *end != '\0' || p > INT_MAX)
		return -1;
	if (p != (long)self)
		return 0;
	n = strtol(fds, &end, 10);
	if (errno != 0 || *end != '\0' || n > LISTENFD_MAX)
		return -1;
	return (int)n;
}

/* "address:port" of a bound socket, for the log */
static const char *
listenfd_name(int fd, char *buf, size_t len)
{
	struct sockaddr_storage	ss;
	socklen_t		sslen = sizeof(ss);
	char			host[NI_MAXHOST], serv[NI_MAXSERV];

	if (getsockname(fd, (struct sockaddr *)&ss, &sslen) == -1 ||
	    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6) ||
	    getnameinfo((struct sockaddr *)&ss, sslen, host, sizeof(host), serv,
	    sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		return "not an IP socket";
	snprintf(buf, len, ss.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s",
	    host, serv);
	return buf;
}

int
listenfd_take(void)
{
	const char	*pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	char		 name[NI_MAXHOST + NI_MAXSERV + 4];
	int		 n, fd = LISTENFD_FIRST, type, acc, fl;
	socklen_t	 len;

	if (pid == NULL && fds == NULL)
		return -1;
	n = listenfd_count(pid, fds, getpid());
	if (n == -1)
		fatalx("LISTEN_PID/LISTEN_FDS: not valid numbers (at most %d fds)",
		    LISTENFD_MAX);
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (n == 0)
		return -1;
	if (n != 1)
		fatalx("systemd passed %d sockets: give davit-frontend.socket "
		    "exactly one ListenStream=", n);
	len = sizeof(type);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1)
		fatal("fd %d from systemd: not a socket", fd);
	len = sizeof(acc);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) == -1)
		fatal("fd %d from systemd: SO_ACCEPTCONN", fd);
	if (type != SOCK_STREAM || !acc)
		fatalx("fd %d from systemd: not a listening stream socket "
		    "(Accept=no, ListenStream= in davit-frontend.socket)", fd);
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1)
		fatal("fd %d from systemd: fcntl", fd);
	log_info("listening on the socket systemd passed (fd %d, %s)", fd,
	    listenfd_name(fd, name, sizeof(name)));
	return fd;
}
