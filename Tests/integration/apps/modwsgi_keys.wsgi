# Reports mod_wsgi's environ keys (mod_wsgi.*, apache.*) with their types, the paths and X-Value.
import json


def application(environ, start_response):
    out = {k: [type(v).__name__, v] for k, v in environ.items()
           if k.startswith(("mod_wsgi.", "apache.")) and isinstance(v, (str, int, tuple))}
    out["PATH_INFO"] = environ.get("PATH_INFO")
    out["SCRIPT_NAME"] = environ.get("SCRIPT_NAME")
    if "HTTP_X_VALUE" in environ:
        out["HTTP_X_VALUE"] = environ["HTTP_X_VALUE"]
    body = json.dumps(out).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]
