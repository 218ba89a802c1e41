# Reads the request body with wsgi.input.read(65536) until EOF, hashing it as it
# goes (nothing is kept), and reports the SHA-256, the length and the pid.
import hashlib
import json
import os


def application(environ, start_response):
    inp = environ["wsgi.input"]
    sha = hashlib.sha256()
    length = 0
    while True:
        data = inp.read(65536)
        if not data:
            break
        sha.update(data)
        length += len(data)
    body = json.dumps({"sha256": sha.hexdigest(), "length": length,
                       "pid": os.getpid()}).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))])
    return [body]
