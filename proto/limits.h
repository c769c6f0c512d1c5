/*
 * Every bound and default that crosses the process boundary, defined once:
 * the backend (and its config parser in common/), the frontend and the op
 * table all take them from here.  Header only, no dependency: common/ may
 * include it.  A bound that one process alone keeps stays in that
 * process's header (backend/backend.h, frontend/frontend.h).
 */
#ifndef DAVIT_PROTO_LIMITS_H
#define DAVIT_PROTO_LIMITS_H

/* framing */
#define PROTO_MAX_LINE		(64 * 1024)	/* one request, without its newline */
#define PROTO_MAX_REPLY		(2 * 1024 * 1024)	/* one reply or event line: the
						   largest (job.get) stays under 1.5 MiB */
#define PROTO_MAX_PENDING	16		/* requests of one peer awaiting a reply */

/* values both sides check */
#define PROTO_PASSWORD_MAX	1024		/* auth.login's password, bytes */
#define PROTO_SERVICE_NAME_MAX	63		/* DAVIT_SERVICES names, "service" fields */
#define PROTO_CLIENT_MAX	64		/* a client address as text ("client") */
#define PROTO_CONFIG_VALUE_MAX	4096		/* one .env value, one frontend.config string */
#define PROTO_LISTEN_MAX	300		/* DAVIT_LISTEN */
#define PROTO_PROJECT_NAME_MAX	32		/* a project's name: [a-z0-9][a-z0-9-]* */
#define PROTO_MAX_PROJECTS	256		/* projects of one davit */

/* session lifetimes (DAVIT_SESSION_IDLE, DAVIT_SESSION_MAX), seconds */
#define PROTO_SESSION_IDLE_MIN	60
#define PROTO_SESSION_IDLE_MAX	604800		/* a week */
#define PROTO_SESSION_IDLE_DEF	"3600"
#define PROTO_SESSION_MAX_MIN	60
#define PROTO_SESSION_MAX_MAX	2592000		/* 30 days */
#define PROTO_SESSION_MAX_DEF	"43200"

/* defaults both processes start from */
#define PROTO_DEFAULT_SOCKET	"/run/davit/backend.sock"	/* DAVIT_SOCKET */
#define PROTO_DEFAULT_USER	"davit"				/* DAVIT_USER */

#endif
