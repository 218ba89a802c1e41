/* The metrics region in Prometheus' text format (OpenMetrics when asked for), summed over the
   Apache children and daemon processes: for SetHandler swsgi-metrics and for the mod_wsgi
   module's functions. It reads with atomic loads and takes no lock: a scrape never holds up
   a request. No Apache structure: the core calls it too. */
#include "metrics.h"
#include <inttypes.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const class_names[SWSGI_CLASSES] = { "1xx", "2xx", "3xx", "4xx", "5xx", "other" };
static const char *const error_names[SWSGI_DAEMON_ERRORS] = { "connect", "restarting", "lost", "timeout", "queue_timeout" };
static const char *const exit_names[SWSGI_EXIT_REASONS] = {
    "other", "signal", "error", "maximum_requests", "request_timeout", "inactivity_timeout", "script_changed",
    "restart_interval", "startup_timeout", "restart", "shutdown"
};
static const char *const phase_metric[SWSGI_PHASES] = {
    "swsgi_request_duration_seconds", "swsgi_request_body_read_seconds", "swsgi_response_write_seconds",
    "swsgi_application_duration_seconds", "swsgi_queue_wait_seconds", "swsgi_daemon_handoff_seconds",
    "swsgi_gil_wait_seconds"
};
static const char *const phase_help[SWSGI_PHASES] = {
    "Time from the Apache child's handler taking a request to its response's end.",
    "Time spent reading request bodies from clients.",
    "Time spent writing responses to clients.",
    "Time the process running the app spent on a request (a busy worker thread).",
    "Time a request waited in a daemon process, once read, for a free worker thread.",
    "Time from the Apache child handing a request to its daemon group to a daemon process having read it.",
    "Time a request's thread waited to take the GIL, over the whole request."
};

struct out {
    char *text;
    size_t length, capacity;
    int failed;
    int openmetrics;
    char groups[SWSGI_GROUPS][2 * SWSGI_GROUP_NAME + 1];  /* the label values, escaped */
    char applications[SWSGI_APP_GROUPS][2 * SWSGI_GROUP_NAME + 1];
};

static void put(struct out *o, const char *format, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *format, ...)
{
    for (;;) {
        va_list args;
        va_start(args, format);
        size_t room = o->capacity - o->length;
        int n = o->failed ? 0 : vsnprintf(o->text + o->length, room, format, args);
        va_end(args);
        if (o->failed || n < 0) {
            o->failed = 1;
            return;
        }
        if ((size_t)n < room) {
            o->length += (size_t)n;
            return;
        }
        size_t capacity = 2 * o->capacity + (size_t)n;
        char *text = realloc(o->text, capacity);
        if (!text) {
            o->failed = 1;
            return;
        }
        o->text = text;
        o->capacity = capacity;
    }
}

static uint64_t load(counter *c) { return atomic_load_explicit(c, memory_order_relaxed); }

/* Prometheus' label-value escapes, into copy (twice the room of value). */
static void escape(char *copy, const char *value)
{
    for (const char *c = value; *c; c++) {
        if (*c == '\\' || *c == '"') { *copy++ = '\\'; *copy++ = *c; }
        else if (*c == '\n') { *copy++ = '\\'; *copy++ = 'n'; }
        else *copy++ = *c;
    }
    *copy = 0;
}

static const char *group_label(struct out *o, int group)
{
    return o->groups[group];
}

/* TYPE and HELP; OpenMetrics names a counter family without its _total. */
static void family(struct out *o, const char *name, const char *type, const char *help)
{
    size_t n = strlen(name);
    int strip = o->openmetrics && !strcmp(type, "counter") && n > 6 && !strcmp(name + n - 6, "_total");
    put(o, "# HELP %.*s %s\n# TYPE %.*s %s\n", (int)(strip ? n - 6 : n), name, help,
               (int)(strip ? n - 6 : n), name, type);
}

static int is_kind(const struct swsgi_slot *s, int kind)
{
    return atomic_load(&s->kind) == kind;
}

static int live(struct swsgi_slot *s)
{
    return atomic_load(&s->pid) != 0;
}

/* The group a slot counts its own process under (a child's gateway runs embedded mode). */
static int own_group(const struct swsgi_slot *s)
{
    return is_kind(s, SLOT_DAEMON) ? s->group : 0;
}

/* One histogram's series from its (not cumulative) buckets; labels go before le. */
static void buckets(struct out *o, const char *name, const char *labels, const uint64_t *bucket, uint64_t sum)
{
    uint64_t total = 0;
    for (int b = 0; b < SWSGI_BUCKETS; b++) {
        total += bucket[b];
        put(o, "%s_bucket{%s,le=\"%s\"} %" PRIu64 "\n", name, labels, swsgi_bucket_labels[b], total);
    }
    put(o, "%s_sum{%s} %.6f\n%s_count{%s} %" PRIu64 "\n", name, labels, sum / 1e6, name, labels, total);
}

static void add_histogram(uint64_t *bucket, uint64_t *sum, struct swsgi_histogram *h)
{
    for (int b = 0; b < SWSGI_BUCKETS; b++)
        bucket[b] += load(&h->bucket[b]);
    *sum += load(&h->sum_us);
}

static void histogram(struct out *o, int phase, int groups, int slots)
{
    family(o, phase_metric[phase], "histogram", phase_help[phase]);
    for (int g = 0; g < groups; g++) {
        uint64_t bucket[SWSGI_BUCKETS] = { 0 }, sum = 0;
        for (int i = 0; i < slots; i++)
            add_histogram(bucket, &sum, &swsgi_metrics_region->slots[i].blocks[g].phase[phase]);
        char labels[3 * SWSGI_GROUP_NAME];
        snprintf(labels, sizeof labels, "group=\"%s\"", group_label(o, g));
        buckets(o, phase_metric[phase], labels, bucket, sum);
    }
}

/* The sum over slots of the counter at offset in their block of group g. */
static uint64_t block_sum(int g, size_t offset, int slots)
{
    uint64_t sum = 0;
    for (int i = 0; i < slots; i++)
        sum += load((counter *)((char *)&swsgi_metrics_region->slots[i].blocks[g] + offset));
    return sum;
}

/* The sum over group g's daemon slots of the counter at offset in the slot. */
static uint64_t daemon_sum(int g, size_t offset)
{
    uint64_t sum = 0;
    for (int i = 0; i < SWSGI_DAEMON_SLOTS; i++) {
        struct swsgi_slot *s = &swsgi_metrics_region->slots[i];
        if (is_kind(s, SLOT_DAEMON) && s->group == g)
            sum += load((counter *)((char *)s + offset));
    }
    return sum;
}

/* A block counter per group. */
static void block_counter(struct out *o, const char *name, const char *help, size_t offset, int groups, int slots)
{
    family(o, name, "counter", help);
    for (int g = 0; g < groups; g++)
        put(o, "%s{group=\"%s\"} %" PRIu64 "\n", name, group_label(o, g), block_sum(g, offset, slots));
}

/* A block's array of counters at offset, per group from first and per label value. */
static void block_counters(struct out *o, const char *name, const char *help, const char *label,
                           const char *const *values, int count, size_t offset, int first, int groups, int slots)
{
    family(o, name, "counter", help);
    for (int g = first; g < groups; g++)
        for (int v = 0; v < count; v++)
            put(o, "%s{group=\"%s\",%s=\"%s\"} %" PRIu64 "\n", name, group_label(o, g), label, values[v],
                block_sum(g, offset + v * sizeof(counter), slots));
}

/* utime + stime (seconds) and resident bytes of a process, from /proc; 0 when unreadable. */
static int proc_stat(int pid, double *cpu, double *rss)
{
    char path[64], text[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = 0;
    char *p = strrchr(text, ')');
    unsigned long utime, stime;
    long pages;
    /* After the name: state, then fields 4..24; utime and stime are 14 and 15, rss 24. */
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d %*d %*d %*d %*d %*u %*u %ld",
                     &utime, &stime, &pages) != 3)
        return 0;
    *cpu = (double)(utime + stime) / sysconf(_SC_CLK_TCK);
    *rss = (double)pages * sysconf(_SC_PAGESIZE);
    return 1;
}

/* Each daemon process, and each Apache child (group "(embedded)", numbered by its slot). */
static void processes(struct out *o, int slots)
{
    static const char *const names[] = {
        "swsgi_process_requests_total", "swsgi_process_busy_threads", "swsgi_process_threads",
        "swsgi_process_start_time_seconds", "swsgi_process_cpu_seconds_total", "swsgi_process_resident_memory_bytes"
    };
    static const char *const types[] = { "counter", "gauge", "gauge", "gauge", "counter", "gauge" };
    static const char *const helps[] = {
        "Requests the gateway of this process slot ran, over all its processes.",
        "Threads of the process running a request in its gateway now.",
        "Worker threads of the daemon process, or the Apache child's threads.",
        "When the process started, in seconds since the epoch.",
        "CPU time (user and system) of the process.",
        "Resident memory of the process."
    };
    for (int m = 0; m < 6; m++) {
        family(o, names[m], types[m], helps[m]);
        int number[SWSGI_GROUPS] = { 0 };
        for (int i = 0; i < slots; i++) {
            struct swsgi_slot *s = &swsgi_metrics_region->slots[i];
            if (!is_kind(s, SLOT_DAEMON) && !is_kind(s, SLOT_CHILD))
                continue;
            int process = number[own_group(s)]++;
            int pid = atomic_load(&s->pid);
            double value, cpu = 0, rss = 0;
            if (m >= 1 && !pid)
                continue;
            if (m >= 4 && !proc_stat(pid, &cpu, &rss))
                continue;
            switch (m) {
            case 0: value = (double)load(&s->served); break;
            case 1: value = (double)atomic_load(&s->busy); break;
            case 2: value = s->threads; break;
            case 3: value = atomic_load(&s->started_us) / 1e6; break;
            case 4: value = cpu; break;
            default: value = rss; break;
            }
            put(o, "%s{group=\"%s\",process=\"%d\"} %.6f\n", names[m], group_label(o, own_group(s)), process, value);
        }
    }
}

static void lifecycle(struct out *o, int groups)
{
    family(o, "swsgi_process_starts_total", "counter", "Daemon processes started.");
    for (int g = 1; g < groups; g++)
        put(o, "swsgi_process_starts_total{group=\"%s\"} %" PRIu64 "\n", group_label(o, g),
            daemon_sum(g, offsetof(struct swsgi_slot, starts)));
    family(o, "swsgi_process_exits_total", "counter", "Daemon processes that ended, by reason.");
    for (int g = 1; g < groups; g++)
        for (int reason = 0; reason < SWSGI_EXIT_REASONS; reason++)
            put(o, "swsgi_process_exits_total{group=\"%s\",reason=\"%s\"} %" PRIu64 "\n", group_label(o, g),
                exit_names[reason], daemon_sum(g, offsetof(struct swsgi_slot, exits) + reason * sizeof(counter)));
    family(o, "swsgi_process_signal_exits_total", "counter", "Daemon processes ended by a signal, by signal.");
    for (int g = 1; g < groups; g++)
        for (int number = 1; number < SWSGI_SIGNALS; number++) {
            uint64_t sum = daemon_sum(g, offsetof(struct swsgi_slot, signals) + number * sizeof(counter));
            const char *name = sigabbrev_np(number);
            if (sum)
                put(o, "swsgi_process_signal_exits_total{group=\"%s\",signal=\"SIG%s\"} %" PRIu64 "\n",
                    group_label(o, g), name ? name : "?", sum);
        }
}

static void gauges(struct out *o, int groups, int slots)
{
    int64_t in_flight = 0, busy[SWSGI_GROUPS] = { 0 }, threads[SWSGI_GROUPS] = { 0 };
    int64_t queued[SWSGI_GROUPS] = { 0 }, handoff[SWSGI_GROUPS] = { 0 };
    for (int i = 0; i < slots; i++) {
        struct swsgi_slot *s = &swsgi_metrics_region->slots[i];
        if (!live(s))
            continue;
        if (is_kind(s, SLOT_CHILD)) {
            in_flight += atomic_load(&s->in_flight);
            for (int g = 1; g < groups; g++)
                handoff[g] += atomic_load(&s->blocks[g].handed);
        }
        if (is_kind(s, SLOT_DAEMON)) {
            queued[s->group] += atomic_load(&s->queued);
            handoff[s->group] -= atomic_load(&s->queued) + atomic_load(&s->held);
        }
        if (is_kind(s, SLOT_DAEMON) || is_kind(s, SLOT_CHILD)) {
            busy[own_group(s)] += atomic_load(&s->busy);
            threads[own_group(s)] += s->threads;
        }
    }
    family(o, "swsgi_requests_in_flight", "gauge", "Requests in the Apache children's WSGI handler now.");
    put(o, "swsgi_requests_in_flight %" PRId64 "\n", in_flight);
    family(o, "swsgi_busy_threads", "gauge", "Threads running a WSGI request now.");
    for (int g = 0; g < groups; g++)
        put(o, "swsgi_busy_threads{group=\"%s\"} %" PRId64 "\n", group_label(o, g), busy[g]);
    family(o, "swsgi_daemon_queued_requests", "gauge", "Requests a daemon process has read that wait for a worker thread.");
    for (int g = 1; g < groups; g++)
        put(o, "swsgi_daemon_queued_requests{group=\"%s\"} %" PRId64 "\n", group_label(o, g), queued[g]);
    family(o, "swsgi_daemon_handoff_requests", "gauge", "Requests Apache children handed to a daemon group that no daemon process has read yet.");
    for (int g = 1; g < groups; g++)
        put(o, "swsgi_daemon_handoff_requests{group=\"%s\"} %" PRId64 "\n", group_label(o, g), handoff[g] > 0 ? handoff[g] : 0);
    family(o, "swsgi_threads", "gauge", "Threads that can run WSGI requests (daemon groups), or Apache's threads (embedded).");
    for (int g = 0; g < groups; g++)
        put(o, "swsgi_threads{group=\"%s\"} %" PRId64 "\n", group_label(o, g), threads[g]);
}

/* What the processes of each process group ran for each application group. */
struct application_sums {
    uint64_t requests[SWSGI_GROUPS][SWSGI_APP_GROUPS][SWSGI_CLASSES];
    uint64_t bucket[SWSGI_GROUPS][SWSGI_APP_GROUPS][SWSGI_BUCKETS], sum[SWSGI_GROUPS][SWSGI_APP_GROUPS];
};

/* Series only for the pairs of process group and application group that ran a request. */
static void applications(struct out *o, int groups, int slots)
{
    struct application_sums *t = calloc(1, sizeof *t);
    if (!t) {
        o->failed = 1;
        return;
    }
    for (int i = 0; i < slots; i++) {
        struct swsgi_slot *s = &swsgi_metrics_region->slots[i];
        int g = own_group(s);
        for (int a = 0; a < SWSGI_APP_GROUPS; a++) {
            for (int c = 0; c < SWSGI_CLASSES; c++)
                t->requests[g][a][c] += load(&s->application_requests[a][c]);
            add_histogram(t->bucket[g][a], &t->sum[g][a], &s->applications[a]);
        }
    }
    static const char requests[] = "swsgi_application_group_requests_total";
    static const char duration[] = "swsgi_application_group_duration_seconds";
    family(o, requests, "counter", "Requests the app of an application group answered, by status class.");
    for (int g = 0; g < groups; g++)
        for (int a = 0; a < SWSGI_APP_GROUPS; a++)
            for (int c = 0; c < SWSGI_CLASSES; c++)
                if (t->requests[g][a][c])
                    put(o, "%s{group=\"%s\",application_group=\"%s\",status_class=\"%s\"} %" PRIu64 "\n", requests,
                        group_label(o, g), o->applications[a], class_names[c], t->requests[g][a][c]);
    family(o, duration, "histogram", "Time the process running the app spent on a request, by application group.");
    for (int g = 0; g < groups; g++)
        for (int a = 0; a < SWSGI_APP_GROUPS; a++) {
            uint64_t count = 0;
            for (int b = 0; b < SWSGI_BUCKETS; b++)
                count += t->bucket[g][a][b];
            if (!count)
                continue;
            char labels[6 * SWSGI_GROUP_NAME];
            snprintf(labels, sizeof labels, "group=\"%s\",application_group=\"%s\"", group_label(o, g), o->applications[a]);
            buckets(o, duration, labels, t->bucket[g][a], t->sum[g][a]);
        }
    free(t);
}

static void exposition(struct out *o)
{
    int groups = swsgi_metrics_region->groups, slots = swsgi_metrics_slot_count();
    block_counters(o, "swsgi_requests_total", "Requests the Apache children's WSGI handler answered, by status class.",
                   "status_class", class_names, SWSGI_CLASSES, offsetof(struct swsgi_block, requests), 0, groups, slots);
    for (int phase = 0; phase < SWSGI_PHASES; phase++)
        histogram(o, phase, groups, slots);
    block_counter(o, "swsgi_request_body_bytes_total", "Request body bytes read from clients.",
                  offsetof(struct swsgi_block, bytes_in), groups, slots);
    block_counter(o, "swsgi_response_body_bytes_total", "Response body bytes written to clients.",
                  offsetof(struct swsgi_block, bytes_out), groups, slots);
    block_counters(o, "swsgi_daemon_errors_total", "Requests that could not be handed to or answered by a daemon group, by cause.",
                   "cause", error_names, SWSGI_DAEMON_ERRORS, offsetof(struct swsgi_block, errors), 1, groups, slots);
    applications(o, groups, slots);
    gauges(o, groups, slots);
    processes(o, slots);
    lifecycle(o, groups);
}

char *swsgi_metrics_exposition(int openmetrics, size_t *length)
{
    if (!swsgi_metrics_region)
        return NULL;
    struct out o = { NULL, 0, 0, 0, openmetrics, { "(embedded)" }, { "" } };
    for (int g = 1; g < SWSGI_GROUPS; g++)
        escape(o.groups[g], swsgi_metrics_region->group_names[g]);
    strcpy(o.applications[0], "(other)");
    for (int a = 1; a < SWSGI_APP_GROUPS; a++) {
        const char *name = swsgi_metrics_region->application_names[a];
        if (atomic_load(&swsgi_metrics_region->application_state[a]) == 2)
            escape(o.applications[a], *name ? name : "%{GLOBAL}");
    }
    exposition(&o);
    if (openmetrics)
        put(&o, "# EOF\n");
    if (o.failed) {
        free(o.text);
        return NULL;
    }
    *length = o.length;
    return o.text;
}
