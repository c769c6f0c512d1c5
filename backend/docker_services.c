/*
 * The per-project container table: which container stands for each listed
 * service (a live one, else the newest), what is read from it (services.list,
 * the counts, the fingerprint, readiness's container) and service.state,
 * published when a service's container or state changes, with the restart
 * loop check.  Pure reads of the table that docker_state.c's sync keeps; no
 * request to the engine here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "backend/docker.h"
#include "backend/docker_state.h"
#include "backend/notify.h"
#include "backend/project.h"
#include "common/clock.h"
#include "common/json.h"
#include "common/log.h"

const struct docker_container *
find_container(const struct docker_container *cs, size_t n, const char *id)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strcmp(cs[i].id, id) == 0)
			return &cs[i];
	return NULL;
}

static int
state_rank(enum docker_state st)
{
	switch (st) {
	case DS_RUNNING:
	case DS_RESTARTING:
	case DS_PAUSED:
		return 2;
	case DS_CREATED:
		return 1;
	default:
		return 0;
	}
}

/* the container that stands for a service: a live one, else the newest */
const struct docker_container *
service_container(const struct docker_project *dp, const char *service)
{
	const struct docker_container	*best = NULL, *c;
	size_t				 i;

	for (i = 0; i < dp->ncs; i++) {
		c = &dp->cs[i];
		if (strcmp(c->service, service) != 0)
			continue;
		if (best == NULL || state_rank(c->state) > state_rank(best->state) ||
		    (state_rank(c->state) == state_rank(best->state) &&
		    c->created_ms > best->created_ms))
			best = c;
	}
	return best;
}

/* project: the name, in service.state's data; NULL in services.list */
static void
service_gen(yajl_gen g, const char *project, const char *service,
    const struct docker_container *c, long long now)
{
	char	status[DOCKER_STATUS_LEN];

	yajl_gen_map_open(g);
	if (project != NULL)
		json_kstr(g, "project", project);
	json_kstr(g, "service", service);
	if (c == NULL) {
		json_knull(g, "container");
		json_knull(g, "id");
		json_kstr(g, "state", docker_state_name(DS_MISSING));
		json_knull(g, "status");
		json_knull(g, "health");
		json_knull(g, "started_at");
		json_knull(g, "image");
		json_knull(g, "restarts");
		json_knull(g, "exit_code");
		yajl_gen_map_close(g);
		return;
	}
	docker_status_text(c, now, status, sizeof(status));
	json_kstr(g, "container", c->name[0] != '\0' ? c->name : NULL);
	json_kstr(g, "id", c->id);
	json_kstr(g, "state", docker_state_name(c->state));
	json_kstr(g, "status", status);
	json_kstr(g, "health", docker_health_name(c->health));
	json_ktime(g, "started_at", c->started_ms);
	json_kstr(g, "image", c->image[0] != '\0' ? c->image : NULL);
	json_kint(g, "restarts", c->restarts);
	json_kint(g, "exit_code", c->exit_code);
	yajl_gen_map_close(g);
}

void
docker_services_gen(yajl_gen g, const struct project *p)
{
	const struct docker_project	*dp = p->docker;
	long long	now = json_now_ms();
	size_t		i;

	yajl_gen_map_open(g);
	json_key(g, "engine");
	engine_gen(g);
	json_key(g, "services");
	yajl_gen_array_open(g);
	for (i = 0; i < p->cfg->nservices; i++)
		service_gen(g, NULL, p->cfg->services[i],
		    service_container(dp, p->cfg->services[i]), now);
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
}

/*
 * A fingerprint of the listed services' containers (id, start time, restart
 * count): it changes when one is recreated, restarts, or goes.
 */
unsigned long long
docker_services_fingerprint(const struct project *p)
{
	const struct docker_project	*dp = p->docker;
	const struct docker_container	*c;
	unsigned long long		 h = 14695981039346656037ULL;	/* FNV-1a */
	char				 buf[DOCKER_ID_LEN + 64];
	size_t				 i, k, n;

	for (i = 0; i < p->cfg->nservices; i++) {
		c = service_container(dp, p->cfg->services[i]);
		n = (size_t)snprintf(buf, sizeof(buf), "%s %lld %lld;",
		    c != NULL ? c->id : "-", c != NULL ? c->started_ms : 0,
		    c != NULL ? c->restarts : 0);
		for (k = 0; k < n && k < sizeof(buf); k++) {
			h ^= (unsigned char)buf[k];
			h *= 1099511628211ULL;
		}
	}
	return h;
}

/*
 * A service restarting over and over (its container's RestartCount going up
 * DOCKER_RESTART_LOOP times within DOCKER_RESTART_WINDOW) is critical.
 */
static void
restart_loop_check(struct docker_project *dp, size_t i,
    const struct docker_container *c)
{
	const struct davit_config	*cfg = dp->p->cfg;
	long long	now = clock_mono_ms();
	long long	more;

	if (c == NULL)
		return;
	if (strcmp(dp->loop[i].id, c->id) != 0) {	/* another container */
		snprintf(dp->loop[i].id, sizeof(dp->loop[i].id), "%s", c->id);
		dp->loop[i].restarts = c->restarts;
		return;
	}
	if (c->restarts <= dp->loop[i].restarts)
		return;
	more = c->restarts - dp->loop[i].restarts;
	dp->loop[i].restarts = c->restarts;
	if (dp->loop[i].window_ms == 0 ||
	    now - dp->loop[i].window_ms > DOCKER_RESTART_WINDOW * 1000LL) {
		dp->loop[i].window_ms = now;
		dp->loop[i].count = 0;
		dp->loop[i].notified = 0;
	}
	dp->loop[i].count += more;
	if (dp->loop[i].count >= DOCKER_RESTART_LOOP && !dp->loop[i].notified) {
		dp->loop[i].notified = 1;
		notify_project(dp->p, "service.restarting",
		    cfg->services[i], "service %s restarted %lld times "
		    "within %d s (now %s, last exit code %lld)",
		    cfg->services[i], dp->loop[i].count, DOCKER_RESTART_WINDOW,
		    docker_state_name(c->state), c->exit_code);
	}
}

/* service.state for every service whose container or state changed */
void
services_publish(struct docker_project *dp)
{
	const struct davit_config	*cfg = dp->p->cfg;
	const struct docker_container	*c;
	long long			 now = json_now_ms();
	char				 key[DOCKER_ID_LEN + DOCKER_NAME_MAX + 128], *copy;
	size_t				 i;
	yajl_gen			 g;

	for (i = 0; i < cfg->nservices && i < CONFIG_MAX_SERVICES; i++) {
		c = service_container(dp, cfg->services[i]);
		restart_loop_check(dp, i, c);
		if (c == NULL)
			snprintf(key, sizeof(key), "missing");
		else
			snprintf(key, sizeof(key), "%s %d %d %lld %lld %lld %s",
			    c->id, (int)c->state, (int)c->health, c->started_ms,
			    c->exit_code, c->restarts, c->image);
		if (dp->published[i] != NULL && strcmp(dp->published[i], key) == 0)
			continue;
		if ((copy = strdup(key)) == NULL)
			fatal("%s", __func__);
		free(dp->published[i]);
		dp->published[i] = copy;
		log_debug("%s: service %s: %s", dp->p->name, cfg->services[i],
		    c != NULL ? docker_state_name(c->state) : "missing");
		g = events_begin(EV_SERVICE_STATE);
		service_gen(g, dp->p->name, cfg->services[i], c, now);
		events_publish(g);
	}
}

void
docker_project_counts(const struct project *p, int *running, int *total)
{
	const struct docker_container	*c;
	size_t				 i;

	*running = 0;
	*total = (int)p->cfg->nservices;
	if (p->docker == NULL)
		return;
	for (i = 0; i < p->cfg->nservices; i++)
		if ((c = service_container(p->docker, p->cfg->services[i])) != NULL &&
		    c->state == DS_RUNNING)
			(*running)++;
}
