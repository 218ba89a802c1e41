# Daemon-mode probe.  Reports the process (pid, uid/gid, cwd), the interpreter
# (sys.prefix, sys.path, imports named in import=a,b) and the mod_wsgi/wsgi flags as
# JSON.  Query: sleep=SECONDS (sleep first), import=a,b.
import importlib
import json
import os
import sys
import threading
import time
from urllib.parse import parse_qs

LOCK = threading.Lock()
ACTIVE = 0
PEAK = 0
HITS = 0


def application(environ, start_response):
    global ACTIVE, PEAK, HITS
    q = parse_qs(environ.get("QUERY_STRING", ""))
    with LOCK:
        ACTIVE += 1
        HITS += 1
        PEAK = max(PEAK, ACTIVE)
    try:
        if "sleep" in q:
            time.sleep(float(q["sleep"][0]))
    finally:
        with LOCK:
            ACTIVE -= 1
    imports = {}
    for name in filter(None, ",".join(q.get("import", [])).split(",")):
        try:
            mod = importlib.import_module(name)
            imports[name] = {"ok": True, "value": getattr(mod, "VALUE", None),
                             "file": getattr(mod, "__file__", None)}
        except Exception as e:
            imports[name] = {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}
    out = {
        "pid": os.getpid(),
        "ppid": os.getppid(),
        "uid": os.getuid(), "euid": os.geteuid(),
        "gid": os.getgid(), "egid": os.getegid(),
        "groups": sorted(os.getgroups()),
        "cwd": os.getcwd(),
        "thread": threading.get_ident(),
        "peak": PEAK,
        "hits": HITS,
        "prefix": sys.prefix,
        "path": sys.path,
        "imports": imports,
        "process_group": environ.get("mod_wsgi.process_group"),
        "application_group": environ.get("mod_wsgi.application_group"),
        "multithread": environ.get("wsgi.multithread"),
        "multiprocess": environ.get("wsgi.multiprocess"),
    }
    body = json.dumps(out).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))])
    return [body]
