/*
 * libFuzzer target for what the frontend parses from clients (Cookie,
 * Content-Type, Origin, ids, request paths) and from the backend
 * (frontend.config), the trusted proxies' list and X-Forwarded-For, the
 * end of a request's head, with the properties each must keep: a cookie value
 * lies inside the header and holds only cookie characters; an accepted path
 * has no "." or ".." or empty segment, no backslash or control character,
 * and fits the bound; a forwarded client is an address, never a trusted
 * proxy unless all are, and its key fits; a head ends inside the bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "frontend/frontend.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *
cstr(const uint8_t *data, size_t size)
{
	char	*s;

	if ((s = malloc(size + 1)) == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

static void
check_cookies(const char *hdr, size_t len)
{
	const char	*vals[8];
	size_t		 lens[8], n, i, j;

	n = http_cookie_find(hdr, len, FE_COOKIE_NAME, vals, lens, 8);
	if (n > 8)
		abort();
	for (i = 0; i < n; i++) {
		if (vals[i] < hdr || vals[i] + lens[i] > hdr + len)
			abort();
		for (j = 0; j < lens[i]; j++)
			if (vals[i][j] == ';' || vals[i][j] == ' ' ||
			    (unsigned char)vals[i][j] < 0x21 ||
			    (unsigned char)vals[i][j] > 0x7e)
				abort();
	}
}

/* a parsed request line's method and target lie within it, without blanks */
static void
check_request_line(const char *line, size_t len)
{
	const char	*method, *target;
	size_t		 mlen, tlen, i;

	if (http_request_line(line, len, &method, &mlen, &target, &tlen) != 0)
		return;
	if (mlen == 0 || tlen == 0 || method < line || target < line ||
	    method + mlen > line + len || target + tlen > line + len)
		abort();
	for (i = 0; i < mlen; i++)
		if (method[i] == ' ' || method[i] == '\0')
			abort();
	for (i = 0; i < tlen; i++)
		if (target[i] == ' ' || target[i] == '\0')
			abort();
}

static void
check_path(const char *raw)
{
	char		 out[FE_STATIC_MAX_PATH + 1];
	const char	*seg, *p;
	size_t		 len;

	if (path_normalize(raw, out, sizeof(out)) == -1)
		return;
	if ((len = strlen(out)) == 0 || len > FE_STATIC_MAX_PATH)
		abort();
	for (p = out; *p != '\0'; p++)
		if (*p == '\\' || (unsigned char)*p < 0x20 || *p == 0x7f)
			abort();
	for (seg = out;; seg = p + 1) {
		p = strchr(seg, '/');
		len = p != NULL ? (size_t)(p - seg) : strlen(seg);
		if (len == 0 || seg[0] == '.')
			abort();
		if (p == NULL)
			break;
	}
	(void)path_content_type(out);
}

/* "PROXIES\nX-FORWARDED-FOR" */
static void
check_forwarded(char *s)
{
	struct fe_proxies	 p;
	char			 err[128], out[FE_ADDR_MAX], key[FE_ADDR_MAX];
	char			*nl, *xff;
	size_t			 i;

	if ((nl = strchr(s, '\n')) == NULL)
		return;
	*nl = '\0';
	xff = nl + 1;
	if (client_proxies_parse(s, &p, err, sizeof(err)) == -1)
		return;
	if (p.n > FE_MAX_PROXIES)
		abort();
	if (client_forwarded(xff, strlen(xff), &p, out, sizeof(out)) == 0) {
		if (strlen(out) == 0 || strlen(out) >= sizeof(out))
			abort();
		for (i = 0; out[i] != '\0'; i++)
			if (!((out[i] >= '0' && out[i] <= '9') ||
			    (out[i] >= 'a' && out[i] <= 'f') || out[i] == ':' ||
			    out[i] == '.'))
				abort();
		client_key(out, key, sizeof(key));
		if (strlen(key) == 0)
			abort();
	}
	client_key(xff, key, sizeof(key));
	(void)client_addr_trusted(&p, xff);
	(void)client_listen_is_loopback(xff);
}

/* a member's bytes: within the input, and found again at the same place */
static void
check_raw(const char *p, size_t len)
{
	char		*copy;
	const char	*v, *v2;
	size_t		 vlen, vlen2;

	if ((copy = malloc(len ? len : 1)) == NULL)
		abort();
	memcpy(copy, p, len);
	if (json_raw_member(copy, len, "data", &v, &vlen) == 0) {
		if (v < copy || vlen == 0 || v + vlen > copy + len)
			abort();
		if (json_raw_member(copy, len, "data", &v2, &vlen2) != 0 ||
		    v2 != v || vlen2 != vlen)
			abort();
	}
	free(copy);
}

/* the body's framing read from a head of hostile bytes (no NUL needed) */
static void
check_body(const char *p, size_t len)
{
	char		*copy;
	long long	 clen;
	int		 chunked;

	/* an exact-size copy: ASan sees any read past the head */
	if ((copy = malloc(len ? len : 1)) == NULL)
		abort();
	memcpy(copy, p, len);
	if (http_head_body(copy, len, &clen, &chunked) == 0 &&
	    (clen < -1 || (chunked && clen != -1)))
		abort();
	free(copy);
}

static void
check_head(const char *p, size_t len)
{
	ssize_t	end;
	size_t	half = len / 2;
	int	st = 0, st2 = 0;

	end = http_head_scan(&st, p, len);
	if (end != -1 && (end < 1 || (size_t)end > len))
		abort();
	check_body(p, len);
	check_raw(p, len);
	/* in two pieces, the same end */
	if (http_head_scan(&st2, p, half) >= 0)
		return;
	if (http_head_scan(&st2, p + half, len - half) !=
	    (end == -1 ? -1 : end - (ssize_t)half))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fe_config	 cfg;
	char			*s, *nl, err[256], media[64];
	long long		 id;
	yajl_val		 tree;

	if (size < 1)
		return 0;
	s = cstr(data + 1, size - 1);
	switch (data[0] % 9) {
	case 0:
		check_cookies((const char *)data + 1, size - 1);
		break;
	case 1:
		if (http_media_type(s, media, sizeof(media)) == 0 &&
		    (strlen(media) >= sizeof(media) || strchr(media, '/') == NULL))
			abort();
		break;
	case 2:
		if ((nl = strchr(s, '\n')) != NULL) {
			*nl = '\0';
			(void)http_origin_ok(s, nl + 1);
		}
		break;
	case 3:
		if (http_parse_id(s, strlen(s), PROTO_MAX_ID, &id) == 0 &&
		    (id < 1 || id > PROTO_MAX_ID))
			abort();
		break;
	case 4:
		check_path(s);
		break;
	case 5:
		if ((tree = json_parse(s, strlen(s), err, sizeof(err))) != NULL) {
			if (fe_config_parse(tree, &cfg, err, sizeof(err)) == 0)
				fe_config_free(&cfg);
			yajl_tree_free(tree);
		}
		break;
	case 6:
		check_request_line((const char *)data + 1, size - 1);
		break;
	case 7:
		check_forwarded(s);
		break;
	case 8:
		check_head((const char *)data + 1, size - 1);
		break;
	}
	free(s);
	return 0;
}
