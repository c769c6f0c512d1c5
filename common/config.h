/*
 * davit's configuration: a .env file in docker compose's syntax, read by the
 * backend only. One table in config.c describes every DAVIT_ key: its type,
 * bounds, default and whether it is a secret.
 */
#ifndef DAVIT_CONFIG_H
#define DAVIT_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "proto/limits.h"	/* the bounds the frontend checks too */

#define CONFIG_MAX_FILE		(256 * 1024)	/* a .env larger than this is refused */
#define CONFIG_MAX_VALUE	PROTO_CONFIG_VALUE_MAX	/* one value, after unquoting */
#define CONFIG_MAX_SERVICES	64
#define CONFIG_MAX_KEEP_RELEASES 100		/* DAVIT_KEEP_RELEASES */
#define CONFIG_MAX_SERVICE_NAME	PROTO_SERVICE_NAME_MAX	/* compose's own limit is similar */
#define CONFIG_ERR_LEN		512
#define CONFIG_PASSWORD_FP_LEN	32		/* config_diff's fingerprint of DAVIT_PASSWORD */
#define CONFIG_MAX_ERRORS	32		/* problems kept from one reading; more are counted */
#define CONFIG_MAX_KEYS		64		/* rows of config.c's key table, at most */
#define CONFIG_ERR_FILE		256		/* a file name in an error, cut */
#define CONFIG_ERR_KEY		64		/* a key name in an error, cut */
#define CONFIG_SRC_DEFAULT	0		/* key_src[]: not given (the default, or unset) */
#define CONFIG_SRC_ENV		(-1)		/* key_src[]: from the environment; > 0: the file's line */
#define CONFIG_ENV_NAME		"environment"	/* the "file" of a value from the environment */
#define CONFIG_PROJECTS_DIR	"/etc/davit/projects.d"	/* DAVIT_PROJECTS_DIR's default */
#define CONFIG_MAX_PARALLEL	16		/* DAVIT_MAX_PARALLEL's bound */
#define CONFIG_MAX_PROJECTS	256		/* NAME.env files read, at most */

struct davit_config {
	/* secrets: never logged, never sent to the frontend except where noted */
	char	*password_hash;		/* argon2id string (from DAVIT_PASSWORD_HASH or hashed DAVIT_PASSWORD) */
	char	*github_token;		/* DAVIT_GITHUB_TOKEN, NULL if unset */
	char	*webhook_secret;	/* DAVIT_WEBHOOK_SECRET, NULL if unset; sent to the frontend only */

	char	*repo_url;		/* DAVIT_REPO_URL, NULL if unset */
	char	*branch;		/* DAVIT_BRANCH, default "main" */
	char	*workdir;		/* DAVIT_WORKDIR, absolute path, required */
	char	*services[CONFIG_MAX_SERVICES];	/* DAVIT_SERVICES */
	size_t	 nservices;
	char	*compose_project;	/* DAVIT_COMPOSE_PROJECT, default basename(workdir), normalised as compose does */
	char	*compose_file;		/* DAVIT_COMPOSE_FILE, NULL = compose's own lookup */
	char	*compose_command;	/* DAVIT_COMPOSE_COMMAND, NULL = auto (docker compose, else docker-compose) */
	char	*docker_socket;		/* DAVIT_DOCKER_SOCKET, default /var/run/docker.sock */
	char	*listen;		/* DAVIT_LISTEN, default 127.0.0.1:8080 */
	char	*socket_path;		/* DAVIT_SOCKET, default /run/davit/backend.sock */
	char	*user;			/* DAVIT_USER, default davit */
	char	*audit_log;		/* DAVIT_AUDIT_LOG, default /var/log/davit/audit.jsonl */
	char	*notify_url;		/* DAVIT_NOTIFY_URL, http(s) only, NULL if unset */
	char	*github_repo;		/* DAVIT_GITHUB_REPO owner/name, default derived from repo_url, may be NULL */
	/* GitHub App and commit statuses (backend/github_api.c) */
	char	*github_app_id;		/* DAVIT_GITHUB_APP_ID: App ID or client ID (Iv...), NULL if unset */
	char	*github_app_key;		/* DAVIT_GITHUB_APP_KEY: path of the App's PEM key, root's, 0600 */
	char	*github_installation_id;	/* DAVIT_GITHUB_INSTALLATION_ID digits, NULL = found by repository */
	char	*github_api_url;		/* DAVIT_GITHUB_API_URL, default https://api.github.com; http only to loopback */
	char	*github_ca_file;		/* DAVIT_GITHUB_CA_FILE: extra CA bundle, NULL if unset */
	int	 github_status;		/* DAVIT_GITHUB_STATUS 0/1, default 0 */
	char	*github_status_context;	/* DAVIT_GITHUB_STATUS_CONTEXT, default davit/deploy */
	char	*public_url;		/* DAVIT_PUBLIC_URL: the dashboard's URL for target_url, NULL if unset */
	char	*state_dir;		/* DAVIT_STATE_DIR, default /var/lib/davit */
	char	*www_dir;		/* DAVIT_WWW_DIR, NULL = next to the binaries */
	int	 stop_timeout;		/* DAVIT_STOP_TIMEOUT seconds, default 10, 0..3600 */
	int	 job_timeout;		/* DAVIT_JOB_TIMEOUT seconds, default 1800, 1..86400 */
	int	 audit_max;		/* DAVIT_AUDIT_MAX bytes before the audit log rotates, default 64 MiB, 64 KiB..1 GiB */
	int	 poll_interval;		/* DAVIT_POLL_INTERVAL seconds, default 300, 0 = off, else 10..86400 */
	int	 deploy_verify;		/* DAVIT_DEPLOY_VERIFY seconds, default 60, 0..3600 */
	int	 keep_releases;		/* DAVIT_KEEP_RELEASES, default 5, 1..100 */
	int	 rollback;		/* DAVIT_ROLLBACK 0/1 (on/off), default 1 */
	char	*deploy_run;		/* DAVIT_DEPLOY_RUN "SERVICE ARG...", NULL if unset */
	int	 notify_docker_down;	/* DAVIT_NOTIFY_DOCKER_DOWN seconds, default 60, 0 = never, else 1..86400 */
	int	 session_idle;		/* DAVIT_SESSION_IDLE seconds, default 3600, 60..604800 */
	int	 session_max;		/* DAVIT_SESSION_MAX seconds, default 43200, 60..2592000 */
	int	 cookie_secure;		/* DAVIT_COOKIE_SECURE 0/1, default 0 */
	char	*trusted_proxies;	/* DAVIT_TRUSTED_PROXIES addresses/CIDRs, NULL if none */
	char	*tls_cert;		/* DAVIT_TLS_CERT: PEM certificate (chain), root's, 0600; NULL: plain HTTP */
	char	*tls_key;		/* DAVIT_TLS_KEY: PEM private key, root's, 0600; read by the backend only */
	/* several projects: global keys of the main file */
	char	*project;		/* DAVIT_PROJECT: the single project's name, NULL = from the workdir */
	char	*projects_dir;		/* DAVIT_PROJECTS_DIR, default /etc/davit/projects.d */
	int	 max_parallel;		/* DAVIT_MAX_PARALLEL jobs of different projects at once, default 2, 1..16 */
	int	 multi;			/* the main file has no DAVIT_WORKDIR: projects from projects_dir */

	/* a plaintext DAVIT_PASSWORD's keyed fingerprint (config_diff) */
	unsigned char	 password_fp[CONFIG_PASSWORD_FP_LEN];
	int		 has_password_fp;

	/* where each key's value came from, by row of the key table */
	int	 key_src[CONFIG_MAX_KEYS];	/* CONFIG_SRC_DEFAULT, CONFIG_SRC_ENV or a line */
};

/*
 * One problem found in a configuration: where (the file, or "environment"),
 * the line (0: none), the key ("" if none) and what is wrong.  Never a
 * secret's value: the messages name keys and bounds, not values.
 */
struct config_error {
	char	 file[CONFIG_ERR_FILE];
	int	 line;
	char	 key[CONFIG_ERR_KEY];
	char	 msg[CONFIG_ERR_LEN];
};

struct config_errors {
	struct config_error	 e[CONFIG_MAX_ERRORS];
	size_t			 n;		/* kept in e[] */
	size_t			 dropped;	/* found beyond CONFIG_MAX_ERRORS */
};

/* "FILE:LINE: KEY: message" (the parts that are there) into out */
void	 config_error_str(const struct config_error *, char *out, size_t outlen);

/*
 * Reads and validates FILE. On error returns -1 and writes a message naming
 * the file, line and key (never the value of a secret) into err.
 * Unknown DAVIT_ keys are warned about with log_warnx, by name.
 * FILE must not be a symlink, must be owned by root with no group or other
 * permission bits, and must not lie inside DAVIT_WORKDIR (real paths).
 */
int	 config_load(const char *path, struct davit_config *cfg, char *err, size_t errlen);
/*
 * The whole reading, every problem at once: the file's checks (symlink,
 * owner, mode, outside the workdir), each line, then envp's DAVIT_ variables
 * (envp may be NULL: none), which override the file's values and go through
 * the same validators, then the checks across keys.  0, or -1 with errs
 * filled; cfg holds what was valid either way and the caller frees it
 * (--check-config goes on checking with it).  config_load is this with no
 * environment, reporting the first problem only, cfg freed on error.
 */
int	 config_load_all(const char *path, char *const *envp,
	    struct davit_config *cfg, struct config_errors *errs);
/*
 * A project's file, DAVIT_PROJECTS_DIR/NAME.env: the main file's rules
 * (owner, mode, no symlink, outside its workdir) and validators, project
 * keys only (a global key is an error), no environment.  cfg is whole:
 * main's global values and default DAVIT_NOTIFY_URL are copied in (never
 * the password's hash).  0, or -1 with errs filled; the caller frees cfg.
 */
int	 config_load_project(const char *path, const struct davit_config *main,
	    struct davit_config *cfg, struct config_errors *errs);
/* Same from memory, without the file's checks. */
int	 config_parse_project(const char *path, const char *buf, size_t len,
	    const struct davit_config *main, struct davit_config *cfg,
	    struct config_errors *errs);
/* 1 if name matches [a-z0-9][a-z0-9-]{0,31} */
int	 config_project_name_valid(const char *name);
/*
 * The name a single project gets from its workdir: basename lower-cased,
 * characters outside [a-z0-9-] as '-', leading '-' dropped, cut to
 * PROTO_PROJECT_NAME_MAX; "app" if nothing is left.  0, or -1 if out is
 * too small.
 */
int	 config_project_name_from_workdir(const char *workdir, char *out,
	    size_t outlen);
/* single-project mode's name: DAVIT_PROJECT, else from the workdir; 0/-1 */
int	 config_single_name(const struct davit_config *cfg, char *out,
	    size_t outlen);
/* how many keys differ, project keys or global ones; the first's name */
size_t	 config_diff(const struct davit_config *a, const struct davit_config *b,
	    int project, char *first, size_t firstlen);
/* 1 if name is a project key (NAME.env's), 0 if global or unknown */
int	 config_key_is_project(const char *name);
/* Same from memory, without the file's checks (path only names it). */
int	 config_parse_all(const char *path, const char *buf, size_t len,
	    char *const *envp, struct davit_config *cfg,
	    struct config_errors *errs);
/*
 * Prints one line per key given in the file or the environment:
 * "KEY=VALUE (FILE:LINE)" or "KEY=VALUE (environment)"; a secret's value is
 * "(secret)", a URL's credentials are left out.
 */
void	 config_print_sources(const struct davit_config *cfg, const char *path,
	    FILE *fp);
/* Same, from memory (path is only used in messages). */
int	 config_parse(const char *path, const char *buf, size_t len,
	    struct davit_config *cfg, char *err, size_t errlen);
/*
 * Wipes secrets and frees everything; cfg is zeroed.  The secrets (token,
 * password hash, webhook secret) are in sodium_malloc'd memory.
 */
void	 config_free(struct davit_config *cfg);
/* Makes the secrets read-only (sodium_mprotect_readonly); freeing works. */
void	 config_protect(struct davit_config *cfg);
/* 1 if name is one of cfg->services. */
int	 config_has_service(const struct davit_config *cfg, const char *name);
/* repo_url with any userinfo removed, into out; "" when unset. */
void	 config_repo_display(const struct davit_config *cfg, char *out, size_t outlen);
/*
 * 0 if st (a directory's) is root's and writable by root only, as a place
 * where root creates files must be; else -1 and a message naming what (the
 * key, e.g. "DAVIT_SOCKET's directory") and dir in err.
 */
struct stat;
int	 config_root_dir(const char *what, const char *dir,
	    const struct stat *st, char *err, size_t errlen);
/* Hashes a password with crypto_pwhash_str (argon2id). 0 on success. */
int	 config_hash_password(const char *password, char *out, size_t outlen);

#endif
