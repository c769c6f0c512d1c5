/*
 * GitHub webhooks: the signature check and the push parser.  Pure functions
 * over the raw body; the HTTP glue is webhook_http.c.
 */
#ifndef DAVIT_WEBHOOK_H
#define DAVIT_WEBHOOK_H

#include <stddef.h>

#define WEBHOOK_MAX_BODY	(25 * 1024 * 1024)	/* GitHub's own cap */
#define WEBHOOK_MAX_PATHS	100			/* changed paths forwarded */
#define WEBHOOK_MAX_PATH	255
#define WEBHOOK_MAX_DELIVERY	64
#define WEBHOOK_SIG_PREFIX	"sha256="

struct webhook_push {
	char	 ref[256];
	char	 before[65];
	char	 after[65];
	char	 repository[201];
	int	 deleted;
	char	*paths[WEBHOOK_MAX_PATHS];
	size_t	 npaths;
	size_t	 paths_dropped;		/* over the bound, or not plain text */
};

/*
 * 1 when header is "sha256=<64 hex>" and equals HMAC-SHA256(key, body),
 * compared in constant time; 0 otherwise (missing, malformed or wrong).
 */
int	webhook_signature_ok(const unsigned char *key, size_t keylen,
	    const void *body, size_t len, const char *header);
/* the lowercase hex HMAC of body: for tests and for signing test deliveries */
void	webhook_sign(const unsigned char *key, size_t keylen, const void *body,
	    size_t len, char out[7 + 64 + 1]);
/*
 * The JSON document of a delivery: the body itself for application/json, the
 * URL-decoded "payload" field for application/x-www-form-urlencoded.  *json
 * is malloc'd.  -1 with a message in err; *unsupported set when the content
 * type is neither (415).
 */
int	webhook_payload(const char *content_type, const char *body, size_t len,
	    char **json, size_t *jsonlen, int *unsupported, char *err, size_t errlen);
/* parses a push event; -1 with a message in err when it is not one */
int	webhook_parse_push(const char *json, size_t len, struct webhook_push *p,
	    char *err, size_t errlen);
void	webhook_push_free(struct webhook_push *p);
/* 1 if s is a usable delivery id: [A-Za-z0-9][A-Za-z0-9_.-]*, at most 64 */
int	webhook_delivery_ok(const char *s);

#endif
