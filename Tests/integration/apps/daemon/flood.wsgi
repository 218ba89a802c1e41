# ?blocks=N&size=S yields N blocks of S bytes as fast as it can, each of them flushed on its own
# (a generator): a client that reads none of it soon leaves the daemon's sends waiting. Without
# a query: the process id.
import os
import urllib.parse


def application(environ, start_response):
    query = dict(urllib.parse.parse_qsl(environ.get("QUERY_STRING", "")))
    if "blocks" not in query:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [str(os.getpid()).encode()]
    block = b"x" * int(query.get("size", "1024"))
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    return (block for _ in range(int(query["blocks"])))
