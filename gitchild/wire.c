/*
 * The git child's wire, the writing side: the request line (encoded by the
 * backend, parsed and validated by the child) and every reply line the
 * child writes, each cut to its bound without splitting UTF-8 and scrubbed
 * of userinfo and the token.  Pure: no I/O.  The format is in wire.h; the
 * parent reads the replies with wire_decode.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>

#include "common/json.h"
#include "common/log.h"
#include "common/text.h"
#include "gitchild/url.h"
#include "gitchild/wire.h"

static const char *const gc_op_names[GC__OPS] = {
	[GC_STATUS] = "status",
	[GC_FETCH] = "fetch",
	[GC_PULL] = "pull",
	[GC_FETCH_PULL] = "fetch_pull",
	[GC_CLONE] = "clone",
	[GC_LSREMOTE] = "ls-remote",
	[GC_RESET] = "reset",
};

/* ------------------------------------------------------------ the codec -- */

/* glibc 2.36 has no strlcpy: the OpenBSD semantics, truncating */
size_t
gc_strlcpy(char *dst, const char *src, size_t size)
{
	size_t	len = strlen(src);

	if (size > 0) {
		size_t	n = len < size - 1 ? len : size - 1;

		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

size_t
gc_strlcat(char *dst, const char *src, size_t size)
{
	size_t	dlen = strnlen(dst, size);

	if (dlen == size)
		return dlen + strlen(src);
	return dlen + gc_strlcpy(dst + dlen, src, size - dlen);
}

const char *
gc_op_name(enum gc_op op)
{
	if ((unsigned)op >= GC__OPS)
		return "?";
	return gc_op_names[op];
}

/* refs/heads/<branch>: git's rules for a ref name component list */
static int
gc_branch_valid(const char *b)
{
	size_t	len = strlen(b);

	if (len == 0 || len > GC_MAX_BRANCH || b[0] == '-' || b[0] == '/' ||
	    b[len - 1] == '/' || b[len - 1] == '.')
		return 0;
	if (strstr(b, "..") != NULL || strstr(b, "@{") != NULL ||
	    strstr(b, "//") != NULL || strstr(b, "/.") != NULL || b[0] == '.' ||
	    (len >= 5 && strcmp(b + len - 5, ".lock") == 0) || strcmp(b, "@") == 0)
		return 0;
	for (; *b != '\0'; b++)
		if ((unsigned char)*b <= 0x20 || *b == 0x7f ||
		    strchr("~^:?*[\\", *b) != NULL)
			return 0;
	return 1;
}

char *
gc_strdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		fatal("%s", __func__);
	return p;
}

/* the values of a request: vals[] in gc_request_parse's key order */
static int
gc_request_check(const char *const *vals, int op, char *err, size_t errlen)
{
	size_t	n;

	n = strlen(vals[1]);
	if (n == 0 || n > GC_MAX_WORKDIR || vals[1][0] != '/' ||
	    !gc_printable(vals[1], 1)) {
		snprintf(err, errlen, "request: \"workdir\" must be an absolute "
		    "path of at most %d printable bytes", GC_MAX_WORKDIR);
		return -1;
	}
	if (!gc_branch_valid(vals[3])) {
		snprintf(err, errlen, "request: \"branch\" is not a valid branch name");
		return -1;
	}
	if (vals[2] != NULL && !gc_url_valid(vals[2])) {
		snprintf(err, errlen, "request: \"url\" must be an https, http, ssh "
		    "or file URL of at most %d bytes", GC_MAX_URL);
		return -1;
	}
	if (vals[2] == NULL && (op == GC_FETCH || op == GC_FETCH_PULL ||
	    op == GC_CLONE || op == GC_LSREMOTE)) {
		snprintf(err, errlen, "request: op %s needs a \"url\"",
		    gc_op_names[op]);
		return -1;
	}
	if ((op == GC_RESET) != (vals[5] != NULL) ||
	    (vals[5] != NULL && !gc_oid_valid(vals[5]))) {
		snprintf(err, errlen, "request: \"commit\" (40 hex digits) goes "
		    "with op reset, and only with it");
		return -1;
	}
	if (vals[4] != NULL) {
		n = strlen(vals[4]);
		/* the value is never quoted: it is a secret */
		if (n == 0 || n > GC_MAX_TOKEN || !gc_printable(vals[4], 0)) {
			snprintf(err, errlen, "request: \"token\" must be 1..%d "
			    "printable bytes without spaces", GC_MAX_TOKEN);
			return -1;
		}
	}
	return 0;
}

int
gc_request_parse(const char *line, size_t len, struct gc_request *req,
    char *err, size_t errlen)
{
	static const char *const keys[] = { "op", "workdir", "url", "branch",
	    "token", "commit" };
	const char	*vals[6] = { NULL };
	yajl_val	 tree, v;
	char		 perr[128];
	size_t		 i, k;
	int		 op;

	memset(req, 0, sizeof(*req));
	req->op = GC__OPS;
	if (len > GC_MAX_REQUEST) {
		snprintf(err, errlen, "request longer than %d bytes", GC_MAX_REQUEST);
		return -1;
	}
	if ((tree = json_parse(line, len, perr, sizeof(perr))) == NULL) {
		snprintf(err, errlen, "request: %s", perr);
		return -1;
	}
	if (tree->type != yajl_t_object) {
		snprintf(err, errlen, "request: not a JSON object");
		goto fail;
	}
	for (i = 0; i < tree->u.object.len; i++) {
		for (k = 0; k < 6; k++)
			if (strcmp(tree->u.object.keys[i], keys[k]) == 0)
				break;
		if (k == 6) {
			snprintf(err, errlen, "request: unknown member \"%.32s\"",
			    tree->u.object.keys[i]);
			goto fail;
		}
		if (vals[k] != NULL) {
			snprintf(err, errlen, "request: member \"%s\" given twice",
			    keys[k]);
			goto fail;
		}
		v = tree->u.object.values[i];
		if (v == NULL || v->type != yajl_t_string) {
			snprintf(err, errlen, "request: \"%s\" must be a string",
			    keys[k]);
			goto fail;
		}
		vals[k] = v->u.string;
	}
	if (vals[0] == NULL || vals[1] == NULL || vals[3] == NULL) {
		snprintf(err, errlen, "request: \"op\", \"workdir\" and \"branch\" "
		    "are required");
		goto fail;
	}
	for (op = 0; op < GC__OPS; op++)
		if (strcmp(vals[0], gc_op_names[op]) == 0)
			break;
	if (op == GC__OPS) {
		snprintf(err, errlen, "request: unknown op \"%.32s\"", vals[0]);
		goto fail;
	}
	if (gc_request_check(vals, op, err, errlen) == -1)
		goto fail;
	req->op = op;
	req->workdir = gc_strdup(vals[1]);
	req->branch = gc_strdup(vals[3]);
	if (vals[2] != NULL)
		req->url = gc_strdup(vals[2]);
	if (vals[4] != NULL)
		req->token = gc_strdup(vals[4]);
	if (vals[5] != NULL)
		req->commit = gc_strdup(vals[5]);
	if (vals[4] != NULL)
		explicit_bzero((char *)vals[4], strlen(vals[4]));
	yajl_tree_free(tree);
	return 0;
 fail:
	if (vals[4] != NULL)
		explicit_bzero((char *)vals[4], strlen(vals[4]));
	yajl_tree_free(tree);
	return -1;
}

char *
gc_request_encode(const struct gc_request *req, size_t *len)
{
	yajl_gen	 g = json_gen_new();
	char		*line;

	yajl_gen_map_open(g);
	json_kstr(g, "op", gc_op_name(req->op));
	json_kstr(g, "workdir", req->workdir);
	if (req->url != NULL)
		json_kstr(g, "url", req->url);
	json_kstr(g, "branch", req->branch);
	if (req->token != NULL)
		json_kstr(g, "token", req->token);
	if (req->commit != NULL)
		json_kstr(g, "commit", req->commit);
	yajl_gen_map_close(g);
	line = json_gen_take_line(g, len);
	yajl_gen_free(g);	/* wipes yajl's own copy of the token */
	return line;
}

void
gc_request_free(struct gc_request *req)
{
	free(req->workdir);
	free(req->url);
	free(req->branch);
	free(req->commit);
	if (req->token != NULL) {
		explicit_bzero(req->token, strlen(req->token));
		free(req->token);
	}
	memset(req, 0, sizeof(*req));
	req->op = GC__OPS;
}

size_t
gc_cut_utf8(const char *s, size_t len, size_t max)
{
	size_t	n;

	if (len <= max)
		return len;
	n = max;
	/* s[n] is the first byte left out: never cut inside a sequence */
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

size_t
gc_cut_json(const char *s, size_t len, size_t max_encoded)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i, cost, total = 0;

	for (i = 0; i < len; i++) {
		if (u[i] == '"' || u[i] == '\\')
			cost = 2;
		else if (u[i] < 0x20 || u[i] == 0x7f)
			cost = 6;	/* \u00XX */
		else
			cost = 1;
		if (total + cost > max_encoded)
			break;
		total += cost;
	}
	return gc_cut_utf8(s, len, i);
}

static char *
gc_line_take(yajl_gen g, size_t *len)
{
	char	*line;

	yajl_gen_map_close(g);
	line = json_gen_take_line(g, len);
	yajl_gen_free(g);
	if (*len > GC_MAX_LINE)
		fatalx("%s: reply line of %zu bytes", __func__, *len);
	return line;
}

/* a string cut to maxraw bytes and maxenc encoded bytes, "..." when cut */
static void
gc_kstr_cut(yajl_gen g, const char *key, const char *s, size_t maxraw,
    size_t maxenc)
{
	char	*buf;
	size_t	 len, n;

	json_key(g, key);
	if (s == NULL) {
		yajl_gen_null(g);
		return;
	}
	len = strlen(s);
	n = gc_cut_utf8(s, len, maxraw);
	n = gc_cut_json(s, n, maxenc);
	if (n == len) {
		json_strn(g, s, len);
		return;
	}
	/* room for the "...": the result stays within both bounds */
	n = gc_cut_utf8(s, len, maxraw > 3 ? maxraw - 3 : 0);
	n = gc_cut_json(s, n, maxenc > 3 ? maxenc - 3 : 0);
	if ((buf = malloc(n + 4)) == NULL)
		fatal("%s", __func__);
	memcpy(buf, s, n);
	memcpy(buf + n, "...", 4);
	json_strn(g, buf, n + 3);
	free(buf);
}

char *
gc_fmt_log(const char *msg, const char *token, size_t *len)
{
	yajl_gen	 g = json_gen_new();
	char		 buf[GC_FMT_BUF];

	gc_strlcpy(buf, msg, sizeof(buf));
	gc_scrub(buf, sizeof(buf), token);
	yajl_gen_map_open(g);
	gc_kstr_cut(g, "log", buf, GC_MAX_LOG, GC_MAX_LINE - 64);
	explicit_bzero(buf, sizeof(buf));
	return gc_line_take(g, len);
}

char *
gc_fmt_fail(const char *code, const char *msg, int retry, const char *token,
    size_t *len)
{
	return gc_fmt_fail_status(code, msg, retry, token, NULL, len);
}

static void
gc_status_gen(yajl_gen g, const struct gc_status *st)
{
	json_key(g, "status");
	yajl_gen_map_open(g);
	gc_kstr_cut(g, "branch", st->branch, GC_MAX_BRANCH, 2 * GC_MAX_BRANCH);
	json_kbool(g, "detached", st->detached);
	json_kbool(g, "unborn", st->unborn);
	json_kint(g, "ahead", st->ahead);
	json_kint(g, "behind", st->behind);
	json_kint(g, "dirty_total", st->dirty_total);
	yajl_gen_map_close(g);
}

char *
gc_fmt_fail_status(const char *code, const char *msg, int retry,
    const char *token, const struct gc_status *st, size_t *len)
{
	yajl_gen	 g = json_gen_new();
	char		 buf[GC_FMT_BUF];

	gc_strlcpy(buf, msg, sizeof(buf));
	gc_scrub(buf, sizeof(buf), token);
	yajl_gen_map_open(g);
	json_kbool(g, "ok", 0);
	json_kstr(g, "code", code);
	gc_kstr_cut(g, "message", buf, GC_MAX_MESSAGE, GC_MAX_LINE - 128 -
	    (st != NULL ? 2 * GC_MAX_BRANCH + 150 : 0));
	json_kbool(g, "retry", retry);
	if (st != NULL && st->present)
		gc_status_gen(g, st);
	explicit_bzero(buf, sizeof(buf));
	return gc_line_take(g, len);
}

char *
gc_fmt_commit(const char *item, const char *id, const char *summary,
    const char *author, long long time, size_t *len)
{
	yajl_gen	g = json_gen_new();

	yajl_gen_map_open(g);
	json_kstr(g, "item", item);
	json_kstr(g, "id", id);
	gc_kstr_cut(g, "summary", summary != NULL ? summary : "", GC_MAX_SUMMARY,
	    3 * GC_MAX_SUMMARY);
	gc_kstr_cut(g, "author", author != NULL ? author : "", GC_MAX_AUTHOR,
	    3 * GC_MAX_AUTHOR);
	json_kint(g, "time", time);
	return gc_line_take(g, len);
}

char *
gc_fmt_dirty(const char *path, size_t *len)
{
	yajl_gen	g = json_gen_new();

	yajl_gen_map_open(g);
	json_kstr(g, "item", "dirty");
	gc_kstr_cut(g, "path", path, GC_MAX_PATH_JSON, GC_MAX_PATH_JSON);
	return gc_line_take(g, len);
}

char *
gc_fmt_file(const char *status, const char *path, const char *old_path,
    size_t *len)
{
	yajl_gen	g = json_gen_new();
	size_t		max = old_path != NULL ? GC_MAX_PATH_JSON / 2 : GC_MAX_PATH_JSON;

	yajl_gen_map_open(g);
	json_kstr(g, "item", "file");
	json_kstr(g, "status", status);
	gc_kstr_cut(g, "path", path, max, max);
	if (old_path != NULL)
		gc_kstr_cut(g, "old_path", old_path, max, max);
	return gc_line_take(g, len);
}

static void
gc_kid(yajl_gen g, const char *key, const char *id)
{
	if (id != NULL && gc_oid_valid(id))
		json_kstr(g, key, id);
	else
		json_knull(g, key);
}

static char *
gc_fmt_result(const char *step, const struct gc_status *st, int has_fetched,
    const char *fetched, int has_origin, const char *origin,
    const struct gc_pull *pull, size_t *len)
{
	yajl_gen	g = json_gen_new();

	yajl_gen_map_open(g);
	if (step != NULL)
		json_kstr(g, "step", step);
	else
		json_kbool(g, "ok", 1);
	json_key(g, "result");
	yajl_gen_map_open(g);
	if (st != NULL && st->present)
		gc_status_gen(g, st);
	if (has_fetched)
		gc_kid(g, "fetched", fetched);
	if (has_origin)
		gc_kid(g, "origin", origin);
	if (pull != NULL && pull->present) {
		json_key(g, "pull");
		yajl_gen_map_open(g);
		gc_kid(g, "from", pull->from);
		gc_kid(g, "to", pull->to);
		json_kint(g, "commits", pull->commits);
		json_kint(g, "files_total", pull->files_total);
		json_kbool(g, "up_to_date", pull->up_to_date);
		yajl_gen_map_close(g);
	}
	yajl_gen_map_close(g);
	return gc_line_take(g, len);
}

char *
gc_fmt_ok(const struct gc_status *st, int has_fetched, const char *fetched,
    int has_origin, const char *origin, const struct gc_pull *pull, size_t *len)
{
	return gc_fmt_result(NULL, st, has_fetched, fetched, has_origin, origin,
	    pull, len);
}

char *
gc_fmt_step_fetch(const struct gc_status *st, int has_fetched,
    const char *fetched, int has_origin, const char *origin, size_t *len)
{
	return gc_fmt_result("fetch", st, has_fetched, fetched, has_origin,
	    origin, NULL, len);
}

int
gc_oid_valid(const char *s)
{
	/* common/text.c's check; the wire carries SHA-1 ids only */
	return strlen(s) == GC_OID_HEX && is_commit_id(s);
}
