#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "log.h"

yajl_gen
json_gen_new(void)
{
	yajl_gen	g;

	if ((g = yajl_gen_alloc(NULL)) == NULL)
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
	if ((out = malloc(n + 1)) == NULL)
		fatal("%s", __func__);
	memcpy(out, buf, n);
	out[n] = '\0';
	if (len != NULL)
		*len = n;
	return out;
}

/* 1 if a string holds the escape \u0000, which C strings cannot carry */
static int
json_has_nul_escape(const char *s, size_t len)
{
	size_t	i;
	int	instr = 0;

	for (i = 0; i < len; i++) {
		if (!instr) {
			instr = s[i] == '"';
			continue;
		}
		if (s[i] == '"')
			instr = 0;
		else if (s[i] == '\\' && i + 1 < len) {
			if (s[i + 1] == 'u' && i + 5 < len &&
			    memcmp(s + i + 2, "0000", 4) == 0)
				return 1;
			i++;
		}
	}
	return 0;
}

int
json_too_deep(const char *s, size_t len, int max)
{
	size_t	i;
	int	depth = 0, instr = 0;

	for (i = 0; i < len; i++) {
		if (instr) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				instr = 0;
			continue;
		}
		switch (s[i]) {
		case '"':
			instr = 1;
			break;
		case '[':
		case '{':
			if (++depth > max)
				return 1;
			break;
		case ']':
		case '}':
			depth--;
			break;
		}
	}
	return 0;
}

yajl_val
json_parse(const char *s, size_t len, char *err, size_t errlen)
{
	char		*copy, ebuf[128], *nl;
	yajl_val	 v;

	if (memchr(s, '\0', len) != NULL) {
		snprintf(err, errlen, "NUL byte in JSON text");
		return NULL;
	}
	if (json_has_nul_escape(s, len)) {
		snprintf(err, errlen, "\\u0000 in a JSON string");
		return NULL;
	}
	if (json_too_deep(s, len, JSON_MAX_DEPTH)) {
		snprintf(err, errlen, "JSON nested deeper than %d", JSON_MAX_DEPTH);
		return NULL;
	}
	if ((copy = malloc(len + 1)) == NULL)
		fatal("%s", __func__);
	memcpy(copy, s, len);
	copy[len] = '\0';
	ebuf[0] = '\0';
	v = yajl_tree_parse(copy, ebuf, sizeof(ebuf));
	free(copy);
	if (v == NULL) {
		/* yajl's message is multi-line and quotes the input: keep line 1 */
		if ((nl = strchr(ebuf, '\n')) != NULL)
			*nl = '\0';
		snprintf(err, errlen, "invalid JSON (%s)",
		    ebuf[0] != '\0' ? ebuf : "parse error");
	}
	return v;
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
