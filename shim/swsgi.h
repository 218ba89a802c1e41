/*
 * swsgi.h — the whole contract between the Apache shim (C) and the Swift core.
 *
 * The shim speaks Apache; the core never sees an Apache structure. The shim hands the core
 * plain C values and a table of I/O callbacks; the core hands back error sentences (malloc'd,
 * the caller frees them) and HTTP status codes.
 *
 * Threads: configuration calls happen in the Apache parent, single-threaded. Request calls
 * happen on any worker thread of a child; the core takes the Python GIL itself and releases it
 * around every callback that may block.
 */
#ifndef SWSGI_H
#define SWSGI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* swsgi's release, as Apache's banner and mod_wsgi.version-style keys show it. */
#define SWSGI_VERSION "0.2.0"

/* Where a directive appeared; process-wide directives are errors anywhere but SWSGI_SERVER. */
enum swsgi_where {
    SWSGI_SERVER = 0,    /* main server configuration */
    SWSGI_VHOST = 1,     /* inside <VirtualHost> */
    SWSGI_DIRECTORY = 2, /* inside <Directory>, <Location> or <Files> */
    SWSGI_HTACCESS = 3   /* in an .htaccess file */
};

/* Log levels, numbered as Apache's APLOG_* levels. */
enum swsgi_level { SWSGI_LOG_CRIT = 2, SWSGI_LOG_ERR = 3, SWSGI_LOG_WARNING = 4, SWSGI_LOG_NOTICE = 5, SWSGI_LOG_INFO = 6, SWSGI_LOG_DEBUG = 7 };

/* The shim's I/O for one request; ctx is the shim's request. Registered once. */
typedef struct swsgi_io {
    /* Reads up to len body bytes: the count, 0 at the end of the body, -1 on error. */
    long (*read)(void *ctx, char *buf, size_t len);
    /* Sets the status line ("200 OK") and the headers, once, before any body byte; 0 or -1. */
    int (*start)(void *ctx, const char *status_line, size_t count,
                 const char *const *names, const char *const *values);
    /* Writes body bytes; with flush non-zero they (and all written before) go to the client
       now instead of waiting in Apache's buffers. 0, or -1 when the client is gone. */
    int (*write)(void *ctx, const char *data, size_t len, int flush);
    /* Sends len bytes of fd from offset as the rest of the response (nothing is written
       after it): with sendfile where WSGIEnableSendfile is On. The shim takes fd: it is closed
       with the request (filters may hold the file past this call). */
    int (*sendfile)(void *ctx, int fd, uint64_t offset, uint64_t len);
    /* Pushes what was written so far to the client; 0 or -1. */
    int (*flush)(void *ctx);
    /* Logs one message (no trailing newline); ctx NULL logs for the server. */
    void (*log)(void *ctx, int level, const char *message);
    /* In a process the core forked from Apache's parent: lets go of Apache's listeners. */
    void (*after_fork)(void);
    /* The request's headers as the client sent them, in order, one "Name: value\n" line
       each (for ASGI's scope, which the CGI environment cannot give); lives with the request. */
    const char *(*headers)(void *ctx);
    /* The client connection's socket, polled (never read) to notice that the client closed it
       while a daemon works on the request; -1 when the request has none of its own (an HTTP/2
       stream). */
    int (*client_socket)(void *ctx);
    /* Why the client connection cannot be handed to a daemon process (TLS, HTTP/2), or NULL
       when it can: an ASGI app's WebSocket then runs in the daemon's event loop. */
    const char *(*handover_refusal)(void *ctx);
    /* Sends the response head set by start (101) and gives up the client connection: *fd is
       its socket (valid until the request ends; the shim never touches it again, nor shuts it
       down), or over TLS one end of a socket pair that the shim relays once the core returns;
       *pending what Apache had read from it already (*length bytes, with the request).
       0, or -1 when the client is gone. */
    int (*hand_over)(void *ctx, int *fd, const char **pending, size_t *length);
    /* The modification time of path (microseconds since the epoch) as Apache found it when it
       mapped the request to that file, or -1 when the request maps to another path (the core
       then looks itself): the script's reload check costs no second stat. */
    int64_t (*file_mtime)(void *ctx, const char *path);
} swsgi_io;

/* One request, as the shim's handler passes it to swsgi_handle. */
typedef struct swsgi_request {
    void *ctx;                   /* given back to every swsgi_io callback */
    size_t count;                /* CGI environment: count key/value pairs */
    const char *const *keys;
    const char *const *values;
    int server_scope;            /* the virtual host's scope */
    int dir_scope;               /* the merged per-directory scope */
    int alias;                   /* the WSGIScriptAlias(Match) that matched, or -1 (AddHandler) */
    int group;                   /* set by swsgi_handle: the metrics group (see below) */
    const char *uri;             /* the decoded URI path the alias matched (r->uri) */
} swsgi_request;

/* ---- configuration (Apache parent, also during configtest) ---- */

void swsgi_register_io(const swsgi_io *io);
/* "X.Y": the Python the core is built for, for Apache's banner. */
const char *swsgi_python_version(void);
/* The Apache version the shim was compiled for (apache.version in the environ). */
void swsgi_register_apache_version(int major, int minor, int patch);
/* pre_config: forget any previous configuration (graceful restart re-reads it). */
void swsgi_config_begin(void);
/* A new, empty scope for a server or a directory; ids are small integers. */
int swsgi_scope_new(void);
/* A new scope: add's settings over base's. */
int swsgi_scope_merge(int base, int add);
/* Applies one directive with its words (quotes already removed). NULL, or an error sentence. */
char *swsgi_directive(int scope, int where, const char *name, int argc, const char *const *argv);
/* A directive of an .htaccess file (read per request, in a child) applied over scope (-1 for
   none yet): the scope that results, the same for the same scope and directive every time,
   so that requests do not make new ones. *error: NULL, or an error sentence (malloc'd). */
int swsgi_htaccess_directive(int scope, const char *name, int argc, const char *const *argv, char **error);
/* check_config: cross-checks over the whole configuration, including that Apache's User and
   Group (uid, gid) and each daemon group's user can read what they must. NULL, or an error
   sentence. Logs a notice (through the io's log, for the server) for each directive and
   option given that has no effect. */
char *swsgi_config_check(int main_scope, unsigned uid, unsigned gid);
/* translate_name: the alias of server_scope that maps uri, or -1; *target (malloc'd) is the
   file-system path plus the rest of the URI. */
int swsgi_translate(int server_scope, const char *uri, char **target);

/* What the shim does itself for a request of a directory scope (a merged dir_scope, -1 for
   none): SWSGI_ERROR_OVERRIDE (WSGIErrorOverride On: an app's error status is answered by
   Apache, with its ErrorDocument, the app's body discarded), and WSGIMapHEADToGET as
   SWSGI_HEAD_TO_GET (On: a HEAD request reaches the app as GET) or SWSGI_HEAD_TO_GET_AUTO
   (the default: as GET only when an output filter may need the body), and SWSGI_SENDFILE
   (WSGIEnableSendfile On: a file is sent with sendfile rather than copied by Apache). */
enum { SWSGI_ERROR_OVERRIDE = 1, SWSGI_HEAD_TO_GET = 2, SWSGI_HEAD_TO_GET_AUTO = 4, SWSGI_SENDFILE = 8 };
int swsgi_request_options(int dir_scope);
/* Whether a WSGIHandlerScript of a directory scope handles requests of this Apache handler. */
int swsgi_handler_script(int dir_scope, const char *handler);

/* post_config, in the parent (never at configtest): binds the daemon groups' sockets and
   forks their processes, calling spawned(pid) for each, so that Apache reaps them. The number
   of processes, or -1 when a socket failed (logged). socket_prefix is the default
   WSGISocketPrefix; uid and gid are Apache's User and Group; timeout is Apache's Timeout in
   seconds, the default socket-timeout. */
int swsgi_daemons_start(const char *socket_prefix, unsigned uid, unsigned gid, unsigned timeout,
                        void (*spawned)(int pid));
/* A daemon process died (Apache reaped it): logged, and its replacement spawned. wait_status
   is waitpid's, or -1 when how it ended is unknown. */
void swsgi_daemon_died(int pid, int wait_status);
/* The generation ends (pconf cleanup): the sockets are closed and removed, the processes told
   to stop within their shutdown-timeout; when Apache is exiting, waits for them (and kills
   those that overstay). */
void swsgi_daemons_stop(int exiting);

/* ---- daemon process: C the core calls, where Swift cannot be used ---- */

/* Installs async-signal-safe handlers for signals (and unblocks them): each signal that
   arrives is its number as one byte on a non-blocking pipe. The read end, or -1 (errno). */
int swsgi_signal_pipe(const int *signals, int count);

/* ---- metrics: counters in memory the whole generation shares (shim/metrics.c) ---- */

/* Groups: 0 is embedded mode, 1 + i daemon group i. The timed phases of a request, each a
   histogram: the whole request, reading its body from the client and writing the response to
   it (in the Apache child); the gateway running the app; in a daemon group, the hand-off from
   the Apache child until the daemon has read the request, and its wait there for a worker;
   and the time the gateway's thread waited to take the GIL, over the whole request. */
enum swsgi_phase { SWSGI_PHASE_TOTAL, SWSGI_PHASE_READ, SWSGI_PHASE_WRITE, SWSGI_PHASE_APP, SWSGI_PHASE_QUEUE,
                   SWSGI_PHASE_HANDOFF, SWSGI_PHASE_GIL, SWSGI_PHASES };
/* Why a request could not be handed to its daemon group. */
enum swsgi_daemon_error { SWSGI_ERROR_CONNECT, SWSGI_ERROR_RESTARTING, SWSGI_ERROR_LOST, SWSGI_ERROR_TIMEOUT,
                          SWSGI_ERROR_QUEUE_TIMEOUT, SWSGI_DAEMON_ERRORS };
/* Why a process ended. A daemon names its planned reason before it exits; the parent adds a
   crash (signal) or an unplanned exit. */
enum swsgi_exit_reason { SWSGI_EXIT_OTHER, SWSGI_EXIT_SIGNAL, SWSGI_EXIT_ERROR, SWSGI_EXIT_MAXIMUM_REQUESTS,
                         SWSGI_EXIT_REQUEST_TIMEOUT, SWSGI_EXIT_INACTIVITY_TIMEOUT, SWSGI_EXIT_SCRIPT_CHANGED,
                         SWSGI_EXIT_RESTART_INTERVAL, SWSGI_EXIT_STARTUP_TIMEOUT, SWSGI_EXIT_RESTART,
                         SWSGI_EXIT_SHUTDOWN, SWSGI_EXIT_REASONS };

/* post_config, parent: daemon group i is called name (before any daemon forks). */
void swsgi_metrics_group(int group, const char *name);
/* In a daemon process, first thing: it owns metrics slot `slot` of group `group`. */
void swsgi_metrics_daemon_start(int slot, int group, int threads);
/* In a daemon about to exit as planned. */
void swsgi_metrics_daemon_stopping(int reason);
/* Parent: the daemon of `slot` was reaped with wait_status (-1: unknown). */
void swsgi_metrics_daemon_died(int slot, int wait_status);
/* Any process: one duration of a phase, for a group. */
void swsgi_metrics_time(int group, int phase, uint64_t microseconds);
/* The gateway of this process starts running a request; ends it after microseconds, for the
   application group entry `application` (below), with the status it answered (0: none). */
void swsgi_metrics_gateway_begin(void);
void swsgi_metrics_gateway_end(int application, int status, uint64_t microseconds);
/* The metrics entry of an application group, looked up once per interpreter: bounded, so a
   group past the last shares entry 0. */
int swsgi_metrics_application_group(const char *name);
/* Around taking the GIL in a request's thread: the clock before (0 with metrics off), given
   back once it is taken; the waits add up to the request's. */
uint64_t swsgi_metrics_clock(void);
void swsgi_metrics_gil_taken(uint64_t since);
/* A daemon: its requests read and waiting for a worker, and those its workers hold. */
void swsgi_metrics_daemon_queue(int queued, int held);
/* Apache child: a request handed to daemon group `group` (change 1) is answered (-1). */
void swsgi_metrics_handed(int group, int change);
/* A daemon's worker thread (1..) starts running request ("GET /uri"), or ends it. */
void swsgi_metrics_worker_begin(int thread, const char *request);
void swsgi_metrics_worker_end(int thread);
/* Apache child: a request could not go to its daemon group. */
void swsgi_metrics_daemon_error(int group, int cause);
/* The whole exposition in Prometheus' text format (or OpenMetrics), malloc'd, its length in
   *length; NULL without a metrics region (configtest) or memory. */
char *swsgi_metrics_exposition(int openmetrics, size_t *length);
/* This process's own counts: requests its gateway ran, their time in microseconds, its busy
   and all worker threads. 0 without a slot. */
int swsgi_metrics_process(uint64_t *served, uint64_t *busy_us, int *busy, int *threads);

/* ---- Apache child ---- */

/* child_init. threads and processes are the MPM's limits per child and of children, for
   wsgi.multithread, wsgi.multiprocess and mod_wsgi.threads_per_process/maximum_processes. */
void swsgi_child_init(int main_scope, int threads, int processes);
/* The child is exiting (its pool's cleanup): the apps' atexit functions run, bounded. */
void swsgi_child_exit(void);
/* Runs one request: 0 when the response was produced; an HTTP status for Apache to send when
   nothing was sent yet; -1 when the response broke after its headers went out (the shim must
   make sure the client cannot take the truncated body for a whole one). */
int swsgi_handle(const swsgi_request *request);

/* ---- authentication and access scripts (Apache child, before the handler) ---- */

/* Which function of which script: WSGIAccessScript's allow_access(environ, host),
   WSGIAuthUserScript's check_password(environ, user, password) and
   get_realm_hash(environ, user, realm), WSGIAuthGroupScript's groups_for_user(environ, user). */
enum swsgi_auth_kind { SWSGI_ALLOW_ACCESS = 0, SWSGI_CHECK_PASSWORD = 1, SWSGI_GET_REALM_HASH = 2, SWSGI_GROUPS_FOR_USER = 3 };
/* What the function said: yes (True, a user name, a hash, a group named by the Require line),
   no (False, none of the groups), unknown (None), or error (an exception, a result of the
   wrong type; logged). */
enum swsgi_auth_answer { SWSGI_AUTH_ERROR = 0, SWSGI_AUTH_YES = 1, SWSGI_AUTH_NO = 2, SWSGI_AUTH_UNKNOWN = 3 };

typedef struct swsgi_auth_call {
    void *ctx;                   /* the request, for swsgi_io's log */
    int dir_scope;               /* the merged per-directory scope */
    int kind;                    /* enum swsgi_auth_kind */
    size_t count;                /* the script's environ: count key/value pairs, never Authorization */
    const char *const *keys;
    const char *const *values;
    const char *user;            /* all but allow_access */
    const char *word;            /* the password, the realm, the client's host; never logged */
    size_t group_count;          /* groups_for_user: the groups the Require wsgi-group line names */
    const char *const *groups;
} swsgi_auth_call;

/* Whether the scope has the script that kind asks, so that nothing is built for directories
   without one. */
int swsgi_auth_configured(int dir_scope, int kind);
/* Runs the function: an enum swsgi_auth_answer. *answer (malloc'd, the caller frees it, or
   NULL): the user name check_password gave instead of True, or get_realm_hash's hash. */
int swsgi_auth(const swsgi_auth_call *call, char **answer);

#ifdef __cplusplus
}
#endif

#endif
