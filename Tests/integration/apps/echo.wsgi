# Reads the whole request body in chunks until EOF and echoes it back, with the
# SHA-256 and length of what was read in headers.
import hashlib


def application(environ, start_response):
    inp = environ["wsgi.input"]
    chunks = []
    while True:
        data = inp.read(65536)
        if not data:
            break
        chunks.append(data)
    body = b"".join(chunks)
    start_response("200 OK", [
        ("Content-Type", "application/octet-stream"),
        ("Content-Length", str(len(body))),
        ("X-Body-Sha256", hashlib.sha256(body).hexdigest()),
        ("X-Body-Length", str(len(body))),
        ("X-Content-Length", environ.get("CONTENT_LENGTH", "<absent>") or "<empty>"),
    ])
    return [body]
