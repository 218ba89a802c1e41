# CPU-bound pure Python (about 10 ms): the per-interpreter GIL scenario, served by two
# application groups of one daemon process.
def application(environ, start_response):
    total = 0
    for i in range(200_000):
        total += i
    body = b"%d\n" % total
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
