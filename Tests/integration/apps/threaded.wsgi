# Sleeps a little (QUERY_STRING seconds, default 0.3) and reports the peak
# number of requests that were inside the app at the same time.
import json
import os
import threading
import time

LOCK = threading.Lock()
ACTIVE = 0
PEAK = 0


def application(environ, start_response):
    global ACTIVE, PEAK
    with LOCK:
        ACTIVE += 1
        PEAK = max(PEAK, ACTIVE)
    try:
        time.sleep(float(environ.get("QUERY_STRING") or 0.3))
    finally:
        with LOCK:
            ACTIVE -= 1
    body = json.dumps({"peak": PEAK, "thread": threading.get_ident(), "pid": os.getpid(),
                       "multithread": environ["wsgi.multithread"]}).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))])
    return [body]
