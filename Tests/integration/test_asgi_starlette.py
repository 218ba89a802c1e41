"""A Starlette app and the README's FastAPI example in a daemon group (interface=asgi), and
the same apps under uvicorn."""
import hashlib
import json
import time

import pytest

from asgi_support import SERVERS, asgi_serve, asgi_venv  # noqa: F401 (fixtures)
from conftest import wait_until

APP = "apps/asgi/starlette_app.py"


@SERVERS
def test_starlette_routes_state_and_root_path(asgi_serve, kind):
    s = asgi_serve(kind, APP)
    status, _, body = s.request("GET", "/hello?x=1")
    assert status == 200, (body, s.log()[-3000:])
    got = json.loads(body)
    assert got["greeting"] == "hello from startup" and got["started_in"] == got["pid"]
    assert got["path"] == "/api/hello"
    assert got["url_for"] == "http://127.0.0.1:%d/api/items/7" % s.port
    assert got["query"] == {"x": "1"}
    assert json.loads(s.request("GET", "/items/42")[2]) == {"item_id": 42}
    assert s.request("GET", "/items/abc")[0] == 404


@SERVERS
def test_starlette_streams_request_and_response(asgi_serve, kind):
    s = asgi_serve(kind, APP)
    piece = b"0123456789abcdef" * 16384  # 256 KiB
    status, _, body = s.request("POST", "/upload", body=(piece for _ in range(8)),
                                headers={"Content-Length": str(8 * len(piece))}, timeout=60)
    assert status == 200, body
    got = json.loads(body)
    assert got["length"] == 8 * len(piece) and got["sha256"] == hashlib.sha256(piece * 8).hexdigest()
    assert got["pieces"] > 1
    conn = s.connection()
    start = time.monotonic()
    conn.request("GET", s.url("/stream"))
    r = conn.getresponse()
    first = r.readline()
    first_at = time.monotonic() - start
    rest = r.read()
    total = time.monotonic() - start
    conn.close()
    assert first + rest == b"line 0\nline 1\nline 2\n"
    assert total - first_at > 0.4, (first_at, total)


@SERVERS
def test_starlette_background_task_runs_after_the_response(asgi_serve, kind):
    s = asgi_serve(kind, APP)
    status, _, body = s.request("GET", "/background")
    assert (status, json.loads(body)) == (200, {"queued": True})
    assert wait_until(lambda: s.data_file("background.log") == "ran after the response\n", 10)


@SERVERS
def test_starlette_view_exception_is_a_500_with_traceback(asgi_serve, kind):
    s = asgi_serve(kind, APP)
    assert s.request("GET", "/error")[0] == 500
    assert wait_until(lambda: "RuntimeError: starlette view failed" in s.log(), 5)


@SERVERS
def test_fastapi_example(asgi_serve, kind):
    s = asgi_serve(kind, "examples/fastapi/main.py")
    status, _, body = s.request("GET", "/items/7")
    assert status == 200, (body, s.log()[-3000:])
    got = json.loads(body)
    assert got["item_id"] == 7 and got["greeting"] == "hello" and got["started_in"] > 0
    assert s.request("GET", "/items/seven")[0] == 422
