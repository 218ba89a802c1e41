/* The relay of a WebSocket over TLS between mod_ssl's filters and the daemon's end of a
   socket pair. Nothing here blocks: a round moves what both sides take now and says what
   to wait for, so one thread can relay many WebSockets (relay_thread.c, under the event
   MPM) or one thread its own (worker and prefork MPMs). Neither direction holds more than
   one chunk: while the client has not taken what went to it, the daemon is not read (its
   socket fills and its sends wait), and while the daemon has not taken what came from the
   client, the client is not read. */
#include "shim.h"
#include "http_core.h"
#include "util_filter.h"
#include "apr_portable.h"
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The most a round moves at a time in each direction. */
#define RELAY_CHUNK (16 << 10)

static swsgi_relay *relay_create(request_rec *r, int daemon)
{
    conn_rec *c = r->connection;
    apr_os_sock_t client;
    apr_socket_t *sock = ap_get_conn_socket(c);
    if (!sock || apr_os_sock_get(&client, sock) != APR_SUCCESS)
        return NULL;
    swsgi_relay *relay = apr_pcalloc(c->pool, sizeof *relay);
    relay->c = c;
    relay->r = r;
    relay->client = client;
    relay->daemon = daemon;
    relay->bb = apr_brigade_create(c->pool, c->bucket_alloc);
    /* Core's output filter writes what it holds without waiting unless it holds more than
       FlushMaxThreshold: a chunk must stay below that. */
    core_server_config *core = ap_get_core_module_config(c->base_server->module_config);
    relay->chunk = RELAY_CHUNK;
    if (core->flush_max_threshold / 2 < relay->chunk)
        relay->chunk = core->flush_max_threshold > 2048 ? core->flush_max_threshold / 2 : 1024;
    /* A WebSocket may be idle for long: mod_reqtimeout's limits are for reading requests. */
    ap_remove_input_filter_byhandle(c->input_filters, "reqtimeout");
    /* mod_ssl's coalescing filter keeps a small write until more comes: a WebSocket message
       must go at once, and without a flush (which would wait for a slow client). The 101
       went out flushed, so it holds nothing now. */
    ap_remove_output_filter_byhandle(c->output_filters, "SSL/TLS Coalescing Filter");
    relay->core = c->output_filters;
    while (relay->core->next)
        relay->core = relay->core->next;
    return relay;
}

/* Whether the client has yet to take what was sent to it. */
static int client_behind(swsgi_relay *relay)
{
    return relay->c->data_in_output_filters;
}

/* What core's output filter holds, written as far as the socket takes it now. */
static int push_to_client(swsgi_relay *relay)
{
    return relay->core->frec->filter_func.out_func(relay->core, NULL) == APR_SUCCESS && !relay->c->aborted;
}

/* The held client bytes, written as far as the daemon takes them; 0 when it is gone. */
static int push_to_daemon(swsgi_relay *relay)
{
    while (relay->held_at < relay->held_end) {
        ssize_t n = send(relay->daemon, relay->held + relay->held_at, relay->held_end - relay->held_at,
                         MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK;
        relay->held_at += (apr_size_t)n;
    }
    relay->held_at = relay->held_end = 0;
    return 1;
}

/* Client to daemon, while the daemon takes it; 0 when either side is gone. */
static int client_to_daemon(swsgi_relay *relay)
{
    if (!push_to_daemon(relay))
        return 0;
    while (relay->held_end == 0) {
        apr_status_t rv = ap_get_brigade(relay->c->input_filters, relay->bb, AP_MODE_READBYTES, APR_NONBLOCK_READ,
                                         relay->chunk);
        if (APR_STATUS_IS_EAGAIN(rv))
            break;
        if (rv != APR_SUCCESS)
            return 0;
        for (apr_bucket *b = APR_BRIGADE_FIRST(relay->bb); b != APR_BRIGADE_SENTINEL(relay->bb); b = APR_BUCKET_NEXT(b))
            if (APR_BUCKET_IS_EOS(b))
                return 0;
        if (!relay->held)
            relay->held = malloc(relay->chunk);
        apr_size_t got = relay->chunk;
        rv = relay->held ? apr_brigade_flatten(relay->bb, relay->held, &got) : APR_ENOMEM;
        apr_brigade_cleanup(relay->bb);
        if (rv != APR_SUCCESS)
            return 0;
        if (got == 0)
            break;
        relay->held_end = got;
        if (!push_to_daemon(relay))
            return 0;
    }
    return 1;
}

/* Daemon to client, while the client takes it (a few chunks, so that other relays of the
   thread get their turn); 0 when either side is gone. */
static int daemon_to_client(swsgi_relay *relay, char *scratch)
{
    conn_rec *c = relay->c;
    for (int turn = 0; turn < 4 && !client_behind(relay); turn++) {
        ssize_t n = recv(relay->daemon, scratch, relay->chunk, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK;
        if (n == 0)
            return 0;
        APR_BRIGADE_INSERT_TAIL(relay->bb, apr_bucket_transient_create(scratch, (apr_size_t)n, c->bucket_alloc));
        apr_status_t rv = ap_pass_brigade(c->output_filters, relay->bb);
        apr_brigade_cleanup(relay->bb);
        if (rv != APR_SUCCESS || !push_to_client(relay))
            return 0;
    }
    return 1;
}

int swsgi_relay_round(swsgi_relay *relay, char *scratch, short *client_events, short *daemon_events)
{
    if (client_behind(relay) && !push_to_client(relay))
        return 0;
    if (!client_to_daemon(relay) || !daemon_to_client(relay, scratch))
        return 0;
    int holding = relay->held_end > 0, behind = client_behind(relay);
    *client_events = (holding ? 0 : POLLIN) | (behind ? POLLOUT : 0);
    *daemon_events = (behind ? 0 : POLLIN) | (holding ? POLLOUT : 0);
    return 1;
}

void swsgi_relay_end(swsgi_relay *relay)
{
    close(relay->daemon);
    free(relay->held);
    relay->held = NULL;
    /* The response went out as the 101 and the WebSocket after it: nothing more to send,
       and the connection is not kept alive. */
    relay->c->aborted = 1;
}

char *swsgi_relay_scratch(apr_pool_t *p)
{
    return apr_palloc(p, RELAY_CHUNK);
}

/* The thread-per-relay way, where the MPM cannot suspend a request. */
static void relay_blocking(swsgi_relay *relay)
{
    char *scratch = swsgi_relay_scratch(relay->r->pool);
    short events[2];
    /* A side with nothing to wait for is left out: its hang-up would wake poll() at once. */
    while (swsgi_relay_round(relay, scratch, &events[0], &events[1])) {
        struct pollfd fds[2] = { { events[0] ? relay->client : -1, events[0], 0 },
                                 { events[1] ? relay->daemon : -1, events[1], 0 } };
        if (poll(fds, 2, -1) < 0 && errno != EINTR)
            break;
    }
    swsgi_relay_end(relay);
}

int swsgi_relay_start(swsgi_rctx *ctx)
{
    int daemon = ctx->relay[1];
    /* The daemon holds its end now: ours goes, so that its closing reads as the end here. */
    close(ctx->relay[0]);
    ctx->relay[0] = ctx->relay[1] = -1;
    swsgi_relay *relay = relay_create(ctx->r, daemon);
    if (!relay) {
        swsgi_relay_end(&(swsgi_relay){ .c = ctx->r->connection, .daemon = daemon });
        return OK;
    }
    if (swsgi_relay_suspend(relay))
        return SUSPENDED;
    relay_blocking(relay);
    return OK;
}
