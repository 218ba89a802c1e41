/* The names Apache knows swsgi by. Apache has two for a module: the name in its record,
   which <IfModule mod_wsgi.c> tests, and the word of its LoadModule line, which
   <IfModule wsgi_module> tests and which LogLevel wsgi:... and the [wsgi:error] tag of its
   log lines come from. swsgi takes mod_wsgi's, so that configurations written for mod_wsgi
   (Debian's wsgi.conf, deployment roles) keep working: the record is named mod_wsgi.c and
   the module is exported as wsgi_module (conf/swsgi.load) as well as swsgi_module. */
#include "shim.h"
#include "http_log.h"
#include "mod_so.h"
#include "apr_optional.h"

APLOG_USE_MODULE(swsgi);

const char swsgi_record_name[] = "mod_wsgi.c";

/* <IfModule wsgi_module> asks mod_so for the module loaded under that word. Loaded as
   swsgi_module, swsgi answers for wsgi_module too (and the other way round). */
static APR_OPTIONAL_FN_TYPE(ap_find_loaded_module_symbol) *so_lookup;

static module *find_loaded_module(server_rec *s, const char *name)
{
    module *found = so_lookup ? so_lookup(s, name) : NULL;
    if (!found && (!strcmp(name, "wsgi_module") || !strcmp(name, "swsgi_module")))
        found = &swsgi_module;
    return found;
}

void swsgi_identity_register(void)
{
    /* Called at each LoadModule of swsgi; Apache forgets optional functions on restart. */
    APR_OPTIONAL_FN_TYPE(ap_find_loaded_module_symbol) *current =
        APR_RETRIEVE_OPTIONAL_FN(ap_find_loaded_module_symbol);
    if (current == find_loaded_module)
        return;
    so_lookup = current;
    apr_dynamic_fn_register("ap_find_loaded_module_symbol", (apr_opt_fn_t *)find_loaded_module);
}

int swsgi_identity_check(void)
{
    /* mod_wsgi's record has the same name: both would take the same directives and embed
       Python in the same processes. */
    for (module *m = ap_top_module; m; m = m->next) {
        if (m != &swsgi_module && !strcmp(m->name, swsgi_record_name)) {
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, NULL,
                         "swsgi and mod_wsgi are both loaded, and one Apache can run only one of them: "
                         "remove one of their LoadModule lines (on Debian: a2dismod wsgi)");
            return 0;
        }
    }
    return 1;
}
