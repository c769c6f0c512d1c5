/*
 * libFuzzer target for the Docker Engine reply parsers (backend/
 * docker_parse.c).  The first byte picks the parser; the rest is the reply.
 * Invariants: what parses holds valid ids, bounded NUL-terminated strings
 * without control characters, states and kinds in range; what fails says why.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend/docker.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_text(const char *s, size_t size)
{
	size_t	len = strnlen(s, size);

	if (len == size)
		abort();	/* not terminated */
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			abort();
}

static void
check_container(const struct docker_container *c)
{
	char	status[DOCKER_STATUS_LEN];

	if (!docker_id_valid(c->id))
		abort();
	check_text(c->name, sizeof(c->name));
	check_text(c->service, sizeof(c->service));
	check_text(c->image, sizeof(c->image));
	if ((unsigned)c->state >= DS__COUNT || (unsigned)c->health > DH_UNHEALTHY)
		abort();
	docker_status_text(c, c->started_ms + 12345, status, sizeof(status));
	check_text(status, sizeof(status));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char		*buf = (const char *)data + 1;
	size_t			 len, i;
	char			 err[DOCKER_ERR_LEN], msg[64], *s;
	struct docker_version	 v;
	struct docker_container	*cs, c;
	struct docker_event	 ev;
	long long		 ms;
	int			 rv;

	if (size < 1)
		return 0;
	len = size - 1;
	err[0] = '\0';
	switch (data[0] % 6) {
	case 0:
		rv = docker_parse_version(buf, len, &v, err, sizeof(err));
		if (rv == 0)
			check_text(v.engine, sizeof(v.engine));
		break;
	case 1:
		rv = docker_parse_list(buf, len, "dkxtest", &cs, &i, err, sizeof(err));
		if (rv == 0) {
			if (i > DOCKER_MAX_CONTAINERS || (i == 0) != (cs == NULL))
				abort();
			while (i-- > 0)
				check_container(&cs[i]);
			free(cs);
		} else if (cs != NULL)
			abort();
		break;
	case 2:
		memset(&c, 0, sizeof(c));
		rv = docker_parse_inspect(buf, len, &c, err, sizeof(err));
		if (rv == 0) {
			if (!c.inspected)
				abort();
			check_container(&c);
		} else if (c.inspected)
			abort();
		break;
	case 3:
		rv = docker_parse_event(buf, len, "dkxtest", &ev, err, sizeof(err));
		if (rv == 0 && ev.kind != DE_IGNORE) {
			if (!docker_id_valid(ev.id) || ev.kind > DE_DESTROY)
				abort();
			check_text(ev.action, sizeof(ev.action));
			check_text(ev.service, sizeof(ev.service));
		}
		break;
	case 4:
		if (docker_parse_error(buf, len, msg, sizeof(msg)) == 0)
			check_text(msg, sizeof(msg));
		rv = 0;
		break;
	default:
		/* a NUL-terminated copy for the time parser */
		if ((s = malloc(len + 1)) == NULL)
			abort();
		memcpy(s, buf, len);
		s[len] = '\0';
		if (docker_parse_time(s, &ms) == 0 && ms < 0)
			abort();
		free(s);
		rv = 0;
		break;
	}
	if (rv != 0 && err[0] == '\0')
		abort();	/* a failure always says why */
	return 0;
}
