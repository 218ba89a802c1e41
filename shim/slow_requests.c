/* WSGISlowRequests seconds: one log line for each request that took longer, saying where
   its time went. A server-wide setting of the shim's: it needs no more than the handler's
   own timing. */
#include "shim.h"
#include "http_log.h"
#include "apr_strings.h"
#include <stdlib.h>

APLOG_USE_MODULE(swsgi);

/* 0: off. The generation's configuration pool resets it, so a removed directive is off again. */
static uint64_t threshold_us;

static apr_status_t reset(void *unused)
{
    (void)unused;
    threshold_us = 0;
    return APR_SUCCESS;
}

const char *swsgi_set_slow_requests(cmd_parms *cmd, void *unused, const char *arg)
{
    (void)unused;
    char *end;
    double seconds = strtod(arg, &end);
    if (end == arg || *end || !(seconds > 0) || seconds > 86400)
        return apr_psprintf(cmd->pool, "WSGISlowRequests: '%s' is not a number of seconds from 0 to 86400", arg);
    threshold_us = (uint64_t)(seconds * 1e6);
    apr_pool_cleanup_register(cmd->pool, NULL, reset, apr_pool_cleanup_null);
    return NULL;
}

uint64_t swsgi_request_clock(void)
{
    return threshold_us ? swsgi_monotonic_us() : swsgi_metrics_clock();
}

void swsgi_slow_request_check(request_rec *r, const struct swsgi_request_times *t)
{
    if (!threshold_us || t->total_us <= threshold_us)
        return;
    uint64_t rest = t->total_us - (t->read_us + t->write_us < t->total_us ? t->read_us + t->write_us : t->total_us);
    const char *phase = t->group > 0 ? "the daemon process (queue and application)" : "the application";
    if (t->read_us > rest && t->read_us >= t->write_us)
        phase = "reading the request body";
    else if (t->write_us > rest && t->write_us > t->read_us)
        phase = "writing the response";
    /* r->uri is the path alone: the query string, which may carry secrets, stays out. */
    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                  "swsgi: slow request: %s %s status %d took %.3f s, most in %s "
                  "(reading the body %.3f s, writing the response %.3f s)",
                  r->method, r->uri, t->status, t->total_us / 1e6, phase, t->read_us / 1e6, t->write_us / 1e6);
}
