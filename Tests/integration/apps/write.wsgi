# The legacy write() callable, mixed with an iterable result.
def application(environ, start_response):
    write = start_response("200 OK", [("Content-Type", "text/plain")])
    write(b"first,")
    write(b"")
    write(b"second,")
    return [b"third"]
