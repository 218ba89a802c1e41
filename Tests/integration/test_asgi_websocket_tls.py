"""wss:// WebSockets of ASGI apps, with a real client (the `websockets` package), against
swsgi (mod_ssl: Apache relays them, under the event MPM on its relay thread rather than a
worker thread each) and uvicorn (--ssl-certfile) serving the same raw ASGI app."""
import contextlib
import socket

import pytest

from asgi_support import (SERVERS, asgi_serve, asgi_venv, client_tls_context, tls_certificate,  # noqa: F401 (fixtures)
                          websockets_client)
from conftest import wait_until
from test_asgi_websocket import APP, MiB, raw_handshake, receive_exactly

# One Apache child of 8 worker threads: more WebSockets than that must not need more.
FEW_WORKERS = dict(StartServers=1, ServerLimit=1, ThreadsPerChild=8, ThreadLimit=8, MaxRequestWorkers=8)


def connect(client, s, path, **options):
    return client.connect(s.ws_url(path), **dict(dict(ssl=client_tls_context(), open_timeout=20, max_size=4 * MiB),
                                                  **options))


@pytest.fixture
def tls_serve(asgi_serve, tls_certificate):
    """Factory: tls_serve(kind, **asgi_serve's options) -> Served over TLS only."""
    return lambda kind, **options: asgi_serve(kind, APP, tls=tls_certificate, **options)


@SERVERS
def test_messages_both_ways_over_tls(tls_serve, websockets_client, kind):
    s = tls_serve(kind)
    with connect(websockets_client, s, "/echo", subprotocols=["chat"]) as ws:
        assert ws.subprotocol == "chat"
        ws.send("over TLS ✓")
        assert ws.recv(10) == "over TLS ✓"
        ws.send(["frag", "men", "ted"])
        assert ws.recv(10) == "fragmented"
        for size in (1, 4095, 4096, 16 << 10, (16 << 10) + 1):
            ws.send(b"s" * size)
            assert ws.recv(10) == b"s" * size
        big = bytes(range(256)) * (4096 + 1)  # 1 MiB and a bit
        ws.send(big)
        assert ws.recv(30) == big
        big_text = "€" * (MiB // 3 + 1)
        ws.send(big_text)
        assert ws.recv(30) == big_text
        assert ws.ping(b"there?").wait(10)
    assert wait_until(lambda: s.data_file("disconnect.log") == "1000 \n", 10), s.log()[-3000:]


@SERVERS
def test_close_codes_both_ways_over_tls(tls_serve, websockets_client, kind):
    s = tls_serve(kind)
    with connect(websockets_client, s, "/echo") as ws:
        ws.close(4003, "tls bye")
    assert wait_until(lambda: s.data_file("disconnect.log") == "4003 tls bye\n", 10), s.log()[-3000:]
    with connect(websockets_client, s, "/echo") as ws:
        ws.send("close 4002 server says bye")
        with pytest.raises(websockets_client.ConnectionClosed):
            ws.recv(10)
        assert (ws.close_code, ws.close_reason) == (4002, "server says bye")


@SERVERS
def test_client_gone_over_tls_reaches_the_app(tls_serve, websockets_client, kind):
    s = tls_serve(kind)
    with connect(websockets_client, s, "/echo") as ws:
        ws.send("x")
        assert ws.recv(10) == "x"
        ws.socket.shutdown(socket.SHUT_RDWR)  # no close frame, no close_notify
    assert wait_until(lambda: s.data_file("disconnect.log") in ("1006 \n", "1005 \n"), 10), s.log()[-3000:]


@SERVERS
def test_slow_client_over_tls_backpressure(tls_serve, kind):
    """A client that does not read stops the app's sends, through the relay too: nothing
    buffers the 31 MiB it would send."""
    s = tls_serve(kind)
    sock = raw_handshake(s, "/flood")
    sent = lambda: int(s.data_file("flood.log") or 0)  # noqa: E731
    assert wait_until(lambda: sent() > 0, 10)
    # The count stops rising once the buffers on the way are full.
    counts = [sent()]
    assert wait_until(lambda: counts.append(sent()) or (len(counts) > 4 and counts[-1] == counts[-5]), 30, 0.5)
    assert counts[-1] < 200, counts
    # Now a fast reader (a window below the segment size crawls through TLS's small records).
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    frame = 10 + 65536
    data = receive_exactly(sock, 500 * frame)
    assert data[:10] == b"\x82\x7f" + (65536).to_bytes(8, "big") and data[-frame:] == data[:frame]
    assert wait_until(lambda: sent() == 500, 10)
    sock.close()


@pytest.mark.swsgi_only
def test_idle_wss_websockets_hold_no_worker_thread(tls_serve, websockets_client):
    """With 8 worker threads in all, 20 wss:// WebSockets stay open while an HTTPS request is
    still answered, and each still echoes; each is logged as a 101 when it ends."""
    s = tls_serve("swsgi", mpm=FEW_WORKERS, threads=2, extra='CustomLog "{root}/logs/access.log" "%>s %U"\n')
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(connect(websockets_client, s, "/echo")) for _ in range(20)]
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
        sockets = [stack.enter_context(connect(websockets_client, s, "/echo")) for _ in range(10)]
        s.server.graceful()
        for ws in sockets:
            with pytest.raises(websockets_client.ConnectionClosed):
                ws.recv(20)
            assert ws.close_code == 1012
    assert wait_until(lambda: s.request("GET", "/plain")[0] == 200, 20)
    with connect(websockets_client, s, "/echo") as ws:
        ws.send("after")
        assert ws.recv(10) == "after"
        # The Apache child ends before the daemon's 1012 can pass through it: the client
        # sees the connection close.
        s.stop()
        with pytest.raises(websockets_client.ConnectionClosed):
            ws.recv(10)
