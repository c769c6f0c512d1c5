/*
 * The replay set: delivery ids, and digests of delivery bodies, of deploys
 * that succeeded (since the start, and from the history file), so that a
 * replayed push, under its own delivery id or another, deploys nothing.
 * A ring of DEPLOY_SEEN_MAX entries, the oldest forgotten first; one per
 * project (struct deploy_replay in its struct deploy_project).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/deploy.h"
#include "common/log.h"

int
deploy_delivery_seen(const struct deploy_replay *rp, const char *delivery)
{
	size_t	i;

	for (i = 0; delivery != NULL && i < rp->nseen; i++)
		if (strcmp(rp->seen[i], delivery) == 0)
			return 1;
	return 0;
}

void
deploy_delivery_remember(struct deploy_replay *rp, const char *delivery)
{
	if (deploy_delivery_seen(rp, delivery))
		return;
	free(rp->seen[rp->next]);
	if ((rp->seen[rp->next] = strdup(delivery)) == NULL)
		fatal("%s", __func__);
	rp->next = (rp->next + 1) % DEPLOY_SEEN_MAX;
	if (rp->nseen < DEPLOY_SEEN_MAX)
		rp->nseen++;
}

void
deploy_body_remember(struct deploy_replay *rp, const char *body)
{
	char	key[sizeof(DEPLOY_BODY_KEY) + DEPLOY_ID_MAX];

	snprintf(key, sizeof(key), "%s%s", DEPLOY_BODY_KEY, body);
	deploy_delivery_remember(rp, key);
}

int
deploy_body_seen(const struct deploy_replay *rp, const char *body)
{
	char	key[sizeof(DEPLOY_BODY_KEY) + DEPLOY_ID_MAX];

	if (body == NULL)
		return 0;
	snprintf(key, sizeof(key), "%s%s", DEPLOY_BODY_KEY, body);
	return deploy_delivery_seen(rp, key);
}

void
deploy_replay_remember(struct deploy_replay *rp, const struct deploy_record *r)
{
	size_t	i;

	for (i = 0; i < r->ndeliveries; i++)
		deploy_delivery_remember(rp, r->deliveries[i]);
	for (i = 0; i < r->nbodies; i++)
		deploy_body_remember(rp, r->bodies[i]);
}

void
deploy_replay_clear(struct deploy_replay *rp)
{
	size_t	i;

	for (i = 0; i < DEPLOY_SEEN_MAX; i++) {
		free(rp->seen[i]);
		rp->seen[i] = NULL;
	}
	rp->nseen = rp->next = 0;
}
