/*
 * The link's handshake (hello, frontend.config, tls.get, subscribe): one
 * table, handshake[], each step's reply checked by its function.  It runs
 * blocking at start (backend_config_sync: the frontend cannot listen before
 * it knows DAVIT_LISTEN; one line read at a time with a deadline, nothing
 * past it taken from the socket, every line wiped) and from the loop on
 * every reconnect (link_handshake).  A new frontend.config (a reconnect's,
 * or asked again on projects.changed) takes the place of the one in use;
 * a bad one keeps it.  link.c owns the connection and its requests.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/json.h"
#include "common/log.h"
#include "frontend/frontend.h"
#include "frontend/link.h"

/* hello: the backend speaks our protocol */
static int
hs_hello(const struct proto_reply *r, struct fe_config *cfg, char *err,
    size_t errlen)
{
	yajl_val	v = json_get(r->result, "protocol");

	if (v == NULL || !YAJL_IS_INTEGER(v) || v->u.number.i != PROTO_VERSION) {
		snprintf(err, errlen, "the backend does not speak protocol %d",
		    PROTO_VERSION);
		return -1;
	}
	return 0;
}

/* frontend.config: the settings, into cfg */
static int
hs_config(const struct proto_reply *r, struct fe_config *cfg, char *err,
    size_t errlen)
{
	char	perr[256];

	if (fe_config_parse(r->result, cfg, perr, sizeof(perr)) == -1) {
		snprintf(err, errlen, "frontend.config: %s", perr);
		return -1;
	}
	return 0;
}

/*
 * tls.get: the certificate and key, or null.  At start a bad bundle fails
 * the handshake (tried again); on a reconnect the context in use is kept.
 */
static int
hs_tls(const struct proto_reply *r, struct fe_config *cfg, char *err,
    size_t errlen)
{
	char	why[256];

	if (tls_from_reply(r->result, why, sizeof(why)) == 0)
		return 0;
	if (tls_ctx() == NULL) {
		snprintf(err, errlen, "%s", why);
		return -1;
	}
	log_warnx("backend: %s: the certificate in use is kept", why);
	return 0;
}

static const struct handshake_step {
	enum proto_op_id	 op;
	int			(*check)(const struct proto_reply *,
				    struct fe_config *, char *, size_t);
} handshake[] = {
	{ OP_HELLO,		hs_hello },
	{ OP_FRONTEND_CONFIG,	hs_config },
	{ OP_TLS_GET,		hs_tls },
	{ OP_SUBSCRIBE,		NULL },		/* events from now on */
};
#define HANDSHAKE_STEPS	(sizeof(handshake) / sizeof(handshake[0]))

/* step i's reply: 0 when it is what the handshake needs */
static int
handshake_check(size_t i, const struct proto_reply *r, struct fe_config *cfg,
    char *err, size_t errlen)
{
	if (r->is_event) {
		snprintf(err, errlen, "an event before the handshake's end");
		return -1;
	}
	if (!r->ok) {
		snprintf(err, errlen, "%s: %s: %s",
		    proto_op_by_id(handshake[i].op)->name, r->error_code,
		    r->error_message);
		return -1;
	}
	return handshake[i].check != NULL ?
	    handshake[i].check(r, cfg, err, errlen) : 0;
}

/*
 * A new frontend.config takes the place of the one in use (the old one's
 * secrets wiped): the address we listen on stays.
 */
static void
config_take(struct fe_config *cfg)
{
	if (fenv->cfg.listen != NULL && strcmp(cfg->listen, fenv->cfg.listen) != 0)
		log_warnx("DAVIT_LISTEN is now %s; restart davit-frontend "
		    "to listen there (still on %s)", cfg->listen,
		    fenv->cfg.listen);
	free(cfg->listen);
	cfg->listen = fenv->cfg.listen;
	fenv->cfg.listen = NULL;
	fe_config_free(&fenv->cfg);
	if (tls_ctx() != NULL)
		cfg->cookie_secure = 1;
	fenv->cfg = *cfg;
	memset(cfg, 0, sizeof(*cfg));
	session_limits(fenv->cfg.session_idle, fenv->cfg.session_max);
}

/* frontend.config again, after projects.changed: a bad one keeps the old */
static void
config_reply(void *arg, const struct proto_reply *r)
{
	struct fe_config	cfg;
	char			err[256];

	if (r == NULL)
		return;		/* the link went down: the handshake asks again */
	memset(&cfg, 0, sizeof(cfg));
	if (!r->ok) {
		log_warnx("backend: frontend.config: %s: %s (the projects' "
		    "settings in use are kept)", r->error_code, r->error_message);
		return;
	}
	if (fe_config_parse(r->result, &cfg, err, sizeof(err)) == -1) {
		log_warnx("backend: frontend.config: %s (the projects' settings "
		    "in use are kept)", err);
		return;
	}
	config_take(&cfg);
	log_info("backend: the projects changed: %zu now", fenv->cfg.nprojects);
}

/* projects.changed: new webhook secrets, maybe new projects */
void
link_projects_changed(void)
{
	struct proto_request	req;
	struct proto_error	err;

	proto_request_init(&req, OP_FRONTEND_CONFIG, 0);
	if (link_send(&req, config_reply, NULL, &err) == -1)
		log_warnx("backend: frontend.config not asked again: %s",
		    err.message);
	proto_request_free(&req);
}

/* a handshake reply on a reconnect (the step's index in arg) */
static void
handshake_reply(void *arg, const struct proto_reply *r)
{
	struct fe_config	cfg;
	size_t			i = (size_t)(uintptr_t)arg;
	char			err[256];

	if (r == NULL)
		return;
	memset(&cfg, 0, sizeof(cfg));
	if (handshake_check(i, r, &cfg, err, sizeof(err)) == -1) {
		log_warnx("backend: %s", err);
		fe_config_free(&cfg);
		link_disconnect("handshake failed");
		return;
	}
	if (handshake[i].op == OP_FRONTEND_CONFIG)
		config_take(&cfg);
	if (i == HANDSHAKE_STEPS - 1)
		link_up();
}

/* replies come in order: the last step's ends the handshake */
void
link_handshake(void)
{
	struct proto_request	req;
	struct proto_error	err;
	size_t			i;

	for (i = 0; i < HANDSHAKE_STEPS; i++) {
		proto_request_init(&req, handshake[i].op, 0);
		if (link_send(&req, handshake_reply, (void *)(uintptr_t)i,
		    &err) == -1)
			fatalx("%s: %s: %s", __func__,
			    proto_op_by_id(handshake[i].op)->name, err.message);
	}
}

/* reads one line with a deadline; *buf is malloc'd and NUL-terminated */
static int
sync_readline(int fd, char **buf, size_t *len, time_t deadline)
{
	struct pollfd	 pfd = { .fd = fd, .events = POLLIN };
	char		*line = NULL, *nl;
	size_t		 have = 0, cap = 0;
	ssize_t		 n;
	char		 chunk[1];

	/* byte by byte: nothing past the line may be taken from the socket */
	for (;;) {
		if (fe_now() >= deadline) {
			errno = ETIMEDOUT;
			goto fail;
		}
		if (poll(&pfd, 1, 1000) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (!(pfd.revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		if ((n = read(fd, chunk, sizeof(chunk))) == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			goto fail;
		}
		if (n == 0) {
			errno = ECONNRESET;
			goto fail;
		}
		if (have + 2 > cap) {
			cap = cap == 0 ? 4096 : cap * 2;
			if (cap > FE_BACKEND_MAX_LINE + 2) {
				errno = EMSGSIZE;
				goto fail;
			}
			/* moved, not realloc'd: the old block is wiped */
			if ((nl = malloc(cap)) == NULL)
				fatal("%s", __func__);
			if (line != NULL)
				memcpy(nl, line, have);
			json_line_wipe(line, have, NULL);	/* NULL: nothing */
			line = nl;
		}
		line[have++] = chunk[0];
		if (chunk[0] == '\n')
			break;
	}
	line[have] = '\0';
	*buf = line;
	*len = have;
	return 0;
 fail:
	json_line_wipe(line, have, NULL);
	return -1;
}

/* the handshake on a blocking connection, at start: cfg is all of it */
int
backend_config_sync(int fd, struct fe_config *cfg, char *err, size_t errlen)
{
	struct proto_request	 req;
	struct proto_error	 perr;
	struct proto_reply	 r;
	char			*out, *line;
	size_t			 outlen, len, i;
	time_t			 deadline = fe_now() + FE_BOOT_TIMEOUT;
	int			 rv;

	for (i = 0; i < HANDSHAKE_STEPS; i++) {
		proto_request_init(&req, handshake[i].op, link_next_id());
		if (proto_request_encode(&req, &out, &outlen, &perr) == -1)
			fatalx("%s: %s", __func__, perr.message);
		if (write(fd, out, outlen) != (ssize_t)outlen) {
			snprintf(err, errlen, "write: %s", strerror(errno));
			free(out);
			return -1;
		}
		free(out);
		if (sync_readline(fd, &line, &len, deadline) == -1) {
			if (errno == ECONNRESET)
				snprintf(err, errlen, "the backend hung up (does "
				    "its DAVIT_USER match uid %u?)",
				    (unsigned)fenv->uid);
			else
				snprintf(err, errlen, "no reply: %s",
				    strerror(errno));
			return -1;
		}
		rv = proto_reply_decode(line, len, &r);
		json_line_wipe(line, len, NULL);	/* tls.get's holds the key */
		if (rv == -1) {
			snprintf(err, errlen, "not a reply to request %lld", req.id);
			return -1;
		}
		if (!r.is_event && r.id != req.id) {
			snprintf(err, errlen, "not a reply to request %lld", req.id);
			rv = -1;
		} else
			rv = handshake_check(i, &r, cfg, err, errlen);
		proto_reply_free(&r);
		if (rv == -1)
			return -1;
	}
	return 0;
}
