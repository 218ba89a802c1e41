/* The metrics region (metrics.h): made by the parent, written by every process in its own
   slot. No Apache structure here: the core calls these functions from any thread. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include "metrics.h"
#include "shim.h"

struct swsgi_metrics *swsgi_metrics_region;
static size_t region_size;
/* This process's slot; NULL until it has one (and in the parent). */
static struct swsgi_slot *mine;

/* 1 ms .. 60 s, roughly three to a decade: API calls to slow reports. The exposition's le
   labels are these, in seconds. */
const uint64_t swsgi_bucket_bounds[SWSGI_BUCKETS - 1] = {
    1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
    1000000, 2500000, 5000000, 10000000, 30000000, 60000000
};
const char *const swsgi_bucket_labels[SWSGI_BUCKETS] = {
    "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5",
    "1.0", "2.5", "5.0", "10.0", "30.0", "60.0", "+Inf"
};

uint64_t swsgi_epoch_us(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (uint64_t)now.tv_sec * 1000000 + (uint64_t)now.tv_nsec / 1000;
}

uint64_t swsgi_monotonic_us(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000000 + (uint64_t)now.tv_nsec / 1000;
}

int swsgi_metrics_slot_count(void)
{
    return swsgi_metrics_region ? SWSGI_DAEMON_SLOTS + swsgi_metrics_region->child_slots : 0;
}

void swsgi_metrics_create(int on, int child_slots)
{
    /* The previous generation's region stays mapped in its own children, not here. */
    if (swsgi_metrics_region)
        munmap(swsgi_metrics_region, region_size);
    swsgi_metrics_region = NULL;
    if (!on)
        return;
    size_t size = sizeof(struct swsgi_metrics) + sizeof(struct swsgi_slot) * (SWSGI_DAEMON_SLOTS + child_slots);
    void *region = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (region == MAP_FAILED) {
        swsgi_metrics_region = NULL;
        return;
    }
    swsgi_metrics_region = region;
    region_size = size;
    swsgi_metrics_region->child_slots = child_slots;
    swsgi_metrics_region->groups = 1;
    strcpy(swsgi_metrics_region->group_names[0], "");
}

void swsgi_metrics_group(int group, const char *name)
{
    if (!swsgi_metrics_region || group < 1)
        return;
    /* Groups past the last block share it: its series must not carry one group's name. */
    if (group >= SWSGI_GROUPS) {
        group = SWSGI_GROUPS - 1;
        name = "(other groups)";
    }
    strncpy(swsgi_metrics_region->group_names[group], name, SWSGI_GROUP_NAME - 1);
    if (group >= swsgi_metrics_region->groups)
        swsgi_metrics_region->groups = group + 1;
}

static void take(struct swsgi_slot *slot, int kind, int threads)
{
    atomic_store(&slot->kind, kind);
    slot->threads = threads;
    /* A process that crashed mid-request left its gauges behind. */
    atomic_store(&slot->busy, 0);
    atomic_store(&slot->in_flight, 0);
    atomic_store(&slot->queued, 0);
    atomic_store(&slot->held, 0);
    for (int g = 0; g < SWSGI_GROUPS; g++)
        atomic_store(&slot->blocks[g].handed, 0);
    for (int i = 0; i < SWSGI_WORKERS; i++)
        atomic_store(&slot->workers[i].started_us, 0);
    atomic_store(&slot->started_us, swsgi_epoch_us());
    atomic_store(&slot->stopping, SWSGI_EXIT_OTHER);
    atomic_fetch_add_explicit(&slot->starts, 1, memory_order_relaxed);
    mine = slot;
}

void swsgi_metrics_daemon_start(int slot, int group, int threads)
{
    if (!swsgi_metrics_region)
        return;
    struct swsgi_slot *s = &swsgi_metrics_region->slots[slot < SWSGI_DAEMON_SLOTS ? slot : SWSGI_DAEMON_SLOTS - 1];
    s->group = group < SWSGI_GROUPS ? group : SWSGI_GROUPS - 1;
    atomic_store(&s->pid, getpid());
    take(s, SLOT_DAEMON, threads);
}

void swsgi_metrics_daemon_stopping(int reason)
{
    if (mine)
        atomic_store(&mine->stopping, reason);
}

static void count_exit(struct swsgi_slot *slot, int reason)
{
    atomic_fetch_add_explicit(&slot->exits[reason], 1, memory_order_relaxed);
}

void swsgi_metrics_daemon_died(int slot, int wait_status)
{
    if (!swsgi_metrics_region || slot < 0)
        return;
    struct swsgi_slot *s = &swsgi_metrics_region->slots[slot < SWSGI_DAEMON_SLOTS ? slot : SWSGI_DAEMON_SLOTS - 1];
    atomic_store(&s->pid, 0);
    if (wait_status >= 0 && WIFSIGNALED(wait_status)) {
        count_exit(s, SWSGI_EXIT_SIGNAL);
        int number = WTERMSIG(wait_status);
        atomic_fetch_add_explicit(&s->signals[number < SWSGI_SIGNALS ? number : 0], 1, memory_order_relaxed);
    } else if (wait_status >= 0 && WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0) {
        count_exit(s, atomic_load(&s->stopping));
    } else {
        count_exit(s, SWSGI_EXIT_ERROR);
    }
}

/* An Apache child takes a free slot, or one whose process is gone without saying so. */
void swsgi_metrics_child_start(int threads)
{
    if (!swsgi_metrics_region)
        return;
    int self = getpid();
    struct swsgi_slot *slots = swsgi_metrics_region->slots + SWSGI_DAEMON_SLOTS;
    int count = swsgi_metrics_region->child_slots;
    for (int i = 0; i < count; i++) {
        int owner = atomic_load(&slots[i].pid);
        if (owner != 0 && (kill(owner, 0) == 0 || errno != ESRCH))
            continue;
        if (atomic_compare_exchange_strong(&slots[i].pid, &owner, self)) {
            take(&slots[i], SLOT_CHILD, threads);
            return;
        }
    }
    /* Every slot taken: the last is shared, still counted exactly by its atomic adds. */
    mine = &slots[count - 1];
}

void swsgi_metrics_child_exit(void)
{
    if (!mine)
        return;
    count_exit(mine, SWSGI_EXIT_SHUTDOWN);
    int self = getpid();
    atomic_compare_exchange_strong(&mine->pid, &self, 0);
    mine = NULL;
}

static struct swsgi_block *block(int group)
{
    return &mine->blocks[group >= 0 && group < SWSGI_GROUPS ? group : SWSGI_GROUPS - 1];
}

static void observe(struct swsgi_histogram *h, uint64_t microseconds)
{
    int i = 0;
    while (i < SWSGI_BUCKETS - 1 && microseconds > swsgi_bucket_bounds[i])
        i++;
    atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_us, microseconds, memory_order_relaxed);
}

void swsgi_metrics_time(int group, int phase, uint64_t microseconds)
{
    if (mine && phase >= 0 && phase < SWSGI_PHASES)
        observe(&block(group)->phase[phase], microseconds);
}

static int status_class(int status)
{
    return status >= 100 && status < 600 ? status / 100 - 1 : SWSGI_CLASSES - 1;
}

/* The GIL waits of the request this thread runs, added up until its gateway ends. */
static __thread uint64_t gil_wait_us;

void swsgi_metrics_gateway_begin(void)
{
    if (mine)
        atomic_fetch_add_explicit(&mine->busy, 1, memory_order_relaxed);
    gil_wait_us = 0;
}

uint64_t swsgi_metrics_clock(void)
{
    return mine ? swsgi_monotonic_us() : 0;
}

void swsgi_metrics_gil_taken(uint64_t since)
{
    if (since)
        gil_wait_us += swsgi_monotonic_us() - since;
}

/* A daemon's gateway counts for its group, an Apache child's for embedded mode. */
void swsgi_metrics_gateway_end(int application, int status, uint64_t microseconds)
{
    if (!mine)
        return;
    int group = atomic_load(&mine->kind) == SLOT_DAEMON ? mine->group : 0;
    atomic_fetch_sub_explicit(&mine->busy, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&mine->served, 1, memory_order_relaxed);
    swsgi_metrics_time(group, SWSGI_PHASE_APP, microseconds);
    swsgi_metrics_time(group, SWSGI_PHASE_GIL, gil_wait_us);
    gil_wait_us = 0;
    if (application < 0 || application >= SWSGI_APP_GROUPS)
        application = 0;
    observe(&mine->applications[application], microseconds);
    atomic_fetch_add_explicit(&mine->application_requests[application][status_class(status)], 1, memory_order_relaxed);
}

/* The entry of an application group's name: found, or claimed while one is free; 0 (shared
   by the rest) once all are named. Named entries never change within a generation. */
int swsgi_metrics_application_group(const char *name)
{
    if (!swsgi_metrics_region)
        return 0;
    for (int i = 1; i < SWSGI_APP_GROUPS; i++) {
        _Atomic int *state = &swsgi_metrics_region->application_state[i];
        int seen = atomic_load(state);
        if (seen == 0 && atomic_compare_exchange_strong(state, &seen, 1)) {
            strncpy(swsgi_metrics_region->application_names[i], name, SWSGI_GROUP_NAME - 1);
            atomic_store(state, 2);
            return i;
        }
        /* Another process is naming it: its name is known within a few instructions. */
        while ((seen = atomic_load(state)) == 1)
            sched_yield();
        if (!strncmp(swsgi_metrics_region->application_names[i], name, SWSGI_GROUP_NAME - 1))
            return i;
    }
    return 0;
}

void swsgi_metrics_daemon_queue(int queued, int held)
{
    if (mine) {
        atomic_store_explicit(&mine->queued, queued, memory_order_relaxed);
        atomic_store_explicit(&mine->held, held, memory_order_relaxed);
    }
}

void swsgi_metrics_handed(int group, int change)
{
    if (mine)
        atomic_fetch_add_explicit(&block(group)->handed, change, memory_order_relaxed);
}

static struct swsgi_worker *worker(int thread)
{
    return &mine->workers[thread >= 1 && thread <= SWSGI_WORKERS ? thread - 1 : SWSGI_WORKERS - 1];
}

void swsgi_metrics_worker_begin(int thread, const char *request)
{
    if (!mine)
        return;
    struct swsgi_worker *w = worker(thread);
    atomic_store_explicit(&w->started_us, 0, memory_order_release);
    strncpy(w->request, request, SWSGI_WORKER_REQUEST - 1);
    atomic_store_explicit(&w->started_us, swsgi_epoch_us(), memory_order_release);
}

void swsgi_metrics_worker_end(int thread)
{
    if (mine)
        atomic_store_explicit(&worker(thread)->started_us, 0, memory_order_relaxed);
}

int swsgi_metrics_process(uint64_t *served, uint64_t *busy_us, int *busy, int *threads)
{
    if (!mine)
        return 0;
    int group = atomic_load(&mine->kind) == SLOT_DAEMON ? mine->group : 0;
    *served = atomic_load(&mine->served);
    *busy_us = atomic_load(&mine->blocks[group].phase[SWSGI_PHASE_APP].sum_us);
    *busy = (int)atomic_load(&mine->busy);
    *threads = mine->threads;
    return 1;
}

void swsgi_metrics_daemon_error(int group, int cause)
{
    if (mine && cause >= 0 && cause < SWSGI_DAEMON_ERRORS)
        atomic_fetch_add_explicit(&block(group)->errors[cause], 1, memory_order_relaxed);
}

void swsgi_metrics_request_begin(void)
{
    if (mine)
        atomic_fetch_add_explicit(&mine->in_flight, 1, memory_order_relaxed);
}

void swsgi_metrics_request_end(const struct swsgi_request_times *t)
{
    if (!mine)
        return;
    atomic_fetch_sub_explicit(&mine->in_flight, 1, memory_order_relaxed);
    struct swsgi_block *b = block(t->group);
    atomic_fetch_add_explicit(&b->requests[status_class(t->status)], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&b->bytes_in, t->bytes_in, memory_order_relaxed);
    atomic_fetch_add_explicit(&b->bytes_out, t->bytes_out, memory_order_relaxed);
    swsgi_metrics_time(t->group, SWSGI_PHASE_TOTAL, t->total_us);
    if (t->read_us)
        swsgi_metrics_time(t->group, SWSGI_PHASE_READ, t->read_us);
    if (t->write_us)
        swsgi_metrics_time(t->group, SWSGI_PHASE_WRITE, t->write_us);
}
