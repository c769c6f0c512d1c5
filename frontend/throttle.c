/*
 * Login throttling, before anything reaches the backend: at most
 * FE_THROTTLE_PER_ADDR failed attempts per client address and
 * FE_THROTTLE_GLOBAL overall in any FE_THROTTLE_WINDOW seconds.  An attempt
 * counts as failed from the moment it is let through (so that parallel
 * guesses count too) until throttle_success or throttle_cancel.  The table of
 * addresses is bounded: a new address takes a free slot, else the slot whose
 * last failure is oldest (the global cap still holds for rotating addresses).
 */
#include <string.h>

#include "frontend/frontend.h"

struct window {
	time_t	t[FE_THROTTLE_GLOBAL];		/* oldest first */
	size_t	n;
	size_t	cap;
};

struct addr_entry {
	char		addr[FE_ADDR_MAX];
	struct window	w;
};

static struct addr_entry	throttle_addrs[FE_THROTTLE_ADDRS];
static struct window		throttle_all = { .cap = FE_THROTTLE_GLOBAL };

static void
window_prune(struct window *w, time_t now)
{
	size_t	i = 0;

	while (i < w->n && w->t[i] + FE_THROTTLE_WINDOW <= now)
		i++;
	if (i > 0) {
		memmove(w->t, w->t + i, (w->n - i) * sizeof(w->t[0]));
		w->n -= i;
	}
}

static void
window_add(struct window *w, time_t now)
{
	if (w->n == w->cap) {
		memmove(w->t, w->t + 1, (w->n - 1) * sizeof(w->t[0]));
		w->n--;
	}
	w->t[w->n++] = now;
}

static int
window_wait(const struct window *w, time_t now)
{
	time_t	wait;

	if (w->n < w->cap)
		return 0;
	wait = w->t[0] + FE_THROTTLE_WINDOW - now;
	return wait < 1 ? 1 : (int)wait;
}

/* the table's key: the address, cut to fit, "?" when unknown */
static void
addr_key(char key[FE_ADDR_MAX], const char *addr)
{
	size_t	len = strnlen(addr, FE_ADDR_MAX - 1);

	if (len == 0) {
		memcpy(key, "?", 2);
		return;
	}
	memcpy(key, addr, len);
	key[len] = '\0';
}

static struct addr_entry *
addr_find(const char *addr)
{
	size_t	i;

	for (i = 0; i < FE_THROTTLE_ADDRS; i++)
		if (throttle_addrs[i].addr[0] != '\0' &&
		    strcmp(throttle_addrs[i].addr, addr) == 0)
			return &throttle_addrs[i];
	return NULL;
}

static struct addr_entry *
addr_slot(const char *addr, time_t now)
{
	struct addr_entry	*e, *best = NULL;
	size_t			 i;

	for (i = 0; i < FE_THROTTLE_ADDRS; i++) {
		e = &throttle_addrs[i];
		window_prune(&e->w, now);
		if (e->w.n == 0) {
			best = e;
			break;
		}
		if (best == NULL || e->w.t[e->w.n - 1] < best->w.t[best->w.n - 1])
			best = e;
	}
	memset(best, 0, sizeof(*best));
	memcpy(best->addr, addr, sizeof(best->addr));	/* a key: fits */
	best->w.cap = FE_THROTTLE_PER_ADDR;
	return best;
}

int
throttle_check(const char *addr, time_t now)
{
	struct addr_entry	*e;
	int			 wait;
	char			 key[FE_ADDR_MAX];

	addr_key(key, addr);
	window_prune(&throttle_all, now);
	if ((e = addr_find(key)) != NULL) {
		window_prune(&e->w, now);
		if ((wait = window_wait(&e->w, now)) > 0)
			return wait;
	}
	if ((wait = window_wait(&throttle_all, now)) > 0)
		return wait;
	if (e == NULL)
		e = addr_slot(key, now);
	window_add(&e->w, now);
	window_add(&throttle_all, now);
	return 0;
}

static void
throttle_undo(const char *addr, int all)
{
	struct addr_entry	*e;
	char			 key[FE_ADDR_MAX];

	addr_key(key, addr);
	if ((e = addr_find(key)) != NULL) {
		if (all)
			e->w.n = 0;
		else if (e->w.n > 0)
			e->w.n--;
	}
	if (throttle_all.n > 0)
		throttle_all.n--;
}

void
throttle_success(const char *addr)
{
	throttle_undo(addr, 1);
}

void
throttle_cancel(const char *addr)
{
	throttle_undo(addr, 0);
}

void
throttle_reset(void)
{
	memset(throttle_addrs, 0, sizeof(throttle_addrs));
	memset(&throttle_all, 0, sizeof(throttle_all));
	throttle_all.cap = FE_THROTTLE_GLOBAL;
}
