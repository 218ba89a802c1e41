"""wss:// WebSockets of ASGI apps, with a real client (the `websockets` package), against
swsgi (mod_ssl: Apache relays them, under the event MPM on its relay thread rather than a
worker thread each) and uvicorn (--ssl-certfile) serving the same raw ASGI app: the plain
WebSocket tests over TLS, and what only the relay has to get right."""
import contextlib

import pytest

import test_asgi_websocket as plain
import test_asgi_websocket_denial as denial
from asgi_support import SERVERS, asgi_serve, asgi_venv, tls_certificate, websockets_client  # noqa: F401 (fixtures)
from conftest import wait_until

# One Apache child of 8 worker threads: more WebSockets than that must not need more.
FEW_WORKERS = dict(StartServers=1, ServerLimit=1, ThreadsPerChild=8, ThreadLimit=8, MaxRequestWorkers=8)


@pytest.fixture
def tls_serve(asgi_serve, tls_certificate):
    """asgi_serve over TLS only."""
    return lambda kind, script=plain.APP, **options: asgi_serve(kind, script, tls=tls_certificate, **options)


@SERVERS
def test_messages_both_ways_over_tls(tls_serve, websockets_client, kind):
    plain.test_messages_both_ways_subprotocol_headers_ping(tls_serve, websockets_client, kind)


@SERVERS
def test_messages_around_the_relays_chunk_and_record_sizes(tls_serve, websockets_client, kind):
    with plain.open_echo(websockets_client, tls_serve(kind)) as ws:
        for size in (1, 4095, 4096, 16 << 10, (16 << 10) + 1, 3 << 20):
            ws.send(b"s" * size)
            assert ws.recv(30) == b"s" * size


@SERVERS
def test_close_codes_both_ways_over_tls(tls_serve, websockets_client, kind):
    plain.test_close_codes_and_reasons_both_ways(tls_serve, websockets_client, kind)


@SERVERS
def test_denial_response_over_tls(tls_serve, websockets_client, kind):
    denial.test_status_headers_and_body(tls_serve, websockets_client, kind)


@SERVERS
def test_client_gone_over_tls_reaches_the_app(tls_serve, websockets_client, kind):
    plain.test_client_gone_reaches_the_app_as_disconnect(tls_serve, websockets_client, kind)


@SERVERS
def test_slow_client_over_tls_backpressure(tls_serve, kind):
    """The relay holds no more than a chunk: a client that does not read stops the app."""
    plain.test_slow_client_backpressure(tls_serve, kind)


@pytest.mark.swsgi_only
def test_idle_wss_websockets_hold_no_worker_thread(tls_serve, websockets_client):
    """With 8 worker threads in all, 20 wss:// WebSockets stay open while an HTTPS request is
    still answered, and each still echoes; each is logged as a 101 when it ends."""
    s = tls_serve("swsgi", mpm=FEW_WORKERS, threads=2, extra='CustomLog "{root}/logs/access.log" "%>s %U"\n')
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(plain.connect(websockets_client, s, "/echo")) for _ in range(20)]
        assert s.request("GET", "/plain")[::2] == (200, b"plain http\n")
        for i, ws in enumerate(sockets):
            ws.send(str(i))
            assert ws.recv(10) == str(i)
    assert wait_until(lambda: s.data_file("disconnect.log").count("1000 \n") == 20, 20), s.data_file("disconnect.log")

    def logged():
        with open(s.server.path("logs", "access.log")) as f:
            return f.read().count("101 /api/echo\n")
    assert wait_until(lambda: logged() == 20, 10), logged()


@pytest.mark.swsgi_only
def test_graceful_restart_and_stop_close_wss_websockets(tls_serve, websockets_client):
    s = tls_serve("swsgi", mpm=FEW_WORKERS)
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(plain.connect(websockets_client, s, "/echo")) for _ in range(10)]
        s.server.graceful()
        for ws in sockets:
            with pytest.raises(websockets_client.ConnectionClosed):
                ws.recv(20)
            assert ws.close_code == 1012
    assert wait_until(lambda: s.request("GET", "/plain")[0] == 200, 20)
    with plain.open_echo(websockets_client, s) as ws:
        # The Apache child ends before the daemon's 1012 can pass through it: the client
        # sees the connection close.
        s.stop()
        with pytest.raises(websockets_client.ConnectionClosed):
            ws.recv(10)
