import builtins
import json
import os


def application(environ, start_response):
    body = json.dumps({"pid": os.getpid(), "preloaded_by": getattr(builtins, "SWSGI_TEST_PRELOADED_BY", None)})
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body.encode()]
