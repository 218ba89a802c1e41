# Each mode returns something PEP 3333 forbids; the server must answer 500 and
# log an error naming this script, never put the bad bytes on the wire.

MODES = {
    "status_noreason": ("200", [("Content-Type", "text/plain")]),
    "status_abc": ("abc OK", [("Content-Type", "text/plain")]),
    "status_bytes": (b"200 OK", [("Content-Type", "text/plain")]),
    "status_crlf": ("200 OK\r\nX-Evil: status", [("Content-Type", "text/plain")]),
    "header_name_bytes": ("200 OK", [(b"X-Bytes-Name", "v")]),
    "header_value_bytes": ("200 OK", [("X-Bytes-Value", b"v")]),
    "header_value_int": ("200 OK", [("X-Int-Value", 5)]),
    "header_crlf": ("200 OK", [("X-Inject", "a\r\nX-Evil: injected")]),
    "header_lf": ("200 OK", [("X-Inject", "a\nX-Evil: injected")]),
    "header_cr": ("200 OK", [("X-Inject", "a\rX-Evil: injected")]),
    "header_name_crlf": ("200 OK", [("X-Evil: injected\r\nX-Name", "v")]),
    "header_non_latin1": ("200 OK", [("X-Euro", "\u20ac")]),
    "header_not_tuple": ("200 OK", ["X-Not-A-Tuple: v"]),
}


def application(environ, start_response):
    mode = environ.get("QUERY_STRING", "")
    if mode == "str_body":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return ["a str, not bytes"]
    if mode == "str_write":
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write("a str, not bytes")
        return []
    status, headers = MODES[mode]
    start_response(status, headers)
    return [b"this body must not be sent"]
