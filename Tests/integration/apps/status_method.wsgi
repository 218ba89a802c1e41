# Answers with the status named by the query string (default 200) and a body; the header
# X-Method tells which REQUEST_METHOD the app saw.
def application(environ, start_response):
    status = environ.get("QUERY_STRING") or "200"
    body = b"app body for " + environ["REQUEST_METHOD"].encode()
    start_response(status + " From App", [("Content-Type", "text/plain"),
                                          ("X-Method", environ["REQUEST_METHOD"])])
    return [body]
