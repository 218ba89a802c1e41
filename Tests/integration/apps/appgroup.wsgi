# Shows which interpreter serves the request.  ?set=X stores X as an attribute
# of the json module (shared by everything in one interpreter).
import json
import os
import sys
import threading

HITS = 0
LOCK = threading.Lock()


def application(environ, start_response):
    global HITS
    with LOCK:
        HITS += 1
        hits = HITS
    q = environ.get("QUERY_STRING", "")
    if q.startswith("set="):
        json._swsgi_marker = q[4:]
    out = {
        "pid": os.getpid(),
        "group": environ.get("mod_wsgi.application_group"),
        "marker": getattr(json, "_swsgi_marker", None),
        "hits": hits,
        "sys_id": id(sys),
        "modules_id": id(sys.modules),
    }
    body = json.dumps(out).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]
