/*
 * libFuzzer target for the git child's wire (gitchild/wire.c,
 * wire_decode.c): the request parser (the child's side) and the reply
 * line decoder (the backend's side).  A request that parses must encode
 * and parse again to the same values; a reply line that decodes must hold
 * only values within the wire's bounds.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gitchild/url.h"
#include "gitchild/wire.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
same(const char *a, const char *b)
{
	if ((a == NULL) != (b == NULL) || (a != NULL && strcmp(a, b) != 0))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gc_request	 req, again;
	struct gc_line		 l;
	char			 err[256], *line;
	size_t			 len;

	if (gc_request_parse((const char *)data, size, &req, err,
	    sizeof(err)) == 0) {
		line = gc_request_encode(&req, &len);
		if (gc_request_parse(line, len - 1, &again, err, sizeof(err)) != 0 ||
		    again.op != req.op)
			abort();
		same(req.workdir, again.workdir);
		same(req.url, again.url);
		same(req.branch, again.branch);
		same(req.token, again.token);
		if (req.url != NULL && !gc_url_valid(req.url))
			abort();
		gc_request_free(&again);
		free(line);
	}
	gc_request_free(&req);
	if (gc_line_decode((const char *)data, size, &l, err, sizeof(err)) == 0) {
		if ((l.id != NULL && !gc_oid_valid(l.id)) ||
		    (l.type == GL_OK && l.pull.present && !gc_oid_valid(l.pull.to)))
			abort();
		gc_line_free(&l);
	}
	return 0;
}
