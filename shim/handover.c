/* Handing a client connection to a daemon process: an ASGI app's accepted WebSocket then lives
   in the daemon's event loop, and this Apache worker thread is free at once. Over TLS the
   daemon gets one end of a socket pair instead, and Apache relays between the other end
   and mod_ssl's filters for as long as the WebSocket lasts (relay.c). */
#include "shim.h"
#include "http_connection.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_ssl.h"
#include "apr_strings.h"
#include "util_filter.h"
#include <sys/socket.h>

APLOG_USE_MODULE(swsgi);

/* The most Apache may have read from the client beyond the request (a client waits for the
   101 before it sends frames, so this is normally nothing). */
#define PENDING_LIMIT (1 << 20)

const char *swsgi_handover_refusal(void *vctx)
{
    request_rec *r = ((swsgi_rctx *)vctx)->r;
    conn_rec *c = r->connection;
    /* An HTTP/2 stream is one of many on its connection. */
    if (c->master || r->proto_num >= HTTP_VERSION(2, 0))
        return "the request came over HTTP/2";
    if (r->proto_num < HTTP_VERSION(1, 1))
        return "the request is not HTTP/1.1";
    if (!ap_get_conn_socket(c))
        return "the connection has no socket of its own";
    return NULL;
}

/* What the connection's input filters hold already, read without waiting: these bytes left
   the socket, so the daemon gets them first. */
static int pending_input(conn_rec *c, apr_pool_t *p, const char **data, size_t *length)
{
    apr_bucket_brigade *bb = apr_brigade_create(p, c->bucket_alloc);
    apr_bucket_brigade *all = apr_brigade_create(p, c->bucket_alloc);
    apr_status_t rv;
    apr_off_t total = 0;
    while ((rv = ap_get_brigade(c->input_filters, bb, AP_MODE_READBYTES, APR_NONBLOCK_READ, 64 << 10)) == APR_SUCCESS) {
        apr_off_t got = 0;
        apr_brigade_length(bb, 1, &got);
        if (got == 0)
            break;
        total += got;
        APR_BRIGADE_CONCAT(all, bb);
        if (total > PENDING_LIMIT)
            return -1;
    }
    if (rv != APR_SUCCESS && !APR_STATUS_IS_EAGAIN(rv) && rv != APR_EOF)
        return -1;
    char *flat;
    apr_size_t size;
    if (apr_brigade_pflatten(all, &flat, &size, p) != APR_SUCCESS)
        return -1;
    *data = flat;
    *length = size;
    return 0;
}

int swsgi_hand_over(void *vctx, int *fd, const char **pending, size_t *length)
{
    swsgi_rctx *ctx = vctx;
    request_rec *r = ctx->r;
    conn_rec *c = r->connection;
    /* The head goes out as core's Upgrade does it: status line, headers, nothing after; the
       HTTP filters would add framing headers a 101 must not have. */
    if (r->status != HTTP_SWITCHING_PROTOCOLS)
        return -1;
    ap_send_interim_response(r, 1);
    if (c->aborted)
        return -1;
    if (ap_ssl_conn_is_ssl(c)) {
        /* TLS lives in mod_ssl's state in this process: the bytes must pass through it. */
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ctx->relay) != 0)
            return -1;
        *fd = ctx->relay[0];
        *pending = "";
        *length = 0;
        c->keepalive = AP_CONN_CLOSE;
        return 0;
    }
    apr_os_sock_t sock;
    if (apr_os_sock_get(&sock, ap_get_conn_socket(c)) != APR_SUCCESS || pending_input(c, r->pool, pending, length) != 0)
        return -1;
    *fd = sock;
    /* From here Apache writes nothing more to the client, and closes its descriptor without
       the lingering close's shutdown(), which would end the daemon's copy too. */
    c->aborted = 1;
    c->keepalive = AP_CONN_CLOSE;
    return 0;
}
