/*
 * Private to the link (link.c: the connection, requests and replies;
 * link_handshake.c: the handshake at start and on every reconnect).
 */
#ifndef DAVIT_FRONTEND_LINK_H
#define DAVIT_FRONTEND_LINK_H

#include "frontend/frontend.h"

/* link.c */
int		 link_send(struct proto_request *req, fe_reply_cb cb, void *arg,
		    struct proto_error *err);
void		 link_disconnect(const char *why);
/* the link is up: the handshake's last reply came */
void		 link_up(void);
long long	 link_next_id(void);

/* link_handshake.c */
/* replies come in order: the last step's ends the handshake */
void		 link_handshake(void);
/* projects.changed: new webhook secrets, maybe new projects */
void		 link_projects_changed(void);

#endif /* DAVIT_FRONTEND_LINK_H */
