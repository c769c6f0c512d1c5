/*
 * The frontend's process-wide state and its settings: what frontend.config
 * answered, checked here even though the backend made it.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "common/json.h"
#include "common/log.h"
#include "frontend/frontend.h"

static struct frontend_env	 frontend_env = { .www_fd = -1, .listen_fd = -1 };
struct frontend_env		*fenv = &frontend_env;

time_t
fe_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

void
fe_config_free(struct fe_config *cfg)
{
	size_t	i;

	free(cfg->listen);
	for (i = 0; i < cfg->nprojects; i++)
		if (cfg->projects[i].webhook_secret != NULL) {
			sodium_memzero(cfg->projects[i].webhook_secret,
			    cfg->projects[i].webhook_secret_len);
			free(cfg->projects[i].webhook_secret);
		}
	free(cfg->projects);
	free(cfg->github_repo);
	free(cfg->branch);
	free(cfg->www_dir);
	memset(cfg, 0, sizeof(*cfg));
}

static int
cfg_string(yajl_val result, const char *key, int required, size_t max,
    char **out, char *err, size_t errlen)
{
	yajl_val	v = json_get(result, key);
	size_t		len;

	if (v == NULL || v->type == yajl_t_null) {
		if (!required)
			return 0;
		snprintf(err, errlen, "\"%s\" missing", key);
		return -1;
	}
	if (v->type != yajl_t_string || (len = strlen(v->u.string)) == 0 ||
	    len > max) {
		snprintf(err, errlen, "\"%s\" is not a string of 1..%zu bytes",
		    key, max);
		return -1;
	}
	if ((*out = strdup(v->u.string)) == NULL)
		fatal("%s", __func__);
	return 0;
}

static int
cfg_int(yajl_val result, const char *key, long long min, long long max, int *out,
    char *err, size_t errlen)
{
	yajl_val	v = json_get(result, key);

	if (v == NULL || !YAJL_IS_INTEGER(v) || v->u.number.i < min ||
	    v->u.number.i > max) {
		snprintf(err, errlen, "\"%s\" is not an integer in %lld..%lld",
		    key, min, max);
		return -1;
	}
	*out = (int)v->u.number.i;
	return 0;
}

const struct fe_project *
fe_project_find(const struct fe_config *cfg, const char *name, size_t len)
{
	size_t	i;

	if (len == 0 || len > PROTO_PROJECT_NAME_MAX)
		return NULL;
	for (i = 0; i < cfg->nprojects; i++)
		if (strncmp(cfg->projects[i].name, name, len) == 0 &&
		    cfg->projects[i].name[len] == '\0')
			return &cfg->projects[i];
	return NULL;
}

/* one element of "projects": {"name":..., "webhook_secret":...|null} */
static int
cfg_project(yajl_val v, size_t i, struct fe_project *p, char *err,
    size_t errlen)
{
	yajl_val	name;
	char		why[128];

	if (v == NULL || v->type != yajl_t_object) {
		snprintf(err, errlen, "\"projects\"[%zu] is not an object", i);
		return -1;
	}
	name = json_get(v, "name");
	if (name == NULL || name->type != yajl_t_string ||
	    !proto_project_name_ok(name->u.string, strlen(name->u.string))) {
		snprintf(err, errlen, "\"projects\"[%zu]: \"name\" is not a "
		    "project name ([a-z0-9][a-z0-9-], 1..%d)", i,
		    PROTO_PROJECT_NAME_MAX);
		return -1;
	}
	memcpy(p->name, name->u.string, strlen(name->u.string) + 1);
	if (cfg_string(v, "webhook_secret", 0, PROTO_CONFIG_VALUE_MAX,
	    &p->webhook_secret, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "\"projects\"[%zu]: %s", i, why);
		return -1;
	}
	if (p->webhook_secret != NULL)
		p->webhook_secret_len = strlen(p->webhook_secret);
	return 0;
}

/* "projects" and "single" (both binaries ship together: no other shape) */
static int
cfg_projects(yajl_val result, struct fe_config *cfg, char *err, size_t errlen)
{
	yajl_val	list = json_get(result, "projects"), single;
	size_t		i, j, n;

	if (list == NULL || list->type != yajl_t_array ||
	    (n = list->u.array.len) > PROTO_MAX_PROJECTS) {
		snprintf(err, errlen, "\"projects\" is not an array of at most "
		    "%d", PROTO_MAX_PROJECTS);
		return -1;
	}
	single = json_get(result, "single");
	if (single == NULL || (single->type != yajl_t_true &&
	    single->type != yajl_t_false)) {
		snprintf(err, errlen, "\"single\" is not a boolean");
		return -1;
	}
	if (single->type == yajl_t_true && n != 1) {
		snprintf(err, errlen, "\"single\" with %zu projects", n);
		return -1;
	}
	cfg->single = single->type == yajl_t_true;
	if (n > 0 && (cfg->projects = calloc(n, sizeof(*cfg->projects))) == NULL)
		fatal("%s", __func__);
	for (i = 0; i < n; i++) {
		cfg->nprojects = i + 1;		/* what fe_config_free wipes */
		if (cfg_project(list->u.array.values[i], i, &cfg->projects[i],
		    err, errlen) == -1)
			return -1;
		for (j = 0; j < i; j++)
			if (strcmp(cfg->projects[j].name,
			    cfg->projects[i].name) == 0) {
				snprintf(err, errlen, "\"projects\": \"%s\" "
				    "given twice", cfg->projects[i].name);
				return -1;
			}
	}
	return 0;
}

/* frontend.config's result, checked even though the backend made it */
int
fe_config_parse(yajl_val result, struct fe_config *cfg, char *err, size_t errlen)
{
	yajl_val	v;
	char		*proxies = NULL, why[128];

	memset(cfg, 0, sizeof(*cfg));
	if (result == NULL || result->type != yajl_t_object) {
		snprintf(err, errlen, "not an object");
		return -1;
	}
	if (cfg_string(result, "listen", 1, FE_MAX_LISTEN, &cfg->listen, err,
	    errlen) == -1 ||
	    cfg_projects(result, cfg, err, errlen) == -1 ||
	    cfg_string(result, "github_repo", 0, 256, &cfg->github_repo, err,
	    errlen) == -1 ||
	    cfg_string(result, "branch", 0, 256, &cfg->branch, err, errlen) == -1 ||
	    cfg_string(result, "www_dir", 0, PATH_MAX, &cfg->www_dir, err,
	    errlen) == -1 ||
	    cfg_string(result, "trusted_proxies", 0, PROTO_CONFIG_VALUE_MAX,
	    &proxies, err, errlen) == -1 ||
	    cfg_int(result, "session_idle", PROTO_SESSION_IDLE_MIN,
	    PROTO_SESSION_IDLE_MAX, &cfg->session_idle, err,
	    errlen) == -1 ||
	    cfg_int(result, "session_max", PROTO_SESSION_MAX_MIN,
	    PROTO_SESSION_MAX_MAX, &cfg->session_max, err,
	    errlen) == -1)
		goto fail;
	v = json_get(result, "cookie_secure");
	if (v == NULL || (v->type != yajl_t_true && v->type != yajl_t_false)) {
		snprintf(err, errlen, "\"cookie_secure\" is not a boolean");
		goto fail;
	}
	cfg->cookie_secure = v->type == yajl_t_true;
	if (client_proxies_parse(proxies, &cfg->proxies, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "\"trusted_proxies\": %s", why);
		goto fail;
	}
	free(proxies);
	proxies = NULL;
	if (cfg->www_dir != NULL && cfg->www_dir[0] != '/') {
		snprintf(err, errlen, "\"www_dir\" is not an absolute path");
		goto fail;
	}
	return 0;
 fail:
	free(proxies);
	fe_config_free(cfg);
	return -1;
}
