/*
 * The record of one deploy (deploy.h): its JSON form, written by one
 * function for the history file, deploy.state events and deploys.list,
 * and read back by one parser from the history file only, which treats
 * every line as damaged until proven otherwise.  Also the merging of
 * pushes into a deploy.  No I/O here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/deploy.h"
#include "backend/docker.h"
#include "backend/git_run.h"
#include "common/json.h"
#include "common/log.h"
#include "common/text.h"

const char *const deploy_step_names[DEPLOY_STEPS] = {
	[STEP_FETCH] = "fetch",
	[STEP_PULL] = "pull",
	[STEP_REBUILD] = "rebuild",
	[STEP_VERIFY] = "verify",
};

static void
strs_gen(yajl_gen g, const char *key, char *const *list, size_t n)
{
	size_t	i;

	json_key(g, key);
	yajl_gen_array_open(g);
	for (i = 0; i < n; i++)
		json_str(g, list[i]);
	yajl_gen_array_close(g);
}

void
deploy_record_gen(yajl_gen g, const struct deploy_record *r)
{
	deploy_record_gen_project(g, r, NULL);
}

void
deploy_record_gen_project(yajl_gen g, const struct deploy_record *r,
    const char *project)
{
	size_t	i;

	yajl_gen_map_open(g);
	if (project != NULL)
		json_kstr(g, "project", project);
	json_kint(g, "id", r->id);
	json_key(g, "job");
	if (r->job > 0)
		yajl_gen_integer(g, r->job);
	else
		yajl_gen_null(g);
	json_kstr(g, "trigger", r->trigger);
	json_kstr(g, "by", r->by);
	strs_gen(g, "deliveries", r->deliveries, r->ndeliveries);
	strs_gen(g, "bodies", r->bodies, r->nbodies);
	json_kstr(g, "pushed", r->pushed[0] ? r->pushed : NULL);
	json_kstr(g, "from", r->from[0] ? r->from : NULL);
	json_kstr(g, "to", r->to[0] ? r->to : NULL);
	json_key(g, "files");
	if (r->has_files) {
		yajl_gen_array_open(g);
		for (i = 0; i < r->nfiles; i++) {
			yajl_gen_map_open(g);
			json_kstr(g, "status", r->files[i].status);
			json_kstr(g, "path", r->files[i].path);
			if (r->files[i].old_path != NULL)
				json_kstr(g, "old_path", r->files[i].old_path);
			yajl_gen_map_close(g);
		}
		yajl_gen_array_close(g);
	} else
		yajl_gen_null(g);
	json_kint(g, "files_total", r->files_total);
	json_key(g, "steps");
	yajl_gen_array_open(g);
	for (i = 0; i < DEPLOY_STEPS; i++) {
		if (!r->steps[i].done)
			continue;
		yajl_gen_map_open(g);
		json_kstr(g, "name", deploy_step_names[i]);
		json_kbool(g, "ok", r->steps[i].ok);
		json_kbool(g, "skipped", r->steps[i].skipped);
		json_kint(g, "ms", r->steps[i].ms);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	json_kstr(g, "state", r->state);
	json_ktime(g, "created_at", r->created_ms);
	json_ktime(g, "started_at", r->started_ms);
	json_ktime(g, "ended_at", r->ended_ms);
	json_kstr(g, "error", r->error);
	release_record_gen(g, r);
	yajl_gen_map_close(g);
}

void
deploy_record_clear(struct deploy_record *r)
{
	size_t	i;

	free(r->by);
	for (i = 0; i < r->ndeliveries; i++)
		free(r->deliveries[i]);
	for (i = 0; i < r->nbodies; i++)
		free(r->bodies[i]);
	for (i = 0; i < r->nfiles; i++) {
		free(r->files[i].path);
		free(r->files[i].old_path);
	}
	free(r->files);
	free(r->error);
	release_record_clear(r);
	memset(r, 0, sizeof(*r));
}

void
deploy_record_copy(struct deploy_record *dst, const struct deploy_record *src)
{
	size_t	i;

	*dst = *src;
	dst->by = xstrdup(src->by);
	dst->error = xstrdup(src->error);
	for (i = 0; i < src->ndeliveries; i++)
		dst->deliveries[i] = xstrdup(src->deliveries[i]);
	for (i = 0; i < src->nbodies; i++)
		dst->bodies[i] = xstrdup(src->bodies[i]);
	release_record_copy(dst, src);
	dst->files = NULL;
	if (src->nfiles > 0) {
		if ((dst->files = calloc(src->nfiles, sizeof(*dst->files))) == NULL)
			fatal("%s", __func__);
		for (i = 0; i < src->nfiles; i++) {
			dst->files[i] = src->files[i];
			dst->files[i].path = xstrdup(src->files[i].path);
			dst->files[i].old_path = xstrdup(src->files[i].old_path);
		}
	}
}

void
deploy_record_set_files(struct deploy_record *r, const struct git_file *files,
    size_t n)
{
	size_t	i, keep = n < DEPLOY_FILES_KEPT ? n : DEPLOY_FILES_KEPT;

	for (i = 0; i < r->nfiles; i++) {
		free(r->files[i].path);
		free(r->files[i].old_path);
	}
	free(r->files);
	r->files = NULL;
	r->nfiles = 0;
	if (keep > 0 && (r->files = calloc(keep, sizeof(*r->files))) == NULL)
		fatal("%s", __func__);
	for (i = 0; i < keep; i++) {
		snprintf(r->files[i].status, sizeof(r->files[i].status), "%s",
		    files[i].status);
		r->files[i].path = xstrdup(files[i].path);
		r->files[i].old_path = xstrdup(files[i].old_path);
	}
	r->nfiles = keep;
	r->files_total = (long long)n;
	r->has_files = 1;
}

/* ------------------------------------------------------------ merging -- */

static int
str_in(char *const *list, size_t n, const char *s)
{
	size_t	i;

	for (i = 0; s != NULL && i < n; i++)
		if (strcmp(list[i], s) == 0)
			return 1;
	return 0;
}

/* adds s to a list of DEPLOY_DELIVERIES, the oldest going first */
static void
str_add(char **list, size_t *n, const char *s)
{
	if (s == NULL || str_in(list, *n, s))
		return;
	if (*n == DEPLOY_DELIVERIES) {
		free(list[0]);
		memmove(list, list + 1, (DEPLOY_DELIVERIES - 1) * sizeof(char *));
		(*n)--;
	}
	list[(*n)++] = xstrdup(s);
}

/* the body is the delivery: a copy under another delivery id is no new push */
int
deploy_record_has_delivery(const struct deploy_record *r, const char *delivery,
    const char *body)
{
	return r != NULL && (str_in(r->deliveries, r->ndeliveries, delivery) ||
	    str_in(r->bodies, r->nbodies, body));
}

void
deploy_record_add_delivery(struct deploy_record *r, const char *delivery,
    const char *body, const char *after)
{
	str_add(r->deliveries, &r->ndeliveries, delivery);
	str_add(r->bodies, &r->nbodies, body);
	if (after != NULL)
		snprintf(r->pushed, sizeof(r->pushed), "%s", after);
}

/* ------------------------------------------------------------ parsing -- */

/* a string member into buf: absent or null leaves "", else it must fit */
static int
get_strbuf(yajl_val v, const char *key, char *buf, size_t len)
{
	yajl_val	m = json_get(v, key);

	buf[0] = '\0';
	if (m == NULL || YAJL_IS_NULL(m))
		return 0;
	if (!YAJL_IS_STRING(m) || strlen(m->u.string) >= len)
		return -1;
	memcpy(buf, m->u.string, strlen(m->u.string) + 1);
	return 0;
}

static int
get_str(yajl_val v, const char *key, char **out)
{
	yajl_val	m = json_get(v, key);

	*out = NULL;
	if (m == NULL || YAJL_IS_NULL(m))
		return 0;
	if (!YAJL_IS_STRING(m))
		return -1;
	*out = xstrdup(m->u.string);
	return 0;
}

static int
get_int(yajl_val v, const char *key, long long *out)
{
	yajl_val	m = json_get(v, key);

	*out = 0;
	if (m == NULL || YAJL_IS_NULL(m))
		return 0;
	if (!YAJL_IS_INTEGER(m) || m->u.number.i < 0 || m->u.number.i >= PROTO_MAX_ID)
		return -1;
	*out = m->u.number.i;
	return 0;
}

static int
get_time(yajl_val v, const char *key, long long *ms)
{
	yajl_val	m = json_get(v, key);

	*ms = 0;
	if (m == NULL || YAJL_IS_NULL(m))
		return 0;
	if (!YAJL_IS_STRING(m) || docker_parse_time(m->u.string, ms) == -1)
		return -1;
	return 0;
}

/* an array of ids: strings that fit an id, at most DEPLOY_DELIVERIES */
static int
get_ids(yajl_val v, const char *key, char **list, size_t *n)
{
	yajl_val	a = json_get(v, key), s;
	size_t		i;

	if (a == NULL || YAJL_IS_NULL(a))
		return 0;
	if (!YAJL_IS_ARRAY(a) || a->u.array.len > DEPLOY_DELIVERIES)
		return -1;
	for (i = 0; i < a->u.array.len; i++) {
		s = a->u.array.values[i];
		if (!YAJL_IS_STRING(s) || strlen(s->u.string) >= DEPLOY_ID_MAX)
			return -1;
		list[(*n)++] = xstrdup(s->u.string);
	}
	return 0;
}

static int
get_files(yajl_val v, struct deploy_record *r)
{
	yajl_val	 a = json_get(v, "files"), f;
	struct deploy_file *df;
	size_t		 i;

	if (a == NULL || YAJL_IS_NULL(a))
		return 0;
	if (!YAJL_IS_ARRAY(a) || a->u.array.len > DEPLOY_FILES_KEPT)
		return -1;
	r->has_files = 1;
	if (a->u.array.len > 0 &&
	    (r->files = calloc(a->u.array.len, sizeof(*r->files))) == NULL)
		fatal("%s", __func__);
	for (i = 0; i < a->u.array.len; i++) {
		f = a->u.array.values[i];
		df = &r->files[r->nfiles++];
		if (!YAJL_IS_OBJECT(f) ||
		    get_strbuf(f, "status", df->status, sizeof(df->status)) == -1 ||
		    get_str(f, "path", &df->path) == -1 || df->path == NULL ||
		    get_str(f, "old_path", &df->old_path) == -1)
			return -1;
	}
	return 0;
}

static int
get_steps(yajl_val v, struct deploy_record *r)
{
	yajl_val	 a = json_get(v, "steps"), s, ok, sk;
	const char	*name;
	long long	 ms;
	size_t		 i, k;

	if (a == NULL || YAJL_IS_NULL(a))
		return 0;
	if (!YAJL_IS_ARRAY(a) || a->u.array.len > DEPLOY_STEPS)
		return -1;
	for (i = 0; i < a->u.array.len; i++) {
		s = a->u.array.values[i];
		if (!YAJL_IS_OBJECT(s) || (name = json_get_str(s, "name")) == NULL)
			return -1;
		for (k = 0; k < DEPLOY_STEPS; k++)
			if (strcmp(deploy_step_names[k], name) == 0)
				break;
		ok = json_get(s, "ok");
		sk = json_get(s, "skipped");
		if (k == DEPLOY_STEPS || r->steps[k].done || ok == NULL ||
		    !(YAJL_IS_TRUE(ok) || YAJL_IS_FALSE(ok)) || (sk != NULL &&
		    !(YAJL_IS_TRUE(sk) || YAJL_IS_FALSE(sk))) ||
		    get_int(s, "ms", &ms) == -1)
			return -1;
		r->steps[k].done = 1;
		r->steps[k].ok = YAJL_IS_TRUE(ok);
		r->steps[k].skipped = sk != NULL && YAJL_IS_TRUE(sk);
		r->steps[k].ms = ms;
	}
	return 0;
}

int
deploy_record_parse(const char *line, size_t len, struct deploy_record *r,
    char *err, size_t errlen)
{
	yajl_val	 v;
	const char	*what = NULL;
	char		 perr[64];

	memset(r, 0, sizeof(*r));
	if (memchr(line, '\0', len) != NULL) {
		snprintf(err, errlen, "a NUL byte");
		return -1;
	}
	if ((v = json_parse(line, len, perr, sizeof(perr))) == NULL) {
		snprintf(err, errlen, "not JSON: %s", perr);
		return -1;
	}
	if (!YAJL_IS_OBJECT(v) || json_get(v, "job") == NULL) {
		snprintf(err, errlen, "not a deploy record");
		yajl_tree_free(v);
		return -1;
	}
	if (get_int(v, "id", &r->id) == -1)
		what = "id";
	else if (get_int(v, "job", &r->job) == -1)
		what = "job";
	else if (get_strbuf(v, "trigger", r->trigger, sizeof(r->trigger)) == -1)
		what = "trigger";
	else if (get_str(v, "by", &r->by) == -1)
		what = "by";
	else if (get_ids(v, "deliveries", r->deliveries, &r->ndeliveries) == -1)
		what = "deliveries";
	else if (get_ids(v, "bodies", r->bodies, &r->nbodies) == -1)
		what = "bodies";
	else if (get_strbuf(v, "pushed", r->pushed, sizeof(r->pushed)) == -1)
		what = "pushed";
	else if (get_strbuf(v, "from", r->from, sizeof(r->from)) == -1)
		what = "from";
	else if (get_strbuf(v, "to", r->to, sizeof(r->to)) == -1)
		what = "to";
	else if (get_files(v, r) == -1)
		what = "files";
	else if (get_int(v, "files_total", &r->files_total) == -1)
		what = "files_total";
	else if (get_steps(v, r) == -1)
		what = "steps";
	else if (get_strbuf(v, "state", r->state, sizeof(r->state)) == -1)
		what = "state";
	else if (get_time(v, "created_at", &r->created_ms) == -1)
		what = "created_at";
	else if (get_time(v, "started_at", &r->started_ms) == -1)
		what = "started_at";
	else if (get_time(v, "ended_at", &r->ended_ms) == -1)
		what = "ended_at";
	else if (get_str(v, "error", &r->error) == -1)
		what = "error";
	else if (release_record_parse(v, r) == -1)
		what = "release";
	yajl_tree_free(v);
	if (what != NULL) {
		snprintf(err, errlen, "bad %s", what);
		deploy_record_clear(r);
		return -1;
	}
	return 0;
}
