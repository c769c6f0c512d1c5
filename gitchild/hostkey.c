/*
 * Who the child talks to: an ssh server's host key must be in the owner's
 * ~/.ssh/known_hosts or /etc/ssh/ssh_known_hosts (plain host names only;
 * hashed entries are not read, @revoked keys refused), and TLS is spoken
 * only to origin's host, and only when origin is https; libgit2 checks the
 * certificate itself.
 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "common/log.h"
#include "gitchild/gitchild.h"

#define GC_KNOWN_HOSTS_MAX	(1024 * 1024)	/* bytes of a known_hosts file read */

/* "[host]:port" for a non-default ssh port, else "host" */
static void
gc_known_host_name(const char *host, char *out, size_t size)
{
	const char	*u = gc.req.url, *p, *end;
	long		 port = 22;

	if (u != NULL && gc_prefix(u, "ssh://")) {
		p = u + strlen("ssh://");
		end = p + strcspn(p, "/");
		while (p < end && memchr(p, '@', end - p) != NULL)
			p = (const char *)memchr(p, '@', end - p) + 1;
		if (*p == '[') {
			if ((p = memchr(p, ']', end - p)) == NULL)
				p = end;
		}
		if ((p = memchr(p, ':', end - p)) != NULL)
			port = strtol(p + 1, NULL, 10);
	}
	if (port > 0 && port != 22)
		snprintf(out, size, "[%s]:%ld", host, port);
	else
		snprintf(out, size, "%s", host);
}

/* OpenSSH's host patterns: '*' and '?' only, no case ("[h]:port" is literal) */
static int
gc_glob(const char *p, const char *s)
{
	for (; *p != '\0'; p++, s++) {
		if (*p == '*') {
			while (p[1] == '*')
				p++;
			if (p[1] == '\0')
				return 1;
			for (; *s != '\0'; s++)
				if (gc_glob(p + 1, s))
					return 1;
			return 0;
		}
		if (*s == '\0')
			return 0;
		if (*p != '?' && tolower((unsigned char)*p) !=
		    tolower((unsigned char)*s))
			return 0;
	}
	return *s == '\0';
}

int
gc_known_host_match(char *hosts, const char *name)
{
	char	*pat, *save = NULL;
	int	 match = 0, hashed = 0;

	for (pat = strtok_r(hosts, ",", &save); pat != NULL;
	    pat = strtok_r(NULL, ",", &save)) {
		if (pat[0] == '|') {
			hashed = 1;
			continue;
		}
		if (pat[0] == '!') {
			if (gc_glob(pat + 1, name))
				return 0;
			continue;
		}
		if (gc_glob(pat, name))
			match = 1;
	}
	return match ? 1 : (hashed ? -1 : 0);
}

/*
 * The ssh host key against the owner's known_hosts and the system's
 * (plain host names only: hashed entries are not read).  libgit2 1.5 does
 * not check them itself.
 */
int
gc_certificate_check(git_cert *cert, int valid, const char *host, void *payload)
{
	const git_cert_hostkey	*hk = (const git_cert_hostkey *)cert;
	const char		*files[2];
	char			 path[PATH_MAX], name[512], *b64 = NULL, *line = NULL;
	char			*hosts, *type, *key, *save;
	size_t			 b64len, cap = 0, total;
	ssize_t			 n;
	FILE			*f;
	int			 i, m, found = 0, mismatch = 0, hashed = 0;

	if (cert->cert_type != GIT_CERT_HOSTKEY_LIBSSH2) {
		/* TLS: only to origin, and only when origin is https */
		if (!gc.has_origin_server ||
		    strcmp(gc.osrv.scheme, "https") != 0 ||
		    strcasecmp(gc.osrv.host, host) != 0) {
			snprintf(gc.refused, sizeof(gc.refused), "https://%s", host);
			git_error_set(GIT_ERROR_NET, "refusing TLS to %s", host);
			return GIT_ECERTIFICATE;
		}
		return GIT_PASSTHROUGH;	/* libgit2's own verification */
	}
	if (!(hk->type & GIT_CERT_SSH_RAW) || hk->hostkey_len == 0) {
		git_error_set_str(GIT_ERROR_SSH, "the ssh server's host key is "
		    "not available for checking");
		return GIT_ECERTIFICATE;
	}
	b64len = sodium_base64_ENCODED_LEN(hk->hostkey_len,
	    sodium_base64_VARIANT_ORIGINAL);
	if ((b64 = malloc(b64len)) == NULL)
		fatal("%s", __func__);
	sodium_bin2base64(b64, b64len, (const unsigned char *)hk->hostkey,
	    hk->hostkey_len, sodium_base64_VARIANT_ORIGINAL);
	gc_known_host_name(host, name, sizeof(name));
	if ((size_t)snprintf(path, sizeof(path), "%s/.ssh/known_hosts",
	    gc.home) >= sizeof(path))
		path[0] = '\0';
	files[0] = path;
	files[1] = "/etc/ssh/ssh_known_hosts";
	for (i = 0; i < 2 && !found; i++) {
		if ((f = fopen(files[i], "re")) == NULL)
			continue;
		total = 0;
		while (!found && (n = getline(&line, &cap, f)) != -1) {
			if ((total += n) > GC_KNOWN_HOSTS_MAX)
				break;
			save = NULL;
			if ((hosts = strtok_r(line, " \t\r\n", &save)) == NULL ||
			    hosts[0] == '#')
				continue;
			if (hosts[0] == '@') {
				int revoked = strcmp(hosts, "@revoked") == 0;

				if ((hosts = strtok_r(NULL, " \t\r\n", &save)) == NULL ||
				    (type = strtok_r(NULL, " \t\r\n", &save)) == NULL ||
				    (key = strtok_r(NULL, " \t\r\n", &save)) == NULL)
					continue;
				if (revoked && strcmp(key, b64) == 0) {
					mismatch = 1;
					break;
				}
				continue;	/* @cert-authority: not supported */
			}
			if ((type = strtok_r(NULL, " \t\r\n", &save)) == NULL ||
			    (key = strtok_r(NULL, " \t\r\n", &save)) == NULL)
				continue;
			if ((m = gc_known_host_match(hosts, name)) == -1)
				hashed = 1;
			if (m != 1)
				continue;
			if (strcmp(key, b64) == 0)
				found = 1;
			else
				mismatch = 1;
		}
		fclose(f);
	}
	free(line);
	free(b64);
	if (found && !mismatch)
		return 0;
	if (mismatch)
		git_error_set(GIT_ERROR_SSH, "the host key of %s does not match "
		    "known_hosts (or is revoked): refusing to connect", name);
	else
		git_error_set(GIT_ERROR_SSH, "the host key of %s is not in %s or "
		    "/etc/ssh/ssh_known_hosts%s: add it with ssh-keyscan", name,
		    path, hashed ? " (hashed entries are not read)" : "");
	return GIT_ECERTIFICATE;
}
