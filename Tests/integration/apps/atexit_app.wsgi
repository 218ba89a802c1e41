# Registers an atexit function that leaves a file named after the process: it must run when
# the process exits at Apache's stop.
import atexit
import os


def application(environ, start_response):
    data = os.path.join(os.path.dirname(os.path.dirname(environ["SCRIPT_FILENAME"])), "data")
    path = os.path.join(data, "atexit.%d" % os.getpid())
    atexit.register(lambda: open(path, "w").close())
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(os.getpid()).encode()]
