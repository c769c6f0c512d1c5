/*
 * The git child's wire, the reading side (backend/git.c): one reply line
 * decoded into a struct gc_line, every member checked for type, bound and
 * value (commit ids, codes, file statuses) and unknown members refused.
 * The child is the owner of the checkout, and parses data from the
 * network: nothing it writes is trusted beyond these checks.  Pure: no I/O.
 */
#include <stdio.h>
#include <string.h>

#include "common/json.h"
#include "gitchild/wire.h"

/* the members of obj must all be among names */
static int
gc_members_known(yajl_val obj, const char *const *names, size_t n,
    char *err, size_t errlen)
{
	size_t	i, k;

	for (i = 0; i < obj->u.object.len; i++) {
		for (k = 0; k < n; k++)
			if (strcmp(obj->u.object.keys[i], names[k]) == 0)
				break;
		if (k == n) {
			snprintf(err, errlen, "unknown member \"%.32s\"",
			    obj->u.object.keys[i]);
			return -1;
		}
	}
	return 0;
}

static int
gc_get_int(yajl_val obj, const char *key, long long min, long long max,
    long long *out, char *err, size_t errlen)
{
	yajl_val	v = json_get(obj, key);

	if (v == NULL || v->type != yajl_t_number || !YAJL_IS_INTEGER(v) ||
	    v->u.number.i < min || v->u.number.i > max) {
		snprintf(err, errlen, "\"%s\" must be an integer in %lld..%lld",
		    key, min, max);
		return -1;
	}
	*out = v->u.number.i;
	return 0;
}

static int
gc_get_bool(yajl_val obj, const char *key, int *out, char *err, size_t errlen)
{
	yajl_val	v = json_get(obj, key);

	if (v == NULL || (v->type != yajl_t_true && v->type != yajl_t_false)) {
		snprintf(err, errlen, "\"%s\" must be true or false", key);
		return -1;
	}
	*out = v->type == yajl_t_true;
	return 0;
}

/* a string member of at most max bytes; NULL allowed when nullable */
static int
gc_get_str(yajl_val obj, const char *key, size_t max, int nullable,
    const char **out, char *err, size_t errlen)
{
	yajl_val	v = json_get(obj, key);

	if (nullable && (v == NULL || v->type == yajl_t_null)) {
		*out = NULL;
		return 0;
	}
	if (v == NULL || v->type != yajl_t_string || strlen(v->u.string) > max) {
		snprintf(err, errlen, "\"%s\" must be a string of at most %zu bytes",
		    key, max);
		return -1;
	}
	*out = v->u.string;
	return 0;
}

static int
gc_get_id(yajl_val obj, const char *key, int nullable, const char **out,
    char *err, size_t errlen)
{
	if (gc_get_str(obj, key, GC_OID_HEX, nullable, out, err, errlen) == -1)
		return -1;
	if (*out != NULL && !gc_oid_valid(*out)) {
		snprintf(err, errlen, "\"%s\" is not a commit id", key);
		return -1;
	}
	return 0;
}

#define GC_MAX_COUNT	1000000000LL
#define GC_MAX_TIME	(1LL << 40)

static int
gc_decode_status(yajl_val s, struct gc_status *st, char *err, size_t errlen)
{
	static const char *const stk[] = { "branch", "detached", "unborn", "ahead",
	    "behind", "dirty_total" };

	if (s->type != yajl_t_object) {
		snprintf(err, errlen, "\"status\" must be an object");
		return -1;
	}
	if (gc_members_known(s, stk, 6, err, errlen) == -1 ||
	    gc_get_str(s, "branch", 2 * GC_MAX_BRANCH + 3, 1, &st->branch, err,
	    errlen) == -1 ||
	    gc_get_bool(s, "detached", &st->detached, err, errlen) == -1 ||
	    gc_get_bool(s, "unborn", &st->unborn, err, errlen) == -1 ||
	    gc_get_int(s, "ahead", 0, GC_MAX_COUNT, &st->ahead, err, errlen) == -1 ||
	    gc_get_int(s, "behind", 0, GC_MAX_COUNT, &st->behind, err,
	    errlen) == -1 ||
	    gc_get_int(s, "dirty_total", 0, GC_MAX_COUNT, &st->dirty_total, err,
	    errlen) == -1)
		return -1;
	st->present = 1;
	return 0;
}

/* a final success, or (step) fetch_pull's fetch result, which has no pull */
static int
gc_decode_ok(yajl_val tree, int step, struct gc_line *out, char *err,
    size_t errlen)
{
	static const char *const top[] = { "ok", "result" };
	static const char *const stop[] = { "step", "result" };
	static const char *const res[] = { "status", "fetched", "origin", "pull" };
	static const char *const pk[] = { "from", "to", "commits", "files_total",
	    "up_to_date" };
	yajl_val	 r, s, p;

	if (gc_members_known(tree, step ? stop : top, 2, err, errlen) == -1)
		return -1;
	r = json_get(tree, "result");
	if (r == NULL || r->type != yajl_t_object) {
		snprintf(err, errlen, "\"result\" must be an object");
		return -1;
	}
	/* "pull" is the last of res: a step's result has none */
	if (gc_members_known(r, res, step ? 3 : 4, err, errlen) == -1)
		return -1;
	out->type = step ? GL_STEP : GL_OK;
	if ((s = json_get(r, "status")) != NULL &&
	    gc_decode_status(s, &out->status, err, errlen) == -1)
		return -1;
	if (json_get(r, "fetched") != NULL) {
		if (gc_get_id(r, "fetched", 1, &out->fetched, err, errlen) == -1)
			return -1;
		out->has_fetched = 1;
	}
	if (json_get(r, "origin") != NULL) {
		if (gc_get_id(r, "origin", 1, &out->origin, err, errlen) == -1)
			return -1;
		out->has_origin = 1;
	}
	if ((p = json_get(r, "pull")) != NULL) {
		if (p->type != yajl_t_object) {
			snprintf(err, errlen, "\"pull\" must be an object");
			return -1;
		}
		if (gc_members_known(p, pk, 5, err, errlen) == -1 ||
		    gc_get_id(p, "from", 1, &out->pull.from, err, errlen) == -1 ||
		    gc_get_id(p, "to", 0, &out->pull.to, err, errlen) == -1 ||
		    gc_get_int(p, "commits", 0, GC_MAX_COUNT, &out->pull.commits,
		    err, errlen) == -1 ||
		    gc_get_int(p, "files_total", 0, GC_MAX_COUNT,
		    &out->pull.files_total, err, errlen) == -1 ||
		    gc_get_bool(p, "up_to_date", &out->pull.up_to_date, err,
		    errlen) == -1)
			return -1;
		out->pull.present = 1;
	}
	return 0;
}

static int
gc_decode_fail(yajl_val tree, struct gc_line *out, char *err, size_t errlen)
{
	static const char *const keys[] = { "ok", "code", "message", "retry",
	    "status" };
	yajl_val	 st;
	static const char *const codes[] = { "conflict", "unavailable",
	    "unauthorized", "not_found", "internal" };
	size_t	i;

	if (gc_members_known(tree, keys, 5, err, errlen) == -1 ||
	    gc_get_str(tree, "code", 16, 0, &out->code, err, errlen) == -1 ||
	    gc_get_str(tree, "message", GC_MAX_LINE, 0, &out->text, err,
	    errlen) == -1 ||
	    gc_get_bool(tree, "retry", &out->retry, err, errlen) == -1)
		return -1;
	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (strcmp(out->code, codes[i]) == 0)
			break;
	if (i == sizeof(codes) / sizeof(codes[0])) {
		snprintf(err, errlen, "unknown error code \"%.16s\"", out->code);
		return -1;
	}
	if ((st = json_get(tree, "status")) != NULL &&
	    gc_decode_status(st, &out->status, err, errlen) == -1)
		return -1;
	out->type = GL_FAIL;
	return 0;
}

static int
gc_decode_item(yajl_val tree, const char *item, struct gc_line *out,
    char *err, size_t errlen)
{
	static const char *const ck[] = { "item", "id", "summary", "author", "time" };
	static const char *const dk[] = { "item", "path" };
	static const char *const fk[] = { "item", "status", "path", "old_path" };
	static const char *const fstatus[] = { "added", "modified", "deleted",
	    "renamed" };
	size_t	i;

	if (strcmp(item, "local") == 0 || strcmp(item, "remote") == 0 ||
	    strcmp(item, "incoming") == 0) {
		out->type = GL_COMMIT;
		out->kind = item[0] == 'l' ? GC_COMMIT_LOCAL :
		    item[0] == 'r' ? GC_COMMIT_REMOTE : GC_COMMIT_INCOMING;
		if (gc_members_known(tree, ck, 5, err, errlen) == -1 ||
		    gc_get_id(tree, "id", 0, &out->id, err, errlen) == -1 ||
		    gc_get_str(tree, "summary", GC_MAX_SUMMARY + 3, 0, &out->summary,
		    err, errlen) == -1 ||
		    gc_get_str(tree, "author", GC_MAX_AUTHOR + 3, 0, &out->author,
		    err, errlen) == -1 ||
		    gc_get_int(tree, "time", -GC_MAX_TIME, GC_MAX_TIME, &out->time,
		    err, errlen) == -1)
			return -1;
		return 0;
	}
	if (strcmp(item, "dirty") == 0) {
		out->type = GL_DIRTY;
		if (gc_members_known(tree, dk, 2, err, errlen) == -1 ||
		    gc_get_str(tree, "path", GC_MAX_PATH_JSON + 3, 0, &out->path,
		    err, errlen) == -1)
			return -1;
		if (out->path[0] == '\0') {
			snprintf(err, errlen, "empty path");
			return -1;
		}
		return 0;
	}
	if (strcmp(item, "file") == 0) {
		out->type = GL_FILE;
		if (gc_members_known(tree, fk, 4, err, errlen) == -1 ||
		    gc_get_str(tree, "status", 16, 0, &out->fstatus, err,
		    errlen) == -1 ||
		    gc_get_str(tree, "path", GC_MAX_PATH_JSON + 3, 0, &out->path,
		    err, errlen) == -1 ||
		    gc_get_str(tree, "old_path", GC_MAX_PATH_JSON + 3, 1,
		    &out->old_path, err, errlen) == -1)
			return -1;
		for (i = 0; i < sizeof(fstatus) / sizeof(fstatus[0]); i++)
			if (strcmp(out->fstatus, fstatus[i]) == 0)
				break;
		if (i == sizeof(fstatus) / sizeof(fstatus[0])) {
			snprintf(err, errlen, "unknown file status \"%.16s\"",
			    out->fstatus);
			return -1;
		}
		if (out->path[0] == '\0' || (out->old_path != NULL &&
		    out->old_path[0] == '\0')) {
			snprintf(err, errlen, "empty path");
			return -1;
		}
		return 0;
	}
	snprintf(err, errlen, "unknown item \"%.16s\"", item);
	return -1;
}

int
gc_line_decode(const char *line, size_t len, struct gc_line *out, char *err,
    size_t errlen)
{
	static const char *const lk[] = { "log" };
	yajl_val	 tree, v;
	char		 perr[128];

	memset(out, 0, sizeof(*out));
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len == 0 || len > GC_MAX_LINE || line[0] != '{') {
		snprintf(err, errlen, "not a reply line");
		return -1;
	}
	if ((tree = json_parse(line, len, perr, sizeof(perr))) == NULL) {
		snprintf(err, errlen, "%s", perr);
		return -1;
	}
	out->tree = tree;
	if (tree->type != yajl_t_object) {
		snprintf(err, errlen, "not a JSON object");
		goto fail;
	}
	if ((v = json_get(tree, "log")) != NULL) {
		if (gc_members_known(tree, lk, 1, err, errlen) == -1 ||
		    gc_get_str(tree, "log", GC_MAX_LINE, 0, &out->text, err,
		    errlen) == -1)
			goto fail;
		out->type = GL_LOG;
		return 0;
	}
	if ((v = json_get(tree, "item")) != NULL) {
		if (v->type != yajl_t_string) {
			snprintf(err, errlen, "\"item\" must be a string");
			goto fail;
		}
		if (gc_decode_item(tree, v->u.string, out, err, errlen) == -1)
			goto fail;
		return 0;
	}
	if ((v = json_get(tree, "ok")) != NULL) {
		if (v->type == yajl_t_true) {
			if (gc_decode_ok(tree, 0, out, err, errlen) == -1)
				goto fail;
			return 0;
		}
		if (v->type == yajl_t_false) {
			if (gc_decode_fail(tree, out, err, errlen) == -1)
				goto fail;
			return 0;
		}
	}
	if ((v = json_get(tree, "step")) != NULL) {
		if (v->type != yajl_t_string || strcmp(v->u.string, "fetch") != 0) {
			snprintf(err, errlen, "\"step\" must be \"fetch\"");
			goto fail;
		}
		if (gc_decode_ok(tree, 1, out, err, errlen) == -1)
			goto fail;
		return 0;
	}
	snprintf(err, errlen, "neither a log, an item, a step nor a result");
 fail:
	gc_line_free(out);
	return -1;
}

void
gc_line_free(struct gc_line *l)
{
	if (l->tree != NULL)
		yajl_tree_free(l->tree);
	memset(l, 0, sizeof(*l));
}
