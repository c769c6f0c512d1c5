/*
 * Private to the JSON API (api.c: the route table, the checks, the routes
 * to backend ops; api_login.c: the login route): a call waiting for the
 * backend's reply, and the helpers both use.
 */
#ifndef DAVIT_FRONTEND_API_H
#define DAVIT_FRONTEND_API_H

#include <event2/http.h>

#include "frontend/frontend.h"

struct api_call {
	struct evhttp_request	*req;
	char			 addr[FE_ADDR_MAX];
	int			 status;	/* on success */
	int			 service;	/* a service route: not_allowed is 404 */
};

/* api.c */
struct api_call	*api_call_new(struct evhttp_request *req, int status);
/* a failed backend reply, or none (r NULL), as an HTTP error */
void	 api_backend_error(struct evhttp_request *req, const struct proto_reply *r,
	    int service);
/* a refused backend_request */
void	 api_request_error(struct evhttp_request *req, const struct proto_error *err);
void	 api_set_cookie(struct evhttp_request *req, const char *id);

/* api_login.c */
void	 api_login(struct evhttp_request *req, struct session *unused,
	    const char *rest);

#endif /* DAVIT_FRONTEND_API_H */
