"""ASGI apps in a daemon group: the http scope, request and response streaming, response
validation, http.disconnect and lifespan, each also against uvicorn serving the same app.
mod_wsgi has no ASGI: the swsgi halves are swsgi_only, and uvicorn is their control."""
import hashlib
import http.client
import json
import os
import socket
import subprocess
import threading
import time

import pytest

from asgi_support import SERVERS, asgi_serve, asgi_venv  # noqa: F401 (fixtures)
from conftest import wait_until

RAW = "apps/asgi/raw.py"


@SERVERS
def test_http_scope_keys(asgi_serve, kind):
    s = asgi_serve(kind, RAW)
    conn = s.connection()
    conn.connect()
    client_port = conn.sock.getsockname()[1]
    conn.request("GET", s.url("/scope/caf%C3%A9%20x?a=1&b=%20"), headers={"X-Dup": "a", "x-dup": "b", "X-One": "1"})
    r = conn.getresponse()
    body = r.read()
    conn.close()
    assert r.status == 200, (body, s.log()[-2000:])
    scope = json.loads(body)
    assert scope["type"] == "http"
    assert scope["asgi"]["version"] == "3.0"
    assert scope["http_version"] == "1.1"
    assert scope["method"] == "GET"
    assert scope["scheme"] == "http"
    assert scope["root_path"] == "/api"
    assert scope["path"] == "/api/scope/café x"
    assert scope["raw_path"] == "/api/scope/caf%C3%A9%20x"
    assert scope["query_string"] == "a=1&b=%20"
    headers = [tuple(h) for h in scope["headers"]]
    assert all(name == name.lower() for name, _ in headers)
    ours = [h for h in headers if h[0] in ("x-dup", "x-one")]
    # Apache joins repeated request headers into one (RFC 9110 allows it), uvicorn keeps them apart.
    if kind == "swsgi":
        assert ours == [("x-dup", "a, b"), ("x-one", "1")]
    else:
        assert ours == [("x-dup", "a"), ("x-dup", "b"), ("x-one", "1")]
    assert ("host", "127.0.0.1:%d" % s.port) in headers
    assert scope["client"] == ["127.0.0.1", client_port]
    assert scope["server"] == ["127.0.0.1", s.port]
    assert scope["state"]["pid"] is not None
    assert scope["extra_keys"] == []


@SERVERS
def test_200_concurrent_sleeping_requests_in_one_process(asgi_serve, kind):
    s = asgi_serve(kind, RAW, threads=250)
    results = []

    def one():
        results.append(s.request("GET", "/sleep?1,200", timeout=60))
    threads = [threading.Thread(target=one) for _ in range(200)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    assert [r[0] for r in results] == [200] * 200, s.log()[-2000:]
    peak = max(json.loads(r[2])["peak"] for r in results)
    print("%s: 200 requests sleeping 1 s took %.2f s, peak %d in flight" % (kind, elapsed, peak))
    # All of them were in the app at once, in one process: one event loop holds them.
    assert peak == 200
    assert len({json.loads(r[2])["pid"] for r in results}) == 1


@SERVERS
def test_many_quick_requests_at_once_on_kept_alive_connections(asgi_serve, kind):
    # Requests that end within one round of the event loop, from 16 clients at once (the
    # main interpreter: uvloop's loop): the hand-overs between the daemon's worker threads
    # and its loop race each other, and none may be lost.
    s = asgi_serve(kind, RAW, alias_options="application-group=%{GLOBAL}")
    statuses = []

    def client():
        conn = s.connection()
        try:
            for _ in range(50):
                conn.request("GET", s.url("/state"))
                r = conn.getresponse()
                r.read()
                statuses.append(r.status)
        except OSError as e:
            statuses.append(repr(e))
        finally:
            conn.close()
    threads = [threading.Thread(target=client) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200] * 800, (statuses[-3:], s.log()[-2000:])


@SERVERS
def test_request_body_streams_as_several_messages(asgi_serve, kind):
    s = asgi_serve(kind, RAW)
    chunk = bytes(range(256)) * 4096  # 1 MiB
    total = 8 * len(chunk)
    sent = hashlib.sha256(chunk * 8).hexdigest()
    status, _, body = s.request("POST", "/echo", body=(chunk for _ in range(8)),
                                headers={"Content-Length": str(total)}, timeout=60)
    assert status == 200, body
    got = json.loads(body)
    assert got["length"] == total and got["sha256"] == sent
    assert got["messages"] > 4
    # A chunked request body too, its end unknown in advance.
    status, _, body = s.request("POST", "/echo", body=(chunk for _ in range(2)), chunked=True, timeout=60)
    assert status == 200, body
    got = json.loads(body)
    assert got["length"] == 2 * len(chunk) and got["messages"] > 1
    # No body: one message, empty.
    status, _, body = s.request("GET", "/echo")
    assert json.loads(body) == {"sha256": hashlib.sha256().hexdigest(), "length": 0, "messages": 1}


@SERVERS
def test_response_body_chunks_reach_the_client_as_sent(asgi_serve, kind):
    s = asgi_serve(kind, RAW)
    conn = s.connection()
    start = time.monotonic()
    conn.request("GET", s.url("/stream?4,400"))
    r = conn.getresponse()
    assert r.status == 200
    arrivals = []
    for i in range(4):
        assert r.readline() == b"chunk %d\n" % i
        arrivals.append(time.monotonic() - start)
    assert r.read() == b""
    conn.close()
    # Each chunk came while the app was still pausing before the next one.
    assert arrivals[-1] - arrivals[0] > 0.8, arrivals


@SERVERS
def test_pathsend_sends_the_file(asgi_serve, kind):
    s = asgi_serve(kind, RAW)
    scope = json.loads(s.request("GET", "/scope")[2])
    # swsgi offers the extension (and sends the file with sendfile); uvicorn does not.
    assert ("http.response.pathsend" in scope.get("extensions", {})) == (kind == "swsgi")
    status, headers, body = s.request("GET", "/pathsend")
    assert status == 200
    with open(os.path.join(s.server.root, RAW), "rb") as f:
        assert body == f.read()
    if kind == "swsgi":
        assert dict((k.lower(), v) for k, v in headers)["content-length"] == str(len(body))


@pytest.mark.parametrize("kind, path", [
    pytest.param("swsgi", "/bad-status", marks=pytest.mark.swsgi_only), ("uvicorn", "/bad-status"),
    pytest.param("swsgi", "/bad-header", marks=pytest.mark.swsgi_only),
    pytest.param("swsgi", "/crlf-header", marks=pytest.mark.swsgi_only), ("uvicorn", "/crlf-header")])
def test_invalid_response_is_a_500_with_nothing_of_the_app_on_the_wire(asgi_serve, kind, path):
    # uvicorn takes str header names (the spec says bytes) and closes the connection where
    # swsgi answers 500; neither puts the app's response on the wire.
    s = asgi_serve(kind, RAW)
    try:
        status, headers, body = s.request("GET", path)
    except http.client.RemoteDisconnected:
        assert kind == "uvicorn"
        return
    assert status == 500
    assert not any(name.lower() in ("x-text", "x-injected", "set-cookie") for name, _ in headers), headers
    if kind == "swsgi":
        lines = [line for line in s.log().splitlines() if "[wsgi:error]" in line]
        assert len(lines) == 1, lines
        assert "raw.py" in lines[0]


@SERVERS
def test_exception_before_start_is_a_500_with_traceback(asgi_serve, kind):
    s = asgi_serve(kind, RAW)
    status, _, _ = s.request("GET", "/raise-before")
    assert status == 500
    assert wait_until(lambda: "ValueError: raised before the response started" in s.log(), 5)
    assert "Traceback (most recent call last)" in s.log()


@SERVERS
def test_exception_after_start_cuts_the_body_short(asgi_serve, kind):
    s = asgi_serve(kind, RAW)
    conn = s.connection()
    conn.request("GET", s.url("/raise-after"))
    r = conn.getresponse()
    assert r.status == 200
    with pytest.raises((http.client.IncompleteRead, http.client.HTTPException, ConnectionError)):
        r.read()
    conn.close()
    assert wait_until(lambda: "ValueError: raised after the response started" in s.log(), 5)


@SERVERS
def test_http_disconnect_when_the_client_goes_away(asgi_serve, kind):
    s = asgi_serve(kind, RAW)
    sock = socket.create_connection(("127.0.0.1", s.port), timeout=10)
    sock.sendall(b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % s.url("/wait-disconnect").encode())
    received = b""
    while b"waiting" not in received:
        received += sock.recv(4096)
    sock.close()
    assert wait_until(lambda: "disconnect" in s.data_file("lifespan.log"), 10), s.log()[-2000:]


@SERVERS
def test_http_disconnect_reaches_an_app_that_waits_without_sending(asgi_serve, kind):
    # A long poll: the app is in receive() and has sent nothing when its client leaves. In the
    # main interpreter swsgi runs uvloop's loop, as uvicorn does (both have it here).
    s = asgi_serve(kind, RAW, alias_options="application-group=%{GLOBAL}")
    sock = socket.create_connection(("127.0.0.1", s.port), timeout=10)
    sock.sendall(b"GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % (s.url("/long-poll").encode(), s.port))
    assert wait_until(lambda: "polling" in s.data_file("lifespan.log"), 10), s.log()[-2000:]
    sock.close()
    assert wait_until(lambda: "http.disconnect" in s.data_file("lifespan.log"), 10), s.log()[-2000:]
    # The process serves on, on a connection of its own.
    assert s.request("GET", "/state")[0] == 200, s.log()[-3000:]
    if kind == "swsgi":
        assert "the client closed the connection while daemon process group 'api' ran the ASGI app" in s.log()


@SERVERS
def test_http_disconnect_when_the_client_goes_away_during_the_body(asgi_serve, kind):
    s = asgi_serve(kind, RAW)
    sock = socket.create_connection(("127.0.0.1", s.port), timeout=10)
    # More than the Apache child reads ahead (request-buffer-size), so the app is reading.
    sock.sendall(b"POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n\r\n"
                 % (s.url("/echo").encode(), 8 << 20))
    sock.sendall(b"x" * (2 << 20))
    time.sleep(1)
    sock.close()
    assert wait_until(lambda: "disconnect" in s.data_file("lifespan.log"), 15), s.log()[-2000:]


@SERVERS
def test_lifespan_startup_once_state_in_every_request_shutdown_at_stop(asgi_serve, kind):
    s = asgi_serve(kind, RAW)
    answers = [json.loads(s.request("GET", "/state")[2]) for _ in range(3)]
    pid = answers[0]["own"]
    assert all(a["pid"] == pid and a["own"] == pid for a in answers)
    # A shallow copy of the state per request: the list is shared, keys set by one are not.
    assert [a["items"] for a in answers] == [1, 2, 3]
    assert s.data_file("lifespan.log") == "startup %d\n" % pid
    s.stop()
    assert s.data_file("lifespan.log") == "startup %d\nshutdown %d\n" % (pid, pid)


@SERVERS
def test_app_without_lifespan_works(asgi_serve, kind):
    s = asgi_serve(kind, "apps/asgi/no_lifespan.py")
    status, _, body = s.request("GET", "/")
    assert (status, body) == (200, b"no lifespan here")


@pytest.mark.swsgi_only
def test_failed_startup_is_logged_and_answers_503(asgi_serve):
    # uvicorn exits when startup fails; a daemon group keeps answering, with 503s.
    s = asgi_serve("swsgi", RAW, setup=lambda data: open(os.path.join(data, "fail-startup"), "w").close())
    for _ in range(2):
        status, _, _ = s.request("GET", "/state")
        assert status == 503
    log = s.log()
    assert "lifespan startup failed: the database is unreachable" in log
    assert log.count("answering 503 as its lifespan startup failed") == 2


@pytest.mark.swsgi_only
def test_interface_asgi_without_a_process_group_fails_configtest(apache_factory):
    a = apache_factory("WSGIScriptAlias /api {apps}/asgi/raw.py interface=asgi\n", start=False)
    code, out = a.configtest()
    assert code != 0
    assert "interface=asgi needs process-group=" in out and "event loop in a daemon process group" in out


@pytest.mark.swsgi_only
def test_http_version_is_2_under_mod_http2(asgi_serve):
    # uvicorn has no HTTP/2: swsgi only. curl speaks h2c with prior knowledge.
    s = asgi_serve("swsgi", RAW, extra="LoadModule http2_module /usr/lib/apache2/modules/mod_http2.so\n"
                                        "Protocols h2c http/1.1\n")
    p = subprocess.run(["curl", "-s", "--http2-prior-knowledge", "http://127.0.0.1:%d%s" % (s.port, s.url("/scope"))],
                       capture_output=True, timeout=30)
    assert p.returncode == 0, p.stderr
    scope = json.loads(p.stdout)
    assert scope["http_version"] == "2"
    # Apache makes the Host header of HTTP/2's :authority.
    assert ("host", "127.0.0.1:%d" % s.port) in [tuple(h) for h in scope["headers"]]
