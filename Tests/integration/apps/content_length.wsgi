# A one-element list result without Content-Length: the server can compute it.
def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"y" * 1234]
