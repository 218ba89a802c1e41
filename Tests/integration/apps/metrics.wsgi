"""For the metrics tests: /ok, /missing (404), /fail (raises: 500), /slow (sleeps), /spin
(runs Python, holding the GIL, for that many seconds); each answers its process's pid."""
import os
import time


def application(environ, start_response):
    path = environ.get("PATH_INFO", "")
    if path == "/fail":
        raise RuntimeError("metrics test failure")
    if path == "/slow":
        time.sleep(float(environ.get("QUERY_STRING") or "0.5"))
    if path == "/spin":
        end = time.monotonic() + float(environ.get("QUERY_STRING") or "0.2")
        while time.monotonic() < end:
            pass
    status = "404 Not Found" if path == "/missing" else "200 OK"
    body = str(os.getpid()).encode()
    start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
