/*
 * Parsers of the Docker Engine API's replies (API 1.25 to 1.41): version,
 * the container list, inspect, the /events stream's lines and error bodies.
 * No I/O: they take a buffer and fill davit's structs, so that they can be
 * tested with recorded replies.  Everything is checked: types, lengths,
 * ranges; a reply that does not fit is an error with a message, never a
 * crash, and never a partly filled result the caller could mistake for one.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "backend/docker.h"
#include "common/json.h"
#include "common/log.h"

static const char *const docker_state_names[DS__COUNT] = {
	[DS_MISSING] = "missing",
	[DS_CREATED] = "created",
	[DS_RUNNING] = "running",
	[DS_PAUSED] = "paused",
	[DS_RESTARTING] = "restarting",
	[DS_REMOVING] = "exited",	/* about to be gone; Docker's status says so */
	[DS_EXITED] = "exited",
	[DS_DEAD] = "dead",
};

/* what Docker itself calls them (list "State", inspect "State.Status") */
static const char *const docker_state_engine[DS__COUNT] = {
	[DS_MISSING] = NULL,
	[DS_CREATED] = "created",
	[DS_RUNNING] = "running",
	[DS_PAUSED] = "paused",
	[DS_RESTARTING] = "restarting",
	[DS_REMOVING] = "removing",
	[DS_EXITED] = "exited",
	[DS_DEAD] = "dead",
};

const char *
docker_state_name(enum docker_state st)
{
	if ((unsigned)st >= DS__COUNT)
		return "missing";
	return docker_state_names[st];
}

int
docker_state_parse(const char *s, enum docker_state *st)
{
	int	i;

	for (i = 0; i < DS__COUNT; i++)
		if (docker_state_engine[i] != NULL &&
		    strcmp(docker_state_engine[i], s) == 0) {
			*st = i;
			return 0;
		}
	return -1;
}

const char *
docker_health_name(enum docker_health h)
{
	switch (h) {
	case DH_STARTING:
		return "starting";
	case DH_HEALTHY:
		return "healthy";
	case DH_UNHEALTHY:
		return "unhealthy";
	case DH_NONE:
	default:
		return NULL;
	}
}

static int
health_parse(const char *s, enum docker_health *h)
{
	if (strcmp(s, "starting") == 0)
		*h = DH_STARTING;
	else if (strcmp(s, "healthy") == 0)
		*h = DH_HEALTHY;
	else if (strcmp(s, "unhealthy") == 0)
		*h = DH_UNHEALTHY;
	else if (strcmp(s, "none") == 0 || s[0] == '\0')
		*h = DH_NONE;
	else
		return -1;
	return 0;
}

int
docker_id_valid(const char *s)
{
	size_t	i;

	for (i = 0; i < DOCKER_ID_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[DOCKER_ID_LEN] == '\0';
}

/* printable text without control characters, that fits dst */
static int
copy_text(char *dst, size_t dstlen, const char *s)
{
	size_t	len = strlen(s), i;

	if (len >= dstlen)
		return -1;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return -1;
	memcpy(dst, s, len + 1);
	return 0;
}

/* up to 40 bytes of s, for a message: control characters become '?' */
static const char *
quote(const char *s, char *buf, size_t len)
{
	size_t	i;

	for (i = 0; s[i] != '\0' && i + 1 < len && i < 40; i++)
		buf[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
	buf[i] = '\0';
	return buf;
}

/* the value of a string member, or NULL with err set when it is missing or not a string */
static const char *
need_str(yajl_val obj, const char *key, const char *what, char *err, size_t errlen)
{
	yajl_val	v = json_get(obj, key);

	if (v == NULL) {
		snprintf(err, errlen, "%s: no \"%s\"", what, key);
		return NULL;
	}
	if (v->type != yajl_t_string) {
		snprintf(err, errlen, "%s: \"%s\" is not a string", what, key);
		return NULL;
	}
	return v->u.string;
}

/* an integer member in min..max; absent is def when def_ok */
static int
get_int(yajl_val obj, const char *key, long long min, long long max,
    long long *out, const char *what, char *err, size_t errlen)
{
	yajl_val	v = json_get(obj, key);

	if (v == NULL || v->type == yajl_t_null) {
		snprintf(err, errlen, "%s: no \"%s\"", what, key);
		return -1;
	}
	if (v->type != yajl_t_number || !YAJL_IS_INTEGER(v)) {
		snprintf(err, errlen, "%s: \"%s\" is not an integer", what, key);
		return -1;
	}
	if (v->u.number.i < min || v->u.number.i > max) {
		snprintf(err, errlen, "%s: \"%s\" out of range", what, key);
		return -1;
	}
	*out = v->u.number.i;
	return 0;
}

static yajl_val
parse_reply(const char *buf, size_t len, const char *what, char *err, size_t errlen)
{
	char		perr[128];
	yajl_val	tree;

	if (len > DOCKER_MAX_REPLY) {
		snprintf(err, errlen, "%s: reply longer than %d bytes", what,
		    DOCKER_MAX_REPLY);
		return NULL;
	}
	if (len == 0) {
		snprintf(err, errlen, "%s: empty reply", what);
		return NULL;
	}
	if ((tree = json_parse(buf, len, perr, sizeof(perr))) == NULL) {
		snprintf(err, errlen, "%s: %s", what, perr);
		return NULL;
	}
	return tree;
}

/* "1.41" -> 1, 41 */
static int
api_version_parse(const char *s, int *major, int *minor)
{
	char		*end;
	long		 ma, mi;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	ma = strtol(s, &end, 10);
	if (*end != '.' || ma < 0 || ma > 99 || !isdigit((unsigned char)end[1]))
		return -1;
	mi = strtol(end + 1, &end, 10);
	if (*end != '\0' || mi < 0 || mi > 999)
		return -1;
	*major = (int)ma;
	*minor = (int)mi;
	return 0;
}

int
docker_parse_version(const char *buf, size_t len, struct docker_version *v,
    char *err, size_t errlen)
{
	yajl_val	 tree;
	const char	*s;
	char		 q[48];
	int		 rv = -1;

	memset(v, 0, sizeof(*v));
	if ((tree = parse_reply(buf, len, "version", err, errlen)) == NULL)
		return -1;
	if (tree->type != yajl_t_object) {
		snprintf(err, errlen, "version: not an object");
		goto done;
	}
	if ((s = need_str(tree, "ApiVersion", "version", err, errlen)) == NULL)
		goto done;
	if (api_version_parse(s, &v->major, &v->minor) == -1) {
		snprintf(err, errlen, "version: bad ApiVersion \"%s\"",
		    quote(s, q, sizeof(q)));
		goto done;
	}
	if ((s = json_get_str(tree, "MinAPIVersion")) != NULL &&
	    api_version_parse(s, &v->min_major, &v->min_minor) == -1) {
		snprintf(err, errlen, "version: bad MinAPIVersion \"%s\"",
		    quote(s, q, sizeof(q)));
		goto done;
	}
	if ((s = json_get_str(tree, "Version")) == NULL ||
	    copy_text(v->engine, sizeof(v->engine), s) == -1)
		snprintf(v->engine, sizeof(v->engine), "?");
	rv = 0;
 done:
	yajl_tree_free(tree);
	return rv;
}

/* the string value of a label; NULL when absent; -1 when malformed */
static int
label_get(yajl_val labels, const char *key, const char **out)
{
	yajl_val	v;

	*out = NULL;
	if ((v = json_get(labels, key)) == NULL)
		return 0;
	if (v->type != yajl_t_string)
		return -1;
	*out = v->u.string;
	return 0;
}

/*
 * Fills c's identity from the labels: 1 when it belongs to project, 0 when
 * not, -1 when a label of ours is malformed.
 */
static int
labels_fill(yajl_val labels, const char *project, struct docker_container *c,
    const char *what, char *err, size_t errlen)
{
	const char	*p, *svc, *oneoff, *num;
	char		*end;
	long long	 n;

	if (labels == NULL || labels->type == yajl_t_null)
		return 0;	/* no labels: not a compose container */
	if (labels->type != yajl_t_object) {
		snprintf(err, errlen, "%s: \"Labels\" is not an object", what);
		return -1;
	}
	if (label_get(labels, LABEL_PROJECT, &p) == -1 ||
	    label_get(labels, LABEL_SERVICE, &svc) == -1 ||
	    label_get(labels, LABEL_ONEOFF, &oneoff) == -1 ||
	    label_get(labels, LABEL_NUMBER, &num) == -1) {
		snprintf(err, errlen, "%s: a compose label is not a string", what);
		return -1;
	}
	if (p == NULL || (project != NULL && strcmp(p, project) != 0))
		return 0;
	c->service[0] = '\0';
	if (svc != NULL && copy_text(c->service, sizeof(c->service), svc) == -1) {
		snprintf(err, errlen, "%s: bad service label", what);
		return -1;
	}
	c->oneoff = oneoff != NULL && strcasecmp(oneoff, "true") == 0;
	c->number = 0;
	if (num != NULL && num[0] != '\0') {
		n = strtoll(num, &end, 10);
		if (*end == '\0' && n > 0 && n < 1000000)
			c->number = n;
	}
	return 1;
}

static int
list_item(yajl_val item, size_t idx, const char *project, struct docker_container *c,
    char *err, size_t errlen)
{
	char		 what[48], q[48];
	const char	*s;
	yajl_val	 names, v;
	long long	 created;
	int		 rv;

	memset(c, 0, sizeof(*c));
	snprintf(what, sizeof(what), "containers[%zu]", idx);
	if (item->type != yajl_t_object) {
		snprintf(err, errlen, "%s: not an object", what);
		return -1;
	}
	if ((rv = labels_fill(json_get(item, "Labels"), project, c, what, err,
	    errlen)) <= 0)
		return rv;
	if ((s = need_str(item, "Id", what, err, errlen)) == NULL)
		return -1;
	if (!docker_id_valid(s)) {
		snprintf(err, errlen, "%s: \"Id\" is not 64 hex digits", what);
		return -1;
	}
	memcpy(c->id, s, DOCKER_ID_LEN + 1);
	names = json_get(item, "Names");
	if (names != NULL && names->type != yajl_t_null) {
		if (names->type != yajl_t_array) {
			snprintf(err, errlen, "%s: \"Names\" is not an array", what);
			return -1;
		}
		if (names->u.array.len > 0) {
			v = names->u.array.values[0];
			if (v->type != yajl_t_string) {
				snprintf(err, errlen, "%s: a name is not a string", what);
				return -1;
			}
			s = v->u.string[0] == '/' ? v->u.string + 1 : v->u.string;
			if (copy_text(c->name, sizeof(c->name), s) == -1) {
				snprintf(err, errlen, "%s: bad name", what);
				return -1;
			}
		}
	}
	if ((s = need_str(item, "State", what, err, errlen)) == NULL)
		return -1;
	if (docker_state_parse(s, &c->state) == -1) {
		snprintf(err, errlen, "%s: unknown state \"%s\"", what,
		    quote(s, q, sizeof(q)));
		return -1;
	}
	if ((s = json_get_str(item, "Image")) != NULL &&
	    copy_text(c->image, sizeof(c->image), s) == -1) {
		snprintf(err, errlen, "%s: bad image name", what);
		return -1;
	}
	if (json_get(item, "Created") != NULL) {
		if (get_int(item, "Created", 0, 253402300799LL, &created, what,
		    err, errlen) == -1)
			return -1;
		c->created_ms = created * 1000;
	}
	/* the list says "(healthy)" in its status text; inspect is the truth */
	if ((s = json_get_str(item, "Status")) != NULL && c->state == DS_RUNNING) {
		if (strstr(s, "(health: starting)") != NULL)
			c->health = DH_STARTING;
		else if (strstr(s, "(unhealthy)") != NULL)
			c->health = DH_UNHEALTHY;
		else if (strstr(s, "(healthy)") != NULL)
			c->health = DH_HEALTHY;
	}
	return 1;
}

int
docker_parse_list(const char *buf, size_t len, const char *project,
    struct docker_container **out, size_t *nout, char *err, size_t errlen)
{
	yajl_val		 tree;
	struct docker_container	*cs = NULL;
	size_t			 i, n = 0;
	int			 rv;

	*out = NULL;
	*nout = 0;
	if ((tree = parse_reply(buf, len, "containers", err, errlen)) == NULL)
		return -1;
	if (tree->type != yajl_t_array) {
		snprintf(err, errlen, "containers: not an array");
		goto fail;
	}
	if (tree->u.array.len > 0 &&
	    (cs = calloc(tree->u.array.len < DOCKER_MAX_CONTAINERS ?
	    tree->u.array.len : DOCKER_MAX_CONTAINERS, sizeof(*cs))) == NULL)
		fatal("%s", __func__);
	for (i = 0; i < tree->u.array.len; i++) {
		struct docker_container	c;

		if ((rv = list_item(tree->u.array.values[i], i, project, &c, err,
		    errlen)) == -1)
			goto fail;
		if (rv == 0)
			continue;
		if (n >= DOCKER_MAX_CONTAINERS) {
			snprintf(err, errlen, "containers: more than %d in the project",
			    DOCKER_MAX_CONTAINERS);
			goto fail;
		}
		cs[n++] = c;
	}
	yajl_tree_free(tree);
	if (n == 0) {
		free(cs);
		cs = NULL;
	}
	*out = cs;
	*nout = n;
	return 0;
 fail:
	free(cs);
	yajl_tree_free(tree);
	return -1;
}

/* inspect's "State": status, exit code, start and end, health */
static int
inspect_state(yajl_val state, struct docker_container *t, char *err,
    size_t errlen)
{
	yajl_val	 health;
	const char	*s, *what = "inspect";
	char		 q[48];

	if (state == NULL || state->type != yajl_t_object) {
		snprintf(err, errlen, "%s: \"State\" is not an object", what);
		return -1;
	}
	if ((s = need_str(state, "Status", "inspect State", err, errlen)) == NULL)
		return -1;
	if (docker_state_parse(s, &t->state) == -1) {
		snprintf(err, errlen, "%s: unknown state \"%s\"", what,
		    quote(s, q, sizeof(q)));
		return -1;
	}
	if (get_int(state, "ExitCode", -2147483648LL, 2147483647LL, &t->exit_code,
	    "inspect State", err, errlen) == -1)
		return -1;
	if ((s = need_str(state, "StartedAt", "inspect State", err, errlen)) == NULL)
		return -1;
	if (docker_parse_time(s, &t->started_ms) == -1) {
		snprintf(err, errlen, "%s: bad StartedAt \"%s\"", what,
		    quote(s, q, sizeof(q)));
		return -1;
	}
	if ((s = json_get_str(state, "FinishedAt")) != NULL &&
	    docker_parse_time(s, &t->finished_ms) == -1) {
		snprintf(err, errlen, "%s: bad FinishedAt \"%s\"", what,
		    quote(s, q, sizeof(q)));
		return -1;
	}
	health = json_get(state, "Health");
	if (health != NULL && health->type != yajl_t_null) {
		if (health->type != yajl_t_object ||
		    (s = json_get_str(health, "Status")) == NULL ||
		    health_parse(s, &t->health) == -1) {
			snprintf(err, errlen, "%s: bad State.Health", what);
			return -1;
		}
	}
	return 0;
}

int
docker_parse_inspect(const char *buf, size_t len, struct docker_container *c,
    char *err, size_t errlen)
{
	struct docker_container	 t;
	yajl_val		 tree, config;
	const char		*s, *what = "inspect";
	char			 q[48];
	int			 rv = -1;

	memset(&t, 0, sizeof(t));
	if ((tree = parse_reply(buf, len, what, err, errlen)) == NULL)
		return -1;
	if (tree->type != yajl_t_object) {
		snprintf(err, errlen, "%s: not an object", what);
		goto done;
	}
	if ((s = need_str(tree, "Id", what, err, errlen)) == NULL)
		goto done;
	if (!docker_id_valid(s)) {
		snprintf(err, errlen, "%s: \"Id\" is not 64 hex digits", what);
		goto done;
	}
	memcpy(t.id, s, DOCKER_ID_LEN + 1);
	if ((s = json_get_str(tree, "Name")) != NULL) {
		if (s[0] == '/')
			s++;
		if (copy_text(t.name, sizeof(t.name), s) == -1) {
			snprintf(err, errlen, "%s: bad name", what);
			goto done;
		}
	}
	if (inspect_state(json_get(tree, "State"), &t, err, errlen) == -1)
		goto done;
	if (get_int(tree, "RestartCount", 0, 2147483647LL, &t.restarts, what,
	    err, errlen) == -1)
		goto done;
	if ((s = json_get_str(tree, "Created")) != NULL &&
	    docker_parse_time(s, &t.created_ms) == -1) {
		snprintf(err, errlen, "%s: bad Created \"%s\"", what,
		    quote(s, q, sizeof(q)));
		goto done;
	}
	if ((config = json_get(tree, "Config")) != NULL &&
	    config->type != yajl_t_null) {
		if (config->type != yajl_t_object) {
			snprintf(err, errlen, "%s: \"Config\" is not an object", what);
			goto done;
		}
		if ((s = json_get_str(config, "Image")) != NULL &&
		    copy_text(t.image, sizeof(t.image), s) == -1) {
			snprintf(err, errlen, "%s: bad image name", what);
			goto done;
		}
		if (labels_fill(json_get(config, "Labels"), NULL, &t, what, err,
		    errlen) == -1)
			goto done;
	}
	t.inspected = 1;
	/* keep what inspect does not say (the list's image if Config had none) */
	if (t.image[0] == '\0')
		memcpy(t.image, c->image, sizeof(t.image));
	if (t.name[0] == '\0')
		memcpy(t.name, c->name, sizeof(t.name));
	if (t.service[0] == '\0') {
		memcpy(t.service, c->service, sizeof(t.service));
		t.oneoff = c->oneoff;
		t.number = c->number;
	}
	if (t.created_ms == 0)
		t.created_ms = c->created_ms;
	*c = t;
	rv = 0;
 done:
	yajl_tree_free(tree);
	return rv;
}

static enum docker_event_kind
event_kind(const char *action)
{
	static const char *const changes[] = {
		"create", "start", "restart", "stop", "die", "kill", "pause",
		"unpause", "rename", "health_status", "oom", "update", NULL
	};
	size_t	i;

	if (strcmp(action, "destroy") == 0)
		return DE_DESTROY;
	for (i = 0; changes[i] != NULL; i++)
		if (strcmp(action, changes[i]) == 0)
			return DE_CHANGE;
	return DE_IGNORE;
}

int
docker_parse_event(const char *buf, size_t len, const char *project,
    struct docker_event *ev, char *err, size_t errlen)
{
	yajl_val	 tree, actor, attrs;
	const char	*s, *p, *what = "event";
	size_t		 alen, i;
	int		 rv = -1;

	memset(ev, 0, sizeof(*ev));
	if (len > DOCKER_MAX_EVENT_LINE) {
		snprintf(err, errlen, "event: line longer than %d bytes",
		    DOCKER_MAX_EVENT_LINE);
		return -1;
	}
	if ((tree = parse_reply(buf, len, what, err, errlen)) == NULL)
		return -1;
	if (tree->type != yajl_t_object) {
		snprintf(err, errlen, "%s: not an object", what);
		goto done;
	}
	/* API >= 1.22 says "Type"; a missing one is a container event (older) */
	if ((s = json_get_str(tree, "Type")) != NULL && strcmp(s, "container") != 0) {
		ev->kind = DE_IGNORE;
		rv = 0;
		goto done;
	}
	if ((s = need_str(tree, "Action", what, err, errlen)) == NULL)
		goto done;
	alen = strcspn(s, ":");
	if (alen == 0 || alen > DOCKER_ACTION_MAX) {
		snprintf(err, errlen, "%s: bad Action", what);
		goto done;
	}
	for (i = 0; i < alen; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-') {
			snprintf(err, errlen, "%s: bad Action", what);
			goto done;
		}
	memcpy(ev->action, s, alen);
	ev->action[alen] = '\0';
	if ((actor = json_get(tree, "Actor")) == NULL || actor->type != yajl_t_object) {
		snprintf(err, errlen, "%s: \"Actor\" is not an object", what);
		goto done;
	}
	if ((s = need_str(actor, "ID", "event Actor", err, errlen)) == NULL)
		goto done;
	if (!docker_id_valid(s)) {
		snprintf(err, errlen, "%s: Actor.ID is not 64 hex digits", what);
		goto done;
	}
	memcpy(ev->id, s, DOCKER_ID_LEN + 1);
	attrs = json_get(actor, "Attributes");
	if (attrs != NULL && attrs->type != yajl_t_object &&
	    attrs->type != yajl_t_null) {
		snprintf(err, errlen, "%s: Actor.Attributes is not an object", what);
		goto done;
	}
	if (label_get(attrs, LABEL_PROJECT, &p) == -1 ||
	    label_get(attrs, LABEL_SERVICE, &s) == -1) {
		snprintf(err, errlen, "%s: a compose label is not a string", what);
		goto done;
	}
	/* project NULL: any compose project's, named in ev->project */
	if (p == NULL || (project != NULL && strcmp(p, project) != 0)) {
		ev->kind = DE_IGNORE;	/* the engine filters; this is a second check */
		rv = 0;
		goto done;
	}
	if (copy_text(ev->project, sizeof(ev->project), p) == -1) {
		snprintf(err, errlen, "%s: bad project label", what);
		goto done;
	}
	if (s != NULL && copy_text(ev->service, sizeof(ev->service), s) == -1) {
		snprintf(err, errlen, "%s: bad service label", what);
		goto done;
	}
	ev->kind = event_kind(ev->action);
	rv = 0;
 done:
	yajl_tree_free(tree);
	return rv;
}

int
docker_parse_error(const char *buf, size_t len, char *msg, size_t msglen)
{
	yajl_val	 tree;
	const char	*s;
	char		 perr[64];
	size_t		 i, o = 0;
	int		 rv = -1;

	if (len == 0 || len > DOCKER_MAX_REPLY ||
	    (tree = json_parse(buf, len, perr, sizeof(perr))) == NULL)
		return -1;
	if ((s = json_get_str(tree, "message")) != NULL && msglen > 0) {
		/* the engine's words, without control characters */
		for (i = 0; s[i] != '\0' && o + 1 < msglen; i++)
			msg[o++] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ?
			    ' ' : s[i];
		msg[o] = '\0';
		rv = 0;
	}
	yajl_tree_free(tree);
	return rv;
}
