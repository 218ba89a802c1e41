/* The I/O callbacks the core uses to answer a request through Apache's filters. */
#include "shim.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "ap_listen.h"
#include "apr_strings.h"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

APLOG_USE_MODULE(swsgi);

/* The time the client takes to send the body and take the response: the metrics' phases. */
static long read_body(void *vctx, char *buf, size_t len)
{
    swsgi_rctx *ctx = vctx;
    uint64_t start = swsgi_request_clock();
    long got = ap_get_client_block(ctx->r, buf, len);
    if (start)
        ctx->times.read_us += swsgi_monotonic_us() - start;
    if (got > 0)
        ctx->times.bytes_in += (uint64_t)got;
    return got;
}

static int start(void *ctx, const char *status_line, size_t count,
                 const char *const *names, const char *const *values)
{
    swsgi_rctx *rctx = ctx;
    request_rec *r = rctx->r;
    if (rctx->error_override && ap_is_HTTP_ERROR(atoi(status_line))) {
        rctx->overridden = atoi(status_line);
        return 0;
    }
    r->status = atoi(status_line);
    r->status_line = apr_pstrdup(r->pool, status_line);
    for (size_t i = 0; i < count; i++) {
        if (!strcasecmp(names[i], "Content-Type"))
            ap_set_content_type(r, apr_pstrdup(r->pool, values[i]));
        else if (!strcasecmp(names[i], "Content-Length"))
            ap_set_content_length(r, apr_atoi64(values[i]));
        else
            apr_table_add(r->headers_out, names[i], values[i]);
    }
    return 0;
}

static int pass(swsgi_rctx *ctx)
{
    uint64_t start = swsgi_request_clock();
    apr_status_t rv = ap_pass_brigade(ctx->r->output_filters, ctx->bb);
    if (start)
        ctx->times.write_us += swsgi_monotonic_us() - start;
    apr_brigade_cleanup(ctx->bb);
    return rv == APR_SUCCESS && !ctx->r->connection->aborted ? 0 : -1;
}

static int write_body(void *vctx, const char *data, size_t len, int flush)
{
    swsgi_rctx *ctx = vctx;
    if (ctx->overridden)
        return 0;
    apr_bucket_alloc_t *ba = ctx->r->connection->bucket_alloc;
    APR_BRIGADE_INSERT_TAIL(ctx->bb, apr_bucket_transient_create(data, len, ba));
    ctx->times.bytes_out += len;
    if (flush)
        APR_BRIGADE_INSERT_TAIL(ctx->bb, apr_bucket_flush_create(ba));
    return pass(ctx);
}

static apr_status_t close_fd(void *fd)
{
    close((int)(intptr_t)fd);
    return APR_SUCCESS;
}

static int send_file(void *vctx, int fd, uint64_t offset, uint64_t len)
{
    swsgi_rctx *ctx = vctx;
    request_rec *r = ctx->r;
    if (ctx->overridden) {
        close(fd);
        return 0;
    }
    /* Filters may hold the bucket past this call: the descriptor (the caller's duplicate,
       which the app cannot close) lives as long as the request. */
    apr_pool_cleanup_register(r->pool, (void *)(intptr_t)fd, close_fd, apr_pool_cleanup_null);
    /* Without sendfile Apache's core copies the file to the socket from a mapping of it (or,
       with EnableMMAP Off, by reading it), as for its static files: over loopback that costs
       sender and receiver less CPU than sendfile does. */
    apr_file_t *file;
    apr_os_file_put(&file, &fd, APR_FOPEN_READ | (ctx->sendfile ? APR_FOPEN_SENDFILE_ENABLED : 0), r->pool);
    apr_bucket *bucket = apr_brigade_insert_file(ctx->bb, file, (apr_off_t)offset, (apr_off_t)len, r->pool);
    core_dir_config *core = ap_get_core_module_config(r->per_dir_config);
    if (core->enable_mmap == ENABLE_MMAP_OFF)
        apr_bucket_file_enable_mmap(bucket, 0);
    ctx->times.bytes_out += len;
    /* The file ends the response: with the end in the same brigade, Apache's byterange
       filter answers a Range request from the file (206), as with mod_wsgi. */
    APR_BRIGADE_INSERT_TAIL(ctx->bb, apr_bucket_eos_create(r->connection->bucket_alloc));
    return pass(ctx);
}

static int flush(void *vctx)
{
    swsgi_rctx *ctx = vctx;
    if (ctx->overridden)
        return 0;
    APR_BRIGADE_INSERT_TAIL(ctx->bb, apr_bucket_flush_create(ctx->r->connection->bucket_alloc));
    return pass(ctx);
}

static void log_message(void *ctx, int level, const char *message)
{
    if (ctx)
        ap_log_rerror(APLOG_MARK, level, 0, ((swsgi_rctx *)ctx)->r, "%s", message);
    else
        ap_log_error(APLOG_MARK, level, 0, swsgi_main_server, "%s", message);
}

static void after_fork(void)
{
    ap_close_listeners();
}

static const char *request_headers(void *ctx)
{
    request_rec *r = ((swsgi_rctx *)ctx)->r;
    const apr_array_header_t *headers = apr_table_elts(r->headers_in);
    const apr_table_entry_t *entries = (const apr_table_entry_t *)headers->elts;
    apr_array_header_t *parts = apr_array_make(r->pool, 4 * headers->nelts + 1, sizeof(const char *));
    for (int i = 0; i < headers->nelts; i++) {
        if (!entries[i].key)
            continue;
        *(const char **)apr_array_push(parts) = entries[i].key;
        *(const char **)apr_array_push(parts) = ": ";
        *(const char **)apr_array_push(parts) = entries[i].val ? entries[i].val : "";
        *(const char **)apr_array_push(parts) = "\n";
    }
    return apr_array_pstrcat(r->pool, parts, 0);
}

static int client_socket(void *ctx)
{
    conn_rec *c = ((swsgi_rctx *)ctx)->r->connection;
    apr_socket_t *socket = c->master ? NULL : ap_get_conn_socket(c);
    apr_os_sock_t fd;
    return socket && apr_os_sock_get(&fd, socket) == APR_SUCCESS ? fd : -1;
}

static int64_t file_mtime(void *ctx, const char *path)
{
    request_rec *r = ((swsgi_rctx *)ctx)->r;
    if (r->finfo.filetype != APR_REG || !(r->finfo.valid & APR_FINFO_MTIME) || !r->filename || strcmp(r->filename, path))
        return -1;
    return r->finfo.mtime;
}

const swsgi_io swsgi_shim_io = { read_body, start, write_body, send_file, flush, log_message, after_fork, request_headers,
                                 client_socket, swsgi_handover_refusal, swsgi_hand_over, file_mtime };
