"""What the app returns: headers, errors, validation, write(), close(), file_wrapper."""
import hashlib
import os
import re
import socket
import time
import uuid

import pytest

from conftest import read_until_closed, wait_until


@pytest.fixture(scope="module")
def app_apache(module_apache_factory):
    return module_apache_factory(
        "WSGIScriptAlias /headers {apps}/headers.wsgi\n"
        "WSGIScriptAlias /raise {apps}/raise.wsgi\n"
        "WSGIScriptAlias /invalid {apps}/invalid.wsgi\n"
        "WSGIScriptAlias /start {apps}/start_response.wsgi\n"
        "WSGIScriptAlias /write {apps}/write.wsgi\n"
        "WSGIScriptAlias /close {apps}/close.wsgi\n"
        "WSGIScriptAlias /file {apps}/file_wrapper.wsgi\n"
        "WSGIScriptAlias /cl {apps}/content_length.wsgi\n"
        "WSGIScriptAlias /validated {apps}/validated.wsgi\n"
    )


def error_lines_naming(a, mark, script, timeout=10):
    """Error-level log lines (after mark) that name the script."""
    path = a.app(script)

    def find():
        return [line for line in a.log_since(mark).splitlines()
                if path in line and re.search(r":error\]", line)]
    return wait_until(find, timeout) or []


def token():
    return uuid.uuid4().hex[:12]


def test_app_headers_arrive(app_apache):
    r = app_apache.get("/headers")
    assert r.status == 201
    assert r.reason == "Created"
    assert r.header("X-Custom") == "custom value"
    assert r.header("Content-Type") == "text/plain; charset=utf-8"
    assert r.header("Cache-Control") == "no-store"
    assert r.header_all("Set-Cookie") == ["a=1; Path=/", "b=2; Path=/"]
    # latin-1 header value goes out as the byte 0xE9
    assert r.header("X-Latin1").encode("latin-1") == b"caf\xe9"
    assert r.body == b"created"


def test_app_exception_500_and_traceback(app_apache):
    t = token()
    mark = app_apache.log_mark()
    r = app_apache.get("/raise?" + t)
    assert r.status == 500
    assert b"app-exception-" not in r.body  # no traceback to the client
    log = app_apache.wait_log(mark, "Traceback", "RuntimeError: app-exception-" + t)
    assert "Traceback" in log
    assert "RuntimeError: app-exception-" + t in log
    assert error_lines_naming(app_apache, mark, "raise.wsgi"), log


INVALID_MODES = [
    "status_noreason", "status_abc", "status_bytes",
    "header_name_bytes", "header_value_bytes", "header_value_int",
    "header_crlf", "header_lf", "header_cr", "header_non_latin1", "header_not_tuple",
    "str_body", "str_write",
]


@pytest.mark.parametrize("mode", INVALID_MODES)
def test_invalid_response_500_and_logged(app_apache, mode):
    mark = app_apache.log_mark()
    r = app_apache.get("/invalid?" + mode)
    assert r.status == 500, (mode, r)
    assert b"this body must not be sent" not in r.body
    assert b"not bytes" not in r.body
    assert r.header("X-Evil") is None
    assert all(k.lower() not in ("x-evil", "x-inject", "x-int-value", "x-bytes-name",
                                 "x-bytes-value", "x-euro") for k, v in r.headers), r.headers
    assert error_lines_naming(app_apache, mark, "invalid.wsgi"), app_apache.log_since(mark)


@pytest.mark.parametrize("mode", ["header_crlf", "header_lf", "header_cr", "header_name_crlf",
                                  "status_crlf"])
def test_header_injection_never_on_the_wire(app_apache, mode):
    # raw socket: look at the exact bytes the server sends
    with socket.create_connection(("127.0.0.1", app_apache.port), timeout=10) as s:
        s.sendall(b"GET /invalid?" + mode.encode() +
                  b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        data = read_until_closed(s)
    head = data.split(b"\r\n\r\n", 1)[0]
    assert b"X-Evil" not in data
    assert b"injected" not in data
    assert head.startswith(b"HTTP/1.1 500"), head


def test_start_response_twice_after_write_is_error(app_apache):
    mark = app_apache.log_mark()
    try:
        r = app_apache.get("/start?twice_after_write")
        body = r.body
    except Exception:  # the response may be cut short: headers were already sent
        body = b""
    assert b"second start_response accepted" not in body
    assert error_lines_naming(app_apache, mark, "start_response.wsgi"), app_apache.log_since(mark)


@pytest.mark.swsgi_only
def test_start_response_twice_before_sending_is_error(app_apache):
    # PEP 3333: calling start_response again without exc_info is a fatal error,
    # even before anything was sent.  mod_wsgi 4.9.4 lets the second call win.
    mark = app_apache.log_mark()
    r = app_apache.get("/start?twice_before")
    assert r.status == 500
    assert b"second start_response accepted" not in r.body
    assert error_lines_naming(app_apache, mark, "start_response.wsgi"), app_apache.log_since(mark)


def test_exc_info_replaces_status_before_headers_sent(app_apache):
    t = token()
    r = app_apache.get("/start?replace&" + t)
    assert r.status == 500
    assert r.body == b"custom error page"
    assert r.header("X-Second") == "1"
    assert r.header("X-First") is None


def test_exc_info_reraises_after_headers_sent(app_apache):
    t = token()
    mark = app_apache.log_mark()
    try:
        r = app_apache.get("/start?reraise&" + t)
        body = r.body
    except Exception:  # truncated response: fine, the status line was already sent
        body = b""
    assert b"start_response did not re-raise" not in body
    log = app_apache.wait_log(mark, "ValueError: reraised-" + t)
    assert "ValueError: reraised-" + t in log
    assert "Traceback" in log


def test_write_callable(app_apache):
    r = app_apache.get("/write")
    assert r.status == 200
    assert r.body == b"first,second,third"


def read_close_log(a, ident, needle="closed", timeout=10):
    path = os.path.join(a.data, "close-%s.log" % ident)

    def get():
        try:
            with open(path) as f:
                text = f.read()
        except OSError:
            return None
        return text if needle in text else None
    return wait_until(get, timeout) or (open(path).read() if os.path.exists(path) else "")


def test_close_called_normal(app_apache):
    t = token()
    r = app_apache.get("/close?id=%s&mode=normal" % t)
    assert r.status == 200 and r.body == b"x" * 30
    assert read_close_log(app_apache, t).splitlines() == ["started", "closed produced=3"]


def test_close_called_on_generator(app_apache):
    t = token()
    r = app_apache.get("/close?id=%s&mode=generator" % t)
    assert r.status == 200 and r.body == b"ab"
    assert read_close_log(app_apache, t).splitlines() == ["started", "closed generator"]


def test_close_called_when_iteration_fails(app_apache):
    t = token()
    mark = app_apache.log_mark()
    try:
        app_apache.get("/close?id=%s&mode=fail" % t)
    except Exception:
        pass  # the body is cut short after the first chunk
    assert read_close_log(app_apache, t).splitlines() == ["started", "closed produced=1"]
    assert "iteration-failure-in-close-app" in app_apache.wait_log(
        mark, "iteration-failure-in-close-app")


def test_close_called_when_client_disconnects(app_apache):
    t = token()
    s = socket.create_connection(("127.0.0.1", app_apache.port), timeout=10)
    try:
        s.sendall(("GET /close?id=%s&mode=slow HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   "Connection: close\r\n\r\n" % t).encode())
        got = b""
        while len(got) < 200000:
            chunk = s.recv(65536)
            assert chunk, "server closed early"
            got += chunk
        assert got.startswith(b"HTTP/1.1 200")
    finally:
        # reset the connection (unread data + linger 0 => RST)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()
    text = read_close_log(app_apache, t, timeout=20)
    lines = text.splitlines()
    assert lines[0] == "started"
    assert len(lines) == 2 and lines[1].startswith("closed produced="), text
    produced = int(lines[1].split("=")[1])
    assert produced < 1000  # it stopped because the client went away


@pytest.fixture(scope="module")
def served_file(app_apache):
    name = "served-%s.bin" % token()
    content = os.urandom(300001)
    path = os.path.join(app_apache.data, name)
    with open(path, "wb") as f:
        f.write(content)
    os.chmod(path, 0o644)
    return name, content


@pytest.mark.parametrize("mode", ["file", "bytesio"])
def test_file_wrapper(app_apache, served_file, mode):
    name, content = served_file
    r = app_apache.get("/file?name=%s&mode=%s" % (name, mode))
    assert r.status == 200
    assert len(r.body) == len(content)
    assert hashlib.sha256(r.body).digest() == hashlib.sha256(content).digest()


def test_file_wrapper_from_offset(app_apache, served_file):
    name, content = served_file
    r = app_apache.get("/file?name=%s&mode=offset" % name)
    assert r.status == 200
    assert r.body == content[1000:]
    cl = r.header("Content-Length")
    assert cl is None or cl == str(len(content) - 1000)


@pytest.mark.swsgi_only
def test_content_length_for_one_element_list(app_apache):
    # PEP 3333 lets the server compute Content-Length when the result is a
    # one-element list; mod_wsgi 4.9.4 (embedded) sends it chunked instead.
    r = app_apache.get("/cl")
    assert r.status == 200
    assert r.body == b"y" * 1234
    assert r.header("Content-Length") == "1234"
    assert r.header("Transfer-Encoding") is None


def test_wsgiref_validator_is_happy(app_apache):
    mark = app_apache.log_mark()
    r = app_apache.get("/validated/some/path?q=1")
    assert r.status == 200, app_apache.log_since(mark)
    assert r.body == b"validated:"
    r = app_apache.post("/validated", b"posted data")
    assert r.status == 200, app_apache.log_since(mark)
    assert r.body == b"validated:posted data"
    r = app_apache.get("/validated")
    assert r.status == 200, app_apache.log_since(mark)
    log = app_apache.wait_log(mark, "validated app line")
    assert "validated app ran" in log  # wsgi.errors reaches the error log
    time.sleep(0.3)  # anything logged after the response (e.g. at close/GC)
    log = app_apache.log_since(mark)
    for bad in ("WSGIWarning", "AssertionError", "Traceback", "garbage collected"):
        assert bad not in log, log
