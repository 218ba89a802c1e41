/* The authentication and access scripts: the access checker hook (WSGIAccessScript), the
   authn provider "wsgi" (WSGIAuthUserScript, for AuthBasicProvider and AuthDigestProvider)
   and the authz provider "wsgi-group" (WSGIAuthGroupScript, Require wsgi-group). They run in
   the Apache child, as in mod_wsgi; the core calls the script's function. */
#include "shim.h"
#include "http_core.h"
#include "http_log.h"
#include "http_request.h"
#include "ap_provider.h"
#include "mod_auth.h"
#include "util_script.h"
#include "apr_strings.h"
#include "apr_lib.h"
#include <stdlib.h>

APLOG_USE_MODULE(swsgi);

static int dir_scope(request_rec *r)
{
    return ((swsgi_conf *)ap_get_module_config(r->per_dir_config, &swsgi_module))->scope;
}

/* HTTP_ and the header's name upper-cased, '-' as '_'; NULL for a name with anything else
   in it, which Apache 2.4 leaves out of CGI environments too. */
static const char *header_variable(apr_pool_t *p, const char *name)
{
    char *variable = apr_pstrcat(p, "HTTP_", name, NULL);
    for (char *c = variable + 5; *c; c++) {
        if (*c == '-')
            *c = '_';
        else if (apr_isalnum(*c))
            *c = apr_toupper(*c);
        else
            return NULL;
    }
    return variable;
}

/* mod_wsgi's environ for these scripts: the request's headers but Authorization (the
   credentials reach check_password as arguments, nowhere else), who the server and the
   client are, and the request line's parts. */
static apr_table_t *script_environ(request_rec *r)
{
    apr_table_t *env = apr_table_make(r->pool, 32);
    const apr_array_header_t *headers = apr_table_elts(r->headers_in);
    const apr_table_entry_t *h = (const apr_table_entry_t *)headers->elts;
    for (int i = 0; i < headers->nelts; i++) {
        if (!h[i].key || !h[i].val || !strcasecmp(h[i].key, "Authorization")
            || !strcasecmp(h[i].key, "Proxy-Authorization") || !strcasecmp(h[i].key, "Proxy"))
            continue;
        const char *name = !strcasecmp(h[i].key, "Content-Type") ? "CONTENT_TYPE"
            : !strcasecmp(h[i].key, "Content-Length") ? "CONTENT_LENGTH" : header_variable(r->pool, h[i].key);
        if (name)
            apr_table_setn(env, name, h[i].val);
    }
    conn_rec *c = r->connection;
    apr_table_setn(env, "SERVER_SIGNATURE", ap_psignature("", r));
    apr_table_setn(env, "SERVER_SOFTWARE", ap_get_server_banner());
    apr_table_setn(env, "SERVER_NAME", ap_escape_html(r->pool, ap_get_server_name(r)));
    if (c->local_ip)
        apr_table_setn(env, "SERVER_ADDR", c->local_ip);
    apr_table_setn(env, "SERVER_PORT", apr_psprintf(r->pool, "%u", ap_get_server_port(r)));
    const char *host = ap_get_remote_host(c, r->per_dir_config, REMOTE_HOST, NULL);
    if (host)
        apr_table_setn(env, "REMOTE_HOST", host);
    if (r->useragent_ip)
        apr_table_setn(env, "REMOTE_ADDR", r->useragent_ip);
    apr_table_setn(env, "DOCUMENT_ROOT", ap_document_root(r));
    if (r->server->server_admin)
        apr_table_setn(env, "SERVER_ADMIN", r->server->server_admin);
    apr_table_setn(env, "REMOTE_PORT", apr_itoa(r->pool, c->client_addr->port));
    apr_table_setn(env, "SERVER_PROTOCOL", r->protocol);
    apr_table_setn(env, "REQUEST_METHOD", r->method);
    apr_table_setn(env, "QUERY_STRING", r->args ? r->args : "");
    const request_rec *first = r;
    while (first->prev)
        first = first->prev;
    apr_table_setn(env, "REQUEST_URI", first->unparsed_uri ? first->unparsed_uri : r->uri);
    if (r->path_info && *r->path_info) {
        apr_table_setn(env, "SCRIPT_NAME", apr_pstrndup(r->pool, r->uri, ap_find_path_info(r->uri, r->path_info)));
        apr_table_setn(env, "PATH_INFO", r->path_info);
    } else {
        apr_table_setn(env, "SCRIPT_NAME", r->uri);
        apr_table_setn(env, "PATH_INFO", "");
    }
    return env;
}

/* Asks the core; *answer is copied into the request's pool. */
static int ask(request_rec *r, int kind, const char *user, const char *word, size_t group_count,
               const char *const *groups, const char **answer)
{
    swsgi_rctx ctx = { r, NULL };
    swsgi_auth_call call = { &ctx, dir_scope(r), kind, 0, NULL, NULL, user, word, group_count, groups };
    swsgi_table_arrays(r->pool, script_environ(r), &call.count, &call.keys, &call.values);
    char *given = NULL;
    int result = swsgi_auth(&call, &given);
    if (answer)
        *answer = given ? apr_pstrdup(r->pool, given) : NULL;
    free(given);
    return result;
}

static int access_checker(request_rec *r)
{
    if (!swsgi_auth_configured(dir_scope(r), SWSGI_ALLOW_ACCESS))
        return DECLINED;
    const char *host = ap_get_remote_host(r->connection, r->per_dir_config, REMOTE_HOST, NULL);
    switch (ask(r, SWSGI_ALLOW_ACCESS, NULL, host ? host : r->useragent_ip, 0, NULL, NULL)) {
    case SWSGI_AUTH_YES:
        return OK;
    case SWSGI_AUTH_UNKNOWN:
        return DECLINED;
    case SWSGI_AUTH_NO:
        if (ap_satisfies(r) != SATISFY_ANY || !ap_some_auth_required(r))
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "swsgi: client denied by WSGIAccessScript: %s", r->filename);
        return HTTP_FORBIDDEN;
    default:
        return HTTP_INTERNAL_SERVER_ERROR;
    }
}

/* Without the script in this directory the provider has nothing to ask: an error, as in
   mod_wsgi, rather than a silent refusal. */
static int provider_configured(request_rec *r, int kind, const char *directive)
{
    if (swsgi_auth_configured(dir_scope(r), kind))
        return 1;
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "swsgi: the 'wsgi' provider is used for %s, but no %s applies there",
                  r->uri, directive);
    return 0;
}

static authn_status check_password(request_rec *r, const char *user, const char *password)
{
    if (!provider_configured(r, SWSGI_CHECK_PASSWORD, "WSGIAuthUserScript"))
        return AUTH_GENERAL_ERROR;
    const char *name;
    switch (ask(r, SWSGI_CHECK_PASSWORD, user, password, 0, NULL, &name)) {
    case SWSGI_AUTH_YES:
        if (name)
            r->user = (char *)name;
        return AUTH_GRANTED;
    case SWSGI_AUTH_NO:
        return AUTH_DENIED;
    case SWSGI_AUTH_UNKNOWN:
        return AUTH_USER_NOT_FOUND;
    default:
        return AUTH_GENERAL_ERROR;
    }
}

static authn_status get_realm_hash(request_rec *r, const char *user, const char *realm, char **hash)
{
    if (!provider_configured(r, SWSGI_GET_REALM_HASH, "WSGIAuthUserScript"))
        return AUTH_GENERAL_ERROR;
    const char *found;
    switch (ask(r, SWSGI_GET_REALM_HASH, user, realm, 0, NULL, &found)) {
    case SWSGI_AUTH_YES:
        *hash = (char *)found;
        return AUTH_USER_FOUND;
    case SWSGI_AUTH_UNKNOWN:
        return AUTH_USER_NOT_FOUND;
    default:
        return AUTH_GENERAL_ERROR;
    }
}

static authz_status check_group(request_rec *r, const char *require_args, const void *parsed)
{
    (void)parsed;
    if (!r->user)
        return AUTHZ_DENIED_NO_USER;
    if (!provider_configured(r, SWSGI_GROUPS_FOR_USER, "WSGIAuthGroupScript"))
        return AUTHZ_GENERAL_ERROR;
    apr_array_header_t *groups = apr_array_make(r->pool, 4, sizeof(const char *));
    const char *words = require_args, *word;
    while ((word = ap_getword_conf(r->pool, &words)) && *word)
        *(const char **)apr_array_push(groups) = word;
    switch (ask(r, SWSGI_GROUPS_FOR_USER, r->user, NULL, groups->nelts, (const char *const *)groups->elts, NULL)) {
    case SWSGI_AUTH_YES:
        return AUTHZ_GRANTED;
    case SWSGI_AUTH_NO:
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "swsgi: authorization of user '%s' to access '%s' failed: "
                      "the user is in none of the groups '%s'", r->user, r->uri, require_args);
        return AUTHZ_DENIED;
    default:
        return AUTHZ_GENERAL_ERROR;
    }
}

static const authn_provider user_provider = { check_password, get_realm_hash };
static const authz_provider group_provider = { check_group, NULL };

void swsgi_auth_register(apr_pool_t *p)
{
    /* As mod_wsgi: after mod_ssl's access checks, before mod_authz_host's. */
    static const char *const after[] = { "mod_ssl.c", NULL };
    static const char *const before[] = { "mod_authz_host.c", NULL };
    ap_hook_access_checker(access_checker, after, before, APR_HOOK_MIDDLE);
    ap_register_auth_provider(p, AUTHN_PROVIDER_GROUP, "wsgi", AUTHN_PROVIDER_VERSION, &user_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "wsgi-group", AUTHZ_PROVIDER_VERSION, &group_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
}
