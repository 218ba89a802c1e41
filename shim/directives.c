/* The directive table: every directive goes to the core with its words, so that parsing and
   validation live in one place. Apache only decides where a directive may appear. */
#include "shim.h"
#include "http_log.h"
#include "apr_strings.h"
#include <stdlib.h>

enum { MAX_WORDS = 64 };

/* Hands directive name with its words to the core. */
static const char *forward_as(cmd_parms *cmd, void *mconfig, const char *name, const char *args)
{
    /* Per-directory directives use the section's configuration; the rest the server's. */
    swsgi_conf *conf = cmd->cmd->cmd_data
        ? mconfig : ap_get_module_config(cmd->server->module_config, &swsgi_module);
    const char *argv[MAX_WORDS];
    int argc = 0;
    while (*args) {
        if (argc == MAX_WORDS)
            return apr_psprintf(cmd->pool, "%s: more than %d arguments", name, MAX_WORDS);
        argv[argc++] = ap_getword_conf(cmd->pool, &args);
    }
    /* WSGISocketPrefix is relative to ServerRoot, as in mod_wsgi. */
    if (argc == 1 && !strcasecmp(cmd->cmd->name, "WSGISocketPrefix"))
        argv[0] = ap_server_root_relative(cmd->pool, argv[0]);

    char *error;
    /* Apache's own test for an .htaccess file, which it reads per request. */
    if (cmd->pool == cmd->temp_pool) {
        conf->scope = swsgi_htaccess_directive(conf->scope, name, argc, argv, &error);
    } else {
        int where = cmd->path ? SWSGI_DIRECTORY : cmd->server->is_virtual ? SWSGI_VHOST : SWSGI_SERVER;
        if (conf->scope < 0)
            conf->scope = swsgi_scope_new();
        error = swsgi_directive(conf->scope, where, name, argc, argv);
    }
    if (!error)
        return NULL;
    const char *copy = apr_pstrdup(cmd->pool, error);
    free(error);
    return copy;
}

static const char *forward(cmd_parms *cmd, void *mconfig, const char *args)
{
    return forward_as(cmd, mconfig, cmd->cmd->name, args);
}

/* <WSGIInterpreterOptions selectors> ... </WSGIInterpreterOptions>: the core is told where the
   section opens and closes; the directives inside reach it as usual, in between. */
static const char *interpreter_options(cmd_parms *cmd, void *mconfig, const char *args)
{
    const char *end = ap_strrchr_c(args, '>');
    if (!end)
        return "<WSGIInterpreterOptions> lacks its closing '>'";
    const char *error = forward_as(cmd, mconfig, "<WSGIInterpreterOptions>", apr_pstrmemdup(cmd->pool, args, end - args));
    if (error)
        return error;
    error = ap_walk_config(cmd->directive->first_child, cmd, cmd->context);
    const char *closed = forward_as(cmd, mconfig, "</WSGIInterpreterOptions>", "");
    return error ? error : closed;
}

#define SERVER_DIRECTIVE(name, help) AP_INIT_RAW_ARGS(name, forward, NULL, RSRC_CONF, help)
#define DIR_DIRECTIVE(name, help) AP_INIT_RAW_ARGS(name, forward, (void *)1, RSRC_CONF | ACCESS_CONF, help)
/* As mod_wsgi's OR_AUTHCFG and OR_FILEINFO directives. */
#define AUTH_DIRECTIVE(name, help) AP_INIT_RAW_ARGS(name, forward, (void *)1, OR_AUTHCFG, help)
#define FILEINFO_DIRECTIVE(name, help) AP_INIT_RAW_ARGS(name, forward, (void *)1, OR_FILEINFO, help)

const command_rec swsgi_directives[] = {
    SERVER_DIRECTIVE("WSGIScriptAlias", "URL-path file-or-dir [process-group=N] [application-group=N] [callable-object=N] [pass-authorization=On|Off] [interface=wsgi|asgi]"),
    SERVER_DIRECTIVE("WSGIScriptAliasMatch", "regex file-or-dir [process-group=N] [application-group=N] [callable-object=N] [pass-authorization=On|Off] [interface=wsgi|asgi]"),
    SERVER_DIRECTIVE("WSGIPythonHome", "sys.prefix of the Python installation or virtual environment"),
    SERVER_DIRECTIVE("WSGIPythonPath", "directories added with site.addsitedir, ':'-separated"),
    SERVER_DIRECTIVE("WSGIPythonOptimize", "0, 1 or 2"),
    SERVER_DIRECTIVE("WSGIPythonHashSeed", "random or a number from 0 to 4294967295"),
    SERVER_DIRECTIVE("WSGIPythonWarnings", "a Python warnings filter"),
    SERVER_DIRECTIVE("WSGIPythonEggs", "directory for the Python egg cache"),
    SERVER_DIRECTIVE("WSGIDontWriteBytecode", "On or Off"),
    SERVER_DIRECTIVE("WSGIRestrictEmbedded", "On or Off"),
    SERVER_DIRECTIVE("WSGIRestrictStdout", "On or Off"),
    SERVER_DIRECTIVE("WSGIRestrictStdin", "On or Off"),
    SERVER_DIRECTIVE("WSGIRestrictSignal", "On or Off"),
    SERVER_DIRECTIVE("WSGILazyInitialization", "On or Off"),
    SERVER_DIRECTIVE("WSGIDestroyInterpreter", "On or Off"),
    SERVER_DIRECTIVE("WSGIVerboseDebugging", "On or Off"),
    SERVER_DIRECTIVE("WSGICaseSensitivity", "On or Off"),
    SERVER_DIRECTIVE("WSGISocketPrefix", "path prefix of the daemon sockets"),
    SERVER_DIRECTIVE("WSGISocketRotation", "On or Off"),
    SERVER_DIRECTIVE("WSGIAcceptMutex", "the accept mutex of multi-process daemon groups"),
    SERVER_DIRECTIVE("WSGIDaemonProcess", "name [option=value ...]"),
    SERVER_DIRECTIVE("WSGIImportScript", "path process-group=name application-group=name"),
    SERVER_DIRECTIVE("WSGIPerInterpreterGIL", "On or Off: sub-interpreters with a GIL of their own (Python 3.12+)"),
    AP_INIT_RAW_ARGS("<WSGIInterpreterOptions", interpreter_options, NULL, RSRC_CONF,
                     "[process-group=name] [application-group=name]: settings for the interpreters matched"),
    DIR_DIRECTIVE("WSGIHandlerScript", "handler-name script [process-group=N] [application-group=N] [pass-authorization=On|Off]"),
    DIR_DIRECTIVE("WSGIDispatchScript", "script [application-group=N]: chooses groups and callable per request"),
    DIR_DIRECTIVE("WSGIProcessGroup", "%{GLOBAL}, %{ENV:var} or a daemon process group"),
    DIR_DIRECTIVE("WSGIRestrictProcess", "the process groups (or %{GLOBAL}) requests here may run in"),
    DIR_DIRECTIVE("WSGIApplicationGroup", "%{GLOBAL}, %{RESOURCE}, %{SERVER}, %{HOST}, %{ENV:var} or a name"),
    FILEINFO_DIRECTIVE("WSGICallableObject", "name of the WSGI application object"),
    FILEINFO_DIRECTIVE("WSGIPassAuthorization", "On or Off"),
    FILEINFO_DIRECTIVE("WSGIChunkedRequest", "On or Off"),
    FILEINFO_DIRECTIVE("WSGIScriptReloading", "On or Off"),
    FILEINFO_DIRECTIVE("WSGIEnableSendfile", "On or Off: wsgi.file_wrapper files are sent with sendfile"),
    FILEINFO_DIRECTIVE("WSGIIgnoreActivity", "On or Off (no effect)"),
    FILEINFO_DIRECTIVE("WSGIErrorOverride", "On or Off: Apache answers the app's error statuses (ErrorDocument)"),
    DIR_DIRECTIVE("WSGIPassApacheRequest", "On or Off (no effect)"),
    FILEINFO_DIRECTIVE("WSGIMapHEADToGET", "On, Off or Auto: HEAD reaches the app as GET (Auto: where an output filter needs the body)"),
    AUTH_DIRECTIVE("WSGIAccessScript", "path [application-group=name]: allow_access(environ, host)"),
    AUTH_DIRECTIVE("WSGIAuthUserScript", "path [application-group=name]: the 'wsgi' authentication provider"),
    AUTH_DIRECTIVE("WSGIAuthGroupScript", "path [application-group=name]: groups_for_user for Require wsgi-group"),
    AUTH_DIRECTIVE("WSGIGroupAuthoritative", "On or Off (no effect with Apache 2.4's providers)"),
    FILEINFO_DIRECTIVE("WSGITrustedProxyHeaders", "the proxy headers to trust, one of each kind"),
    FILEINFO_DIRECTIVE("WSGITrustedProxies", "the addresses or ranges of the trusted proxies"),
    SWSGI_SLOW_REQUESTS_DIRECTIVE,
    SWSGI_METRICS_DIRECTIVE,
    { NULL }
};
