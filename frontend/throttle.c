/*
 * Failures per client, before anything reaches the backend: failed logins
 * (THROTTLE_LOGIN) and bad webhook signatures (THROTTLE_WEBHOOK), each in
 * its own table.  Pure bookkeeping: the caller passes the time.
 *
 * A client is its address's client_key (IPv6 by /64).  Its first
 * FE_THROTTLE_FREE failures cost nothing; the next attempts wait 1, 2, ...
 * seconds (doubling); from FE_THROTTLE_PER_ADDR failures on it is refused
 * (429, Retry-After) for FE_THROTTLE_LOCK seconds after its last failure,
 * doubling with each further failure up to FE_THROTTLE_LOCK_MAX.  Failures
 * are forgotten FE_THROTTLE_FORGET seconds after the last one, and at once
 * when the client gets it right.  An attempt counts as failed from the
 * moment it is let through (so that parallel guesses count too) until
 * throttle_success or throttle_cancel.
 *
 * Strangers cannot lock the owner out: a client's verdict depends on its
 * own failures only.  The one global rate is the backend's (auth.c: every
 * attempt held 2 s past 30 failures a minute overall), so that the owner
 * waits 2 s at most, not once here and once there.  The table is bounded:
 * a new client takes a free slot, else the slot whose last failure is
 * oldest.
 */
#include <stdio.h>
#include <string.h>

#include "frontend/frontend.h"

struct throttle_entry {
	char	key[FE_ADDR_MAX];	/* "" when free */
	int	fails;
	time_t	last;			/* of the last failure */
};

struct throttle_table {
	struct throttle_entry	e[FE_THROTTLE_ADDRS];
};

static struct throttle_table	throttle_tables[THROTTLE__COUNT];

static struct throttle_table *
table(enum throttle_kind kind)
{
	if ((unsigned)kind >= THROTTLE__COUNT)
		kind = THROTTLE_LOGIN;
	return &throttle_tables[kind];
}

/* seconds a client with this many failures is refused for after the last */
static time_t
lock_for(int fails)
{
	time_t	t = FE_THROTTLE_LOCK;
	int	i;

	for (i = FE_THROTTLE_PER_ADDR; i < fails && t < FE_THROTTLE_LOCK_MAX; i++)
		t *= 2;
	return t > FE_THROTTLE_LOCK_MAX ? FE_THROTTLE_LOCK_MAX : t;
}

static int
delay_for(int fails)
{
	if (fails < FE_THROTTLE_FREE)
		return 0;
	return 1 << (fails - FE_THROTTLE_FREE);
}

static struct throttle_entry *
entry_find(struct throttle_table *t, const char *key, time_t now)
{
	struct throttle_entry	*e;
	size_t			 i;

	for (i = 0; i < FE_THROTTLE_ADDRS; i++) {
		e = &t->e[i];
		if (e->key[0] == '\0' || strcmp(e->key, key) != 0)
			continue;
		if (now - e->last >= FE_THROTTLE_FORGET) {
			memset(e, 0, sizeof(*e));
			return NULL;
		}
		return e;
	}
	return NULL;
}

static struct throttle_entry *
entry_new(struct throttle_table *t, const char *key, time_t now)
{
	struct throttle_entry	*e, *best = NULL;
	size_t			 i;

	for (i = 0; i < FE_THROTTLE_ADDRS; i++) {
		e = &t->e[i];
		if (e->key[0] == '\0' || now - e->last >= FE_THROTTLE_FORGET) {
			best = e;
			break;
		}
		if (best == NULL || e->last < best->last)
			best = e;
	}
	memset(best, 0, sizeof(*best));
	snprintf(best->key, sizeof(best->key), "%s", key);
	return best;
}

int
throttle_check(enum throttle_kind kind, const char *addr, time_t now,
    int *delay)
{
	struct throttle_table	*t = table(kind);
	struct throttle_entry	*e;
	char			 key[FE_ADDR_MAX];
	time_t			 until;
	int			 d = 0;

	*delay = 0;
	client_key(addr, key, sizeof(key));
	if ((e = entry_find(t, key, now)) != NULL) {
		if (e->fails >= FE_THROTTLE_PER_ADDR) {
			until = e->last + lock_for(e->fails);
			if (until > now)
				return (int)(until - now);
		} else
			d = delay_for(e->fails);
	}
	if (e == NULL)
		e = entry_new(t, key, now);
	e->fails++;
	e->last = now;
	*delay = d;
	return 0;
}

/* addr's entry as it stands (forgotten or not), NULL if none */
static struct throttle_entry *
entry_of(struct throttle_table *t, const char *addr)
{
	char	key[FE_ADDR_MAX];
	size_t	i;

	client_key(addr, key, sizeof(key));
	for (i = 0; i < FE_THROTTLE_ADDRS; i++)
		if (t->e[i].key[0] != '\0' && strcmp(t->e[i].key, key) == 0)
			return &t->e[i];
	return NULL;
}

void
throttle_success(enum throttle_kind kind, const char *addr)
{
	struct throttle_entry	*e;

	if ((e = entry_of(table(kind), addr)) != NULL)
		memset(e, 0, sizeof(*e));
}

void
throttle_cancel(enum throttle_kind kind, const char *addr)
{
	struct throttle_entry	*e;

	if ((e = entry_of(table(kind), addr)) != NULL && e->fails > 0)
		e->fails--;
}

void
throttle_reset(void)
{
	memset(throttle_tables, 0, sizeof(throttle_tables));
}
