# Uses `import mod_wsgi` as apps and monitoring agents do. /attrs: the module's values; /events:
# the events seen so far; ?raise: fails; a subscriber wraps the app (X-Wrapped header) and
# writes the process_stopping reason to STOP_FILE.
import json
import os

import mod_wsgi

EVENTS = []
STOP_FILE = os.path.join(os.path.dirname(__file__), "..", "data", "stopping-%d" % os.getpid())


def wrap(app):
    def wrapped(environ, start_response):
        def start(status, headers, exc_info=None):
            return start_response(status, headers + [("X-Wrapped", "1")], exc_info)
        return app(environ, start)
    return wrapped


def on_event(name, **event):
    EVENTS.append([name, sorted(event)])
    if name == "request_started":
        event["request_data"]["started"] = event["request_id"]
        return {"application_object": wrap(event["application_object"])}
    if name == "request_exception":
        EVENTS[-1].append(str(event["exception_info"][1]))


def on_shutdown(name, **event):
    with open(STOP_FILE, "w") as f:
        f.write("%s %s" % (name, event.get("shutdown_reason")))


mod_wsgi.subscribe_events(on_event)
mod_wsgi.subscribe_shutdown(on_shutdown)


def application(environ, start_response):
    path = environ.get("PATH_INFO")
    if environ.get("QUERY_STRING") == "raise":
        raise RuntimeError("boom")
    if path == "/events":
        out = EVENTS
    else:
        data = mod_wsgi.request_data()
        out = {name: getattr(mod_wsgi, name) for name in (
            "version", "process_group", "application_group", "maximum_processes", "threads_per_process")}
        out.update(request_data_same=data is mod_wsgi.request_data(), started=data.get("started"),
                   request_id=environ["mod_wsgi.request_id"], environ_group=environ["mod_wsgi.application_group"],
                   file_wrapper=environ["wsgi.file_wrapper"] is mod_wsgi.FileWrapper,
                   metrics=sorted(mod_wsgi.process_metrics()), pid=os.getpid())
    body = json.dumps(out).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]
