/*
 * The replay set: delivery ids, and digests of delivery bodies, of deploys
 * that succeeded (since the start, and from the history file), so that a
 * replayed push, under its own delivery id or another, deploys nothing.
 * A ring of DEPLOY_SEEN_MAX entries, the oldest forgotten first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/deploy.h"
#include "common/log.h"

static char	*seen[DEPLOY_SEEN_MAX];
static size_t	 nseen, seen_next;

int
deploy_delivery_seen(const char *delivery)
{
	size_t	i;

	for (i = 0; delivery != NULL && i < nseen; i++)
		if (strcmp(seen[i], delivery) == 0)
			return 1;
	return 0;
}

void
deploy_delivery_remember(const char *delivery)
{
	if (deploy_delivery_seen(delivery))
		return;
	free(seen[seen_next]);
	if ((seen[seen_next] = strdup(delivery)) == NULL)
		fatal("%s", __func__);
	seen_next = (seen_next + 1) % DEPLOY_SEEN_MAX;
	if (nseen < DEPLOY_SEEN_MAX)
		nseen++;
}

void
deploy_body_remember(const char *body)
{
	char	key[sizeof(DEPLOY_BODY_KEY) + DEPLOY_ID_MAX];

	snprintf(key, sizeof(key), "%s%s", DEPLOY_BODY_KEY, body);
	deploy_delivery_remember(key);
}

int
deploy_body_seen(const char *body)
{
	char	key[sizeof(DEPLOY_BODY_KEY) + DEPLOY_ID_MAX];

	if (body == NULL)
		return 0;
	snprintf(key, sizeof(key), "%s%s", DEPLOY_BODY_KEY, body);
	return deploy_delivery_seen(key);
}

void
deploy_replay_remember(const struct deploy_record *r)
{
	size_t	i;

	for (i = 0; i < r->ndeliveries; i++)
		deploy_delivery_remember(r->deliveries[i]);
	for (i = 0; i < r->nbodies; i++)
		deploy_body_remember(r->bodies[i]);
}

void
deploy_replay_clear(void)
{
	size_t	i;

	for (i = 0; i < DEPLOY_SEEN_MAX; i++) {
		free(seen[i]);
		seen[i] = NULL;
	}
	nseen = seen_next = 0;
}
