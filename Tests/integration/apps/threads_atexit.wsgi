# A daemon thread that never ends and an atexit function that leaves a file named after the
# process: neither may keep the process from stopping promptly, and the function must run.
import atexit
import os
import threading
import time

VERSION = "one"


def forever():
    while True:
        time.sleep(0.05)


threading.Thread(target=forever, daemon=True).start()


def application(environ, start_response):
    data = os.path.join(os.path.dirname(os.path.dirname(environ["SCRIPT_FILENAME"])), "data")
    path = os.path.join(data, "atexit.%d" % os.getpid())
    atexit.register(lambda: open(path, "w").close())
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [("%d %s" % (os.getpid(), VERSION)).encode()]
