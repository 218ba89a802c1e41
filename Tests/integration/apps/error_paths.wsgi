# Each path takes one of the gateway's error paths; /blocks answers the process's count of
# allocated memory blocks, so that a test can see whether those paths leak.
import gc
import io
import sys


class CloseRaises:
    def __iter__(self):
        yield b"closing"

    def close(self):
        raise RuntimeError("close-fails")


def application(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/blocks":
        gc.collect()
        body = str(sys.getallocatedblocks()).encode()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [body]
    if path == "/header-not-str":
        start_response("200 OK", [("X-Number", 1)])
        return [b"never"]
    if path == "/header-not-latin1":
        start_response("200 OK", [("X-Euro", "\u20ac")])
        return [b"never"]
    if path == "/header-not-pair":
        start_response("200 OK", [("X-One",)])
        return [b"never"]
    if path == "/item-not-bytes":
        start_response("200 OK", [])
        return ["text"]
    if path == "/close-raises":
        start_response("200 OK", [])
        return CloseRaises()
    if path == "/raises":
        raise ValueError("the app fails")
    if path == "/wrapper-not-a-file":
        start_response("200 OK", [])
        return environ["wsgi.file_wrapper"](io.BytesIO(b"in memory"))
    if path == "/read-then-raise":
        environ["wsgi.input"].read()
        environ["wsgi.errors"].write("logged ")
        raise ValueError("after reading")
    start_response("404 Not Found", [])
    return [b""]
