#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>
#include <yajl/yajl_parse.h>

#include "json.h"
#include "log.h"

/*
 * The generators' memory is wiped when yajl frees or moves it: a reply may
 * carry a secret (tls.get's key, frontend.config's webhook secret), and a
 * freed block keeps its bytes until it is used again.
 */
void
json_wipe_block(void *p)
{
	if (p != NULL)
		sodium_memzero(p, malloc_usable_size(p));
}

void
json_line_wipe(const void *data, size_t len, void *unused)
{
	if (data == NULL)
		return;
	sodium_memzero((void *)data, len);
	free((void *)data);
}

static void *
json_wipe_malloc(void *ctx, size_t n)
{
	return malloc(n);
}

static void
json_wipe_free(void *ctx, void *p)
{
	json_wipe_block(p);
	free(p);
}

/* never in place: the old block is wiped, then freed */
static void *
json_wipe_realloc(void *ctx, void *p, size_t n)
{
	size_t	 old;
	void	*q;

	if (p == NULL)
		return malloc(n);
	old = malloc_usable_size(p);
	if ((q = malloc(n)) == NULL)
		return NULL;
	memcpy(q, p, old < n ? old : n);
	json_wipe_free(ctx, p);
	return q;
}

static yajl_alloc_funcs json_wipe_funcs = {
	json_wipe_malloc, json_wipe_realloc, json_wipe_free, NULL
};

yajl_gen
json_gen_new(void)
{
	yajl_gen	g;

	if ((g = yajl_gen_alloc(&json_wipe_funcs)) == NULL)
		fatalx("%s: yajl_gen_alloc", __func__);
	yajl_gen_config(g, yajl_gen_validate_utf8, 1);
	return g;
}

/* length of a valid UTF-8 sequence at s, 0 if invalid */
static size_t
utf8_seqlen(const unsigned char *s, size_t left)
{
	size_t		n, i;
	unsigned int	cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (n > left)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

void
json_strn(yajl_gen g, const char *s, size_t len)
{
	const unsigned char	*u = (const unsigned char *)s;
	char			*copy;
	size_t			 i, n, o = 0;

	if (s == NULL) {
		yajl_gen_null(g);
		return;
	}
	for (i = 0; i < len; i += n)
		if ((n = utf8_seqlen(u + i, len - i)) == 0 || u[i] == '\0')
			break;
	if (i == len) {
		yajl_gen_string(g, u, len);
		return;
	}
	/* repair: invalid bytes and NULs become '?' */
	if ((copy = malloc(len)) == NULL)
		fatal("%s", __func__);
	for (i = 0; i < len; i += n) {
		if ((n = utf8_seqlen(u + i, len - i)) == 0 || u[i] == '\0') {
			copy[o++] = '?';
			n = 1;
			continue;
		}
		memcpy(copy + o, u + i, n);
		o += n;
	}
	yajl_gen_string(g, (const unsigned char *)copy, o);
	free(copy);
}

void
json_str(yajl_gen g, const char *s)
{
	json_strn(g, s, s == NULL ? 0 : strlen(s));
}

void
json_key(yajl_gen g, const char *k)
{
	yajl_gen_string(g, (const unsigned char *)k, strlen(k));
}

void
json_kstr(yajl_gen g, const char *k, const char *v)
{
	json_key(g, k);
	json_str(g, v);
}

void
json_kint(yajl_gen g, const char *k, long long v)
{
	json_key(g, k);
	yajl_gen_integer(g, v);
}

void
json_kbool(yajl_gen g, const char *k, int v)
{
	json_key(g, k);
	yajl_gen_bool(g, v != 0);
}

void
json_knull(yajl_gen g, const char *k)
{
	json_key(g, k);
	yajl_gen_null(g);
}

void
json_ktime(yajl_gen g, const char *k, long long ms)
{
	char		 buf[80];
	struct tm	 tm;
	time_t		 t;

	json_key(g, k);
	if (ms <= 0) {
		yajl_gen_null(g);
		return;
	}
	t = (time_t)(ms / 1000);
	gmtime_r(&t, &tm);
	snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (int)(ms % 1000));
	json_str(g, buf);
}

void
json_raw(yajl_gen g, const char *s)
{
	/* yajl_gen_number places its text as one value, verbatim */
	if (s == NULL || *s == '\0')
		yajl_gen_null(g);
	else
		yajl_gen_number(g, s, strlen(s));
}

void
json_tree(yajl_gen g, yajl_val v)
{
	size_t	i;

	if (v == NULL) {
		yajl_gen_null(g);
		return;
	}
	switch (v->type) {
	case yajl_t_string:
		json_str(g, v->u.string);
		break;
	case yajl_t_number:
		yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r));
		break;
	case yajl_t_object:
		yajl_gen_map_open(g);
		for (i = 0; i < v->u.object.len; i++) {
			json_key(g, v->u.object.keys[i]);
			json_tree(g, v->u.object.values[i]);
		}
		yajl_gen_map_close(g);
		break;
	case yajl_t_array:
		yajl_gen_array_open(g);
		for (i = 0; i < v->u.array.len; i++)
			json_tree(g, v->u.array.values[i]);
		yajl_gen_array_close(g);
		break;
	case yajl_t_true:
		yajl_gen_bool(g, 1);
		break;
	case yajl_t_false:
		yajl_gen_bool(g, 0);
		break;
	default:
		yajl_gen_null(g);
		break;
	}
}

char *
json_gen_take(yajl_gen g, size_t *len)
{
	const unsigned char	*buf;
	size_t			 n;
	char			*out;

	if (yajl_gen_get_buf(g, &buf, &n) != yajl_gen_status_ok)
		fatalx("%s: generator in error state", __func__);
	/* + 2: proto_finish's newline fits without moving the line */
	if ((out = malloc(n + 2)) == NULL)
		fatal("%s", __func__);
	memcpy(out, buf, n);
	out[n] = '\0';
	if (len != NULL)
		*len = n;
	return out;
}

char *
json_gen_take_line(yajl_gen g, size_t *len)
{
	char	*out;
	size_t	 n;

	out = json_gen_take(g, &n);
	out[n] = '\n';
	out[n + 1] = '\0';
	*len = n + 1;
	return out;
}

/*
 * The tree parser.  yajl_tree_parse() turns on yajl_allow_comments, and the
 * pre-scans for depth and \u0000 that used to guard it did not know about
 * comments ("/\*\"*\/" hides a quote from them).  This builds the same
 * yajl_val tree from yajl's callbacks with comments off, and checks depth and
 * NUL on what yajl decoded, not on the text: nothing to get out of step with.
 * The nodes are malloc'd exactly as yajl_tree.c does, so yajl_tree_free()
 * frees them.
 */
struct jtree {
	yajl_val	 stack[JSON_MAX_DEPTH + 1];	/* open containers */
	char		*key;		/* an object's key waiting for its value */
	int		 depth;
	int		 max;
	yajl_val	 root;
	const char	*why;		/* why a callback stopped the parse */
	char		 whybuf[64];
};

static yajl_val
jnode(yajl_type type)
{
	yajl_val	v;

	if ((v = calloc(1, sizeof(*v))) == NULL)
		fatal("%s", __func__);
	v->type = type;
	return v;
}

static void *
jgrow(void *p, size_t n, size_t size)
{
	if ((p = reallocarray(p, n, size)) == NULL)
		fatal("%s", __func__);
	return p;
}

/* hangs v under the innermost open container, or makes it the root */
static int
jadd(struct jtree *t, yajl_val v)
{
	yajl_val	parent;
	size_t		n;

	if (t->depth == 0) {
		t->root = v;
		return 1;
	}
	parent = t->stack[t->depth - 1];
	if (parent->type == yajl_t_object) {
		if (t->key == NULL)
			fatalx("%s: object value without a key", __func__);
		n = parent->u.object.len;
		parent->u.object.keys = jgrow((void *)parent->u.object.keys,
		    n + 1, sizeof(char *));
		parent->u.object.values = jgrow(parent->u.object.values,
		    n + 1, sizeof(yajl_val));
		parent->u.object.keys[n] = t->key;
		parent->u.object.values[n] = v;
		parent->u.object.len = n + 1;
		t->key = NULL;
	} else {
		n = parent->u.array.len;
		parent->u.array.values = jgrow(parent->u.array.values, n + 1,
		    sizeof(yajl_val));
		parent->u.array.values[n] = v;
		parent->u.array.len = n + 1;
	}
	return 1;
}

static char *
jstring(struct jtree *t, const unsigned char *s, size_t len)
{
	char	*copy;
	size_t	 i, n;

	if (memchr(s, '\0', len) != NULL) {
		t->why = "\\u0000 in a JSON string";
		return NULL;
	}
	/* strictly: yajl lets overlong forms through, our generator would not */
	for (i = 0; i < len; i += n)
		if ((n = utf8_seqlen(s + i, len - i)) == 0) {
			t->why = "invalid UTF-8 in a JSON string";
			return NULL;
		}
	if ((copy = malloc(len + 1)) == NULL)
		fatal("%s", __func__);
	memcpy(copy, s, len);
	copy[len] = '\0';
	return copy;
}

static int
jcb_null(void *ctx)
{
	return jadd(ctx, jnode(yajl_t_null));
}

static int
jcb_boolean(void *ctx, int b)
{
	return jadd(ctx, jnode(b ? yajl_t_true : yajl_t_false));
}

static int
jcb_number(void *ctx, const char *s, size_t len)
{
	yajl_val	 v = jnode(yajl_t_number);
	char		*end;

	if ((v->u.number.r = malloc(len + 1)) == NULL)
		fatal("%s", __func__);
	memcpy(v->u.number.r, s, len);
	v->u.number.r[len] = '\0';
	errno = 0;
	v->u.number.i = strtoll(v->u.number.r, &end, 10);
	if (errno == 0 && *end == '\0')
		v->u.number.flags |= YAJL_NUMBER_INT_VALID;
	errno = 0;
	v->u.number.d = strtod(v->u.number.r, &end);
	if (errno == 0 && *end == '\0')
		v->u.number.flags |= YAJL_NUMBER_DOUBLE_VALID;
	return jadd(ctx, v);
}

static int
jcb_string(void *ctx, const unsigned char *s, size_t len)
{
	yajl_val	v;
	char		*copy;

	if ((copy = jstring(ctx, s, len)) == NULL)
		return 0;
	v = jnode(yajl_t_string);
	v->u.string = copy;
	return jadd(ctx, v);
}

static int
jcb_map_key(void *ctx, const unsigned char *s, size_t len)
{
	struct jtree	*t = ctx;

	free(t->key);
	return (t->key = jstring(t, s, len)) != NULL;
}

static int
jopen(struct jtree *t, yajl_type type)
{
	yajl_val	v;

	if (t->depth >= t->max) {
		snprintf(t->whybuf, sizeof(t->whybuf),
		    "JSON nested deeper than %d", t->max);
		t->why = t->whybuf;
		return 0;
	}
	v = jnode(type);
	jadd(t, v);
	t->stack[t->depth++] = v;
	return 1;
}

static int
jcb_start_map(void *ctx)
{
	return jopen(ctx, yajl_t_object);
}

static int
jcb_start_array(void *ctx)
{
	return jopen(ctx, yajl_t_array);
}

static int
jcb_end(void *ctx)
{
	struct jtree	*t = ctx;

	if (t->depth == 0)
		fatalx("%s: close without open", __func__);
	t->depth--;
	return 1;
}

static const yajl_callbacks jtree_callbacks = {
	jcb_null, jcb_boolean, NULL, NULL, jcb_number, jcb_string,
	jcb_start_map, jcb_map_key, jcb_end, jcb_start_array, jcb_end
};

yajl_val
json_parse_max(const char *s, size_t len, int max, char *err, size_t errlen)
{
	struct jtree	 t;
	yajl_handle	 h;
	yajl_status	 st;
	unsigned char	*msg;
	char		*nl;

	if (memchr(s, '\0', len) != NULL) {
		snprintf(err, errlen, "NUL byte in JSON text");
		return NULL;
	}
	memset(&t, 0, sizeof(t));
	t.max = max < 0 ? 0 : max > JSON_MAX_DEPTH ? JSON_MAX_DEPTH : max;
	if ((h = yajl_alloc(&jtree_callbacks, NULL, &t)) == NULL)
		fatalx("%s: yajl_alloc", __func__);
	/* the point of this parser: JSON, not JavaScript */
	yajl_config(h, yajl_allow_comments, 0);
	yajl_config(h, yajl_dont_validate_strings, 0);
	st = yajl_parse(h, (const unsigned char *)s, len);
	if (st == yajl_status_ok)
		st = yajl_complete_parse(h);
	if (st != yajl_status_ok) {
		if (t.why != NULL)
			snprintf(err, errlen, "%s", t.why);
		else {
			/* yajl's message is multi-line: keep line 1 */
			msg = yajl_get_error(h, 0, (const unsigned char *)s, len);
			if (msg != NULL && (nl = strchr((char *)msg, '\n')) != NULL)
				*nl = '\0';
			snprintf(err, errlen, "invalid JSON (%s)",
			    msg != NULL && msg[0] != '\0' ? (char *)msg :
			    "parse error");
			if (msg != NULL)
				yajl_free_error(h, msg);
		}
		free(t.key);
		yajl_tree_free(t.root);	/* what was built so far */
		yajl_free(h);
		return NULL;
	}
	yajl_free(h);
	free(t.key);
	if (t.root == NULL)
		snprintf(err, errlen, "invalid JSON (no value)");
	return t.root;
}

yajl_val
json_parse(const char *s, size_t len, char *err, size_t errlen)
{
	return json_parse_max(s, len, JSON_MAX_DEPTH, err, errlen);
}

yajl_val
json_get(yajl_val obj, const char *key)
{
	size_t	i;

	if (obj == NULL || obj->type != yajl_t_object)
		return NULL;
	for (i = 0; i < obj->u.object.len; i++)
		if (strcmp(obj->u.object.keys[i], key) == 0)
			return obj->u.object.values[i];
	return NULL;
}

const char *
json_get_str(yajl_val obj, const char *key)
{
	yajl_val	v = json_get(obj, key);

	return (v != NULL && v->type == yajl_t_string) ? v->u.string : NULL;
}

long long
json_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
