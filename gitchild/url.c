/*
 * URLs: which ones davit fetches from, where one leads (scheme, host,
 * port), whether the token may go there (origin only, https; http only on
 * loopback), and the scrubbing of userinfo and the token out of text.
 * Pure: no I/O, no libgit2.  Shared by both programs (url.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "gitchild/url.h"
#include "gitchild/wire.h"

int
gc_printable(const char *s, int allow_space)
{
	const unsigned char	*u = (const unsigned char *)s;

	for (; *u != '\0'; u++)
		if (*u < 0x20 || *u == 0x7f || (!allow_space && *u == ' '))
			return 0;
	return 1;
}

int
gc_prefix(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

int
gc_url_is_http(const char *url)
{
	return gc_prefix(url, "https://") || gc_prefix(url, "http://");
}

int
gc_url_valid(const char *url)
{
	static const char *const schemes[] = {
		"https://", "http://", "ssh://", "file://"
	};
	const char	*colon, *slash;
	size_t		 i;

	if (*url == '\0' || strlen(url) > GC_MAX_URL || !gc_printable(url, 0))
		return 0;
	if (*url == '-')
		return 0;
	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (gc_prefix(url, schemes[i]))
			return url[strlen(schemes[i])] != '\0';
	if (strstr(url, "://") != NULL)
		return 0;	/* git://, ftp://, ...: not offered */
	/* scp-like: [user@]host:path, the colon before any slash */
	colon = strchr(url, ':');
	slash = strchr(url, '/');
	return colon != NULL && colon != url && colon[1] != '\0' &&
	    (slash == NULL || colon < slash);
}

static unsigned
gc_default_port(const char *scheme)
{
	if (strcmp(scheme, "https") == 0)
		return 443;
	if (strcmp(scheme, "http") == 0)
		return 80;
	return 22;	/* ssh */
}

int
gc_url_authority(const char *url, struct gc_authority *a)
{
	const char	*p, *end, *at, *host, *hend, *colon;
	size_t		 n, i;
	char		*q;
	unsigned long	 port;

	memset(a, 0, sizeof(*a));
	if (url == NULL || strlen(url) > GC_MAX_URL || !gc_printable(url, 0))
		return -1;
	if ((p = strstr(url, "://")) != NULL) {
		n = p - url;
		if (n == 0 || n >= sizeof(a->scheme))
			return -1;
		for (i = 0; i < n; i++)
			a->scheme[i] = tolower((unsigned char)url[i]);
		if (strcmp(a->scheme, "https") != 0 && strcmp(a->scheme, "http") != 0 &&
		    strcmp(a->scheme, "ssh") != 0)
			return -1;
		p += 3;
		end = p + strcspn(p, "/?#");
	} else {
		/* scp-like [user@]host:path, the colon before any slash */
		colon = strchr(url, ':');
		if (colon == NULL || colon == url ||
		    (strchr(url, '/') != NULL && strchr(url, '/') < colon))
			return -1;
		gc_strlcpy(a->scheme, "ssh", sizeof(a->scheme));
		p = url;
		end = colon;
	}
	/* the last '@' ends the userinfo */
	for (at = NULL, host = p; host < end; host++)
		if (*host == '@')
			at = host;
	host = at != NULL ? at + 1 : p;
	a->port = gc_default_port(a->scheme);
	if (*host == '[') {
		if ((hend = memchr(host, ']', end - host)) == NULL)
			return -1;
		host++;
		colon = hend + 1 < end ? hend + 1 : NULL;
		if (colon != NULL && *colon != ':')
			return -1;
	} else {
		colon = memchr(host, ':', end - host);
		hend = colon != NULL ? colon : end;
	}
	n = hend - host;
	if (n == 0 || n >= sizeof(a->host))
		return -1;
	memcpy(a->host, host, n);
	a->host[n] = '\0';
	for (q = a->host; *q != '\0'; q++)
		*q = tolower((unsigned char)*q);
	if (colon != NULL && colon + 1 < end) {
		if (end - (colon + 1) > 5)
			return -1;
		port = 0;
		for (p = colon + 1; p < end; p++) {
			if (*p < '0' || *p > '9')
				return -1;
			port = port * 10 + (*p - '0');
		}
		if (port == 0 || port > 65535)
			return -1;
		a->port = (unsigned)port;
	}
	return 0;
}

int
gc_host_is_loopback(const char *host)
{
	const char	*p;
	int		 dots = 0;

	if (strcasecmp(host, "localhost") == 0 || strcmp(host, "::1") == 0 ||
	    strcmp(host, "0:0:0:0:0:0:0:1") == 0)
		return 1;
	if (strncmp(host, "127.", 4) != 0)
		return 0;
	for (p = host; *p != '\0'; p++) {
		if (*p == '.')
			dots++;
		else if (*p < '0' || *p > '9')
			return 0;
	}
	return dots == 3;
}

int
gc_same_server(const struct gc_authority *origin, const char *host,
    unsigned port)
{
	char	h[GC_MAX_HOST + 1];
	size_t	n = strlen(host);

	/* libgit2 may hand an IPv6 address in brackets */
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		if (n - 2 >= sizeof(h))
			return 0;
		memcpy(h, host + 1, n - 2);
		h[n - 2] = '\0';
		host = h;
	}
	return strcasecmp(origin->host, host) == 0 && origin->port == port;
}

int
gc_token_allowed(const char *origin_url, const char *asking_url)
{
	struct gc_authority	o, a;

	if (gc_url_authority(origin_url, &o) == -1 ||
	    gc_url_authority(asking_url, &a) == -1)
		return 0;
	if (strcmp(o.scheme, a.scheme) != 0 || !gc_same_server(&o, a.host, a.port))
		return 0;
	if (strcmp(a.scheme, "https") == 0)
		return 1;
	return strcmp(a.scheme, "http") == 0 && gc_host_is_loopback(a.host);
}

void
gc_strip_userinfo(char *s)
{
	char	*p = s, *a, *q, *end, *at;

	while ((p = strstr(p, "://")) != NULL) {
		a = p + 3;
		end = a + strcspn(a, "/?# \t\r\n\"'<>\\");
		at = NULL;
		for (q = a; q < end; q++)
			if (*q == '@')
				at = q;
		if (at != NULL)
			memmove(a, at + 1, strlen(at + 1) + 1);
		p = a;
	}
}

void
gc_scrub(char *s, size_t size, const char *token)
{
	char	*out;
	size_t	 tl, n, i, o = 0, k;
	unsigned char *u;

	if (size == 0)
		return;
	s[size - 1] = '\0';
	gc_strip_userinfo(s);
	if (token != NULL && (tl = strlen(token)) > 0) {
		n = strlen(s);
		if ((out = malloc(size)) == NULL)
			fatal("%s", __func__);
		for (i = 0; i < n && o + 1 < size;) {
			if (n - i >= tl && memcmp(s + i, token, tl) == 0) {
				for (k = 0; k < 3 && o + 1 < size; k++)
					out[o++] = '*';
				i += tl;
				continue;
			}
			out[o++] = s[i++];
		}
		out[o] = '\0';
		memcpy(s, out, o + 1);
		explicit_bzero(out, size);
		free(out);
	}
	for (u = (unsigned char *)s; *u != '\0'; u++)
		if (*u < 0x20 || *u == 0x7f)
			*u = ' ';
}
