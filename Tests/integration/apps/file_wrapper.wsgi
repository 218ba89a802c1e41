# Serves <data>/<name> through wsgi.file_wrapper.  QUERY_STRING: name=..&mode=file|bytesio|offset
import io
import os
from urllib.parse import parse_qs


def application(environ, start_response):
    q = parse_qs(environ.get("QUERY_STRING", ""))
    data = os.path.join(os.path.dirname(os.path.dirname(environ["SCRIPT_FILENAME"])), "data")
    path = os.path.join(data, os.path.basename(q["name"][0]))
    mode = q.get("mode", ["file"])[0]
    wrapper = environ["wsgi.file_wrapper"]
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    if mode == "file":
        return wrapper(open(path, "rb"), 8192)
    if mode == "offset":
        f = open(path, "rb")
        f.seek(1000)
        return wrapper(f, 8192)
    if mode == "bytesio":
        with open(path, "rb") as f:
            return wrapper(io.BytesIO(f.read()), 4096)
    raise ValueError(mode)
