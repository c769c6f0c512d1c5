/*
 * The Docker Engine API transport (docker_engine.c): requests over the
 * engine's Unix socket through libcurl's multi interface, driven by the
 * libevent loop.  Only the Docker files include this: the state sync
 * (docker_state.c) and the actions (docker_act.c) make requests, the
 * lifecycle (docker_ops.c) starts and stops the parts; the rest of the
 * backend sees docker.h.
 */
#ifndef DAVIT_DOCKER_ENGINE_H
#define DAVIT_DOCKER_ENGINE_H

#include <sys/queue.h>

#include <curl/curl.h>

#include "backend/docker.h"

#define DOCKER_URL_MAX		2048

/* dreq_start's method */
#define DREQ_GET	0
#define DREQ_POST	1
#define DREQ_DELETE	2

enum dreq_kind {
	DR_CONNECT,		/* /version, /events, sync: cancelled when the engine is lost */
	DR_ACTION,		/* a job's call: ends by its own callback */
};

struct dreq {
	TAILQ_ENTRY(dreq)	 entry;
	enum dreq_kind		 kind;
	CURL			*easy;
	struct curl_slist	*headers;
	char			 what[64];	/* for messages: "GET /version" */
	char			*buf;		/* the reply, or the partial event line */
	size_t			 len, cap;
	int			 stream;	/* lines go to on_line */
	int			 up;		/* a stream's headers said 200 */
	int			 too_large;
	long			 status;
	char			 errbuf[CURL_ERROR_SIZE];
	char			 err[DOCKER_ERR_LEN];	/* set when it failed */
	void			(*done)(struct dreq *);
	/* a stream: each line (from within curl: no curl calls), and its start */
	void			(*on_line)(const char *, size_t);
	void			(*on_up)(struct dreq *);
	void			*arg;
	size_t			 index;		/* sync: which new container */
};

extern const long	 dreq_ok_200[];	/* { 200, 0 } */

void	 docker_engine_init(void);
void	 docker_engine_shutdown(void);	/* cancels every request */
/*
 * Starts a request to the engine: method DREQ_GET, DREQ_POST or DREQ_DELETE
 * (post), path with its query.
 * timeout 0: none (a stream).  done runs from the loop when it ends.
 */
struct dreq *dreq_start(enum dreq_kind kind, int post, const char *path,
	    long timeout, void (*done)(struct dreq *), void *arg);
/* makes r a stream of lines: on_line for each, on_up once its 200 came */
void	 dreq_stream(struct dreq *r, void (*on_line)(const char *, size_t),
	    void (*on_up)(struct dreq *));
/* removes a request without its callback */
void	 dreq_cancel(struct dreq *r);
void	 dreq_cancel_kind(enum dreq_kind kind);
/* removes the requests whose arg is arg, without their callbacks */
void	 dreq_cancel_arg(void *arg);
/*
 * 0 when r ended with one of the statuses in ok (0-terminated); else -1 with
 * a message in r->err: the transport's, or the engine's own words.
 */
int	 dreq_check(struct dreq *r, const long *ok);
/* the negotiated API version ("1.41"), "" before one */
void	 docker_engine_set_api(const char *api);
const char *docker_engine_api(void);
/* a path of the negotiated API: "/v1.41" + rest */
void	 api_path(char *buf, size_t len, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/*
 * filters={"label":[...]} (JSON, then URL-encoded), malloc'd: the compose
 * project's containers (project NULL: every compose project's)
 */
char	*filter_query(const char *project, const char *service, int events);

/* the parts' lifecycle, for docker_ops.c: docker_state.c */
void	 docker_state_init(void);
void	 docker_state_shutdown(void);
/* docker_act.c */
void	 docker_act_shutdown(void);	/* cancels every action */

#endif
