/*
 * Private to the Docker state (docker_state.c: the engine's connection and
 * the sync; docker_services.c: the per-project container table's reads and
 * service.state): one project's containers, kept in p->docker.
 */
#ifndef DAVIT_DOCKER_STATE_H
#define DAVIT_DOCKER_STATE_H

#include <stddef.h>

#include <yajl/yajl_gen.h>

#include "backend/docker.h"
#include "backend/project.h"

/* one project's services (p->docker): its containers and their sync */
struct docker_project {
	struct project		*p;
	struct event		*resync_ev;
	int			 synced;	/* listed since the stream came up */

	struct docker_container	*cs;		/* the listed services' containers */
	size_t			 ncs;
	int			 nunlisted;	/* services of the project not listed */
	char			 unlisted[DOCKER_NAME_MAX + 1];	/* the first */
	int			 new_nunlisted;	/* the same, of the running sync */
	char			 new_unlisted[DOCKER_NAME_MAX + 1];

	int			 sync_running;
	int			 sync_again;
	int			 sync_full;	/* the next sync inspects everything */
	int			 sync_full_now;	/* the running one does */
	struct docker_container	*new_cs;	/* being built by the running sync */
	size_t			 nnew;
	size_t			 pending;	/* inspects in flight */
	char			 dirty[DOCKER_MAX_DIRTY][DOCKER_ID_LEN + 1];
	size_t			 ndirty;
	char			 syncing[DOCKER_MAX_DIRTY][DOCKER_ID_LEN + 1];
	size_t			 nsyncing;

	char			*published[CONFIG_MAX_SERVICES];	/* last service.state */
	struct {			/* restart loops, per listed service */
		char		 id[DOCKER_ID_LEN + 1];	/* the container counted */
		long long	 restarts;	/* its RestartCount seen last */
		long long	 window_ms;	/* the window's start (monotonic), 0: none */
		long long	 count;		/* restarts within it */
		int		 notified;
	}			 loop[CONFIG_MAX_SERVICES];
};

/* docker_state.c */
void	 engine_gen(yajl_gen g);

/* docker_services.c */
const struct docker_container *find_container(const struct docker_container *cs,
	    size_t n, const char *id);
const struct docker_container *service_container(const struct docker_project *dp,
	    const char *service);
void	 services_publish(struct docker_project *dp);

#endif /* DAVIT_DOCKER_STATE_H */
