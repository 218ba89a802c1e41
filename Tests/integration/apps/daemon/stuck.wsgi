# A request that gets stuck in Python, for request-timeout with interrupt-timeout.
# /pid: the process; /spin: loops until interrupted (logs what it was interrupted with and
# lets it unwind); /ignore: loops and swallows whatever it is interrupted with; /stream:
# sends a first block, then loops until interrupted.
import os
import sys
import time


def application(environ, start_response):
    path = environ["PATH_INFO"]
    end = time.time() + 30
    if path == "/spin":
        try:
            while time.time() < end:
                time.sleep(0.05)
        except BaseException as e:
            kind = type(e)
            print("INTERRUPTED-WITH %s.%s exception=%s" % (kind.__module__, kind.__name__, isinstance(e, Exception)),
                  file=sys.stderr)
            raise
    elif path == "/stream":
        return stream(start_response, end)
    elif path == "/ignore":
        while time.time() < end:
            try:
                time.sleep(0.05)
            except BaseException:
                print("IGNORED-INTERRUPTION", file=sys.stderr)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(os.getpid()).encode()]


def stream(start_response, end):
    start_response("200 OK", [("Content-Type", "text/plain")])
    yield b"first block\n"
    while time.time() < end:
        time.sleep(0.05)
    yield b"never sent\n"
