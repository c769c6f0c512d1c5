/*
 * Copyright (c) 2024 The davit authors
 *
 * Permission to use, copy, modify, and distribute this software for any
 * purpose with or without fee is hereby granted, provided that the above
 * copyright notice and this permission notice appear in all copies.
 *
 * THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES
 * WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF
 * MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR
 * ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES
 * WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN
 * ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF
 * OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.
 */

/*
 * davit's configuration. Every DAVIT_ key is one row of config_keys[]:
 * its type selects a validator, off says where it lands in struct
 * davit_config, def is its default written as it would be in the file (and
 * run through the same validator), min/max bound CT_INT keys.
 *
 * To add a key: add the field to struct davit_config (config.h), one row
 * here, and a line to .env.example. A new kind of value needs a CT_ type and
 * a case in config_set(). String-typed keys are freed (and wiped) by
 * config_free() through the table, nothing else to do.
 *
 * Error messages name the file, the line and the key but never the value:
 * most validators return a constant string, the few that format one only do
 * so for non-secret keys.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <sodium.h>

#include "config.h"
#include "argv.h"
#include "envfile.h"
#include "log.h"

#ifndef nitems
#define nitems(_a)	(sizeof((_a)) / sizeof((_a)[0]))
#endif

#define CONFIG_PREFIX		"DAVIT_"
#define CONFIG_MAX_URL		2048
#define CONFIG_MAX_BRANCH	200
#define CONFIG_MAX_USER		32
#define CONFIG_MAX_LISTEN	PROTO_LISTEN_MAX	/* [v6] or a 253-byte host, :port */
#define CONFIG_MAX_PORT		65535
#define CONFIG_MAX_GITHUB_REPO	256
#define CONFIG_MAX_CIDRS	32	/* the frontend's FE_MAX_PROXIES */
#define CONFIG_MAX_APP_ID	63	/* JWT issuer: App ID or client ID */
#define CONFIG_MAX_ID_DIGITS	19	/* an installation ID, positive int64 */
#define CONFIG_MAX_STATUS_CONTEXT 100
#define CONFIG_MAX_INT_DIGITS	20
#define CONFIG_SUN_PATH	sizeof(((struct sockaddr_un *)NULL)->sun_path)
#define CONFIG_MIN_WEBHOOK_SECRET 16	/* bytes; GitHub allows short ones, we do not */
#define CONFIG_FILE_MODE_MASK	(S_IRWXG | S_IRWXO)	/* none of these may be set */

#define CONFIG_PWHASH_ALG	crypto_pwhash_ALG_ARGON2ID13
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
/* keep the fuzzer fast: argon2id at its minimum cost, never in production */
#define CONFIG_PWHASH_OPS	crypto_pwhash_argon2id_OPSLIMIT_MIN
#define CONFIG_PWHASH_MEM	crypto_pwhash_argon2id_MEMLIMIT_MIN
#else
#define CONFIG_PWHASH_OPS	crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE
#define CONFIG_PWHASH_MEM	crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE
#endif

enum config_type {
	CT_PASSWORD,		/* plaintext, hashed into password_hash */
	CT_PWHASH,		/* "$argon2id$..." */
	CT_SECRET,		/* opaque, no control characters */
	CT_ABSPATH,		/* absolute path */
	CT_PATH,		/* absolute or relative to the workdir */
	CT_INT,			/* [min, max], or 0 with CF_ZERO_OK */
	CT_BOOL,		/* 0/1/true/false/yes/no */
	CT_SERVICES,		/* comma-separated service names */
	CT_REPO_URL,		/* git remote: URL or user@host:path */
	CT_HTTP_URL,		/* http:// or https:// */
	CT_USER,		/* a user name */
	CT_LISTEN,		/* host:port or [v6]:port */
	CT_BRANCH,		/* git branch name */
	CT_PROJECT,		/* compose project name */
	CT_GITHUB_REPO,		/* owner/name */
	CT_COMMAND,		/* compose command */
	CT_CIDRS,		/* comma list of addresses and CIDRs */
	CT_APP_ID,		/* GitHub App ID (digits) or client ID (Iv...) */
	CT_ID,			/* a positive decimal ID, kept as a string */
	CT_API_URL,		/* https://, or http:// to a loopback host */
	CT_LABEL,		/* printable text, no control characters */
	CT_PNAME		/* a davit project name: [a-z0-9][a-z0-9-]{0,31} */
};

#define CF_SECRET	0x01	/* never logged, wiped when freed */
#define CF_REQUIRED	0x02	/* must be set, and not to "" */
#define CF_ZERO_OK	0x04	/* CT_INT: 0 is valid besides min..max */
#define CF_SOCKET	0x08	/* CT_ABSPATH: must fit in sun_path */
#define CF_PROJECT	0x10	/* a project's key: NAME.env's, or the main file's in single-project mode */
#define CF_PROJECT_DEF	0x20	/* CF_PROJECT that the main file may give all projects in multi-project mode */

#define NO_OFF		((size_t)-1)
#define OFF(_f)		offsetof(struct davit_config, _f)

struct config_key {
	const char		*name;
	enum config_type	 type;
	size_t			 off;	/* in struct davit_config */
	const char		*def;	/* default, as in a file */
	long long		 min;
	long long		 max;
	int			 flags;
};

static const struct config_key config_keys[] = {
	/* name, type, field,
	    default, min, max, flags */
	{ "DAVIT_PASSWORD", CT_PASSWORD, NO_OFF,
	    NULL, 0, 0, CF_SECRET },
	{ "DAVIT_PASSWORD_HASH", CT_PWHASH, OFF(password_hash),
	    NULL, 0, 0, CF_SECRET },
	{ "DAVIT_GITHUB_TOKEN", CT_SECRET, OFF(github_token),
	    NULL, 0, 0, CF_SECRET | CF_PROJECT },
	{ "DAVIT_WEBHOOK_SECRET", CT_SECRET, OFF(webhook_secret),
	    NULL, CONFIG_MIN_WEBHOOK_SECRET, 0, CF_SECRET | CF_PROJECT },
	{ "DAVIT_REPO_URL", CT_REPO_URL, OFF(repo_url),
	    NULL, 0, 0, CF_PROJECT },
	{ "DAVIT_BRANCH", CT_BRANCH, OFF(branch),
	    "main", 0, 0, CF_PROJECT },
	{ "DAVIT_WORKDIR", CT_ABSPATH, OFF(workdir),
	    NULL, 0, 0, CF_REQUIRED | CF_PROJECT },
	{ "DAVIT_SERVICES", CT_SERVICES, OFF(services),
	    NULL, 0, 0, CF_REQUIRED | CF_PROJECT },
	{ "DAVIT_COMPOSE_PROJECT", CT_PROJECT, OFF(compose_project),
	    NULL, 0, 0, CF_PROJECT },	/* default: from workdir */
	{ "DAVIT_COMPOSE_FILE", CT_PATH, OFF(compose_file),
	    NULL, 0, 0, CF_PROJECT },
	{ "DAVIT_COMPOSE_COMMAND", CT_COMMAND, OFF(compose_command),
	    NULL, 0, 0, 0 },
	{ "DAVIT_DOCKER_SOCKET", CT_ABSPATH, OFF(docker_socket),
	    "/var/run/docker.sock", 0, 0, CF_SOCKET },
	{ "DAVIT_LISTEN", CT_LISTEN, OFF(listen),
	    "127.0.0.1:8080", 0, 0, 0 },
	{ "DAVIT_SOCKET", CT_ABSPATH, OFF(socket_path),
	    PROTO_DEFAULT_SOCKET, 0, 0, CF_SOCKET },
	{ "DAVIT_USER", CT_USER, OFF(user),
	    PROTO_DEFAULT_USER, 0, 0, 0 },
	{ "DAVIT_AUDIT_LOG", CT_ABSPATH, OFF(audit_log),
	    "/var/log/davit/audit.jsonl", 0, 0, 0 },
	{ "DAVIT_AUDIT_MAX", CT_INT, OFF(audit_max),
	    "67108864", 65536, 1073741824, 0 },	/* bytes: 64 MiB, 64 KiB..1 GiB */
	{ "DAVIT_NOTIFY_URL", CT_HTTP_URL, OFF(notify_url),
	    NULL, 0, 0, CF_PROJECT | CF_PROJECT_DEF },
	{ "DAVIT_GITHUB_REPO", CT_GITHUB_REPO, OFF(github_repo),
	    NULL, 0, 0, CF_PROJECT },	/* default: from repo_url */
	/* GitHub App and commit statuses: checked together in config_github() */
	{ "DAVIT_GITHUB_APP_ID", CT_APP_ID, OFF(github_app_id),
	    NULL, 0, 0, CF_PROJECT },
	{ "DAVIT_GITHUB_APP_KEY", CT_ABSPATH, OFF(github_app_key),
	    NULL, 0, 0, CF_PROJECT },
	{ "DAVIT_GITHUB_INSTALLATION_ID", CT_ID, OFF(github_installation_id),
	    NULL, 0, 0, CF_PROJECT },	/* default: found by repository */
	{ "DAVIT_GITHUB_API_URL", CT_API_URL, OFF(github_api_url),
	    "https://api.github.com", 0, 0, 0 },
	{ "DAVIT_GITHUB_CA_FILE", CT_ABSPATH, OFF(github_ca_file),
	    NULL, 0, 0, 0 },
	{ "DAVIT_GITHUB_STATUS", CT_BOOL, OFF(github_status),
	    "0", 0, 0, CF_PROJECT },
	{ "DAVIT_GITHUB_STATUS_CONTEXT", CT_LABEL, OFF(github_status_context),
	    "davit/deploy", 0, CONFIG_MAX_STATUS_CONTEXT, CF_PROJECT },
	{ "DAVIT_PUBLIC_URL", CT_HTTP_URL, OFF(public_url),
	    NULL, 0, 0, 0 },
	{ "DAVIT_STATE_DIR", CT_ABSPATH, OFF(state_dir),
	    "/var/lib/davit", 0, 0, 0 },
	{ "DAVIT_WWW_DIR", CT_ABSPATH, OFF(www_dir),
	    NULL, 0, 0, 0 },
	{ "DAVIT_STOP_TIMEOUT", CT_INT, OFF(stop_timeout),
	    "10", 0, 3600, 0 },
	{ "DAVIT_JOB_TIMEOUT", CT_INT, OFF(job_timeout),
	    "1800", 1, 86400, 0 },
	{ "DAVIT_POLL_INTERVAL", CT_INT, OFF(poll_interval),
	    "300", 10, 86400, CF_ZERO_OK | CF_PROJECT },
	{ "DAVIT_DEPLOY_VERIFY", CT_INT, OFF(deploy_verify),
	    "60", 0, 3600, CF_PROJECT },
	/* releases (backend/release.c, rollback.c): checked in config_deploy_run() */
	{ "DAVIT_KEEP_RELEASES", CT_INT, OFF(keep_releases),
	    "5", 1, CONFIG_MAX_KEEP_RELEASES, CF_PROJECT },
	{ "DAVIT_ROLLBACK", CT_BOOL, OFF(rollback),
	    "1", 0, 0, CF_PROJECT },
	{ "DAVIT_DEPLOY_RUN", CT_LABEL, OFF(deploy_run),
	    NULL, 0, ARGV_MAX_LEN, CF_PROJECT },
	{ "DAVIT_NOTIFY_DOCKER_DOWN", CT_INT, OFF(notify_docker_down),
	    "60", 1, 86400, CF_ZERO_OK },
	{ "DAVIT_SESSION_IDLE", CT_INT, OFF(session_idle),
	    PROTO_SESSION_IDLE_DEF, PROTO_SESSION_IDLE_MIN,
	    PROTO_SESSION_IDLE_MAX, 0 },
	{ "DAVIT_SESSION_MAX", CT_INT, OFF(session_max),
	    PROTO_SESSION_MAX_DEF, PROTO_SESSION_MAX_MIN,
	    PROTO_SESSION_MAX_MAX, 0 },
	{ "DAVIT_COOKIE_SECURE", CT_BOOL, OFF(cookie_secure),
	    "0", 0, 0, 0 },
	{ "DAVIT_TRUSTED_PROXIES", CT_CIDRS, OFF(trusted_proxies),
	    NULL, 0, 0, 0 },
	/* HTTPS: both or neither; root's files, checked by the backend */
	{ "DAVIT_TLS_CERT", CT_ABSPATH, OFF(tls_cert),
	    NULL, 0, 0, 0 },
	{ "DAVIT_TLS_KEY", CT_ABSPATH, OFF(tls_key),
	    NULL, 0, 0, 0 },
	/* several projects (backend/project.c) */
	{ "DAVIT_PROJECT", CT_PNAME, OFF(project),
	    NULL, 0, 0, 0 },	/* default: from the workdir */
	{ "DAVIT_PROJECTS_DIR", CT_ABSPATH, OFF(projects_dir),
	    CONFIG_PROJECTS_DIR, 0, 0, 0 },
	{ "DAVIT_MAX_PARALLEL", CT_INT, OFF(max_parallel),
	    "2", 1, CONFIG_MAX_PARALLEL, 0 },
};

#define CONFIG_NKEYS	nitems(config_keys)
_Static_assert(nitems(config_keys) <= CONFIG_MAX_KEYS,
    "struct davit_config's key_src[] is too small");

enum config_scope {
	CONFIG_SCOPE_MAIN,	/* the main file: every key, or the globals */
	CONFIG_SCOPE_PROJECT	/* DAVIT_PROJECTS_DIR/NAME.env: project keys */
};

struct config_ctx {
	const char		*path;
	enum config_scope	 scope;
	const struct davit_config *main;	/* SCOPE_PROJECT: the globals */
	struct davit_config	*cfg;
	char			*password;	/* plaintext, wiped */
	int			 seen[CONFIG_NKEYS];	/* line, or 0 */
	int			 set[CONFIG_NKEYS];	/* valued */
	int			 bad[CONFIG_NKEYS];	/* last value refused */
	struct config_errors	*errs;
	char			 why[CONFIG_ERR_LEN]; /* no secrets */
};

static const struct config_key	*config_find(const char *, size_t *);
static int	 is_string_type(enum config_type);
static char	**config_slot(struct davit_config *,
		    const struct config_key *);
static void	 wipefree(char *);
static char	*secret_dup(const char *, size_t);
static void	 secret_free(char *);
static char	*value_dup(const struct config_key *, const char *, size_t);
static void	 value_free(const struct config_key *, char *);
static int	 has_ctl(const char *, size_t);
static int	 has_blank_or_ctl(const char *, size_t);
static int	 is_alnum(char);
static int	 is_hostchar(char);
static int	 is_ghchar(char);
static int	 ends_with(const char *, size_t, const char *);
static const char	*v_abspath(const struct config_key *, const char *,
		    size_t, struct config_ctx *);
static const char	*v_path(const char *, size_t);
static const char	*v_secret(const struct config_key *, const char *,
		    size_t, struct config_ctx *);
static const char	*v_pwhash(const char *, size_t);
static const char	*v_url_authority(const char *, size_t);
static const char	*v_repo_url(const char *, size_t);
static const char	*v_http_url(const char *, size_t);
static const char	*v_user(const char *, size_t);
static const char	*v_listen(const char *, size_t);
static const char	*v_branch(const char *, size_t);
static const char	*v_project(const char *, size_t);
static const char	*v_github_repo(const char *, size_t);
static const char	*v_command(const char *, size_t);
static const char	*v_cidrs(const char *, size_t);
static const char	*v_app_id(const char *, size_t);
static const char	*v_id(const char *, size_t);
static const char	*v_api_url(const char *, size_t);
static const char	*v_label(const struct config_key *, const char *,
		    size_t, struct config_ctx *);
static void	 config_github(struct config_ctx *);
static int	 config_key_applies(const struct config_ctx *,
		    const struct config_key *);
static void	 config_scope_check(struct config_ctx *);
static void	 config_inherit(struct config_ctx *);
static void	 config_deploy_run(struct config_ctx *);
static void	 config_password_fp(const char *, unsigned char *);
static const char	*v_int(const struct config_key *, const char *, size_t,
		    struct config_ctx *, int *);
static const char	*v_bool(const char *, size_t, int *);
static const char	*v_services(const char *, size_t, struct config_ctx *);
static const char	*config_set(struct config_ctx *,
		    const struct config_key *, const char *, size_t);
static void	 config_unset(struct config_ctx *,
		    const struct config_key *);
static void	 config_apply(struct config_ctx *, const struct config_key *,
		    size_t, const char *, size_t, int);
static int	 config_cb(const char *, const char *, size_t, int, void *,
		    char *, size_t);
static void	 config_environ(struct config_ctx *, char *const *);
static void	 config_err(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static void	 config_adderr(struct config_errors *, const char *, int,
		    const char *, const char *, ...)
		    __attribute__((format(printf, 5, 6)));
static void	 config_first_err(const struct config_errors *, char *,
		    size_t);
static int	 config_parse_ctx(struct config_ctx *, const char *,
		    size_t, char *const *);
static void	 config_file_private(struct config_errors *, const char *,
		    const struct stat *);
static void	 config_outside_workdir(struct config_errors *,
		    const char *, const char *);
static void	 config_ctx_init(struct config_ctx *, const char *,
		    struct davit_config *, struct config_errors *);
static int	 config_ctx_done(struct config_ctx *);
static void	 config_value_str(const struct davit_config *,
		    const struct config_key *, char *, size_t);
static char	*derive_project(const char *);
static char	*derive_github_repo(const char *);

static const struct config_key *
config_find(const char *name, size_t *idx)
{
	size_t	 i;

	for (i = 0; i < CONFIG_NKEYS; i++) {
		if (strcmp(config_keys[i].name, name) == 0) {
			if (idx != NULL)
				*idx = i;
			return (&config_keys[i]);
		}
	}
	return (NULL);
}

static int
is_string_type(enum config_type type)
{
	switch (type) {
	case CT_PASSWORD:
	case CT_INT:
	case CT_BOOL:
	case CT_SERVICES:
		return (0);
	default:
		return (1);
	}
}

static char **
config_slot(struct davit_config *cfg, const struct config_key *k)
{
	return ((char **)(void *)((char *)cfg + k->off));
}

static void
wipefree(char *s)
{
	if (s == NULL)
		return;
	sodium_memzero(s, strlen(s));
	free(s);
}

/*
 * Secrets live in sodium_malloc'd memory: guard pages around them, locked
 * out of swap, out of core dumps, wiped by sodium_free(); config_protect()
 * makes them read-only once loaded.
 */
static char *
secret_dup(const char *s, size_t len)
{
	char	*p;

	if ((p = sodium_malloc(len + 1)) == NULL)
		return (NULL);
	memcpy(p, s, len);
	p[len] = '\0';
	return (p);
}

static void
secret_free(char *p)
{
	if (p != NULL)
		sodium_free(p);
}

static char *
value_dup(const struct config_key *k, const char *val, size_t len)
{
	return ((k->flags & CF_SECRET) ? secret_dup(val, len) :
	    strndup(val, len));
}

static void
value_free(const struct config_key *k, char *p)
{
	if (k->flags & CF_SECRET)
		secret_free(p);
	else
		wipefree(p);
}

static void
config_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* one more problem; past CONFIG_MAX_ERRORS only counted */
static void
config_adderr(struct config_errors *errs, const char *file, int line,
    const char *key, const char *fmt, ...)
{
	struct config_error	*e;
	va_list			 ap;

	if (errs->n >= CONFIG_MAX_ERRORS) {
		errs->dropped++;
		return;
	}
	e = &errs->e[errs->n++];
	memset(e, 0, sizeof(*e));
	(void)snprintf(e->file, sizeof(e->file), "%s", file != NULL ? file :
	    "(config)");
	e->line = line;
	(void)snprintf(e->key, sizeof(e->key), "%s", key != NULL ? key : "");
	va_start(ap, fmt);
	(void)vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
}

void
config_error_str(const struct config_error *e, char *out, size_t outlen)
{
	char	 line[32] = "";

	if (out == NULL || outlen == 0)
		return;
	if (e->line > 0)
		(void)snprintf(line, sizeof(line), ":%d", e->line);
	(void)snprintf(out, outlen, "%s%s: %s%s%s", e->file, line, e->key,
	    e->key[0] != '\0' ? ": " : "", e->msg);
}

static void
config_first_err(const struct config_errors *errs, char *err, size_t errlen)
{
	if (err == NULL || errlen == 0)
		return;
	err[0] = '\0';
	if (errs->n > 0)
		config_error_str(&errs->e[0], err, errlen);
}

static int
has_ctl(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return (1);
	return (0);
}

static int
has_blank_or_ctl(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f)
			return (1);
	return (0);
}

static int
is_alnum(char c)
{
	return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'));
}

static int
is_hostchar(char c)
{
	return (is_alnum(c) || c == '.' || c == '-');
}

static int
is_ghchar(char c)
{
	return (is_alnum(c) || c == '_' || c == '.' || c == '-');
}

static int
ends_with(const char *s, size_t len, const char *suffix)
{
	size_t	 slen = strlen(suffix);

	return (len >= slen && memcmp(s + len - slen, suffix, slen) == 0);
}

static const char *
v_abspath(const struct config_key *k, const char *val, size_t len,
    struct config_ctx *ctx)
{
	if (val[0] != '/')
		return ("must be an absolute path");
	if (has_ctl(val, len))
		return ("must not contain control characters");
	if (len >= PATH_MAX)
		return ("path too long");
	if ((k->flags & CF_SOCKET) && len >= CONFIG_SUN_PATH) {
		(void)snprintf(ctx->why, sizeof(ctx->why),
		    "socket path too long (max %zu bytes)",
		    (size_t)CONFIG_SUN_PATH - 1);
		return (ctx->why);
	}
	return (NULL);
}

static const char *
v_path(const char *val, size_t len)
{
	if (has_ctl(val, len))
		return ("must not contain control characters");
	if (val[0] == '-')
		return ("must not start with '-'");
	if (len >= PATH_MAX)
		return ("path too long");
	return (NULL);
}

static const char *
v_secret(const struct config_key *k, const char *val, size_t len,
    struct config_ctx *ctx)
{
	if (has_ctl(val, len))
		return ("must not contain control characters");
	if (len < (size_t)k->min) {
		/* the length of a secret is not the secret: only the bound */
		(void)snprintf(ctx->why, sizeof(ctx->why),
		    "too short, at least %lld bytes (openssl rand -hex 32 "
		    "makes one)", k->min);
		return (ctx->why);
	}
	return (NULL);
}

static const char *
v_pwhash(const char *val, size_t len)
{
	if (len < strlen(crypto_pwhash_argon2id_STRPREFIX) ||
	    strncmp(val, crypto_pwhash_argon2id_STRPREFIX,
	    strlen(crypto_pwhash_argon2id_STRPREFIX)) != 0)
		return ("must be an argon2id hash (starting with $argon2id$)");
	if (len >= crypto_pwhash_STRBYTES || has_blank_or_ctl(val, len) ||
	    crypto_pwhash_str_needs_rehash(val, CONFIG_PWHASH_OPS,
	    CONFIG_PWHASH_MEM) == -1)
		return ("not a valid argon2id hash string");
	return (NULL);
}

/* "host", "user@host", "user:pass@host:port" up to the first '/' */
static const char *
v_url_authority(const char *s, size_t len)
{
	const char	*slash, *host, *at;
	size_t		 alen;

	slash = memchr(s, '/', len);
	alen = slash != NULL ? (size_t)(slash - s) : len;
	if (alen == 0)
		return ("URL has no host");
	host = s;
	if ((at = memrchr(s, '@', alen)) != NULL)
		host = at + 1;
	if (host == s + alen)
		return ("URL has no host");
	if (host[0] == '-')
		return ("URL host must not start with '-'");
	return (NULL);
}

static const char *
v_repo_url(const char *val, size_t len)
{
	static const char	*schemes[] = {
		"https://", "http://", "ssh://", "file://"
	};
	const char		*at, *colon;
	size_t			 i, slen;

	if (len > CONFIG_MAX_URL)
		return ("URL too long (max 2048 bytes)");
	if (has_blank_or_ctl(val, len))
		return ("must not contain blanks or control characters");
	if (val[0] == '-')
		return ("must not start with '-'");
	for (i = 0; i < nitems(schemes); i++) {
		slen = strlen(schemes[i]);
		if (len < slen || strncmp(val, schemes[i], slen) != 0)
			continue;
		if (strcmp(schemes[i], "file://") == 0) {
			if (len == slen || val[slen] != '/')
				return ("file:// URL needs an absolute path");
			return (NULL);
		}
		return (v_url_authority(val + slen, len - slen));
	}
	if (memmem(val, len, "://", 3) != NULL)
		goto bad;

	/* scp-like: user@host:path */
	if ((at = memchr(val, '@', len)) == NULL || at == val)
		goto bad;
	for (i = 0; val + i < at; i++)
		if (!is_ghchar(val[i]))
			goto bad;
	if ((colon = memchr(at, ':', len - (size_t)(at - val))) == NULL ||
	    colon == at + 1 || at[1] == '-')
		goto bad;
	for (i = 1; at + i < colon; i++)
		if (!is_hostchar(at[i]))
			goto bad;
	if (colon == val + len - 1)
		goto bad;
	return (NULL);
 bad:
	return ("must be an https://, http://, ssh://, file:// URL or "
	    "user@host:path");
}

static const char *
v_http_url(const char *val, size_t len)
{
	size_t	 off;

	if (len > CONFIG_MAX_URL)
		return ("URL too long (max 2048 bytes)");
	if (has_blank_or_ctl(val, len))
		return ("must not contain blanks or control characters");
	if (strncmp(val, "https://", strlen("https://")) == 0)
		off = strlen("https://");
	else if (strncmp(val, "http://", strlen("http://")) == 0)
		off = strlen("http://");
	else
		return ("must be an http:// or https:// URL");
	return (v_url_authority(val + off, len - off));
}

static const char *
v_user(const char *val, size_t len)
{
	size_t	 i;

	if (len > CONFIG_MAX_USER)
		return ("user name too long (max 32)");
	if (!((val[0] >= 'a' && val[0] <= 'z') || val[0] == '_'))
		return ("invalid user name");
	for (i = 1; i < len; i++)
		if (!((val[i] >= 'a' && val[i] <= 'z') ||
		    (val[i] >= '0' && val[i] <= '9') ||
		    val[i] == '_' || val[i] == '-'))
			return ("invalid user name");
	return (NULL);
}

static const char *
v_listen(const char *val, size_t len)
{
	char		 host[INET6_ADDRSTRLEN];
	struct in6_addr	 in6;
	const char	*port, *end;
	size_t		 hlen, i;
	long		 n;

	if (len > CONFIG_MAX_LISTEN)
		return ("too long");
	if (val[0] == '[') {
		if ((end = memchr(val, ']', len)) == NULL)
			return ("must be host:port or [ipv6]:port");
		hlen = (size_t)(end - val) - 1;
		if (hlen == 0 || hlen >= sizeof(host))
			return ("invalid IPv6 address");
		memcpy(host, val + 1, hlen);
		host[hlen] = '\0';
		if (inet_pton(AF_INET6, host, &in6) != 1)
			return ("invalid IPv6 address");
		if (end[1] != ':')
			return ("must be host:port or [ipv6]:port");
		port = end + 2;
	} else {
		if ((end = memchr(val, ':', len)) == NULL)
			return ("must be host:port or [ipv6]:port");
		if (memchr(end + 1, ':', len - (size_t)(end - val) - 1) != NULL)
			return ("IPv6 addresses must be in brackets");
		if (end == val)
			return ("missing host");
		if (val[0] == '-')
			return ("invalid host");
		for (i = 0; val + i < end; i++)
			if (!is_hostchar(val[i]))
				return ("invalid host");
		port = end + 1;
	}
	hlen = len - (size_t)(port - val);
	if (hlen == 0 || hlen > 5)
		return ("port must be 1..65535");
	for (i = 0, n = 0; i < hlen; i++) {
		if (port[i] < '0' || port[i] > '9')
			return ("port must be 1..65535");
		n = n * 10 + (port[i] - '0');
	}
	if (n < 1 || n > CONFIG_MAX_PORT)
		return ("port must be 1..65535");
	return (NULL);
}

static const char *
v_branch(const char *val, size_t len)
{
	size_t	 i;

	if (len > CONFIG_MAX_BRANCH)
		return ("branch name too long (max 200)");
	if (val[0] == '-')
		return ("branch name must not start with '-'");
	if (val[0] == '/' || val[len - 1] == '/' || val[len - 1] == '.')
		return ("branch name must not start with '/' or end with "
		    "'/' or '.'");
	if (ends_with(val, len, ".lock"))
		return ("branch name must not end with .lock");
	if (len == 1 && val[0] == '@')
		return ("invalid branch name");
	for (i = 0; i < len; i++) {
		if ((unsigned char)val[i] <= 0x20 || val[i] == 0x7f)
			return ("branch name must not contain blanks or "
			    "control characters");
		if (strchr("~^:?*[\\", val[i]) != NULL)
			return ("branch name must not contain any of ~^:?*[\\");
		if (i + 1 < len && val[i] == '.' && val[i + 1] == '.')
			return ("branch name must not contain \"..\"");
		if (i + 1 < len && val[i] == '@' && val[i + 1] == '{')
			return ("branch name must not contain \"@{\"");
		if (i + 1 < len && val[i] == '/' && val[i + 1] == '/')
			return ("branch name must not contain \"//\"");
		if (val[i] == '.' && (i == 0 || val[i - 1] == '/'))
			return ("branch name components must not start "
			    "with '.'");
		if (val[i] == '/' && ends_with(val, i, ".lock"))
			return ("branch name components must not end "
			    "with .lock");
	}
	return (NULL);
}

static const char *
v_project(const char *val, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++) {
		if ((val[i] >= 'a' && val[i] <= 'z') ||
		    (val[i] >= '0' && val[i] <= '9'))
			continue;
		if (i > 0 && (val[i] == '_' || val[i] == '-'))
			continue;
		return ("must match ^[a-z0-9][a-z0-9_-]*$");
	}
	return (NULL);
}

static const char *
v_github_repo(const char *val, size_t len)
{
	const char	*slash;
	size_t		 i, olen;

	if (len > CONFIG_MAX_GITHUB_REPO)
		return ("too long");
	for (i = 0; i < len; i++)
		if (!is_ghchar(val[i]) && val[i] != '/')
			goto bad;
	if ((slash = memchr(val, '/', len)) == NULL ||
	    memchr(slash + 1, '/', len - (size_t)(slash - val) - 1) != NULL)
		goto bad;
	olen = (size_t)(slash - val);
	if (olen == 0 || olen == len - 1)
		goto bad;
	if ((olen == 1 && val[0] == '.') ||
	    (olen == 2 && val[0] == '.' && val[1] == '.') ||
	    strcmp(slash + 1, ".") == 0 || strcmp(slash + 1, "..") == 0)
		goto bad;
	return (NULL);
 bad:
	return ("must be owner/name, each of [A-Za-z0-9_.-]");
}

/* the GitHub App keys' validators, together */
static const char *
v_app_id(const char *val, size_t len)
{
	size_t	 i, digits = 0;

	if (len > CONFIG_MAX_APP_ID)
		return ("too long");
	for (i = 0; i < len; i++) {
		if (val[i] >= '0' && val[i] <= '9')
			digits++;
		else if (!is_alnum(val[i]) && val[i] != '.')
			goto bad;
	}
	if (digits == len && val[0] != '0')
		return (NULL);
	if (digits != len && len > 2 && strncmp(val, "Iv", 2) == 0)
		return (NULL);
 bad:
	return ("must be the App's numeric ID or its client ID (Iv...)");
}

static const char *
v_id(const char *val, size_t len)
{
	size_t	 i;

	if (len > CONFIG_MAX_ID_DIGITS || val[0] == '0')
		goto bad;
	for (i = 0; i < len; i++)
		if (val[i] < '0' || val[i] > '9')
			goto bad;
	return (NULL);
 bad:
	return ("must be a positive number");
}

/* https://HOST[:PORT][/PATH], or http:// to 127.0.0.0/8, localhost or [::1] */
static const char *
v_api_url(const char *val, size_t len)
{
	static const char	*loopback[] = { "localhost", "[::1]" };
	const char		*host, *end;
	size_t			 hlen, i;
	int			 https = 0;

	if (len > CONFIG_MAX_URL)
		return ("URL too long (max 2048 bytes)");
	if (has_blank_or_ctl(val, len))
		return ("must not contain blanks or control characters");
	if (strncmp(val, "https://", strlen("https://")) == 0) {
		host = val + strlen("https://");
		https = 1;
	} else if (strncmp(val, "http://", strlen("http://")) == 0)
		host = val + strlen("http://");
	else
		return ("must be an https:// URL");
	end = host + strcspn(host, "/");
	if (memchr(host, '@', (size_t)(end - host)) != NULL)
		return ("must not hold a user or password");
	if (strpbrk(val, "?#") != NULL)
		return ("must not have a query or fragment");
	if (end == host || host[0] == '-' || host[0] == ':')
		return ("URL has no host");
	if (https)
		return (NULL);
	/* http: only where nobody can listen in */
	hlen = (size_t)(end - host);
	if (host[0] == '[') {
		if (hlen >= 5 && memcmp(host, "[::1]", 5) == 0 &&
		    (hlen == 5 || host[5] == ':'))
			return (NULL);
	} else {
		hlen = strcspn(host, ":/");
		for (i = 0; i < nitems(loopback); i++)
			if (hlen == strlen(loopback[i]) &&
			    memcmp(host, loopback[i], hlen) == 0)
				return (NULL);
		if (hlen > 4 && memcmp(host, "127.", 4) == 0 &&
		    strspn(host, "0123456789.") == hlen)
			return (NULL);
	}
	return ("must be an https:// URL (http:// only to a loopback "
	    "address)");
}

static const char *
v_label(const struct config_key *k, const char *val, size_t len,
    struct config_ctx *ctx)
{
	if (has_ctl(val, len))
		return ("must not contain control characters");
	if ((long long)len > k->max) {
		(void)snprintf(ctx->why, sizeof(ctx->why), "too long (max %lld "
		    "bytes)", k->max);
		return (ctx->why);
	}
	return (NULL);
}

static const char *
v_command(const char *val, size_t len)
{
	const char	*sp;
	size_t		 plen;

	if (strcmp(val, "docker compose") == 0 ||
	    strcmp(val, "docker-compose") == 0)
		return (NULL);
	if (val[0] != '/')
		goto bad;
	sp = memchr(val, ' ', len);
	plen = sp != NULL ? (size_t)(sp - val) : len;
	if (sp != NULL && strcmp(sp, " compose") != 0)
		goto bad;
	if (plen < 2 || val[plen - 1] == '/' || has_blank_or_ctl(val, plen))
		goto bad;
	if (plen >= PATH_MAX)
		return ("path too long");
	return (NULL);
 bad:
	return ("must be \"docker compose\", \"docker-compose\" or an "
	    "absolute path, optionally followed by \" compose\"");
}

static const char *
v_int(const struct config_key *k, const char *val, size_t len,
    struct config_ctx *ctx, int *out)
{
	long long	 n;
	char		*ep;
	size_t		 i;

	for (i = 0; i < len; i++)
		if (!((val[i] >= '0' && val[i] <= '9') ||
		    (i == 0 && val[i] == '-' && len > 1)))
			goto bad;
	if (len > CONFIG_MAX_INT_DIGITS)
		goto bad;
	errno = 0;
	n = strtoll(val, &ep, 10);
	if (errno != 0 || ep != val + len)
		goto bad;
	if (n == 0 && (k->flags & CF_ZERO_OK)) {
		*out = 0;
		return (NULL);
	}
	if (n < k->min || n > k->max || n < INT_MIN || n > INT_MAX)
		goto bad;
	*out = (int)n;
	return (NULL);
 bad:
	(void)snprintf(ctx->why, sizeof(ctx->why),
	    "must be an integer from %lld to %lld%s", k->min, k->max,
	    (k->flags & CF_ZERO_OK) ? ", or 0" : "");
	return (ctx->why);
}

static const char *
v_bool(const char *val, size_t len, int *out)
{
	static const char	*yes[] = { "1", "true", "yes", "on" };
	static const char	*no[] = { "0", "false", "no", "off" };
	size_t			 i;

	for (i = 0; i < nitems(yes); i++) {
		if (strcasecmp(val, yes[i]) == 0) {
			*out = 1;
			return (NULL);
		}
		if (strcasecmp(val, no[i]) == 0) {
			*out = 0;
			return (NULL);
		}
	}
	return ("must be one of 0, 1, true, false, yes, no, on, off");
}

static const char *
v_services(const char *val, size_t len, struct config_ctx *ctx)
{
	struct davit_config	*cfg = ctx->cfg;
	char			*names[CONFIG_MAX_SERVICES];
	const char		*p, *end, *comma, *s, *e;
	const char		*why = NULL;
	size_t			 n = 0, i, item = 0;

	p = val;
	end = val + len;
	for (;;) {
		item++;
		comma = memchr(p, ',', (size_t)(end - p));
		s = p;
		e = comma != NULL ? comma : end;
		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (s == e) {
			(void)snprintf(ctx->why, sizeof(ctx->why),
			    "empty service name (item %zu)", item);
			why = ctx->why;
			goto fail;
		}
		if ((size_t)(e - s) > CONFIG_MAX_SERVICE_NAME) {
			(void)snprintf(ctx->why, sizeof(ctx->why),
			    "service name too long (item %zu, max %d)", item,
			    CONFIG_MAX_SERVICE_NAME);
			why = ctx->why;
			goto fail;
		}
		for (i = 0; s + i < e; i++) {
			if (is_alnum(s[i]) || (i > 0 &&
			    (s[i] == '_' || s[i] == '.' || s[i] == '-')))
				continue;
			(void)snprintf(ctx->why, sizeof(ctx->why),
			    "invalid service name (item %zu), must match "
			    "[a-zA-Z0-9][a-zA-Z0-9_.-]*", item);
			why = ctx->why;
			goto fail;
		}
		if (n == CONFIG_MAX_SERVICES) {
			(void)snprintf(ctx->why, sizeof(ctx->why),
			    "too many services (max %d)", CONFIG_MAX_SERVICES);
			why = ctx->why;
			goto fail;
		}
		for (i = 0; i < n; i++) {
			if (strlen(names[i]) == (size_t)(e - s) &&
			    memcmp(names[i], s, (size_t)(e - s)) == 0) {
				/* checked above: only [a-zA-Z0-9_.-] */
				(void)snprintf(ctx->why, sizeof(ctx->why),
				    "duplicate service name \"%s\"", names[i]);
				why = ctx->why;
				goto fail;
			}
		}
		if ((names[n] = strndup(s, (size_t)(e - s))) == NULL) {
			why = "out of memory";
			goto fail;
		}
		n++;
		if (comma == NULL)
			break;
		p = comma + 1;
	}

	for (i = 0; i < cfg->nservices; i++) {
		free(cfg->services[i]);
		cfg->services[i] = NULL;
	}
	for (i = 0; i < n; i++)
		cfg->services[i] = names[i];
	cfg->nservices = n;
	return (NULL);

 fail:
	for (i = 0; i < n; i++)
		free(names[i]);
	return (why);
}

/*
 * "10.0.0.1, 192.168.0.0/16, 2001:db8::/32": addresses and networks, at
 * most CONFIG_MAX_CIDRS, blanks around the commas allowed.
 */
static const char *
v_cidrs(const char *val, size_t len)
{
	char		 elem[INET6_ADDRSTRLEN + 5], *slash;
	unsigned char	 addr[sizeof(struct in6_addr)];
	const char	*p = val, *end = val + len, *e;
	size_t		 n = 0, elen, i;
	int		 bits, max;

	for (;;) {
		if ((e = memchr(p, ',', (size_t)(end - p))) == NULL)
			e = end;
		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		elen = (size_t)(e - p);
		while (elen > 0 && (p[elen - 1] == ' ' || p[elen - 1] == '\t'))
			elen--;
		if (elen == 0)
			return ("an empty element in the list");
		if (++n > CONFIG_MAX_CIDRS)
			return ("more than 32 addresses or networks");
		if (elen >= sizeof(elem))
			return ("not a list of addresses and CIDRs");
		memcpy(elem, p, elen);
		elem[elen] = '\0';
		if ((slash = strchr(elem, '/')) != NULL)
			*slash = '\0';
		if (inet_pton(AF_INET, elem, addr) == 1)
			max = 32;
		else if (inet_pton(AF_INET6, elem, addr) == 1)
			max = 128;
		else
			return ("not a list of addresses and CIDRs");
		if (slash != NULL) {
			if (slash[1] == '\0' || strlen(slash + 1) > 3)
				return ("bad prefix length");
			for (i = 1, bits = 0; slash[i] != '\0'; i++) {
				if (slash[i] < '0' || slash[i] > '9')
					return ("bad prefix length");
				bits = bits * 10 + (slash[i] - '0');
			}
			if (bits > max)
				return ("bad prefix length");
		}
		if (e == end)
			break;
		p = e + 1;
	}
	return (NULL);
}

/* Validates val (NUL-terminated, len > 0) and stores it. NULL or why not. */
static const char *
config_set(struct config_ctx *ctx, const struct config_key *k,
    const char *val, size_t len)
{
	struct davit_config	*cfg = ctx->cfg;
	const char		*why = NULL;
	char			**slot, *copy;
	int			 n;

	switch (k->type) {
	case CT_PASSWORD:
		if ((copy = secret_dup(val, len)) == NULL)
			return ("out of memory");
		secret_free(ctx->password);
		ctx->password = copy;
		return (NULL);
	case CT_INT:
		if ((why = v_int(k, val, len, ctx, &n)) == NULL)
			*(int *)(void *)((char *)cfg + k->off) = n;
		return (why);
	case CT_BOOL:
		if ((why = v_bool(val, len, &n)) == NULL)
			*(int *)(void *)((char *)cfg + k->off) = n;
		return (why);
	case CT_SERVICES:
		return (v_services(val, len, ctx));
	case CT_PWHASH:
		why = v_pwhash(val, len);
		break;
	case CT_SECRET:
		why = v_secret(k, val, len, ctx);
		break;
	case CT_ABSPATH:
		why = v_abspath(k, val, len, ctx);
		break;
	case CT_PATH:
		why = v_path(val, len);
		break;
	case CT_REPO_URL:
		why = v_repo_url(val, len);
		break;
	case CT_HTTP_URL:
		why = v_http_url(val, len);
		break;
	case CT_USER:
		why = v_user(val, len);
		break;
	case CT_LISTEN:
		why = v_listen(val, len);
		break;
	case CT_BRANCH:
		why = v_branch(val, len);
		break;
	case CT_PROJECT:
		why = v_project(val, len);
		break;
	case CT_GITHUB_REPO:
		why = v_github_repo(val, len);
		break;
	case CT_COMMAND:
		why = v_command(val, len);
		break;
	case CT_CIDRS:
		why = v_cidrs(val, len);
		break;
	case CT_APP_ID:
		why = v_app_id(val, len);
		break;
	case CT_ID:
		why = v_id(val, len);
		break;
	case CT_API_URL:
		why = v_api_url(val, len);
		break;
	case CT_LABEL:
		why = v_label(k, val, len, ctx);
		break;
	case CT_PNAME:
		why = config_project_name_valid(val) ? NULL :
		    "not a project name ([a-z0-9][a-z0-9-]{0,31})";
		break;
	}
	if (why != NULL)
		return (why);

	if ((copy = value_dup(k, val, len)) == NULL)
		return ("out of memory");
	slot = config_slot(cfg, k);
	value_free(k, *slot);
	*slot = copy;
	return (NULL);
}

/* Back to "not given": defaults are applied after the whole file. */
static void
config_unset(struct config_ctx *ctx, const struct config_key *k)
{
	struct davit_config	*cfg = ctx->cfg;
	char			**slot;
	size_t			 i;

	switch (k->type) {
	case CT_PASSWORD:
		secret_free(ctx->password);
		ctx->password = NULL;
		break;
	case CT_INT:
	case CT_BOOL:
		break;
	case CT_SERVICES:
		for (i = 0; i < cfg->nservices; i++) {
			free(cfg->services[i]);
			cfg->services[i] = NULL;
		}
		cfg->nservices = 0;
		break;
	default:
		slot = config_slot(cfg, k);
		value_free(k, *slot);
		*slot = NULL;
		break;
	}
}

/*
 * A value for k (row idx) from line (> 0) of the file or from the
 * environment (CONFIG_SRC_ENV): validated, stored, its source noted; a
 * problem is collected and the reading goes on.  The last one wins.
 */
static void
config_apply(struct config_ctx *ctx, const struct config_key *k, size_t idx,
    const char *value, size_t valuelen, int src)
{
	const char	*why, *file;
	int		 line;

	file = src == CONFIG_SRC_ENV ? CONFIG_ENV_NAME : ctx->path;
	line = src > 0 ? src : 0;
	ctx->seen[idx] = src == CONFIG_SRC_ENV ? -1 : src;
	ctx->bad[idx] = 0;
	if (valuelen == 0) {
		if (k->flags & CF_REQUIRED) {
			why = "must not be empty";
			goto fail;
		}
		config_unset(ctx, k);
		ctx->set[idx] = 0;
		ctx->cfg->key_src[idx] = CONFIG_SRC_DEFAULT;
		return;
	}
	if ((why = config_set(ctx, k, value, valuelen)) != NULL)
		goto fail;
	ctx->set[idx] = 1;
	ctx->cfg->key_src[idx] = src;
	return;

 fail:
	/* the earlier value, if any, is not kept: the key is in error */
	config_unset(ctx, k);
	ctx->set[idx] = 0;
	ctx->bad[idx] = 1;
	ctx->cfg->key_src[idx] = CONFIG_SRC_DEFAULT;
	config_adderr(ctx->errs, file, line, k->name, "%s", why);
}

static int
config_cb(const char *key, const char *value, size_t valuelen, int lineno,
    void *arg, char *err, size_t errlen)
{
	struct config_ctx	*ctx = arg;
	const struct config_key	*k;
	size_t			 idx;

	(void)err;
	(void)errlen;
	if (strncmp(key, CONFIG_PREFIX, strlen(CONFIG_PREFIX)) != 0)
		return (0);	/* compose's, not ours */
	if ((k = config_find(key, &idx)) == NULL) {
		log_warnx("%s:%d: unknown key %s, ignored", ctx->path, lineno,
		    key);
		return (0);
	}
	if (ctx->scope == CONFIG_SCOPE_PROJECT && !(k->flags & CF_PROJECT)) {
		config_adderr(ctx->errs, ctx->path, lineno, k->name, "global "
		    "key: put it in the main file");
		return (0);
	}
	if (ctx->seen[idx] > 0)
		log_warnx("%s:%d: %s was already set on line %d, the last one "
		    "wins", ctx->path, lineno, k->name, ctx->seen[idx]);
	config_apply(ctx, k, idx, value, valuelen, lineno);
	return (0);
}

/*
 * DAVIT_ variables of the environment override the file, as compose lets
 * the environment win over .env.  Names that are not keys are only noted
 * (-v): harnesses and shells carry DAVIT_-prefixed variables of their own.
 */
static void
config_environ(struct config_ctx *ctx, char *const *envp)
{
	const struct config_key	*k;
	const char		*eq;
	char			 name[ENVFILE_MAX_KEY + 1];
	size_t			 idx, nlen, vlen;

	for (; envp != NULL && *envp != NULL; envp++) {
		if (strncmp(*envp, CONFIG_PREFIX, strlen(CONFIG_PREFIX)) != 0 ||
		    (eq = strchr(*envp, '=')) == NULL)
			continue;
		nlen = (size_t)(eq - *envp);
		if (nlen >= sizeof(name))
			continue;
		memcpy(name, *envp, nlen);
		name[nlen] = '\0';
		if ((k = config_find(name, &idx)) == NULL) {
			log_debug("environment: %s is not a davit key, ignored",
			    name);
			continue;
		}
		vlen = strlen(eq + 1);
		if (vlen > CONFIG_MAX_VALUE) {
			config_unset(ctx, k);
			ctx->set[idx] = 0;
			ctx->seen[idx] = -1;
			ctx->bad[idx] = 1;
			ctx->cfg->key_src[idx] = CONFIG_SRC_DEFAULT;
			config_adderr(ctx->errs, CONFIG_ENV_NAME, 0, k->name,
			    "value too long (max %d bytes)", CONFIG_MAX_VALUE);
			continue;
		}
		if (ctx->seen[idx] > 0)
			log_debug("%s: the environment overrides %s:%d",
			    k->name, ctx->path, ctx->seen[idx]);
		config_apply(ctx, k, idx, eq + 1, vlen, CONFIG_SRC_ENV);
	}
}

/* basename(workdir) the way compose names a project; NULL if none is left */
static char *
derive_project(const char *workdir)
{
	const char	*end, *base;
	char		*out;
	size_t		 i, n = 0;
	char		 c;

	end = workdir + strlen(workdir);
	while (end > workdir && end[-1] == '/')
		end--;
	base = end;
	while (base > workdir && base[-1] != '/')
		base--;
	if ((out = malloc((size_t)(end - base) + 1)) == NULL)
		return (NULL);
	for (i = 0; base + i < end; i++) {
		c = base[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '_' || c == '-'))
			continue;
		if (n == 0 && (c == '_' || c == '-'))
			continue;	/* compose trims leading "_-" */
		out[n++] = c;
	}
	out[n] = '\0';
	if (n == 0) {
		free(out);
		return (NULL);
	}
	return (out);
}

/* "owner/name" from the last two path segments of a remote, or NULL */
static char *
derive_github_repo(const char *url)
{
	char		 buf[CONFIG_MAX_URL + 1];
	const char	*path, *p, *at;
	char		*name, *owner;
	size_t		 len;

	if ((p = strstr(url, "://")) != NULL) {
		if ((path = strchr(p + 3, '/')) == NULL)
			return (NULL);
	} else {
		if ((at = strchr(url, '@')) == NULL ||
		    (path = strchr(at, ':')) == NULL)
			return (NULL);
		path++;
	}
	len = strlen(path);
	if (len >= sizeof(buf))
		return (NULL);
	memcpy(buf, path, len + 1);
	while (len > 0 && buf[len - 1] == '/')
		buf[--len] = '\0';
	if (ends_with(buf, len, ".git")) {
		len -= strlen(".git");
		buf[len] = '\0';
	}
	if ((name = strrchr(buf, '/')) == NULL)
		return (NULL);
	*name++ = '\0';
	owner = strrchr(buf, '/');
	owner = owner != NULL ? owner + 1 : buf;
	/* "owner/name" is where name was cut: rejoin in place */
	name[-1] = '/';
	len = strlen(owner);
	if (v_github_repo(owner, len) != NULL)
		return (NULL);
	return (strndup(owner, len));
}

/* how GitHub is reached: a token or an App, not both; what each needs */
static void
config_github(struct config_ctx *ctx)
{
	const struct davit_config	*cfg = ctx->cfg;
	struct config_errors		*errs = ctx->errs;

	if (cfg->github_token != NULL && cfg->github_app_id != NULL)
		config_adderr(errs, ctx->path, 0, NULL, "DAVIT_GITHUB_TOKEN and "
		    "DAVIT_GITHUB_APP_ID are both set: use a personal token or "
		    "a GitHub App, not both");
	if ((cfg->tls_cert != NULL) != (cfg->tls_key != NULL))
		config_adderr(errs, ctx->path, 0, NULL, "HTTPS needs both "
		    "DAVIT_TLS_CERT and DAVIT_TLS_KEY, or neither");
	if ((cfg->github_app_id != NULL) != (cfg->github_app_key != NULL))
		config_adderr(errs, ctx->path, 0, NULL, "a GitHub App needs "
		    "both DAVIT_GITHUB_APP_ID and DAVIT_GITHUB_APP_KEY");
	if (cfg->github_installation_id != NULL && cfg->github_app_id == NULL)
		config_adderr(errs, ctx->path, 0, NULL, "DAVIT_GITHUB_"
		    "INSTALLATION_ID is set without DAVIT_GITHUB_APP_ID");
	if (cfg->github_app_id != NULL && cfg->github_repo == NULL)
		config_adderr(errs, ctx->path, 0, NULL, "a GitHub App needs the "
		    "repository: set DAVIT_GITHUB_REPO (owner/name)");
	if (cfg->github_status && cfg->github_token == NULL &&
	    cfg->github_app_id == NULL)
		config_adderr(errs, ctx->path, 0, NULL, "DAVIT_GITHUB_STATUS=1 "
		    "needs DAVIT_GITHUB_TOKEN or a GitHub App "
		    "(DAVIT_GITHUB_APP_ID)");
	if (cfg->github_status && cfg->github_repo == NULL)
		config_adderr(errs, ctx->path, 0, NULL, "DAVIT_GITHUB_STATUS=1 "
		    "needs the repository: set DAVIT_GITHUB_REPO (owner/name)");
}

/*
 * Whether k belongs in what ctx reads: a project file holds project keys
 * only; the main file every key in single-project mode, and the globals
 * (plus the projects' defaults, CF_PROJECT_DEF) in multi-project mode.
 */
static int
config_key_applies(const struct config_ctx *ctx, const struct config_key *k)
{
	if (ctx->scope == CONFIG_SCOPE_PROJECT)
		return ((k->flags & CF_PROJECT) != 0);
	if (ctx->cfg->multi)
		return (!(k->flags & CF_PROJECT) || (k->flags & CF_PROJECT_DEF));
	return (1);
}

/*
 * The main file decides the mode: DAVIT_WORKDIR there (or in the
 * environment) is one project, as davit always did; none is several, one
 * per file of DAVIT_PROJECTS_DIR, and a project key there is a mistake.
 */
static void
config_scope_check(struct config_ctx *ctx)
{
	const struct config_key	*k;
	size_t			 i, wd;

	if (ctx->scope != CONFIG_SCOPE_MAIN ||
	    config_find("DAVIT_WORKDIR", &wd) == NULL)
		return;
	ctx->cfg->multi = !ctx->set[wd] && !ctx->bad[wd];
	if (!ctx->cfg->multi)
		return;
	for (i = 0; i < CONFIG_NKEYS; i++) {
		k = &config_keys[i];
		if (ctx->seen[i] == 0 || config_key_applies(ctx, k))
			continue;
		config_adderr(ctx->errs, ctx->seen[i] == -1 ? CONFIG_ENV_NAME :
		    ctx->path, ctx->seen[i] > 0 ? ctx->seen[i] : 0, k->name,
		    "project key: put it in DAVIT_PROJECTS_DIR/NAME.env");
		config_unset(ctx, k);
		ctx->set[i] = 0;
		ctx->cfg->key_src[i] = CONFIG_SRC_DEFAULT;
	}
	if (ctx->cfg->project != NULL)
		config_adderr(ctx->errs, ctx->path, 0, "DAVIT_PROJECT", "names "
		    "the main file's single project; without DAVIT_WORKDIR each "
		    "DAVIT_PROJECTS_DIR/NAME.env is project NAME");
}

/*
 * A project's configuration is whole: the main file's global values (never
 * the password's hash) and its default notification URL, unless the
 * project's file gives its own.  Their sources stay "default": --check-config
 * shows them with the main file.
 */
static void
config_inherit(struct config_ctx *ctx)
{
	const struct config_key	*k;
	const char		*v;
	char			**slot;
	size_t			 i;

	if (ctx->main == NULL)
		return;
	for (i = 0; i < CONFIG_NKEYS; i++) {
		k = &config_keys[i];
		if (ctx->set[i] || k->off == NO_OFF || (k->flags & CF_SECRET) ||
		    ((k->flags & CF_PROJECT) && !(k->flags & CF_PROJECT_DEF)))
			continue;
		if (k->type == CT_INT || k->type == CT_BOOL) {
			*(int *)(void *)((char *)ctx->cfg + k->off) =
			    *(const int *)(const void *)((const char *)ctx->main +
			    k->off);
			continue;
		}
		if (!is_string_type(k->type))
			continue;
		slot = config_slot(ctx->cfg, k);
		v = *config_slot((struct davit_config *)(uintptr_t)ctx->main, k);
		value_free(k, *slot);
		*slot = v != NULL ? value_dup(k, v, strlen(v)) : NULL;
	}
}

/*
 * The reading proper: the file's lines, then the environment, then what
 * needs the whole (required keys, defaults, derived values, keys that go
 * together), the password hashed last.  Problems go to ctx->errs; cfg holds
 * what was valid, for the caller to free.  -1 when reading had to stop.
 */
static int
config_parse_ctx(struct config_ctx *ctx, const char *buf, size_t len,
    char *const *envp)
{
	struct davit_config	*cfg = ctx->cfg;
	const struct config_key	*k;
	char			 perr[CONFIG_ERR_LEN];
	char			 hash[crypto_pwhash_STRBYTES];
	const char		*why;
	char			*ep, *derived;
	size_t			 i, idx;
	long			 line;

	if (sodium_init() == -1) {
		config_adderr(ctx->errs, ctx->path, 0, NULL,
		    "libsodium failed to initialise");
		return (-1);
	}
	if (len > CONFIG_MAX_FILE) {
		config_adderr(ctx->errs, ctx->path, 0, NULL,
		    "larger than %d bytes", CONFIG_MAX_FILE);
		return (-1);
	}

	perr[0] = '\0';
	if (envfile_parse(buf, len, config_cb, ctx, perr,
	    sizeof(perr)) == -1) {
		/*
		 * A syntax error ends the reading: where the next line starts
		 * is unknown after a broken quote.  "line N: what" from the
		 * parser becomes "FILE:N: what".
		 */
		if (strncmp(perr, "line ", 5) == 0) {
			line = strtol(perr + 5, &ep, 10);
			if (ep != perr + 5 && strncmp(ep, ": ", 2) == 0 &&
			    line > 0 && line <= INT_MAX) {
				config_adderr(ctx->errs, ctx->path, (int)line,
				    NULL, "%s", ep + 2);
				sodium_memzero(perr, sizeof(perr));
				return (-1);
			}
		}
		config_adderr(ctx->errs, ctx->path, 0, NULL, "%s", perr);
		sodium_memzero(perr, sizeof(perr));
		return (-1);
	}
	config_environ(ctx, envp);
	config_scope_check(ctx);

	/* a key given but refused is reported once, not again as missing */
	for (i = 0; i < CONFIG_NKEYS; i++) {
		if (!config_key_applies(ctx, &config_keys[i]))
			continue;
		if ((config_keys[i].flags & CF_REQUIRED) && !ctx->set[i] &&
		    !ctx->bad[i])
			config_adderr(ctx->errs, ctx->path, 0, NULL,
			    "%s is required", config_keys[i].name);
	}
	/* the password is the main file's */
	if (ctx->scope == CONFIG_SCOPE_MAIN && ctx->password != NULL &&
	    cfg->password_hash != NULL)
		config_adderr(ctx->errs, ctx->path, 0, NULL, "DAVIT_PASSWORD "
		    "and DAVIT_PASSWORD_HASH are both set, use only one");
	if (ctx->scope == CONFIG_SCOPE_MAIN &&
	    ctx->password == NULL && cfg->password_hash == NULL &&
	    config_find("DAVIT_PASSWORD", &idx) != NULL && !ctx->bad[idx] &&
	    config_find("DAVIT_PASSWORD_HASH", &i) != NULL && !ctx->bad[i])
		config_adderr(ctx->errs, ctx->path, 0, NULL, "DAVIT_PASSWORD_HASH "
		    "(or DAVIT_PASSWORD) is required");

	/* defaults go through the same validators as the file's values */
	for (i = 0; i < CONFIG_NKEYS; i++) {
		k = &config_keys[i];
		if (ctx->set[i] || k->def == NULL ||
		    !config_key_applies(ctx, k))
			continue;
		if ((why = config_set(ctx, k, k->def, strlen(k->def))) != NULL)
			config_adderr(ctx->errs, ctx->path, 0, k->name,
			    "default: %s", why);
	}

	if (cfg->compose_project == NULL && cfg->workdir != NULL) {
		if ((derived = derive_project(cfg->workdir)) == NULL) {
			config_adderr(ctx->errs, ctx->path, 0, NULL,
			    "DAVIT_COMPOSE_PROJECT cannot be derived from "
			    "DAVIT_WORKDIR, set it");
		} else {
			k = config_find("DAVIT_COMPOSE_PROJECT", &idx);
			why = k != NULL ? config_set(ctx, k, derived,
			    strlen(derived)) : "not in the key table";
			free(derived);
			if (why != NULL)
				config_adderr(ctx->errs, ctx->path, 0,
				    "DAVIT_COMPOSE_PROJECT", "%s", why);
		}
	}
	if (cfg->github_repo == NULL && cfg->repo_url != NULL)
		cfg->github_repo = derive_github_repo(cfg->repo_url);
	if (ctx->scope == CONFIG_SCOPE_PROJECT)
		config_inherit(ctx);

	config_github(ctx);
	config_deploy_run(ctx);

	/* last, it is the expensive part, and pointless if the rest is wrong */
	if (ctx->password != NULL && ctx->errs->n == 0) {
		if (config_hash_password(ctx->password, hash,
		    sizeof(hash)) == -1) {
			sodium_memzero(hash, sizeof(hash));
			config_adderr(ctx->errs, ctx->path, 0, "DAVIT_PASSWORD",
			    "cannot hash the password");
			return (-1);
		}
		cfg->password_hash = secret_dup(hash, strlen(hash));
		sodium_memzero(hash, sizeof(hash));
		config_password_fp(ctx->password, cfg->password_fp);
		cfg->has_password_fp = 1;
		if (cfg->password_hash == NULL) {
			config_adderr(ctx->errs, ctx->path, 0, NULL,
			    "out of memory");
			return (-1);
		}
	}
	return (0);
}

/* DAVIT_DEPLOY_RUN: words by the .env quoting rules, the first a listed service */
static void
config_deploy_run(struct config_ctx *ctx)
{
	char	 buf[ARGV_MAX_LEN + 1], *argv[ARGV_MAX_WORDS + 1], why[128];
	int	 n;

	if (ctx->cfg->deploy_run == NULL)
		return;
	if ((n = argv_split(ctx->cfg->deploy_run, buf, sizeof(buf), argv,
	    ARGV_MAX_WORDS, why, sizeof(why))) == -1)
		config_adderr(ctx->errs, ctx->path, 0, "DAVIT_DEPLOY_RUN",
		    "%s", why);
	else if (n == 0)
		config_adderr(ctx->errs, ctx->path, 0, "DAVIT_DEPLOY_RUN",
		    "empty: SERVICE ARG... expected");
	else if (!config_has_service(ctx->cfg, argv[0]))
		config_adderr(ctx->errs, ctx->path, 0, "DAVIT_DEPLOY_RUN",
		    "its first word must be a service of DAVIT_SERVICES");
}

static void
config_ctx_init(struct config_ctx *ctx, const char *path,
    struct davit_config *cfg, struct config_errors *errs)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->path = path != NULL ? path : "(config)";
	ctx->cfg = cfg;
	ctx->errs = errs;
}

/* 0 or -1; cfg keeps what was valid either way (the caller frees it) */
static int
config_ctx_done(struct config_ctx *ctx)
{
	secret_free(ctx->password);
	ctx->password = NULL;
	return (ctx->errs->n == 0 && ctx->errs->dropped == 0 ? 0 : -1);
}

int
config_parse_all(const char *path, const char *buf, size_t len,
    char *const *envp, struct davit_config *cfg, struct config_errors *errs)
{
	struct config_ctx	 ctx;

	memset(cfg, 0, sizeof(*cfg));
	memset(errs, 0, sizeof(*errs));
	config_ctx_init(&ctx, path, cfg, errs);
	(void)config_parse_ctx(&ctx, buf, len, envp);
	return (config_ctx_done(&ctx));
}

int
config_parse(const char *path, const char *buf, size_t len,
    struct davit_config *cfg, char *err, size_t errlen)
{
	struct config_errors	*errs;
	int			 ret;

	if ((errs = calloc(1, sizeof(*errs))) == NULL) {
		memset(cfg, 0, sizeof(*cfg));
		config_err(err, errlen, "%s: out of memory", path != NULL ?
		    path : "(config)");
		return (-1);
	}
	if ((ret = config_parse_all(path, buf, len, NULL, cfg, errs)) == -1)
		config_free(cfg);
	config_first_err(errs, err, errlen);
	free(errs);
	return (ret);
}

/*
 * The file holds the token, the password and the webhook secret: it is
 * root's and nobody else may read or write it.
 */
static void
config_file_private(struct config_errors *errs, const char *path,
    const struct stat *st)
{
	if (st->st_uid != 0)
		config_adderr(errs, path, 0, NULL, "owned by uid %u, must be "
		    "owned by root (it holds the secrets): chown root: %s",
		    (unsigned)st->st_uid, path);
	if (st->st_mode & CONFIG_FILE_MODE_MASK)
		config_adderr(errs, path, 0, NULL, "mode %04o lets group or "
		    "others at it (it holds the secrets): chmod 600 %s",
		    (unsigned)(st->st_mode & 07777), path);
}

/*
 * Not inside DAVIT_WORKDIR, the compose build context: "COPY ." would bake
 * the secrets into an image and env_file: hand them to containers.  Real
 * paths are compared; a workdir that does not exist yet holds nothing.
 */
static void
config_outside_workdir(struct config_errors *errs, const char *path,
    const char *workdir)
{
	char	 rfile[PATH_MAX], rwork[PATH_MAX];
	size_t	 wlen;

	if (realpath(path, rfile) == NULL) {
		config_adderr(errs, path, 0, NULL, "%s", strerror(errno));
		return;
	}
	if (workdir == NULL || realpath(workdir, rwork) == NULL)
		return;
	wlen = strlen(rwork);
	if (wlen == 1 || (strncmp(rfile, rwork, wlen) == 0 &&
	    rfile[wlen] == '/'))
		config_adderr(errs, path, 0, NULL, "inside DAVIT_WORKDIR %s, "
		    "the compose build context, where an image or a container "
		    "could read the secrets: move it out (e.g. to "
		    "/etc/davit/davit.env, mode 0600)", workdir);
}

int
config_root_dir(const char *what, const char *dir, const struct stat *st,
    char *err, size_t errlen)
{
	if (!S_ISDIR(st->st_mode)) {
		config_err(err, errlen, "%s %s is not a directory", what, dir);
		return (-1);
	}
	/* another user could swap or plant the files root makes there */
	if (st->st_uid != 0 || (st->st_mode & (S_IWGRP | S_IWOTH))) {
		config_err(err, errlen, "%s %s must belong to root and be "
		    "writable by root only (it is uid %u, mode %04o)", what,
		    dir, (unsigned)st->st_uid, (unsigned)(st->st_mode & 07777));
		return (-1);
	}
	return (0);
}

/* a file's reading: its checks, then config_parse_ctx; 0 or -1 */
static int
config_load_ctx(struct config_ctx *ctx, char *const *envp)
{
	const char		*path = ctx->path;
	struct config_errors	*errs = ctx->errs;
	struct davit_config	*cfg = ctx->cfg;
	struct stat		 st;
	char			*buf = NULL;
	size_t			 len = 0;
	ssize_t			 n;
	int			 fd = -1;

	/*
	 * Not through a symlink (O_NOFOLLOW); O_NONBLOCK so that a FIFO
	 * cannot hang us.  Checked on the descriptor: what is read is what
	 * was checked.
	 */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK |
	    O_NOFOLLOW)) == -1) {
		if (errno == ELOOP)
			config_adderr(errs, path, 0, NULL, "is a symbolic link; "
			    "%s the file itself (it must be root's, mode 0600)",
			    ctx->scope == CONFIG_SCOPE_PROJECT ?
			    "put in DAVIT_PROJECTS_DIR" : "give --config");
		else
			config_adderr(errs, path, 0, NULL, "%s",
			    strerror(errno));
		goto done;
	}
	if (fstat(fd, &st) == -1) {
		config_adderr(errs, path, 0, NULL, "%s", strerror(errno));
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		config_adderr(errs, path, 0, NULL, "not a regular file");
		goto done;
	}
	/* a file open to others is still read: all its problems at once */
	config_file_private(errs, path, &st);
	if (st.st_size > CONFIG_MAX_FILE) {
		config_adderr(errs, path, 0, NULL, "larger than %d bytes",
		    CONFIG_MAX_FILE);
		goto done;
	}
	if ((buf = malloc(CONFIG_MAX_FILE + 1)) == NULL) {
		config_adderr(errs, path, 0, NULL, "out of memory");
		goto done;
	}
	/* read one byte more than allowed: the file may have grown */
	while (len < CONFIG_MAX_FILE + 1) {
		n = read(fd, buf + len, CONFIG_MAX_FILE + 1 - len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			config_adderr(errs, path, 0, NULL, "%s",
			    strerror(errno));
			goto done;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > CONFIG_MAX_FILE) {
		config_adderr(errs, path, 0, NULL, "larger than %d bytes",
		    CONFIG_MAX_FILE);
		goto done;
	}
	if (config_parse_ctx(ctx, buf, len, envp) == 0)
		config_outside_workdir(errs, path, cfg->workdir);

 done:
	if (buf != NULL) {
		sodium_memzero(buf, len);
		free(buf);
	}
	if (fd != -1)
		close(fd);
	return (config_ctx_done(ctx));
}

int
config_load_all(const char *path, char *const *envp, struct davit_config *cfg,
    struct config_errors *errs)
{
	struct config_ctx	 ctx;

	memset(cfg, 0, sizeof(*cfg));
	memset(errs, 0, sizeof(*errs));
	config_ctx_init(&ctx, path, cfg, errs);
	return (config_load_ctx(&ctx, envp));
}

/* a NAME.env's context: project keys only, the main file's for the rest */
static void
config_project_ctx(struct config_ctx *ctx, const char *path,
    const struct davit_config *main, struct davit_config *cfg,
    struct config_errors *errs)
{
	memset(cfg, 0, sizeof(*cfg));
	memset(errs, 0, sizeof(*errs));
	config_ctx_init(ctx, path, cfg, errs);
	ctx->scope = CONFIG_SCOPE_PROJECT;
	ctx->main = main;
}

int
config_load_project(const char *path, const struct davit_config *main,
    struct davit_config *cfg, struct config_errors *errs)
{
	struct config_ctx	 ctx;

	config_project_ctx(&ctx, path, main, cfg, errs);
	return (config_load_ctx(&ctx, NULL));
}

int
config_parse_project(const char *path, const char *buf, size_t len,
    const struct davit_config *main, struct davit_config *cfg,
    struct config_errors *errs)
{
	struct config_ctx	 ctx;

	config_project_ctx(&ctx, path, main, cfg, errs);
	(void)config_parse_ctx(&ctx, buf, len, NULL);
	return (config_ctx_done(&ctx));
}

int
config_project_name_valid(const char *name)
{
	size_t	i, len = strlen(name);

	if (len < 1 || len > PROTO_PROJECT_NAME_MAX)
		return (0);
	for (i = 0; i < len; i++) {
		if ((name[i] >= 'a' && name[i] <= 'z') ||
		    (name[i] >= '0' && name[i] <= '9'))
			continue;
		if (i > 0 && name[i] == '-')
			continue;
		return (0);
	}
	return (1);
}

int
config_project_name_from_workdir(const char *workdir, char *out, size_t outlen)
{
	const char	*base, *end;
	size_t		 n = 0;
	char		 c;

	if (outlen < PROTO_PROJECT_NAME_MAX + 1)
		return (-1);
	end = workdir + strlen(workdir);
	while (end > workdir && end[-1] == '/')
		end--;
	for (base = end; base > workdir && base[-1] != '/'; base--)
		;
	for (; base < end && n < PROTO_PROJECT_NAME_MAX; base++) {
		c = *base;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			c = '-';
		if (n == 0 && c == '-')
			continue;
		out[n++] = c;
	}
	out[n] = '\0';
	if (n == 0)
		memcpy(out, "app", sizeof("app"));
	return (0);
}

int
config_single_name(const struct davit_config *cfg, char *out, size_t outlen)
{
	if (cfg->project != NULL) {
		if (strlen(cfg->project) >= outlen)
			return (-1);
		memcpy(out, cfg->project, strlen(cfg->project) + 1);
		return (0);
	}
	if (cfg->workdir == NULL)
		return (-1);
	return (config_project_name_from_workdir(cfg->workdir, out, outlen));
}

int
config_key_is_project(const char *name)
{
	const struct config_key	*k;

	return ((k = config_find(name, NULL)) != NULL &&
	    (k->flags & CF_PROJECT) != 0);
}

int
config_load(const char *path, struct davit_config *cfg, char *err,
    size_t errlen)
{
	struct config_errors	*errs;
	int			 ret;

	if ((errs = calloc(1, sizeof(*errs))) == NULL) {
		memset(cfg, 0, sizeof(*cfg));
		config_err(err, errlen, "%s: out of memory", path);
		return (-1);
	}
	if ((ret = config_load_all(path, NULL, cfg, errs)) == -1)
		config_free(cfg);
	config_first_err(errs, err, errlen);
	free(errs);
	return (ret);
}

/* one key's value as --check-config shows it: never a secret's */
static void
config_value_str(const struct davit_config *cfg, const struct config_key *k,
    char *out, size_t outlen)
{
	size_t	 i, n;
	char	*p;

	out[0] = '\0';
	if (k->flags & CF_SECRET) {
		(void)snprintf(out, outlen, "(secret)");
		return;
	}
	switch (k->type) {
	case CT_INT:
	case CT_BOOL:
		(void)snprintf(out, outlen, "%d",
		    *(const int *)(const void *)((const char *)cfg + k->off));
		break;
	case CT_SERVICES:
		for (i = 0, n = 0; i < cfg->nservices && n < outlen; i++) {
			n += (size_t)snprintf(out + n, outlen - n, "%s%s",
			    i > 0 ? "," : "", cfg->services[i]);
		}
		break;
	case CT_REPO_URL:
		config_repo_display(cfg, out, outlen);
		break;
	default:
		p = *config_slot((struct davit_config *)(uintptr_t)cfg, k);
		(void)snprintf(out, outlen, "%s", p != NULL ? p : "");
		break;
	}
}

void
config_print_sources(const struct davit_config *cfg, const char *path,
    FILE *fp)
{
	const struct config_key	*k;
	char			 val[CONFIG_MAX_VALUE + 1];
	size_t			 i;

	for (i = 0; i < CONFIG_NKEYS; i++) {
		k = &config_keys[i];
		if (cfg->key_src[i] == CONFIG_SRC_DEFAULT)
			continue;
		config_value_str(cfg, k, val, sizeof(val));
		if (cfg->key_src[i] == CONFIG_SRC_ENV)
			fprintf(fp, "%s=%s (%s)\n", k->name, val,
			    CONFIG_ENV_NAME);
		else
			fprintf(fp, "%s=%s (%s:%d)\n", k->name, val, path,
			    cfg->key_src[i]);
	}
}

void
config_free(struct davit_config *cfg)
{
	const struct config_key	*k;
	size_t			 i;

	if (cfg == NULL)
		return;
	for (i = 0; i < CONFIG_NKEYS; i++) {
		k = &config_keys[i];
		if (is_string_type(k->type))
			value_free(k, *config_slot(cfg, k));
	}
	for (i = 0; i < cfg->nservices && i < CONFIG_MAX_SERVICES; i++)
		free(cfg->services[i]);
	sodium_memzero(cfg, sizeof(*cfg));
}

void
config_protect(struct davit_config *cfg)
{
	const struct config_key	*k;
	char			*p;
	size_t			 i;

	for (i = 0; i < CONFIG_NKEYS; i++) {
		k = &config_keys[i];
		if (!(k->flags & CF_SECRET) || !is_string_type(k->type))
			continue;
		if ((p = *config_slot(cfg, k)) != NULL &&
		    sodium_mprotect_readonly(p) == -1)
			log_warn("%s: cannot make %s read-only", __func__,
			    k->name);
	}
}

int
config_has_service(const struct davit_config *cfg, const char *name)
{
	size_t	 i;

	if (cfg == NULL || name == NULL)
		return (0);
	for (i = 0; i < cfg->nservices; i++)
		if (strcmp(cfg->services[i], name) == 0)
			return (1);
	return (0);
}

void
config_repo_display(const struct davit_config *cfg, char *out, size_t outlen)
{
	const char	*url, *p, *auth, *slash, *at;
	size_t		 alen;

	if (out == NULL || outlen == 0)
		return;
	out[0] = '\0';
	if (cfg == NULL || (url = cfg->repo_url) == NULL)
		return;
	if ((p = strstr(url, "://")) == NULL) {
		/* scp-like user@host:path: the user is not a credential */
		(void)snprintf(out, outlen, "%s", url);
		return;
	}
	auth = p + 3;
	slash = strchr(auth, '/');
	alen = slash != NULL ? (size_t)(slash - auth) : strlen(auth);
	if ((at = memrchr(auth, '@', alen)) == NULL) {
		(void)snprintf(out, outlen, "%s", url);
		return;
	}
	(void)snprintf(out, outlen, "%.*s%s", (int)(auth - url), url, at + 1);
}

int
config_hash_password(const char *password, char *out, size_t outlen)
{
	if (password == NULL || out == NULL || outlen < crypto_pwhash_STRBYTES)
		return (-1);
	if (sodium_init() == -1)
		return (-1);
	if (crypto_pwhash_str_alg(out, password, strlen(password),
	    CONFIG_PWHASH_OPS, CONFIG_PWHASH_MEM, CONFIG_PWHASH_ALG) != 0)
		return (-1);
	return (0);
}

/*
 * A fingerprint of a plaintext DAVIT_PASSWORD, so that a reload can tell
 * whether it changed: its hash has a new salt at each reading.  Keyed with
 * this process's random key, never written anywhere.
 */
static void
config_password_fp(const char *password, unsigned char *fp)
{
	static unsigned char	key[crypto_generichash_KEYBYTES];
	static int		keyed;

	if (!keyed) {
		randombytes_buf(key, sizeof(key));
		keyed = 1;
	}
	crypto_generichash(fp, CONFIG_PASSWORD_FP_LEN,
	    (const unsigned char *)password, strlen(password), key, sizeof(key));
}

/*
 * The keys whose values differ between a and b, among the project keys
 * (project != 0) or the global ones: their count, the first one's name in
 * first.  Secrets are compared too (never shown).
 */
size_t
config_diff(const struct davit_config *a, const struct davit_config *b,
    int project, char *first, size_t firstlen)
{
	const struct config_key	*k;
	const char		*va, *vb;
	size_t			 i, j, n = 0;
	int			 same;

	if (firstlen > 0)
		first[0] = '\0';
	for (i = 0; i < CONFIG_NKEYS; i++) {
		k = &config_keys[i];
		if (k->off == NO_OFF || (((k->flags & CF_PROJECT) != 0) !=
		    (project != 0)))
			continue;
		switch (k->type) {
		case CT_PWHASH:
			/* both from a plaintext password: its fingerprint */
			if (a->has_password_fp && b->has_password_fp) {
				same = memcmp(a->password_fp, b->password_fp,
				    CONFIG_PASSWORD_FP_LEN) == 0;
				break;
			}
			va = a->password_hash;
			vb = b->password_hash;
			same = (va == NULL && vb == NULL) || (va != NULL &&
			    vb != NULL && strcmp(va, vb) == 0);
			break;
		case CT_INT:
		case CT_BOOL:
			same = *(const int *)(const void *)((const char *)a +
			    k->off) == *(const int *)(const void *)(
			    (const char *)b + k->off);
			break;
		case CT_SERVICES:
			same = a->nservices == b->nservices;
			for (j = 0; same && j < a->nservices; j++)
				same = strcmp(a->services[j],
				    b->services[j]) == 0;
			break;
		default:
			va = *config_slot((struct davit_config *)(uintptr_t)a, k);
			vb = *config_slot((struct davit_config *)(uintptr_t)b, k);
			same = (va == NULL && vb == NULL) || (va != NULL &&
			    vb != NULL && strcmp(va, vb) == 0);
			break;
		}
		if (same)
			continue;
		if (n++ == 0 && firstlen > 0)
			(void)snprintf(first, firstlen, "%s", k->name);
	}
	return (n);
}
