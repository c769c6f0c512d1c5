/*
 * Private to the HTTP connections (conn.c: the head reader, the limits,
 * the counts; conn_write.c: the writing): one connection evhttp made.
 */
#ifndef DAVIT_FRONTEND_CONN_H
#define DAVIT_FRONTEND_CONN_H

#include <sys/queue.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <openssl/ssl.h>

#include "frontend/frontend.h"

enum head_phase {
	PH_HEAD,	/* holding a request's head until it is all in */
	PH_BODY,	/* passing its Content-Length bytes */
	PH_WAIT,	/* holding what follows until evhttp has the request */
	PH_PASS,	/* passing everything: a chunked body, an oversized head */
};

struct fe_conn {
	TAILQ_ENTRY(fe_conn)		 entry;
	struct bufferevent		*bev;	/* the filter evhttp reads */
	struct evhttp_connection	*evcon;	/* once a request came */
	void				*sse;	/* its event stream, if any */
	int				 webhook_rx;	/* holds a large webhook body slot */
	char				 key[FE_ADDR_MAX];	/* client_key of the peer */
	int				 adopted;	/* peer known, counted */
	int				 counted;	/* in its address's count */
	int				 kill;		/* to be closed */
	int				 refused;	/* our own error sent: drop input */
	struct event			*deadline;	/* http_deadline */
	struct event			*flush;		/* http_out_flush */
	struct event			*writable;	/* http_out_flush */
	int				 write_failed;
	int				 closed;	/* evhttp closed the socket */
	struct evbuffer_cb_entry	*outcb;		/* http_out_added */
	SSL				*ssl;		/* HTTPS: its SSL, else NULL */
	struct bufferevent		*sock;		/* the bufferevent under the filter */
	struct event			*peek;		/* HTTPS: http_peek */
	enum head_phase			 phase;
	int				 reading;	/* a request is coming in */
	int				 head_state;	/* http_head_scan */
	size_t				 head_scanned;	/* bytes of it scanned */
	long long			 body_left;	/* PH_BODY */
	size_t				 raw_limit;	/* PH_PASS of a first request */
	time_t				 started;	/* its first byte, or its body's */
	size_t				 body_bytes;
};

/* conn_write.c */
enum bufferevent_filter_result http_filter_out(struct evbuffer *src,
	    struct evbuffer *dst, ev_ssize_t limit,
	    enum bufferevent_flush_mode mode, void *arg);
void	 http_out_flush(evutil_socket_t fd, short ev, void *arg);
void	 http_out_added(struct evbuffer *out, const struct evbuffer_cb_info *info,
	    void *arg);

#endif /* DAVIT_FRONTEND_CONN_H */
