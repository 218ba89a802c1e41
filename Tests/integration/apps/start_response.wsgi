# start_response misuse and the exc_info protocol; the QUERY_STRING picks a mode.
import sys


def application(environ, start_response):
    mode, _, token = environ.get("QUERY_STRING", "").partition("&")
    headers = [("Content-Type", "text/plain")]
    if mode == "twice_before":
        # second call without exc_info before anything was sent: an error (PEP 3333)
        start_response("200 OK", headers)
        start_response("202 Accepted", headers)
        return [b"second start_response accepted"]
    if mode == "twice_after_write":
        write = start_response("200 OK", headers)
        write(b"partial ")
        start_response("202 Accepted", headers)
        return [b"second start_response accepted"]
    if mode == "replace":
        # exc_info before headers were sent: the new status replaces the old one
        start_response("200 OK", headers + [("X-First", "1")])
        try:
            raise ValueError("replaced-" + token)
        except ValueError:
            start_response("500 Internal Server Error",
                           [("Content-Type", "text/plain"), ("X-Second", "1")],
                           sys.exc_info())
        return [b"custom error page"]
    if mode == "reraise":
        # exc_info after headers were sent: start_response re-raises the exception
        write = start_response("200 OK", headers)
        write(b"partial ")
        try:
            raise ValueError("reraised-" + token)
        except ValueError:
            start_response("500 Internal Server Error", headers, sys.exc_info())
        return [b"start_response did not re-raise"]
    raise ValueError("unknown mode %r" % mode)
