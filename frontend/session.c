/*
 * Dashboard sessions: a fixed table of at most FE_MAX_SESSIONS.  An id and
 * a CSRF token are 256 random bits each, in hex.  A session ends after
 * session_idle seconds without use, session_max seconds after login, or at
 * logout; when the table is full the least recently used one goes.  Ids are
 * compared in constant time.  Times are fe_now() (monotonic) seconds, passed
 * in so that the tests can move the clock.
 */
#include <string.h>

#include <sodium.h>

#include "frontend/frontend.h"

static struct session	sessions[FE_MAX_SESSIONS];
static int		session_idle = 3600;
static int		session_max = 43200;

void
session_limits(int idle, int max)
{
	session_idle = idle;
	session_max = max;
}

static void
session_wipe(struct session *s)
{
	sodium_memzero(s, sizeof(*s));
}

static int
session_expired(const struct session *s, time_t now)
{
	return now - s->last >= session_idle || now - s->created >= session_max ||
	    now < s->created;
}

static void
token(char out[FE_TOKEN_HEX + 1])
{
	unsigned char	buf[FE_TOKEN_BYTES];

	randombytes_buf(buf, sizeof(buf));
	http_hex(buf, sizeof(buf), out);
	sodium_memzero(buf, sizeof(buf));
}

struct session *
session_create(time_t now)
{
	struct session	*s, *slot = NULL;
	size_t		 i;

	for (i = 0; i < FE_MAX_SESSIONS; i++) {
		s = &sessions[i];
		if (s->used && session_expired(s, now))
			session_wipe(s);
		if (!s->used) {
			if (slot == NULL || slot->used)
				slot = s;
		} else if (slot == NULL || (slot->used && s->last < slot->last))
			slot = s;
	}
	/* slot: a free one, else the least recently used */
	session_wipe(slot);
	slot->used = 1;
	token(slot->id);
	token(slot->csrf);
	slot->created = slot->last = now;
	return slot;
}

struct session *
session_peek(const char *id, size_t len, time_t now)
{
	struct session	*s, *match = NULL;
	size_t		 i;

	if (len != FE_TOKEN_HEX || !http_is_hex(id, len))
		return NULL;
	/* every slot is compared, in constant time, whatever matches */
	for (i = 0; i < FE_MAX_SESSIONS; i++) {
		s = &sessions[i];
		if (!s->used)
			continue;
		if (session_expired(s, now)) {
			session_wipe(s);
			continue;
		}
		if (sodium_memcmp(s->id, id, FE_TOKEN_HEX) == 0)
			match = s;
	}
	return match;
}

struct session *
session_lookup(const char *id, size_t len, time_t now)
{
	struct session	*s;

	if ((s = session_peek(id, len, now)) != NULL)
		s->last = now;
	return s;
}

void
session_destroy(struct session *s)
{
	session_wipe(s);
}

void
session_clear(void)
{
	sodium_memzero(sessions, sizeof(sessions));
}

size_t
session_count(time_t now)
{
	size_t	i, n = 0;

	for (i = 0; i < FE_MAX_SESSIONS; i++) {
		if (sessions[i].used && session_expired(&sessions[i], now))
			session_wipe(&sessions[i]);
		if (sessions[i].used)
			n++;
	}
	return n;
}

time_t
session_expires(const struct session *s)
{
	return s->created + session_max;
}

int
session_csrf_ok(const struct session *s, const char *tok)
{
	if (tok == NULL || strlen(tok) != FE_TOKEN_HEX)
		return 0;
	return sodium_memcmp(s->csrf, tok, FE_TOKEN_HEX) == 0;
}
