# A small app wrapped in wsgiref.validate.validator: any PEP 3333 violation by
# the server shows up as an AssertionError or a WSGIWarning.
from wsgiref.validate import validator


def app(environ, start_response):
    inp = environ["wsgi.input"]
    length = int(environ.get("CONTENT_LENGTH") or 0)
    data = inp.read(length) if length else b""
    errors = environ["wsgi.errors"]
    errors.write("validated app ran\n")
    errors.writelines(["validated app line\n"])
    errors.flush()
    body = b"validated:" + data
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]


application = validator(app)
