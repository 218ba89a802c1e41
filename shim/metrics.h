/* The metrics region's layout, shared by the shim's writers (metrics.c) and readers
   (metrics_export.c). One anonymous shared mapping per Apache generation, made by the parent
   in post_config: Apache's children and the daemon processes inherit it through fork, so
   counters outlive the process that counted them and start from zero with the generation.
   Every process writes only its own slot, with relaxed atomic adds: no lock, and nothing a
   scrape could block. */
#ifndef SWSGI_METRICS_H
#define SWSGI_METRICS_H

#include <stdatomic.h>
#include <stdint.h>
#include "swsgi.h"

/* Group 0 is embedded mode; 1 + i is daemon group i; groups past the last share it. */
#define SWSGI_GROUPS 16
#define SWSGI_GROUP_NAME 64
/* Daemon processes have a slot each (the parent's numbering); the last one is shared. */
#define SWSGI_DAEMON_SLOTS 128
/* Status classes 1xx..5xx, and anything else. */
#define SWSGI_CLASSES 6
/* Histogram bounds in microseconds; one more bucket for +Inf. */
#define SWSGI_BUCKETS 16
extern const uint64_t swsgi_bucket_bounds[SWSGI_BUCKETS - 1];
extern const char *const swsgi_bucket_labels[SWSGI_BUCKETS];
/* Application groups with series of their own: the first that count, in the order they
   first ran a request in any process; entry 0 is shared by the rest. */
#define SWSGI_APP_GROUPS 16
#define SWSGI_SIGNALS 65
/* Worker threads of a daemon whose running request mod_status shows; later ones share the last. */
#define SWSGI_WORKERS 64
#define SWSGI_WORKER_REQUEST 120

typedef _Atomic uint64_t counter;

struct swsgi_histogram {
    counter bucket[SWSGI_BUCKETS];   /* not cumulative: the reader adds them up */
    counter sum_us;
};

/* What one process counted for one group. */
struct swsgi_block {
    counter requests[SWSGI_CLASSES];
    counter bytes_in, bytes_out;
    counter errors[SWSGI_DAEMON_ERRORS];
    _Atomic int64_t handed;     /* an Apache child's requests at the group's daemons now */
    struct swsgi_histogram phase[SWSGI_PHASES];
};

/* A daemon worker's running request, for mod_status: written by that thread only; started_us
   is 0 while it is idle or rewriting request (a reader may see a torn text, never a crash). */
struct swsgi_worker {
    _Atomic uint64_t started_us;
    char request[SWSGI_WORKER_REQUEST];
};

enum swsgi_slot_kind { SLOT_FREE = 0, SLOT_CHILD = 1, SLOT_DAEMON = 2 };

struct swsgi_slot {
    _Atomic int pid;            /* the process using it now; 0: none */
    _Atomic int kind;
    int group;                  /* a daemon's */
    int threads;                /* worker threads of the process */
    _Atomic int64_t busy;       /* threads running a request in the gateway now */
    _Atomic int64_t in_flight;  /* an Apache child's requests in its handler now */
    _Atomic int64_t queued;     /* a daemon's requests read whole, waiting for a worker */
    _Atomic int64_t held;       /* a daemon's requests a worker runs (or is stuck in) */
    _Atomic uint64_t started_us; /* the current process's start, epoch microseconds */
    counter served;             /* requests the gateway of this slot's processes ran */
    counter starts;
    counter exits[SWSGI_EXIT_REASONS];
    counter signals[SWSGI_SIGNALS];
    _Atomic int stopping;       /* the reason a daemon gave before its planned exit */
    struct swsgi_block blocks[SWSGI_GROUPS];
    /* The application time of the requests this process ran, by application group; requests
       by status class of each (the gateway's status, before Apache's error documents). */
    struct swsgi_histogram applications[SWSGI_APP_GROUPS];
    counter application_requests[SWSGI_APP_GROUPS][SWSGI_CLASSES];
    struct swsgi_worker workers[SWSGI_WORKERS];
};

struct swsgi_metrics {
    int child_slots;
    int groups;
    char group_names[SWSGI_GROUPS][SWSGI_GROUP_NAME];
    /* 0: free; 1: being named; 2: named (its name is complete). */
    _Atomic int application_state[SWSGI_APP_GROUPS];
    char application_names[SWSGI_APP_GROUPS][SWSGI_GROUP_NAME];
    struct swsgi_slot slots[];  /* daemon slots first, then the Apache children's */
};

extern struct swsgi_metrics *swsgi_metrics_region;
/* Now, in microseconds since the epoch (the slots' start and request times). */
uint64_t swsgi_epoch_us(void);
int swsgi_metrics_slot_count(void);

#endif
