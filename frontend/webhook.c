/*
 * GitHub webhook deliveries: HMAC-SHA256 signature (any key length, hence
 * the init/update/final form), the two content types GitHub sends, and the
 * few fields of a push that davit forwards.  Everything here treats the body
 * as hostile: bounded, typed, and checked before use.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "common/json.h"
#include "common/text.h"
#include "frontend/webhook.h"

static void
hmac(const unsigned char *key, size_t keylen, const void *body, size_t len,
    unsigned char mac[crypto_auth_hmacsha256_BYTES])
{
	crypto_auth_hmacsha256_state	st;

	crypto_auth_hmacsha256_init(&st, key, keylen);
	crypto_auth_hmacsha256_update(&st, body, len);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_memzero(&st, sizeof(st));
}

void
webhook_sign(const unsigned char *key, size_t keylen, const void *body, size_t len,
    char out[7 + 64 + 1])
{
	unsigned char	mac[crypto_auth_hmacsha256_BYTES];

	hmac(key, keylen, body, len, mac);
	memcpy(out, WEBHOOK_SIG_PREFIX, 7);
	sodium_bin2hex(out + 7, 64 + 1, mac, sizeof(mac));
}

int
webhook_signature_ok(const unsigned char *key, size_t keylen, const void *body,
    size_t len, const char *header)
{
	unsigned char	want[crypto_auth_hmacsha256_BYTES];
	unsigned char	got[crypto_auth_hmacsha256_BYTES];
	size_t		i;
	int		hi, lo, ok;

	if (header == NULL || strncmp(header, WEBHOOK_SIG_PREFIX, 7) != 0 ||
	    strlen(header) != 7 + 2 * sizeof(got))
		return 0;
	for (i = 0; i < sizeof(got); i++) {
		if ((hi = hexval(header[7 + 2 * i])) == -1 ||
		    (lo = hexval(header[8 + 2 * i])) == -1)
			return 0;
		got[i] = (unsigned char)(hi << 4 | lo);
	}
	hmac(key, keylen, body, len, want);
	ok = sodium_memcmp(want, got, sizeof(want)) == 0;
	sodium_memzero(want, sizeof(want));
	return ok;
}

/* the media type without parameters, compared case-insensitively */
static int
media_is(const char *content_type, const char *type)
{
	size_t	n = strlen(type);

	if (content_type == NULL || strncasecmp(content_type, type, n) != 0)
		return 0;
	return content_type[n] == '\0' || content_type[n] == ';' ||
	    content_type[n] == ' ';
}

/* URL-decodes s[0..len) into a new string; -1 on a bad escape or a NUL */
static int
form_decode(const char *s, size_t len, char **out, size_t *outlen)
{
	char	*d;
	size_t	 i, o = 0;
	int	 hi, lo;

	if ((d = malloc(len + 1)) == NULL)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] == '+')
			d[o++] = ' ';
		else if (s[i] == '%') {
			if (i + 2 >= len || (hi = hexval(s[i + 1])) == -1 ||
			    (lo = hexval(s[i + 2])) == -1 || (hi == 0 && lo == 0))
				goto fail;
			d[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else if (s[i] == '\0')
			goto fail;
		else
			d[o++] = s[i];
	}
	d[o] = '\0';
	*out = d;
	*outlen = o;
	return 0;
 fail:
	free(d);
	return -1;
}

int
webhook_payload(const char *content_type, const char *body, size_t len,
    char **json, size_t *jsonlen, int *unsupported, char *err, size_t errlen)
{
	const char	*p, *end = body + len, *amp;

	*json = NULL;
	*unsupported = 0;
	if (media_is(content_type, "application/json")) {
		if ((*json = malloc(len + 1)) == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		memcpy(*json, body, len);
		(*json)[len] = '\0';
		*jsonlen = len;
		return 0;
	}
	if (!media_is(content_type, "application/x-www-form-urlencoded")) {
		*unsupported = 1;
		snprintf(err, errlen, "content type must be application/json or "
		    "application/x-www-form-urlencoded");
		return -1;
	}
	/* the "payload" field, wherever it stands among the fields */
	for (p = body; p < end; p = amp + 1) {
		if ((amp = memchr(p, '&', end - p)) == NULL)
			amp = end;
		if (amp - p >= 8 && memcmp(p, "payload=", 8) == 0) {
			if (form_decode(p + 8, amp - p - 8, json, jsonlen) == -1) {
				snprintf(err, errlen, "bad URL encoding in the payload field");
				return -1;
			}
			return 0;
		}
	}
	snprintf(err, errlen, "no payload field in the form");
	return -1;
}

static int
is_text(const char *s, size_t max)
{
	size_t	n = strlen(s), i;

	if (n == 0 || n > max)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

static void
add_path(struct webhook_push *p, const char *path)
{
	size_t	i;

	if (!is_text(path, WEBHOOK_MAX_PATH)) {
		p->paths_dropped++;
		return;
	}
	for (i = 0; i < p->npaths; i++)
		if (strcmp(p->paths[i], path) == 0)
			return;
	if (p->npaths == WEBHOOK_MAX_PATHS) {
		p->paths_dropped++;
		return;
	}
	if ((p->paths[p->npaths] = strdup(path)) != NULL)
		p->npaths++;
}

static void
add_commit_paths(struct webhook_push *p, yajl_val commit)
{
	static const char *const lists[] = { "added", "removed", "modified" };
	yajl_val		 v;
	size_t			 i, k;

	for (k = 0; k < sizeof(lists) / sizeof(lists[0]); k++) {
		v = json_get(commit, lists[k]);
		if (v == NULL || v->type != yajl_t_array)
			continue;
		for (i = 0; i < v->u.array.len; i++)
			if (YAJL_IS_STRING(v->u.array.values[i]))
				add_path(p, v->u.array.values[i]->u.string);
			else
				p->paths_dropped++;
	}
}

int
webhook_parse_push(const char *json, size_t len, struct webhook_push *p,
    char *err, size_t errlen)
{
	yajl_val	 tree, v, commits;
	const char	*s;
	char		 perr[128];
	size_t		 i;

	memset(p, 0, sizeof(*p));
	if ((tree = json_parse(json, len, perr, sizeof(perr))) == NULL) {
		snprintf(err, errlen, "body is not JSON: %s", perr);
		return -1;
	}
	if (tree->type != yajl_t_object) {
		snprintf(err, errlen, "body is not a JSON object");
		goto fail;
	}
	if ((s = json_get_str(tree, "ref")) == NULL || !is_text(s, sizeof(p->ref) - 1)) {
		snprintf(err, errlen, "push without a valid \"ref\"");
		goto fail;
	}
	snprintf(p->ref, sizeof(p->ref), "%s", s);
	if ((s = json_get_str(tree, "after")) == NULL || !is_commit_id(s)) {
		snprintf(err, errlen, "push without a valid \"after\" commit");
		goto fail;
	}
	snprintf(p->after, sizeof(p->after), "%s", s);
	if ((s = json_get_str(tree, "before")) != NULL && is_commit_id(s))
		snprintf(p->before, sizeof(p->before), "%s", s);
	v = json_get(tree, "repository");
	if ((s = json_get_str(v, "full_name")) == NULL ||
	    !is_text(s, sizeof(p->repository) - 1)) {
		snprintf(err, errlen, "push without a valid repository.full_name");
		goto fail;
	}
	snprintf(p->repository, sizeof(p->repository), "%s", s);
	v = json_get(tree, "deleted");
	p->deleted = v != NULL && v->type == yajl_t_true;
	commits = json_get(tree, "commits");
	if (commits != NULL && commits->type == yajl_t_array)
		for (i = 0; i < commits->u.array.len; i++)
			add_commit_paths(p, commits->u.array.values[i]);
	yajl_tree_free(tree);
	return 0;
 fail:
	yajl_tree_free(tree);
	webhook_push_free(p);
	return -1;
}

void
webhook_push_free(struct webhook_push *p)
{
	size_t	i;

	for (i = 0; i < p->npaths; i++)
		free(p->paths[i]);
	p->npaths = 0;
}

int
webhook_delivery_ok(const char *s)
{
	size_t	n, i;

	if (s == NULL || (n = strlen(s)) == 0 || n > WEBHOOK_MAX_DELIVERY ||
	    !isalnum((unsigned char)s[0]))
		return 0;
	for (i = 1; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_' &&
		    s[i] != '.')
			return 0;
	return 1;
}
