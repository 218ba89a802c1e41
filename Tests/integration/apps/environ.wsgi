# Reports the WSGI environ as JSON: every str value, plus a description of the
# wsgi.* objects.
import json
import os


def application(environ, start_response):
    out = {k: v for k, v in environ.items() if isinstance(v, str)}
    out["wsgi.version"] = list(environ.get("wsgi.version", ()))
    for key in ("wsgi.multithread", "wsgi.multiprocess", "wsgi.run_once",
                "wsgi.input_terminated"):
        if key in environ:
            out[key] = environ[key]
    inp = environ.get("wsgi.input")
    out["input_methods"] = sorted(m for m in ("read", "readline", "readlines", "__iter__")
                                  if hasattr(inp, m))
    err = environ.get("wsgi.errors")
    out["errors_methods"] = sorted(m for m in ("write", "writelines", "flush")
                                   if hasattr(err, m))
    out["file_wrapper_callable"] = callable(environ.get("wsgi.file_wrapper"))
    out["environ_is_dict"] = type(environ) is dict
    out["pid"] = os.getpid()
    body = json.dumps(out).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))])
    return [body]
