"""Request bodies: Content-Length, chunked, and the wsgi.input API."""
import hashlib
import os

import pytest

LINES_BODY = b"line one\nline two\r\n\nlast line without newline"


@pytest.fixture(scope="module")
def body_apache(module_apache_factory):
    return module_apache_factory(
        "WSGIScriptAlias /echo {apps}/echo.wsgi\n"
        "WSGIScriptAlias /lines {apps}/input_lines.wsgi\n"
        "WSGIScriptAlias /chunked {apps}/echo.wsgi\n"
        "<Location /chunked>\n    WSGIChunkedRequest On\n</Location>\n"
        "LimitRequestBody 0\n"
    )


def test_post_1mib_echo(body_apache):
    body = os.urandom(1024 * 1024)
    r = body_apache.post("/echo", body, headers={"Content-Type": "application/octet-stream"})
    assert r.status == 200, body_apache.error_log()[-3000:]
    digest = hashlib.sha256(body).hexdigest()
    assert r.header("X-Body-Length") == str(len(body))
    assert r.header("X-Body-Sha256") == digest
    assert r.header("X-Content-Length") == str(len(body))
    assert hashlib.sha256(r.body).hexdigest() == digest


def test_post_empty_body(body_apache):
    r = body_apache.post("/echo", b"")
    assert r.status == 200
    assert r.header("X-Body-Length") == "0"
    assert r.body == b""


def test_get_without_body_reads_eof(body_apache):
    r = body_apache.get("/echo")
    assert r.status == 200
    assert r.header("X-Body-Length") == "0"


def test_chunked_request_body(body_apache):
    parts = [os.urandom(n) for n in (1, 100, 65536, 7, 300000, 12345)]
    whole = b"".join(parts)
    r = body_apache.request("POST", "/chunked", body=iter(parts), encode_chunked=True,
                            headers={"Content-Type": "application/octet-stream"})
    assert r.status == 200, body_apache.error_log()[-3000:]
    assert r.header("X-Body-Length") == str(len(whole))
    assert r.header("X-Body-Sha256") == hashlib.sha256(whole).hexdigest()
    assert r.body == whole


@pytest.mark.parametrize("mode,expected", [
    ("readline", [b"line one\n", b"line two\r\n", b"\n", b"last line without newline"]),
    ("readlines", [b"line one\n", b"line two\r\n", b"\n", b"last line without newline"]),
    ("iter", [b"line one\n", b"line two\r\n", b"\n", b"last line without newline"]),
    ("readline3", [b"lin", b"e o", b"ne\n", b"lin", b"e t", b"wo\r", b"\n", b"\n",
                   b"las", b"t l", b"ine", b" wi", b"tho", b"ut ", b"new", b"lin", b"e"]),
    ("mixed", [b"line one\n", b"li", b"ne two\r\n", b"\n", b"last line without newline"]),
])
def test_wsgi_input_lines(body_apache, mode, expected):
    r = body_apache.post("/lines?" + mode, LINES_BODY)
    assert r.status == 200, body_apache.error_log()[-3000:]
    assert [x.encode("latin-1") for x in r.json()] == expected


def test_wsgi_input_lines_large(body_apache):
    # lines crossing any internal buffer boundary
    lines = [(b"%06d:" % i) + b"z" * (i % 997) + b"\n" for i in range(2000)]
    body = b"".join(lines)
    for mode in ("readline", "readlines", "iter"):
        r = body_apache.post("/lines?" + mode, body)
        assert r.status == 200, (mode, body_apache.error_log()[-3000:])
        assert [x.encode("latin-1") for x in r.json()] == lines, mode


def test_chunked_request_refused_without_wsgi_chunked_request(body_apache):
    # WSGIChunkedRequest defaults to Off: a chunked body is answered with 411
    r = body_apache.request("POST", "/echo", body=iter([b"abc", b"def"]), encode_chunked=True)
    assert r.status == 411
