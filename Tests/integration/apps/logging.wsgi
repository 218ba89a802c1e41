# Writes one line each through wsgi.errors, sys.stderr and print(), then raises: every line
# carries the token from the query string.
import sys


def application(environ, start_response):
    token = environ["QUERY_STRING"]
    environ["wsgi.errors"].write("errors-line-%s\n" % token)
    sys.stderr.write("stderr-line-%s\n" % token)
    sys.stderr.flush()
    print("print-line-%s" % token, flush=True)
    raise RuntimeError("boom-%s" % token)
