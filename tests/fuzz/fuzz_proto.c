/*
 * libFuzzer target for the protocol decoders: requests (backend side) and
 * replies/events (frontend side).  Whatever decodes must re-encode.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "proto/proto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_request	 req;
	struct proto_reply	 reply;
	struct proto_error	 err;
	char			*line, *args;
	size_t			 len;

	if (proto_request_decode((const char *)data, size, &req, &err) == 0) {
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
