/* mod_swsgi: the module record and its hooks. Everything of substance happens in the core. */
#include "shim.h"
#include "http_core.h"
#include "http_log.h"
#include "http_request.h"
#include "ap_mpm.h"
#include "ap_listen.h"
#include "unixd.h"
#include "apr_strings.h"
#include "ap_release.h"
#include <stdlib.h>

APLOG_USE_MODULE(swsgi);

server_rec *swsgi_main_server;

void *swsgi_create_conf(apr_pool_t *p, char *unused)
{
    (void)unused;
    swsgi_conf *conf = apr_palloc(p, sizeof *conf);
    conf->scope = -1;
    return conf;
}

void *swsgi_create_server_conf(apr_pool_t *p, server_rec *s)
{
    (void)s;
    return swsgi_create_conf(p, NULL);
}

void *swsgi_merge_conf(apr_pool_t *p, void *base_conf, void *add_conf)
{
    swsgi_conf *base = base_conf, *add = add_conf;
    if (base->scope < 0)
        return add;
    if (add->scope < 0)
        return base;
    swsgi_conf *conf = apr_palloc(p, sizeof *conf);
    conf->scope = swsgi_scope_merge(base->scope, add->scope);
    return conf;
}

static int main_scope(server_rec *s)
{
    return ((swsgi_conf *)ap_get_module_config(s->module_config, &swsgi_module))->scope;
}

static int pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    (void)pconf; (void)plog; (void)ptemp;
    /* Before any directive is applied: with mod_wsgi loaded too, both would take them. */
    if (!swsgi_identity_check())
        return HTTP_INTERNAL_SERVER_ERROR;
    swsgi_config_begin();
    return OK;
}

static int check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    (void)pconf; (void)plog; (void)ptemp;
    swsgi_main_server = s;
    char *error = swsgi_config_check(main_scope(s), ap_unixd_config.user_id, ap_unixd_config.group_id);
    if (!error)
        return OK;
    ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, s, "%s", error);
    free(error);
    return HTTP_INTERNAL_SERVER_ERROR;
}

/* The daemon processes are Apache's children: it reaps them and reports each death here.
   They are registered with the process's pool, not the generation's: at the end of a
   generation they are told to stop and take up to their shutdown-timeout, while Apache goes
   on and reaps them when they exit. */
static apr_pool_t *process_pool;

static void daemon_event(int reason, void *data, apr_wait_t status)
{
    (void)status; /* decoded: an exit code or a signal, no telling which (daemon_exit.c) */
    apr_proc_t *proc = data;
    /* Every unregistration comes here, the pool's cleanup at the process's end too: the
       record is freed here and only here. */
    if (reason == APR_OC_REASON_UNREGISTER) {
        swsgi_exit_status(proc->pid); /* no more reports about it: forget the pid */
        free(proc);
        return;
    }
    if (reason != APR_OC_REASON_DEATH && reason != APR_OC_REASON_LOST)
        return;
    int pid = proc->pid;
    int wait_status = swsgi_exit_status(pid);
    apr_proc_other_child_unregister(data);
    swsgi_daemon_died(pid, wait_status);
}

static void daemon_spawned(int pid)
{
    apr_proc_t *proc = calloc(1, sizeof *proc);
    if (!proc)
        return;
    proc->pid = pid;
    swsgi_exit_watch(pid);
    apr_proc_other_child_register(proc, daemon_event, proc, NULL, process_pool);
}

static apr_status_t daemons_stop(void *unused)
{
    (void)unused;
    /* When Apache exits nobody would reap them: the core waits for them itself. */
    swsgi_daemons_stop(ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_EXITING);
    return APR_SUCCESS;
}

static int post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    (void)plog; (void)ptemp;
    swsgi_main_server = s;
    /* Server: Apache/2.4.x (Debian) swsgi/0.2.0 Python/3.11, as mod_wsgi names itself. */
    ap_add_version_component(pconf, apr_psprintf(pconf, "swsgi/%s Python/%s", SWSGI_VERSION, swsgi_python_version()));
    /* Apache runs post_config twice at start-up and detaches in between: daemons start on
       the second run, in the process that stays. */
    void *started = NULL;
    apr_pool_userdata_get(&started, "swsgi-started", s->process->pool);
    if (!started) {
        apr_pool_userdata_set((void *)1, "swsgi-started", apr_pool_cleanup_null, s->process->pool);
        return OK;
    }
    process_pool = s->process->pool;
    /* A slot per Apache child, twice over: a recycled child's successor may start before it
       is gone. */
    int children = 1;
    ap_mpm_query(AP_MPMQ_HARD_LIMIT_DAEMONS, &children);
    swsgi_metrics_create(swsgi_metrics_wanted(), 2 * children + 1);
    apr_pool_cleanup_register(pconf, NULL, daemons_stop, apr_pool_cleanup_null);
    swsgi_daemons_start(ap_runtime_dir_relative(pconf, "wsgi"), ap_unixd_config.user_id,
                        ap_unixd_config.group_id, (unsigned)apr_time_sec(s->timeout), daemon_spawned);
    return OK;
}

static apr_status_t child_exit(void *unused)
{
    (void)unused;
    swsgi_child_exit();
    swsgi_metrics_child_exit();
    return APR_SUCCESS;
}

static void child_init(apr_pool_t *pchild, server_rec *s)
{
    swsgi_exit_unwatch_in_child();
    apr_pool_cleanup_register(pchild, NULL, child_exit, apr_pool_cleanup_null);
    /* As mod_wsgi: several threads or processes possible under this MPM's limits. */
    int threads = 1, processes = 1;
    ap_mpm_query(AP_MPMQ_MAX_THREADS, &threads);
    ap_mpm_query(AP_MPMQ_MAX_DAEMONS, &processes);
    swsgi_main_server = s;
    swsgi_metrics_child_start(threads);
    swsgi_child_init(main_scope(s), threads, processes);
    swsgi_relay_thread_start(pchild);
}

static void register_hooks(apr_pool_t *p)
{
    /* After mod_alias, so that a matching Alias wins over WSGIScriptAlias /; before the
       modules that map URLs to home directories or virtual document roots. */
    static const char *const after[] = { "mod_alias.c", NULL };
    static const char *const before[] = { "mod_userdir.c", "mod_vhost_alias.c", NULL };
    swsgi_register_io(&swsgi_shim_io);
    swsgi_register_apache_version(AP_SERVER_MAJORVERSION_NUMBER, AP_SERVER_MINORVERSION_NUMBER,
                                  AP_SERVER_PATCHLEVEL_NUMBER);
    swsgi_identity_register();
    ap_hook_pre_config(pre_config, NULL, NULL, APR_HOOK_REALLY_FIRST);
    ap_hook_check_config(check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_translate_name(swsgi_translate_name, after, before, APR_HOOK_MIDDLE);
    ap_hook_handler(swsgi_handler, NULL, NULL, APR_HOOK_MIDDLE);
    swsgi_auth_register(p);
    swsgi_relay_thread_register();
    ap_hook_handler(swsgi_metrics_handler, NULL, NULL, APR_HOOK_MIDDLE);
    swsgi_metrics_status_register();
}

/* STANDARD20_MODULE_STUFF spelled out, with mod_wsgi's record name (see identity.c). */
module AP_MODULE_DECLARE_DATA swsgi_module = {
    MODULE_MAGIC_NUMBER_MAJOR, MODULE_MAGIC_NUMBER_MINOR, -1, swsgi_record_name,
    NULL, NULL, MODULE_MAGIC_COOKIE, NULL,
    swsgi_create_conf,
    swsgi_merge_conf,
    swsgi_create_server_conf,
    swsgi_merge_conf,
    swsgi_directives,
    register_hooks,
    AP_MODULE_FLAG_NONE
};

/* LoadModule wsgi_module .../mod_swsgi.so loads the same record. */
extern module AP_MODULE_DECLARE_DATA wsgi_module __attribute__((alias("swsgi_module")));
