# large-file: the 1 MiB file the floor serves statically (<ServerRoot>/htdocs/large-file),
# returned through wsgi.file_wrapper.
import os

PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "htdocs", "large-file")
SIZE = os.path.getsize(PATH)
HEADERS = [("Content-Type", "application/octet-stream"), ("Content-Length", str(SIZE))]


def application(environ, start_response):
    start_response("200 OK", HEADERS)
    return environ["wsgi.file_wrapper"](open(PATH, "rb"), 65536)
