/*
 * Events to subscribed peers, as proto_events[] (proto/proto.c) lists them:
 * only those marked PROTO_EV_BACKEND are ours to publish.
 * control_broadcast bounds what each peer may queue.
 */
#include <stdlib.h>

#include "backend/backend.h"
#include "common/log.h"

yajl_gen
events_begin(enum proto_event_id id)
{
	const struct proto_event	*ev = proto_event_by_id(id);

	if (ev == NULL || !(ev->flags & PROTO_EV_BACKEND))
		fatalx("%s: event %d is not the backend's", __func__, id);
	return proto_event_begin(id);
}

void
events_publish(yajl_gen g)
{
	char	*line;
	size_t	 len;

	line = proto_finish(g, &len);
	control_broadcast(line, len);
	free(line);
}
