"""A Django project as an ASGI app (django.core.asgi) in a daemon group (interface=asgi), and
the same project under uvicorn: an async view on the event loop, a sync view off it, request
and streamed response bodies, an error; Django declines the lifespan scope, and runs without."""
import hashlib
import json

from asgi_support import SERVERS, asgi_serve, asgi_venv  # noqa: F401 (fixtures)
from conftest import wait_until

APP = "apps/asgi/django_asgi.py"


@SERVERS
def test_django_async_and_sync_views(asgi_serve, kind):
    s = asgi_serve(kind, APP)
    views = {}
    for name in ("async", "sync"):
        status, headers, body = s.request("GET", "/%s?q=caf%%C3%%A9" % name, headers={"X-Test": "yes"})
        assert status == 200, (body, s.log()[-3000:])
        assert dict(headers)["Content-Type"] == "application/json"
        views[name] = json.loads(body)
    for name, got in views.items():
        assert got["view"] == name
        # The mount is SCRIPT_NAME, the rest path_info, as Django derives them from root_path.
        assert (got["path"], got["script_name"], got["path_info"]) == ("/api/" + name, "/api", "/" + name)
        assert (got["query"], got["method"], got["header"]) == ("caf\u00e9", "GET", "yes")
    # Django calls a sync view in a thread of its own, an async one on the event loop.
    assert views["async"]["on_event_loop"] and not views["sync"]["on_event_loop"]
    assert views["async"]["pid"] == views["sync"]["pid"]
    assert s.request("GET", "/missing")[0] == 404


@SERVERS
def test_django_request_body_and_streamed_response(asgi_serve, kind):
    s = asgi_serve(kind, APP)
    body = bytes(range(256)) * 4096  # 1 MiB, several http.request messages
    status, _, answer = s.request("POST", "/echo", body=body)
    assert status == 200, (answer, s.log()[-3000:])
    assert json.loads(answer) == {"length": len(body), "sha256": hashlib.sha256(body).hexdigest()}
    status, headers, answer = s.request("GET", "/stream")
    assert (status, answer) == (200, b"chunk 0\nchunk 1\nchunk 2\n")
    # No length known beforehand: the body went out as it was made.
    assert dict(headers).get("Transfer-Encoding") == "chunked"


@SERVERS
def test_django_view_exception_is_a_500_with_traceback(asgi_serve, kind):
    s = asgi_serve(kind, APP)
    assert s.request("GET", "/raise")[0] == 500
    assert wait_until(lambda: "ValueError: raised in a Django view" in s.log(), 5), s.log()[-3000:]
