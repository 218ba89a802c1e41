# Streams blocks with pauses between them, as server-sent events or progress output do.
# Each block is the time it was produced ("%15.4f\n", 16 bytes), so a client can tell how
# long the server held it. ?write uses the write() callable instead of yielding.
import time

BLOCKS = 4
PAUSE = 0.6


def stamp():
    return b"%15.4f\n" % time.time()


def generate():
    for _ in range(BLOCKS):
        yield stamp()
        time.sleep(PAUSE)


def application(environ, start_response):
    write = start_response("200 OK", [("Content-Type", "text/plain")])
    if environ.get("QUERY_STRING") == "write":
        for _ in range(BLOCKS):
            write(stamp())
            time.sleep(PAUSE)
        return []
    return generate()
