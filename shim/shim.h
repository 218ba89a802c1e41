/* Declarations shared by the shim's own files (not part of the core's contract). */
#ifndef SWSGI_SHIM_H
#define SWSGI_SHIM_H

/* Before APR's headers: without offsetof, apr_general.h defines APR_OFFSETOF as a member
   access through a null pointer (undefined behaviour, in every bucket insertion). */
#include <stddef.h>
#include "httpd.h"
#include "http_config.h"
#include "swsgi.h"

extern module AP_MODULE_DECLARE_DATA swsgi_module;
/* identity.c: the record's name (mod_wsgi's), the lookup that makes <IfModule wsgi_module>
   and <IfModule swsgi_module> hold whichever of them loaded swsgi, and the check that
   mod_wsgi is not loaded too (0, logged, when it is). */
extern const char swsgi_record_name[];
void swsgi_identity_register(void);
int swsgi_identity_check(void);

/* Server and directory configuration: a core scope id, -1 until a directive sets something. */
typedef struct swsgi_conf {
    int scope;
} swsgi_conf;

/* What the metrics keep of one request in the Apache child. */
struct swsgi_request_times {
    int group;
    int status;
    uint64_t total_us, read_us, write_us;
    uint64_t bytes_in, bytes_out;
};

/* The handler's per-request state, the ctx of every swsgi_io callback. */
typedef struct swsgi_rctx {
    request_rec *r;
    apr_bucket_brigade *bb;
    struct swsgi_request_times times;
    int error_override;  /* WSGIErrorOverride On */
    int sendfile;        /* WSGIEnableSendfile On */
    int overridden;      /* the app's error status, answered by Apache instead of its body */
    int relay[2];        /* a WebSocket relayed for the daemon (TLS): the daemon's end, ours; else -1 */
} swsgi_rctx;

extern const command_rec swsgi_directives[];
extern const swsgi_io swsgi_shim_io;
extern server_rec *swsgi_main_server;

void *swsgi_create_conf(apr_pool_t *p, char *unused);
void *swsgi_create_server_conf(apr_pool_t *p, server_rec *s);
void *swsgi_merge_conf(apr_pool_t *p, void *base, void *add);
int swsgi_translate_name(request_rec *r);
int swsgi_handler(request_rec *r);
/* A table's entries as the core's key and value arrays, allocated from p. */
void swsgi_table_arrays(apr_pool_t *p, const apr_table_t *table, size_t *count,
                        const char *const **keys, const char *const **values);
/* handover.c: the io's handover_refusal and hand_over. */
const char *swsgi_handover_refusal(void *ctx);
int swsgi_hand_over(void *ctx, int *fd, const char **pending, size_t *length);
/* relay.c: the relay of a connection that could only be handed over through Apache (TLS),
   started by the handler once the daemon has its end: SUSPENDED when the relay thread
   takes it, else OK once it ended. A relay's round moves what both sides take without
   waiting (0 when the relay is over) and says what to poll each side for next; the
   scratch it uses is swsgi_relay_scratch's. */
typedef struct swsgi_relay {
    conn_rec *c;
    request_rec *r;
    int client, daemon;        /* descriptors: the client's socket, the daemon's socket pair end */
    apr_size_t chunk;          /* the most moved at a time */
    apr_bucket_brigade *bb;
    struct ap_filter_t *core;  /* the connection's last output filter (core's) */
    char *held;                /* client bytes the daemon did not take yet: held_at to held_end */
    apr_size_t held_at, held_end;
    short client_watched, daemon_watched;  /* relay_thread.c's: the events epoll waits for */
    apr_time_t ended;          /* relay_thread.c's: when it ended, 0 before */
    struct swsgi_relay *next;  /* relay_thread.c's list of ended relays */
} swsgi_relay;
int swsgi_relay_start(swsgi_rctx *ctx);
int swsgi_relay_round(swsgi_relay *relay, char *scratch, short *client_events, short *daemon_events);
void swsgi_relay_end(swsgi_relay *relay);
char *swsgi_relay_scratch(apr_pool_t *p);
/* relay_thread.c: the event MPM child's relay thread (started in child_init, when the MPM
   is asynchronous), and the handing of a relay to it: 1 when the handler is to return
   SUSPENDED. */
void swsgi_relay_thread_register(void);
void swsgi_relay_thread_start(apr_pool_t *pchild);
int swsgi_relay_suspend(swsgi_relay *relay);
/* auth.c: the access checker hook and the "wsgi" and "wsgi-group" providers. */
void swsgi_auth_register(apr_pool_t *p);

/* daemon_exit.c, in the parent: watch a daemon process, so that its full wait status is known
   when Apache reports its death; that status (reaping forgets the pid), or -1 when Apache
   reaped it first. An Apache child puts SIGCHLD back as it was. */
void swsgi_exit_watch(int pid);
int swsgi_exit_status(int pid);
void swsgi_exit_unwatch_in_child(void);

/* metrics.c: the region of this generation (parent, post_config), an Apache child's slot,
   and what the handler records of each request. */
void swsgi_metrics_create(int on, int child_slots);
void swsgi_metrics_child_start(int threads);
void swsgi_metrics_child_exit(void);
void swsgi_metrics_request_begin(void);
void swsgi_metrics_request_end(const struct swsgi_request_times *times);
uint64_t swsgi_monotonic_us(void);
/* The clock of a request's phases in the Apache child: 0 when neither the metrics nor
   WSGISlowRequests need it. */
uint64_t swsgi_request_clock(void);
/* metrics_apache.c: WSGIMetrics On|Off, the handler of SetHandler swsgi-metrics, and the
   daemon processes in mod_status's page. */
const char *swsgi_set_metrics(cmd_parms *cmd, void *unused, int on);
int swsgi_metrics_wanted(void);
#define SWSGI_METRICS_DIRECTIVE AP_INIT_FLAG("WSGIMetrics", swsgi_set_metrics, NULL, RSRC_CONF, \
    "On or Off: count requests for the swsgi-metrics handler, mod_status and the mod_wsgi module (On)")
int swsgi_metrics_handler(request_rec *r);
void swsgi_metrics_status_register(void);
/* slow_requests.c: WSGISlowRequests, and the log line of a request slower than it. */
const char *swsgi_set_slow_requests(cmd_parms *cmd, void *unused, const char *arg);
#define SWSGI_SLOW_REQUESTS_DIRECTIVE AP_INIT_TAKE1("WSGISlowRequests", swsgi_set_slow_requests, NULL, RSRC_CONF, \
    "seconds: log each request that takes longer, with where its time went")
void swsgi_slow_request_check(request_rec *r, const struct swsgi_request_times *times);

#endif
