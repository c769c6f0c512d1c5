/*
 * libFuzzer target for the protocol decoders: requests (backend side) and
 * replies/events (frontend side).  Whatever decodes must re-encode.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/log.h"
#include "proto/proto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_request	 req;
	struct proto_reply	 reply;
	struct proto_error	 err;
	char			*line, *args;
	size_t			 len, i, j;

	if (proto_request_decode((const char *)data, size, &req, &err) == 0) {
		/* no text field lets a disguising character through */
		for (i = 0; i < PROTO_MAX_FIELDS &&
		    req.op->fields[i].name != NULL; i++) {
			if (req.op->fields[i].charset != PC_TEXT ||
			    req.args[i].s == NULL)
				continue;
			for (j = 0; j < req.args[i].slen; j++)
				if (log_unsafe_seq(req.args[i].s + j,
				    req.args[i].slen - j) != 0)
					abort();
		}
		/* a valid request is valid for the encoder too */
		if (proto_request_encode(&req, &line, &len, &err) != 0)
			abort();
		free(line);
		args = proto_args_json(&req, 1);
		free(args);
	} else {
		line = proto_reply_error(req.id, &err, &len);
		free(line);
	}
	proto_request_free(&req);
	if (proto_reply_decode((const char *)data, size, &reply) == 0)
		proto_reply_free(&reply);
	return 0;
}
