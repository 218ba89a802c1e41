# Reads wsgi.input line-wise in the mode named by QUERY_STRING and returns the
# lines as a JSON list of latin-1 strings.
import json


def application(environ, start_response):
    inp = environ["wsgi.input"]
    mode = environ.get("QUERY_STRING", "")
    if mode == "readline":
        lines = []
        while True:
            line = inp.readline()
            if not line:
                break
            lines.append(line)
    elif mode == "readline3":
        lines = []
        while True:
            line = inp.readline(3)
            if not line:
                break
            lines.append(line)
    elif mode == "readlines":
        lines = inp.readlines()
    elif mode == "iter":
        lines = [line for line in inp]
    elif mode == "mixed":
        # readline, then read(n), then the rest through iteration
        lines = [inp.readline(), inp.read(2)] + list(inp)
    else:
        raise ValueError("unknown mode %r" % mode)
    assert all(isinstance(x, bytes) for x in lines), [type(x) for x in lines]
    body = json.dumps([x.decode("latin-1") for x in lines]).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]
