"""mod_wsgi's metrics functions as JSON: /server (null without metrics), /request (after /start), /start."""
import json

import mod_wsgi


def application(environ, start_response):
    path = environ.get("PATH_INFO", "")
    if path == "/start":
        result = mod_wsgi.start_recording_metrics()
    elif path == "/request":
        result = mod_wsgi.request_metrics()
    else:
        server = mod_wsgi.server_metrics()
        result = server and {"processes": server["processes"],
                             "requests": [[labels, value] for labels, value in server["metrics"]["swsgi_requests_total"]]}
    body = json.dumps(result).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]
