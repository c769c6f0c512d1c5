/*
 * libFuzzer target for the webhook body: both content types, the push
 * parser and the signature check.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/webhook.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct webhook_push	 p;
	char			 err[256], *json;
	size_t			 jlen;
	int			 unsup;
	const char		*ct;

	if (size < 1)
		return 0;
	ct = (data[0] & 1) ? "application/x-www-form-urlencoded" : "application/json";
	if (webhook_payload(ct, (const char *)data + 1, size - 1, &json, &jlen,
	    &unsup, err, sizeof(err)) == 0) {
		if (webhook_parse_push(json, jlen, &p, err, sizeof(err)) == 0)
			webhook_push_free(&p);
		free(json);
	}
	{
		char	hdr[73];
		size_t	n = size > 72 ? 72 : size;

		memcpy(hdr, data + size - n, n);
		hdr[n] = '\0';
		(void)webhook_signature_ok((const unsigned char *)"k", 1, data,
		    size - n, hdr);
	}
	return 0;
}
