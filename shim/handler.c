/* URL mapping and the content handler: Apache builds the CGI environment, the core runs the app. */
#include "shim.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "util_script.h"
#include "apr_strings.h"
#include <stdlib.h>

APLOG_USE_MODULE(swsgi);

static const char ALIAS_NOTE[] = "swsgi-alias";

int swsgi_translate_name(request_rec *r)
{
    swsgi_conf *conf = ap_get_module_config(r->server->module_config, &swsgi_module);
    char *target;
    if (conf->scope < 0 || !r->uri || r->uri[0] != '/')
        return DECLINED;
    int alias = swsgi_translate(conf->scope, r->uri, &target);
    if (alias < 0)
        return DECLINED;
    r->filename = apr_pstrdup(r->pool, target);
    free(target);
    r->handler = "wsgi-script";
    apr_table_setn(r->notes, ALIAS_NOTE, apr_itoa(r->pool, alias));
    return OK;
}

static int is_wsgi_handler(const char *handler)
{
    return handler && (!strcmp(handler, "wsgi-script") || !strcmp(handler, "application/x-httpd-wsgi"));
}

/* Checks Apache would make of a CGI script; OK when the request may run. A WSGIHandlerScript
   serves what the URL maps to, a file or not, as mod_wsgi's do. */
static int refuse(request_rec *r, int aliased, int handler_script)
{
    if (!handler_script && !aliased && !(ap_allow_options(r) & OPT_EXECCGI)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "Options ExecCGI is off in this directory: %s", r->filename);
        return HTTP_FORBIDDEN;
    }
    if (!handler_script && r->finfo.filetype == APR_NOFILE) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "Target WSGI script not found or unable to stat: %s", r->filename);
        return HTTP_NOT_FOUND;
    }
    if (!handler_script && r->finfo.filetype == APR_DIR) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "Attempt to invoke directory as WSGI application: %s", r->filename);
        return HTTP_FORBIDDEN;
    }
    if (r->path_info && *r->path_info && r->used_path_info == AP_REQ_REJECT_PATH_INFO)
        return HTTP_NOT_FOUND;
    return OK;
}

/* mod_wsgi's keys for what only Apache knows about the request, added where mod_wsgi adds
   them: to the CGI environment, with which they also reach a daemon. */
static void add_request_facts(request_rec *r)
{
    apr_table_t *env = r->subprocess_env;
    conn_rec *c = r->connection;
    const char *script_name = apr_table_get(env, "SCRIPT_NAME");
    const char *path_info = apr_table_get(env, "PATH_INFO");
    apr_table_setn(env, "mod_wsgi.script_name", script_name ? script_name : "");
    apr_table_setn(env, "mod_wsgi.path_info", path_info ? path_info : "");
    apr_table_setn(env, "mod_wsgi.request_handler", r->handler);
    apr_table_setn(env, "mod_wsgi.listener_host", c->local_addr->hostname ? c->local_addr->hostname : "");
    apr_table_setn(env, "mod_wsgi.listener_port", apr_itoa(r->pool, c->local_addr->port));
    apr_table_setn(env, "mod_wsgi.request_start", apr_psprintf(r->pool, "%" APR_TIME_T_FMT, r->request_time));
    /* The id Apache's error log can show (%L); made now if the log format did not need it. */
    if (!r->log_id)
        ap_run_generate_log_id(c, r, &((request_rec *)r)->log_id);
    if (r->log_id)
        apr_table_setn(env, "mod_wsgi.request_id", r->log_id);
    if (c->log_id)
        apr_table_setn(env, "mod_wsgi.connection_id", c->log_id);
}

void swsgi_table_arrays(apr_pool_t *p, const apr_table_t *table, size_t *count,
                        const char *const **keys, const char *const **values)
{
    const apr_array_header_t *elts = apr_table_elts(table);
    const apr_table_entry_t *entries = (const apr_table_entry_t *)elts->elts;
    const char **k = apr_palloc(p, sizeof(char *) * 2 * (elts->nelts + 1));
    const char **v = k + elts->nelts + 1;
    size_t n = 0;
    for (int i = 0; i < elts->nelts; i++) {
        if (!entries[i].key)
            continue;
        k[n] = entries[i].key;
        v[n++] = entries[i].val ? entries[i].val : "";
    }
    *count = n;
    *keys = k;
    *values = v;
}

/* The metrics of the request: its status is what the client gets (sent, or for Apache to
   send); a response that broke after its headers counts with the status it went out with. */
static void record(swsgi_rctx *ctx, int group, int status, uint64_t start)
{
    ctx->times.group = group;
    ctx->times.status = status > 0 ? status : ctx->r->status;
    ctx->times.total_us = start ? swsgi_monotonic_us() - start : 0;
    swsgi_metrics_request_end(&ctx->times);
    swsgi_slow_request_check(ctx->r, &ctx->times);
}

int swsgi_handler(request_rec *r)
{
    swsgi_conf *server = ap_get_module_config(r->server->module_config, &swsgi_module);
    swsgi_conf *dir = ap_get_module_config(r->per_dir_config, &swsgi_module);
    int status;
    if (!r->handler)
        return DECLINED;
    int handler_script = !is_wsgi_handler(r->handler);
    if (handler_script && !swsgi_handler_script(dir->scope, r->handler))
        return DECLINED;
    const char *alias_note = apr_table_get(r->notes, ALIAS_NOTE);
    if ((status = refuse(r, alias_note != NULL, handler_script)) != OK)
        return status;
    /* Chunked request bodies are always accepted: wsgi.input_terminated tells apps so. */
    if ((status = ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK)) != OK)
        return status;
    ap_should_client_block(r);

    int options = swsgi_request_options(dir->scope);

    ap_add_common_vars(r);
    ap_add_cgi_vars(r);
    /* As mod_wsgi: a HEAD request reaches the app as GET where a filter before the protocol
       filters (mod_deflate, say) needs the whole body to set the headers a GET would get. */
    if (r->header_only && ((options & SWSGI_HEAD_TO_GET)
                           || ((options & SWSGI_HEAD_TO_GET_AUTO) && r->output_filters->frec->ftype < AP_FTYPE_PROTOCOL)))
        apr_table_setn(r->subprocess_env, "REQUEST_METHOD", "GET");
    /* The core passes Authorization on only where WSGIPassAuthorization allows it. */
    const char *authorization = apr_table_get(r->headers_in, "Authorization");
    if (authorization)
        apr_table_setn(r->subprocess_env, "HTTP_AUTHORIZATION", authorization);
    add_request_facts(r);

    size_t count;
    const char *const *keys, *const *values;
    swsgi_table_arrays(r->pool, r->subprocess_env, &count, &keys, &values);

    swsgi_rctx ctx = { r, apr_brigade_create(r->pool, r->connection->bucket_alloc), { 0 }, options & SWSGI_ERROR_OVERRIDE,
                       options & SWSGI_SENDFILE, 0, { -1, -1 } };
    swsgi_request request = {
        &ctx, count, keys, values, server->scope, dir->scope, alias_note ? atoi(alias_note) : -1, 0, r->uri
    };
    uint64_t start = swsgi_request_clock();
    swsgi_metrics_request_begin();
    status = swsgi_handle(&request);
    /* Apache answers the app's error status with its own body, or the ErrorDocument. */
    if (ctx.overridden)
        status = ctx.overridden;
    record(&ctx, request.group, status, start);
    /* Over TLS the WebSocket goes on through Apache, on the relay thread when it can. */
    if (ctx.relay[1] >= 0 && swsgi_relay_start(&ctx) == SUSPENDED)
        return SUSPENDED;
    if (status >= 0)
        return status;
    /* The body broke after the headers went out: an error bucket makes the chunk filter
       leave out the final chunk, and the connection closes, so no client sees a whole body. */
    r->connection->keepalive = AP_CONN_CLOSE;
    apr_brigade_cleanup(ctx.bb);
    APR_BRIGADE_INSERT_TAIL(ctx.bb, ap_bucket_error_create(HTTP_BAD_GATEWAY, NULL, r->pool, r->connection->bucket_alloc));
    APR_BRIGADE_INSERT_TAIL(ctx.bb, apr_bucket_eos_create(r->connection->bucket_alloc));
    ap_pass_brigade(r->output_filters, ctx.bb);
    return OK;
}
