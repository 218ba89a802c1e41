/* The metrics as Apache serves them: SetHandler swsgi-metrics, and in mod_status' page each
   daemon group's processes, as it shows Apache's own workers: pid, busy threads, requests
   served and, with ExtendedStatus On, each running request with its age. Both read the
   metrics region without a lock. */
#include "metrics.h"
#include "shim.h"
#include "http_log.h"
#include "http_protocol.h"
#include "mod_status.h"
#include "apr_strings.h"
#include <stdlib.h>

APLOG_USE_MODULE(swsgi);

/* WSGIMetrics Off: no region this generation, so that nothing is counted. The generation's
   configuration pool puts it back on. */
static int metrics_off;

static apr_status_t metrics_on_again(void *unused)
{
    (void)unused;
    metrics_off = 0;
    return APR_SUCCESS;
}

const char *swsgi_set_metrics(cmd_parms *cmd, void *unused, int on)
{
    (void)unused;
    metrics_off = !on;
    apr_pool_cleanup_register(cmd->pool, NULL, metrics_on_again, apr_pool_cleanup_null);
    return NULL;
}

int swsgi_metrics_wanted(void)
{
    return !metrics_off;
}

int swsgi_metrics_handler(request_rec *r)
{
    if (!r->handler || strcmp(r->handler, "swsgi-metrics"))
        return DECLINED;
    if (r->method_number != M_GET)
        return HTTP_METHOD_NOT_ALLOWED;
    if (!swsgi_metrics_region) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "swsgi: no metrics to serve: WSGIMetrics is Off");
        return HTTP_NOT_FOUND;
    }
    const char *accept = apr_table_get(r->headers_in, "Accept");
    int openmetrics = accept && strstr(accept, "application/openmetrics-text") != NULL;
    size_t length;
    char *text = swsgi_metrics_exposition(openmetrics, &length);
    if (!text)
        return HTTP_SERVICE_UNAVAILABLE;
    ap_set_content_type(r, openmetrics ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
                                       : "text/plain; version=0.0.4; charset=utf-8");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    if (!r->header_only)
        ap_rwrite(text, (int)length, r);
    free(text);
    return OK;
}

static int status_hook(request_rec *r, int flags)
{
    if (!swsgi_metrics_region)
        return OK;
    int text = flags & AP_STATUS_SHORT;
    int number[SWSGI_GROUPS] = { 0 };
    uint64_t now = swsgi_epoch_us();
    if (!text)
        ap_rputs("<hr /><h2>WSGI daemon processes (swsgi)</h2>\n<table border=\"0\"><tr><th>Group</th><th>Process</th>"
                 "<th>PID</th><th>State</th><th>Busy threads</th><th>Requests</th><th>Started</th></tr>\n", r);
    for (int i = 0; i < SWSGI_DAEMON_SLOTS; i++) {
        struct swsgi_slot *s = &swsgi_metrics_region->slots[i];
        if (atomic_load(&s->kind) != SLOT_DAEMON)
            continue;
        int process = number[s->group]++, pid = atomic_load(&s->pid);
        long busy = (long)atomic_load(&s->busy);
        const char *group = ap_escape_html(r->pool, swsgi_metrics_region->group_names[s->group]);
        const char *state = !pid ? "restarting" : busy ? "busy" : "idle";
        uint64_t served = atomic_load(&s->served);
        double age = pid ? (now - atomic_load(&s->started_us)) / 1e6 : 0;
        if (text) {
            ap_rprintf(r, "SwsgiDaemon: group=%s process=%d pid=%d state=%s busy=%ld threads=%d requests=%" APR_UINT64_T_FMT
                       " age=%.0f\n", swsgi_metrics_region->group_names[s->group], process, pid, state, busy, s->threads,
                       served, age);
            continue;
        }
        ap_rprintf(r, "<tr><td>%s</td><td>%d</td><td>%d</td><td>%s</td><td>%ld/%d</td><td>%" APR_UINT64_T_FMT
                   "</td><td>%.0f s ago</td></tr>\n", group, process, pid, state, busy, s->threads, served, age);
        if (!(flags & AP_STATUS_EXTENDED) || !pid)
            continue;
        for (int t = 0; t < SWSGI_WORKERS; t++) {
            uint64_t started = atomic_load(&s->workers[t].started_us);
            if (!started)
                continue;
            char request[SWSGI_WORKER_REQUEST];
            memcpy(request, s->workers[t].request, sizeof request);
            request[sizeof request - 1] = 0;
            ap_rprintf(r, "<tr><td></td><td colspan=\"6\">thread %d: %s (%.3f s)</td></tr>\n", t + 1,
                       ap_escape_html(r->pool, request), now > started ? (now - started) / 1e6 : 0.0);
        }
    }
    if (!text)
        ap_rputs("</table>\n", r);
    return OK;
}

void swsgi_metrics_status_register(void)
{
    APR_OPTIONAL_HOOK(ap, status_hook, status_hook, NULL, NULL, APR_HOOK_MIDDLE);
}
