# large-file: the 1 MiB file the floor serves statically (<ServerRoot>/htdocs/large-file),
# returned through wsgi.file_wrapper (PEP 3333's fallback, 64 KiB reads, where a server has none).
import os

PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "htdocs", "large-file")
SIZE = os.path.getsize(PATH)
HEADERS = [("Content-Type", "application/octet-stream"), ("Content-Length", str(SIZE))]


def read_in_blocks(f, size):
    return iter(lambda: f.read(size), b"")


def application(environ, start_response):
    start_response("200 OK", HEADERS)
    return environ.get("wsgi.file_wrapper", read_in_blocks)(open(PATH, "rb"), 65536)
