"""WebSockets of ASGI apps in a daemon group, with a real client (the `websockets` package),
against swsgi and uvicorn serving the same raw ASGI app."""
import contextlib
import json
import socket
import time

import pytest

from asgi_support import SERVERS, asgi_serve, asgi_venv, client_tls_context, websockets_client  # noqa: F401 (fixtures)
from conftest import wait_until

APP = "apps/asgi/websocket_app.py"
MiB = 1 << 20


def connect(client, s, path, **options):
    tls = dict(ssl=client_tls_context()) if s.tls else {}
    return client.connect(s.ws_url(path), **dict(dict(open_timeout=20, max_size=4 * MiB, **tls), **options))


@contextlib.contextmanager
def open_echo(client, s):
    """A WebSocket to /echo, seen to echo."""
    with connect(client, s, "/echo") as ws:
        ws.send("x")
        assert ws.recv(10) == "x"
        yield ws


def refused(client, s, path):
    """The status with which the handshake to path is refused."""
    with pytest.raises(client.InvalidStatus) as refusal:
        with connect(client, s, path):
            pass
    return refusal.value.response.status_code


@SERVERS
def test_messages_both_ways_subprotocol_headers_ping(asgi_serve, websockets_client, kind):
    s = asgi_serve(kind, APP)
    with connect(websockets_client, s, "/echo", subprotocols=["other", "chat"]) as ws:
        assert ws.subprotocol == "chat"
        assert ws.response.status_code == 101 and ws.response.headers["x-accepted"] == "yes"
        ws.send("héllo")
        assert ws.recv(10) == "héllo"
        ws.send(b"\x00\xffbinary")
        assert ws.recv(10) == b"\x00\xffbinary"
        # Fragmented messages: each is one message to the app.
        ws.send(["frag", "men", "ted ✓"])
        assert ws.recv(10) == "fragmented ✓"
        ws.send([b"ab", b"cd"])
        assert ws.recv(10) == b"abcd"
        big_text = "€" * (MiB // 3 + 1)  # over 1 MiB of UTF-8
        ws.send(big_text)
        assert ws.recv(30) == big_text
        big = bytes(range(256)) * (4096 + 1)  # 1 MiB and a bit
        ws.send(big)
        assert ws.recv(30) == big
        assert ws.ping(b"are you there").wait(10)
    assert wait_until(lambda: s.data_file("disconnect.log") == "1000 \n", 10), s.log()[-3000:]


@SERVERS
def test_close_codes_and_reasons_both_ways(asgi_serve, websockets_client, kind):
    s = asgi_serve(kind, APP)
    with connect(websockets_client, s, "/echo") as ws:
        ws.close(4001, "client says bye")
    assert wait_until(lambda: s.data_file("disconnect.log") == "4001 client says bye\n", 10), s.log()[-3000:]
    with connect(websockets_client, s, "/echo") as ws:
        ws.send("close 4002 server says bye")
        with pytest.raises(websockets_client.ConnectionClosed):
            ws.recv(10)
        assert (ws.close_code, ws.close_reason) == (4002, "server says bye")


@SERVERS
def test_client_gone_reaches_the_app_as_disconnect(asgi_serve, websockets_client, kind):
    s = asgi_serve(kind, APP)
    with open_echo(websockets_client, s) as ws:
        ws.socket.shutdown(socket.SHUT_RDWR)  # no close frame
    # No close frame came: 1006 (abnormal closure); uvicorn says 1005 (no code).
    assert wait_until(lambda: s.data_file("disconnect.log") in ("1006 \n", "1005 \n"), 10), s.log()[-3000:]
    assert wait_until(lambda: s.data_file("late-send.log") == "OSError\n", 10)


@SERVERS
def test_scope(asgi_serve, websockets_client, kind):
    s = asgi_serve(kind, APP)
    with connect(websockets_client, s, "/scope?x=1", subprotocols=["a", "b"], additional_headers={"X-Test": "yes"}) as ws:
        scope = json.loads(ws.recv(10))
    assert scope["type"] == "websocket" and scope["scheme"] == "ws" and scope["http_version"] == "1.1"
    assert (scope["path"], scope["raw_path"], scope["root_path"]) == ("/api/scope", "/api/scope", "/api")
    assert scope["query_string"] == "x=1" and scope["subprotocols"] == ["a", "b"]
    assert scope["x-test"] == ["yes"] and scope["client"][0] == "127.0.0.1"


@SERVERS
def test_refused_handshakes(asgi_serve, websockets_client, kind):
    s = asgi_serve(kind, APP)
    assert refused(websockets_client, s, "/deny") == 403
    assert refused(websockets_client, s, "/fail") == 500
    assert wait_until(lambda: "the app refuses this WebSocket with an exception" in s.log(), 10)
    # The same app still answers plain HTTP.
    assert s.request("GET", "/plain")[::2] == (200, b"plain http\n")


def raw_handshake(s, path, early=b""):
    """A WebSocket opened by hand on a socket that reads only when told (a slow client, or
    one that breaks the protocol); early: bytes sent right behind the request."""
    sock = socket.create_connection(("127.0.0.1", s.port), timeout=30)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
    if s.tls:
        sock = client_tls_context().wrap_socket(sock, server_hostname="127.0.0.1")
    sock.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n" % s.url(path)).encode()
                 + early)
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101 ") and b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in head, head
    return sock


def receive_exactly(sock, count):
    data = bytearray()
    while len(data) < count:
        piece = sock.recv(min(1 << 20, count - len(data)))
        assert piece, len(data)
        data += piece
    return bytes(data)


def client_frame(opcode, payload, mask=b"\x37\xfa\x21\x3d"):
    """One whole frame of a client (payload under 126 bytes); mask None: unmasked."""
    if mask is None:
        return bytes((0x80 | opcode, len(payload))) + payload
    return bytes((0x80 | opcode, 0x80 | len(payload))) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def server_frame(sock):
    """(opcode, payload) of the server's next frame but pings (uvicorn's keepalive), under 126 bytes."""
    while True:
        first, length = receive_exactly(sock, 2)
        payload = receive_exactly(sock, length & 0x7F)
        if first & 0x0F != 0x9:
            return first & 0x0F, payload


@pytest.mark.swsgi_only
def test_bytes_sent_with_the_handshake_reach_the_app(asgi_serve):
    """Frames that arrive with the request (Apache read them with it) go to the daemon first.
    RFC 6455 4.1 has clients wait for the 101; uvicorn may drop such frames."""
    s = asgi_serve("swsgi", APP)
    sock = raw_handshake(s, "/echo", early=client_frame(0x1, b"early"))
    assert server_frame(sock) == (0x1, b"early")
    sock.sendall(client_frame(0x8, (1000).to_bytes(2, "big")))
    assert server_frame(sock) == (0x8, (1000).to_bytes(2, "big"))
    sock.close()


@SERVERS
@pytest.mark.parametrize("frame, code", [
    (client_frame(0x1, b"\xff\xfe not UTF-8"), 1007),
    (client_frame(0x1, b"unmasked", mask=None), 1002),
    (client_frame(0x0, b"continuation of nothing"), 1002),
    (client_frame(0x9, b"x", mask=b"\0\0\0\0")[:1] + bytes((0x80 | 126,)) + (200).to_bytes(2, "big") + b"\0" * 204, 1002),
])
def test_protocol_errors_close_the_connection_with_their_code(asgi_serve, kind, frame, code):
    s = asgi_serve(kind, APP)
    sock = raw_handshake(s, "/echo")
    sock.sendall(frame)
    opcode, payload = server_frame(sock)
    assert (opcode, payload[:2]) == (0x8, code.to_bytes(2, "big")), payload
    assert wait_until(lambda: s.data_file("disconnect.log").split()[:1] == [str(code)], 10), s.data_file("disconnect.log")
    sock.close()


@SERVERS
def test_slow_client_backpressure(asgi_serve, kind):
    s = asgi_serve(kind, APP)
    sock = raw_handshake(s, "/flood")
    sent = lambda: int(s.data_file("flood.log") or 0)  # noqa: E731
    assert wait_until(lambda: sent() > 0, 10)
    time.sleep(2)
    stalled = sent()
    # Unread, the 31 MiB stop once the kernel's buffers and one write limit's worth are full.
    assert stalled < 200, stalled
    print(kind, 'stalled at', stalled)
    time.sleep(1)
    assert sent() == stalled
    # Now a fast reader (a window below the segment size crawls through TLS's small records).
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    frame = 10 + 65536  # a binary frame of 64 KiB: 8 bytes of length
    data = receive_exactly(sock, 500 * frame)
    assert data[:10] == b"\x82\x7f" + (65536).to_bytes(8, "big") and data[-frame:] == data[:frame]
    assert wait_until(lambda: sent() == 500, 10)
    sock.close()


@pytest.mark.swsgi_only
def test_access_log_and_apache_threads_freed(asgi_serve, websockets_client):
    """Handed-over WebSockets are logged as 101 and hold no Apache worker thread: with 8
    threads in all, 20 stay open while plain requests are still answered."""
    s = asgi_serve("swsgi", APP, mpm=dict(StartServers=1, ServerLimit=1, ThreadsPerChild=8, ThreadLimit=8,
                                         MaxRequestWorkers=8), threads=2,
                   extra='CustomLog "{root}/logs/access.log" "%>s %U"\n')
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(connect(websockets_client, s, "/echo")) for _ in range(20)]
        assert s.request("GET", "/plain")[::2] == (200, b"plain http\n")
        for i, ws in enumerate(sockets):
            ws.send(str(i))
            assert ws.recv(10) == str(i)
    with open(s.server.path("logs", "access.log")) as f:
        assert f.read().count("101 /api/echo\n") == 20


@SERVERS
def test_stop_closes_open_websockets(asgi_serve, websockets_client, kind):
    s = asgi_serve(kind, APP)
    with open_echo(websockets_client, s) as ws:
        start = time.monotonic()
        s.stop()
        assert time.monotonic() - start < 8
        with pytest.raises(websockets_client.ConnectionClosed):
            ws.recv(10)
        assert ws.close_code in (1001, 1012), (ws.close_code, s.log()[-3000:])
    assert wait_until(lambda: s.data_file("disconnect.log").split()[:1] in (["1001"], ["1012"]), 10), s.data_file("disconnect.log")


@SERVERS
def test_starlette_websocket_routes(asgi_serve, websockets_client, kind):
    s = asgi_serve(kind, "apps/asgi/starlette_ws.py")
    with connect(websockets_client, s, "/chat?name=ann", subprotocols=["chat"]) as ws:
        assert ws.subprotocol == "chat"
        for text in ("one", "two ✓"):
            ws.send(text)
            assert json.loads(ws.recv(10)) == {"from": "ann", "text": text, "path": "/api/chat"}
    for path in ("/members", "/nowhere"):
        assert refused(websockets_client, s, path) == 403


@pytest.mark.swsgi_only
def test_graceful_restart_closes_websockets_and_serves_new_ones(asgi_serve, websockets_client):
    s = asgi_serve("swsgi", APP)
    with open_echo(websockets_client, s) as ws:
        start = time.monotonic()
        s.server.graceful()
        with pytest.raises(websockets_client.ConnectionClosed):
            ws.recv(20)
        assert ws.close_code == 1012 and time.monotonic() - start < 10
    assert wait_until(lambda: s.data_file("disconnect.log").startswith("1012 "), 10), s.data_file("disconnect.log")
    assert wait_until(lambda: s.request("GET", "/plain")[0] == 200, 20)
    with connect(websockets_client, s, "/echo") as again:
        again.send("after")
        assert again.recv(10) == "after"


def raw_exchange(s, request):
    sock = socket.create_connection(("127.0.0.1", s.port), timeout=30)
    sock.sendall(request.encode())
    answer = b""
    while b"\r\n\r\n" not in answer:
        piece = sock.recv(4096)
        if not piece:
            break
        answer += piece
    sock.close()
    return answer


@SERVERS
@pytest.mark.parametrize("headers, statuses", [
    # RFC 6455 4.4 suggests 426 and swsgi answers so; uvicorn says 400.
    ("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n", (b"426", b"400")),
    ("Sec-WebSocket-Key: tooshort\r\nSec-WebSocket-Version: 13\r\n", (b"400",)),
])
def test_bad_handshakes_are_refused_before_the_app(asgi_serve, kind, headers, statuses):
    s = asgi_serve(kind, APP)
    answer = raw_exchange(s, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n%s\r\n"
                          % (s.url("/echo"), headers))
    assert answer.split(b" ")[1] == statuses[kind == "uvicorn" and len(statuses) - 1], answer
    assert s.data_file("disconnect.log") == ""


@pytest.mark.swsgi_only
def test_a_connection_that_cannot_be_handed_over_is_answered_as_http(asgi_serve):
    s = asgi_serve("swsgi", APP)
    answer = raw_exchange(s, "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n" % s.url("/echo"))
    assert answer.startswith(b"HTTP/1.1 200 "), answer
    assert wait_until(lambda: "answered as HTTP: the request is not HTTP/1.1" in s.log(), 10), s.log()[-2000:]


@pytest.mark.swsgi_only
def test_request_timeout_before_the_answer_is_a_504(asgi_serve, websockets_client):
    s = asgi_serve("swsgi", APP, daemon_options="request-timeout=2")
    assert refused(websockets_client, s, "/hang") == 504
    assert "before it answered the WebSocket handshake" in s.log()
