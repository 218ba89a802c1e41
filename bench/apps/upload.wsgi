# upload: reads the whole request body from wsgi.input in 64 KiB reads and answers with
# the number of bytes read ("1048576" for the benchmark's 1 MiB POST).
def application(environ, start_response):
    stream = environ["wsgi.input"]
    total = 0
    while True:
        data = stream.read(65536)
        if not data:
            break
        total += len(data)
    body = str(total).encode("ascii")
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
