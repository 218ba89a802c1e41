# Reports the interpreter's configuration and tries imports named in QUERY_STRING
# (comma-separated).
import importlib
import json
import os
import sys


def application(environ, start_response):
    imports = {}
    for name in filter(None, environ.get("QUERY_STRING", "").split(",")):
        try:
            mod = importlib.import_module(name)
            imports[name] = {"ok": True, "value": getattr(mod, "VALUE", None),
                             "file": getattr(mod, "__file__", None)}
        except Exception as e:
            imports[name] = {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}
    out = {
        "prefix": sys.prefix,
        "base_prefix": sys.base_prefix,
        "exec_prefix": sys.exec_prefix,
        "version": "%d.%d" % sys.version_info[:2],
        "path": sys.path,
        "imports": imports,
        "pth_marker": getattr(sys, "swsgi_pth_marker", None),
        "application_group": environ.get("mod_wsgi.application_group"),
        "pid": os.getpid(),
    }
    body = json.dumps(out).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]
