/*
 * Where a URL leads and what may be said about it: which URLs davit
 * fetches from, their scheme, host and port, whether the token may go
 * there, and the scrubbing that keeps userinfo and the token out of every
 * line the git child writes.  Pure functions, no I/O; used by both
 * programs (backend/git.c checks DAVIT_REPO_URL with them before it starts
 * a child) and by the unit tests.
 */
#ifndef DAVIT_GITCHILD_URL_H
#define DAVIT_GITCHILD_URL_H

#include <stddef.h>

/* 1 if s holds no control character (nor a space unless allow_space) */
int		 gc_printable(const char *s, int allow_space);
/* 1 if s starts with prefix, ignoring case */
int		 gc_prefix(const char *s, const char *prefix);
/* 1 if url's scheme is one davit fetches from: https, http, ssh, file,
 * scp-like */
int		 gc_url_valid(const char *url);
/* 1 if url is http(s): the token is offered there only */
int		 gc_url_is_http(const char *url);

/*
 * Where a URL leads: the scheme (https, http or ssh; scp-like URLs are ssh),
 * the host (lowercase, without brackets or userinfo) and the port (the
 * scheme's default when not given).  0, or -1 for file URLs and bad ones.
 */
#define GC_MAX_HOST		255
struct gc_authority {
	char		 scheme[8];
	char		 host[GC_MAX_HOST + 1];
	unsigned	 port;
};
int		 gc_url_authority(const char *url, struct gc_authority *a);
/* 1 if host is 127.0.0.0/8, ::1 or localhost */
int		 gc_host_is_loopback(const char *host);
/* 1 if host ("h" or "[v6]") and port are origin's */
int		 gc_same_server(const struct gc_authority *origin, const char *host,
		    unsigned port);
/*
 * May the token go to asking_url?  Only when it has origin_url's scheme,
 * host and port, and the scheme is https (http only to a loopback host).
 */
int		 gc_token_allowed(const char *origin_url, const char *asking_url);

/* removes "user:password@" from every URL inside s, in place */
void		 gc_strip_userinfo(char *s);
/*
 * Makes s safe to send: userinfo stripped, every occurrence of token (if
 * not NULL or empty) replaced by "***", control characters made spaces.
 */
void		 gc_scrub(char *s, size_t size, const char *token);

#endif
