# The smallest WSGI application: answers every request with "Hello, World!".
#
#   WSGIScriptAlias / /path/to/examples/hello/hello.wsgi


def application(environ, start_response):
    body = b"Hello, World!\n"
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8"),
                              ("Content-Length", str(len(body)))])
    return [body]
