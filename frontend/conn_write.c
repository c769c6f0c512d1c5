/*
 * The HTTP connections' writing (conn.c has the rest of each connection):
 * the filter writes what evhttp gives it straight to the socket
 * (http_filter_out): evhttp takes "nothing more to write" to mean the
 * client has it, and may shut the socket down right after.  The socket's
 * own bufferevent writes nothing and calls no write callback.  Under HTTPS
 * the filter writes with SSL_write on the connection's SSL (tls_write),
 * straight to the socket as well.  What evhttp adds is passed on from the
 * loop (http_out_added, http_out_flush), once evhttp is done, and again
 * when the socket takes more; a write that fails is told to evhttp from
 * the loop, never from within its own call.
 */
#include <errno.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>

#include "common/log.h"
#include "frontend/conn.h"
#include "frontend/frontend.h"

/*
 * What evhttp writes goes straight to the socket: evhttp takes the
 * filter's write callback (no more to write) to mean the client has it,
 * and may then shut the socket down, so nothing may wait in between.
 * BEV_OK once all is written; else the socket's writability calls again.
 */
enum bufferevent_filter_result
http_filter_out(struct evbuffer *src, struct evbuffer *dst, ev_ssize_t limit,
    enum bufferevent_flush_mode mode, void *arg)
{
	struct fe_conn	*fc = arg;
	evutil_socket_t	 fd = bufferevent_getfd(fc->bev);
	int		 n;

	while (evbuffer_get_length(src) > 0 && !fc->write_failed &&
	    !fc->closed) {
		if (fc->ssl != NULL)
			n = tls_write(fc->ssl, src);
		else
			n = evbuffer_write(src, fd);
		if (n > 0)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR)) {
			if (fc->writable == NULL && (fc->writable = event_new(
			    bufferevent_get_base(fc->bev), fd, EV_WRITE,
			    http_out_flush, fc)) == NULL)
				fatalx("%s: event_new", __func__);
			event_add(fc->writable, NULL);
			return BEV_NEED_MORE;
		}
		/* the client is gone: evhttp hears of it from the loop */
		fc->write_failed = 1;
		event_active(fc->flush, EV_TIMEOUT, 0);
	}
	evbuffer_drain(src, evbuffer_get_length(src));
	return BEV_OK;
}

/*
 * libevent 2.1's filter passes on what evhttp writes only if evhttp's
 * writing is enabled when the bytes are added; evhttp adds them first and
 * enables it right after.  So whatever is added is passed on from the
 * loop, once evhttp is done, and again when the socket takes more.
 */
void
http_out_flush(evutil_socket_t fd, short ev, void *arg)
{
	struct fe_conn		*fc = arg;
	struct bufferevent	*bev = fc->bev;

	if (fc->closed)
		return;		/* its socket, or its number, is another's now */
	if (fc->write_failed == 1) {
		fc->write_failed = 2;
		bufferevent_trigger_event(fc->bev,
		    BEV_EVENT_ERROR | BEV_EVENT_WRITING, 0);
		return;
	}
	/* fc lives until the reference goes: evhttp may free bev meanwhile */
	bufferevent_incref(bev);
	bufferevent_flush(bev, EV_WRITE, BEV_NORMAL);
	/*
	 * What evhttp adds while its writing is enabled (a chunked reply's
	 * chunks, and its end) goes out at once, before evhttp says what to
	 * call once all is written (at the end: to take the next request):
	 * its write callback came too early, and nothing would call it
	 * again, so the connection's next request waited for a timeout.
	 * Call it once all is out; evhttp disables writing when it is done.
	 */
	if (!fc->closed && evbuffer_get_length(bufferevent_get_output(bev)) == 0 &&
	    (bufferevent_get_enabled(bev) & EV_WRITE))
		bufferevent_trigger(bev, EV_WRITE, 0);
	bufferevent_decref(bev);
}

void
http_out_added(struct evbuffer *out, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct fe_conn	*fc = arg;

	if (info->n_added > 0)
		event_active(fc->flush, EV_TIMEOUT, 0);
}

/* the bytes written to fc and not sent yet */
size_t
http_conn_unsent(struct evhttp_connection *evcon)
{
	struct bufferevent	*bev = evhttp_connection_get_bufferevent(evcon);
	struct bufferevent	*sock = bufferevent_get_underlying(bev);

	return evbuffer_get_length(bufferevent_get_output(bev)) +
	    (sock != NULL ? evbuffer_get_length(bufferevent_get_output(sock)) :
	    0);
}
