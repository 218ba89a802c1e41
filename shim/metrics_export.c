/* SetHandler swsgi-metrics: the metrics region in Prometheus' text format (OpenMetrics when
   the scraper asks for it), summed over the Apache children and daemon processes. It reads
   with atomic loads and takes no lock: a scrape never holds up a request. */
#include "metrics.h"
#include "shim.h"
#include "http_protocol.h"
#include "apr_strings.h"
#include <stdio.h>
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
    "swsgi_application_duration_seconds", "swsgi_queue_wait_seconds"
};
static const char *const phase_help[SWSGI_PHASES] = {
    "Time from the Apache child's handler taking a request to its response's end.",
    "Time spent reading request bodies from clients.",
    "Time spent writing responses to clients.",
    "Time the process running the app spent on a request (a busy worker thread).",
    "Time a request waited in a daemon group for a free worker thread."
};

struct out {
    request_rec *r;
    int openmetrics;
};

static uint64_t load(counter *c) { return atomic_load_explicit(c, memory_order_relaxed); }

/* Prometheus' label-value escapes. */
static const char *label(apr_pool_t *p, const char *value)
{
    size_t n = strlen(value);
    char *copy = apr_palloc(p, 2 * n + 1), *o = copy;
    for (const char *c = value; *c; c++) {
        if (*c == '\\' || *c == '"') { *o++ = '\\'; *o++ = *c; }
        else if (*c == '\n') { *o++ = '\\'; *o++ = 'n'; }
        else *o++ = *c;
    }
    *o = 0;
    return copy;
}

static const char *group_label(struct out *o, int group)
{
    return group == 0 ? "(embedded)" : label(o->r->pool, swsgi_metrics_region->group_names[group]);
}

/* TYPE and HELP; OpenMetrics names a counter family without its _total. */
static void family(struct out *o, const char *name, const char *type, const char *help)
{
    size_t n = strlen(name);
    int strip = o->openmetrics && !strcmp(type, "counter") && n > 6 && !strcmp(name + n - 6, "_total");
    ap_rprintf(o->r, "# HELP %.*s %s\n# TYPE %.*s %s\n", (int)(strip ? n - 6 : n), name, help,
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

static void histogram(struct out *o, int phase, int groups, int slots)
{
    family(o, phase_metric[phase], "histogram", phase_help[phase]);
    for (int g = 0; g < groups; g++) {
        uint64_t bucket[SWSGI_BUCKETS] = { 0 }, sum = 0;
        for (int i = 0; i < slots; i++) {
            struct swsgi_histogram *h = &swsgi_metrics_region->slots[i].blocks[g].phase[phase];
            for (int b = 0; b < SWSGI_BUCKETS; b++)
                bucket[b] += load(&h->bucket[b]);
            sum += load(&h->sum_us);
        }
        const char *name = phase_metric[phase], *group = group_label(o, g);
        uint64_t total = 0;
        for (int b = 0; b < SWSGI_BUCKETS; b++) {
            total += bucket[b];
            ap_rprintf(o->r, "%s_bucket{group=\"%s\",le=\"%s\"} %" APR_UINT64_T_FMT "\n", name, group,
                       swsgi_bucket_labels[b], total);
        }
        ap_rprintf(o->r, "%s_sum{group=\"%s\"} %.6f\n%s_count{group=\"%s\"} %" APR_UINT64_T_FMT "\n",
                   name, group, sum / 1e6, name, group, total);
    }
}

/* Per-group sums of a block counter. */
static void block_counter(struct out *o, const char *name, const char *help, size_t offset, int groups, int slots)
{
    family(o, name, "counter", help);
    for (int g = 0; g < groups; g++) {
        uint64_t sum = 0;
        for (int i = 0; i < slots; i++)
            sum += load((counter *)((char *)&swsgi_metrics_region->slots[i].blocks[g] + offset));
        ap_rprintf(o->r, "%s{group=\"%s\"} %" APR_UINT64_T_FMT "\n", name, group_label(o, g), sum);
    }
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

static void processes(struct out *o)
{
    static const char *const names[] = {
        "swsgi_process_requests_total", "swsgi_process_busy_threads", "swsgi_process_threads",
        "swsgi_process_start_time_seconds", "swsgi_process_cpu_seconds_total", "swsgi_process_resident_memory_bytes"
    };
    static const char *const types[] = { "counter", "gauge", "gauge", "gauge", "counter", "gauge" };
    static const char *const helps[] = {
        "Requests this daemon process slot ran, over all its processes.",
        "Worker threads of the daemon process running a request now.",
        "Worker threads of the daemon process.",
        "When the daemon process started, in seconds since the epoch.",
        "CPU time (user and system) of the daemon process.",
        "Resident memory of the daemon process."
    };
    for (int m = 0; m < 6; m++) {
        family(o, names[m], types[m], helps[m]);
        int number[SWSGI_GROUPS] = { 0 };
        for (int i = 0; i < SWSGI_DAEMON_SLOTS; i++) {
            struct swsgi_slot *s = &swsgi_metrics_region->slots[i];
            if (!is_kind(s, SLOT_DAEMON))
                continue;
            int process = number[s->group]++;
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
            ap_rprintf(o->r, "%s{group=\"%s\",process=\"%d\"} %.6f\n", names[m], group_label(o, s->group), process, value);
        }
    }
}

static void lifecycle(struct out *o, int groups)
{
    family(o, "swsgi_process_starts_total", "counter", "Daemon processes started.");
    for (int g = 1; g < groups; g++) {
        uint64_t sum = 0;
        for (int i = 0; i < SWSGI_DAEMON_SLOTS; i++)
            if (is_kind(&swsgi_metrics_region->slots[i], SLOT_DAEMON) && swsgi_metrics_region->slots[i].group == g)
                sum += load(&swsgi_metrics_region->slots[i].starts);
        ap_rprintf(o->r, "swsgi_process_starts_total{group=\"%s\"} %" APR_UINT64_T_FMT "\n", group_label(o, g), sum);
    }
    family(o, "swsgi_process_exits_total", "counter", "Daemon processes that ended, by reason.");
    for (int g = 1; g < groups; g++)
        for (int reason = 0; reason < SWSGI_EXIT_REASONS; reason++) {
            uint64_t sum = 0;
            for (int i = 0; i < SWSGI_DAEMON_SLOTS; i++)
                if (swsgi_metrics_region->slots[i].group == g && is_kind(&swsgi_metrics_region->slots[i], SLOT_DAEMON))
                    sum += load(&swsgi_metrics_region->slots[i].exits[reason]);
            ap_rprintf(o->r, "swsgi_process_exits_total{group=\"%s\",reason=\"%s\"} %" APR_UINT64_T_FMT "\n",
                       group_label(o, g), exit_names[reason], sum);
        }
    family(o, "swsgi_process_signal_exits_total", "counter", "Daemon processes ended by a signal, by signal.");
    for (int g = 1; g < groups; g++)
        for (int number = 1; number < SWSGI_SIGNALS; number++) {
            uint64_t sum = 0;
            for (int i = 0; i < SWSGI_DAEMON_SLOTS; i++)
                if (swsgi_metrics_region->slots[i].group == g && is_kind(&swsgi_metrics_region->slots[i], SLOT_DAEMON))
                    sum += load(&swsgi_metrics_region->slots[i].signals[number]);
            const char *name = sigabbrev_np(number);
            if (sum)
                ap_rprintf(o->r, "swsgi_process_signal_exits_total{group=\"%s\",signal=\"SIG%s\"} %" APR_UINT64_T_FMT "\n",
                           group_label(o, g), name ? name : apr_itoa(o->r->pool, number), sum);
        }
}

static void gauges(struct out *o, int groups, int slots)
{
    int64_t in_flight = 0, busy[SWSGI_GROUPS] = { 0 }, threads[SWSGI_GROUPS] = { 0 };
    for (int i = 0; i < slots; i++) {
        struct swsgi_slot *s = &swsgi_metrics_region->slots[i];
        if (!live(s))
            continue;
        if (is_kind(s, SLOT_CHILD))
            in_flight += atomic_load(&s->in_flight);
        if (is_kind(s, SLOT_DAEMON) || is_kind(s, SLOT_CHILD)) {
            busy[own_group(s)] += atomic_load(&s->busy);
            threads[own_group(s)] += s->threads;
        }
    }
    family(o, "swsgi_requests_in_flight", "gauge", "Requests in the Apache children's WSGI handler now.");
    ap_rprintf(o->r, "swsgi_requests_in_flight %" APR_INT64_T_FMT "\n", in_flight);
    family(o, "swsgi_busy_threads", "gauge", "Threads running a WSGI request now.");
    for (int g = 0; g < groups; g++)
        ap_rprintf(o->r, "swsgi_busy_threads{group=\"%s\"} %" APR_INT64_T_FMT "\n", group_label(o, g), busy[g]);
    family(o, "swsgi_threads", "gauge", "Threads that can run WSGI requests (daemon groups), or Apache's threads (embedded).");
    for (int g = 0; g < groups; g++)
        ap_rprintf(o->r, "swsgi_threads{group=\"%s\"} %" APR_INT64_T_FMT "\n", group_label(o, g), threads[g]);
}

static void exposition(struct out *o)
{
    int groups = swsgi_metrics_region->groups, slots = swsgi_metrics_slot_count();
    family(o, "swsgi_requests_total", "counter", "Requests the Apache children's WSGI handler answered, by status class.");
    for (int g = 0; g < groups; g++)
        for (int c = 0; c < SWSGI_CLASSES; c++) {
            uint64_t sum = 0;
            for (int i = 0; i < slots; i++)
                sum += load(&swsgi_metrics_region->slots[i].blocks[g].requests[c]);
            ap_rprintf(o->r, "swsgi_requests_total{group=\"%s\",status_class=\"%s\"} %" APR_UINT64_T_FMT "\n",
                       group_label(o, g), class_names[c], sum);
        }
    for (int phase = 0; phase < SWSGI_PHASES; phase++)
        histogram(o, phase, groups, slots);
    block_counter(o, "swsgi_request_body_bytes_total", "Request body bytes read from clients.",
                  offsetof(struct swsgi_block, bytes_in), groups, slots);
    block_counter(o, "swsgi_response_body_bytes_total", "Response body bytes written to clients.",
                  offsetof(struct swsgi_block, bytes_out), groups, slots);
    family(o, "swsgi_daemon_errors_total", "counter", "Requests that could not be handed to or answered by a daemon group, by cause.");
    for (int g = 1; g < groups; g++)
        for (int e = 0; e < SWSGI_DAEMON_ERRORS; e++) {
            uint64_t sum = 0;
            for (int i = 0; i < slots; i++)
                sum += load(&swsgi_metrics_region->slots[i].blocks[g].errors[e]);
            ap_rprintf(o->r, "swsgi_daemon_errors_total{group=\"%s\",cause=\"%s\"} %" APR_UINT64_T_FMT "\n",
                       group_label(o, g), error_names[e], sum);
        }
    gauges(o, groups, slots);
    processes(o);
    lifecycle(o, groups);
}

int swsgi_metrics_handler(request_rec *r)
{
    if (!r->handler || strcmp(r->handler, "swsgi-metrics"))
        return DECLINED;
    if (r->method_number != M_GET)
        return HTTP_METHOD_NOT_ALLOWED;
    if (!swsgi_metrics_region)
        return HTTP_SERVICE_UNAVAILABLE;
    const char *accept = apr_table_get(r->headers_in, "Accept");
    struct out o = { r, accept && strstr(accept, "application/openmetrics-text") != NULL };
    ap_set_content_type(r, o.openmetrics ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
                                         : "text/plain; version=0.0.4; charset=utf-8");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    if (r->header_only)
        return OK;
    exposition(&o);
    if (o.openmetrics)
        ap_rputs("# EOF\n", r);
    return OK;
}
