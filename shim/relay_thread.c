/* Under the event MPM the TLS relays of an Apache child run on one thread of its own, so
   that an idle wss:// WebSocket holds no worker thread. Apache 2.4 has no call to poll a
   module's descriptors for it (ap_mpm_register_poll_callback_timeout is trunk's only), but
   its event MPM lets a handler return SUSPENDED: the worker thread goes back to the pool,
   and the connection stays open, untouched by the MPM, until its pool is destroyed (which
   its connection count follows). The handler leaves the relay in the connection's config;
   the suspend_connection hook, run once the worker thread is done with the connection,
   passes it on to this thread, which polls both sides with epoll and runs the relay's
   rounds (relay.c). An ended relay's connection is closed at once, and its pool destroyed
   a moment later (the MPM still stores into the connection just after the hook). */
#include "shim.h"
#include "ap_mpm.h"
#include "http_connection.h"
#include "http_log.h"
#include "http_protocol.h"
#include "mpm_common.h"
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

APLOG_USE_MODULE(swsgi);

/* How long an ended relay's pool outlives it. */
#define GRACE_US 200000

static int epoll_fd = -1;
static int wake[2] = { -1, -1 };  /* relays to take on; a NULL one to stop */
static pthread_t thread;
static swsgi_relay *ended;  /* this thread's, oldest last */

static uint32_t epoll_events(short events)
{
    return (events & POLLIN ? EPOLLIN : 0) | (events & POLLOUT ? EPOLLOUT : 0);
}

/* fd polled for what the relay waits for on it; not polled at all when that is nothing
   (its hang-up would wake epoll again and again). */
static void watch(swsgi_relay *relay, int fd, short events, short *watched)
{
    if (events == *watched)
        return;
    struct epoll_event ev = { epoll_events(events), { .ptr = relay } };
    epoll_ctl(epoll_fd, !*watched ? EPOLL_CTL_ADD : events ? EPOLL_CTL_MOD : EPOLL_CTL_DEL, fd, &ev);
    *watched = events;
}

static void end(swsgi_relay *relay)
{
    watch(relay, relay->client, 0, &relay->client_watched);
    watch(relay, relay->daemon, 0, &relay->daemon_watched);
    swsgi_relay_end(relay);
    relay->ended = apr_time_now();
    /* The client sees the end now; its descriptor closes with the pool. */
    shutdown(relay->client, SHUT_RDWR);
    ap_run_log_transaction(relay->r);
    relay->next = ended;
    ended = relay;
}

static void round_of(swsgi_relay *relay, char *scratch)
{
    short client, daemon;
    if (relay->ended)
        return;
    if (!swsgi_relay_round(relay, scratch, &client, &daemon)) {
        end(relay);
        return;
    }
    watch(relay, relay->client, client, &relay->client_watched);
    watch(relay, relay->daemon, daemon, &relay->daemon_watched);
}

/* The pools of relays that ended long enough ago; whether some are left. */
static int bury(apr_time_t now)
{
    swsgi_relay **link = &ended;
    while (*link) {
        swsgi_relay *relay = *link;
        /* The MPM clears c->sbh among its last stores into the connection after the hook:
           until it has, the worker thread may still be there, whatever the grace. */
        if (now - relay->ended < GRACE_US || ((volatile conn_rec *)relay->c)->sbh != NULL) {
            link = &relay->next;
            continue;
        }
        *link = relay->next;
        apr_pool_destroy(relay->c->pool);
    }
    return ended != NULL;
}

/* New relays from the pipe; 0 when the thread is to stop. */
static int take_on(char *scratch)
{
    swsgi_relay *relays[64];
    ssize_t n = read(wake[0], relays, sizeof relays);
    for (ssize_t i = 0; i < n / (ssize_t)sizeof relays[0]; i++) {
        if (!relays[i])
            return 0;
        round_of(relays[i], scratch);
    }
    return 1;
}

static void *relay_thread(void *scratch)
{
    struct epoll_event events[64];
    for (;;) {
        int lingering = bury(apr_time_now());
        int n = epoll_wait(epoll_fd, events, 64, lingering ? GRACE_US / 1000 : -1);
        for (int i = 0; i < n; i++) {
            if (events[i].data.ptr == NULL) {
                if (!take_on(scratch))
                    return NULL;
            }
            else
                round_of(events[i].data.ptr, scratch);
        }
    }
}

static apr_status_t relay_thread_stop(void *unused)
{
    (void)unused;
    swsgi_relay *stop = NULL;
    if (write(wake[1], &stop, sizeof stop) == sizeof stop)
        pthread_join(thread, NULL);
    return APR_SUCCESS;
}

static void suspend_connection(conn_rec *c, request_rec *r)
{
    (void)r;
    swsgi_relay *relay = ap_get_module_config(c->conn_config, &swsgi_module);
    if (!relay)
        return;
    ap_set_module_config(c->conn_config, &swsgi_module, NULL);
    /* A pointer is less than PIPE_BUF: the write is whole, from any worker thread. */
    if (write(wake[1], &relay, sizeof relay) != sizeof relay)
        ap_log_cerror(APLOG_MARK, APLOG_ERR, errno, c, "the WebSocket could not be passed to the relay thread");
}

void swsgi_relay_thread_start(apr_pool_t *pchild)
{
    int async = 0;
    if (ap_mpm_query(AP_MPMQ_IS_ASYNC, &async) != APR_SUCCESS || !async)
        return;
    struct epoll_event ev = { EPOLLIN, { .ptr = NULL } };
    if ((epoll_fd = epoll_create1(EPOLL_CLOEXEC)) < 0 || pipe2(wake, O_CLOEXEC) != 0
        || epoll_ctl(epoll_fd, EPOLL_CTL_ADD, wake[0], &ev) != 0
        || pthread_create(&thread, NULL, relay_thread, swsgi_relay_scratch(pchild)) != 0) {
        ap_log_error(APLOG_MARK, APLOG_ERR, errno, swsgi_main_server,
                     "no relay thread: each wss:// WebSocket holds a worker thread");
        epoll_fd = -1;
        return;
    }
    apr_pool_cleanup_register(pchild, NULL, relay_thread_stop, apr_pool_cleanup_null);
}

int swsgi_relay_suspend(swsgi_relay *relay)
{
    request_rec *r = relay->r;
    /* A suspended request is one the event MPM runs itself: not an internal redirect's, nor
       one on a connection whose input filters make Apache read it synchronously. */
    if (epoll_fd < 0 || !r->connection->cs || r->connection->clogging_input_filters || r->main || r->prev)
        return 0;
    ap_set_module_config(r->connection->conn_config, &swsgi_module, relay);
    return 1;
}

void swsgi_relay_thread_register(void)
{
    ap_hook_suspend_connection(suspend_connection, NULL, NULL, APR_HOOK_MIDDLE);
}
