/*
 * Events to subscribed peers: job.state, job.log, service.state, git.state,
 * deploy.state.  control_broadcast bounds what each peer may queue.
 */
#include <stdlib.h>

#include "backend/backend.h"

void
events_publish(yajl_gen g)
{
	char	*line;
	size_t	 len;

	line = proto_finish(g, &len);
	control_broadcast(line, len);
	free(line);
}
