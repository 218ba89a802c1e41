# Streams blocks with pauses between them, as server-sent events or progress output do.
# Each block is the time it was produced ("%15.4f\n", 16 bytes), so a client can tell how
# long the server held it. ?write uses the write() callable instead of yielding; ?length
# announces the Content-Length (the last block is followed by a pause too).
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
    headers = [("Content-Type", "text/plain")]
    if environ.get("QUERY_STRING") == "length":
        headers.append(("Content-Length", str(16 * BLOCKS)))
    write = start_response("200 OK", headers)
    if environ.get("QUERY_STRING") == "write":
        for _ in range(BLOCKS):
            write(stamp())
            time.sleep(PAUSE)
        return []
    return generate()
