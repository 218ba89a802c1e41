"""The WebSocket denial response (ASGI's websocket.http.response extension): an app answers a
handshake with an HTTP response of its own instead of accepting it. Against swsgi and uvicorn
serving the same raw ASGI app, with a real client (the `websockets` package)."""
import os
import socket

import pytest

import test_asgi_websocket as plain
from asgi_support import SERVERS, asgi_serve, asgi_venv, websockets_client  # noqa: F401 (fixtures)
from conftest import wait_until

APP = "apps/asgi/websocket_denial.py"


def denial(client, s, path):
    """The HTTP response (status_code, headers, body) that refused the handshake to path."""
    with pytest.raises(client.InvalidStatus) as refusal:
        with plain.connect(client, s, path):
            pass
    return refusal.value.response


def raw_handshake(s, path):
    """A socket that sent a WebSocket handshake to path."""
    sock = socket.create_connection(("127.0.0.1", s.port), timeout=30)
    sock.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n" % s.url(path)).encode())
    return sock


def receive_until(sock, answer, done):
    """answer and what comes after it, until done(answer) or the connection closes."""
    while not done(answer):
        piece = sock.recv(4096)
        if not piece:
            break
        answer += piece
    return answer


def error_lines(s):
    return [line for line in s.log().splitlines() if "[wsgi:error]" in line]


@SERVERS
def test_status_headers_and_body(asgi_serve, websockets_client, kind):
    s = asgi_serve(kind, APP)
    response = denial(websockets_client, s, "/denied")
    # Not the 403 of websocket.close, which the app sends when the scope does not offer the extension.
    assert response.status_code == 401
    assert response.headers["x-denied"] == "yes" and response.headers["content-type"] == "text/plain"
    assert response.body == b"not for you\n"  # sent in three pieces
    assert wait_until(lambda: s.data_file("disconnect.log") == "websocket.disconnect 1006\n", 10), s.data_file("disconnect.log")


@SERVERS
def test_starlette_send_denial_response(asgi_serve, websockets_client, kind):
    s = asgi_serve(kind, "apps/asgi/starlette_ws.py")
    response = denial(websockets_client, s, "/login-first")
    assert response.status_code == 401 and response.headers["www-authenticate"] == 'Basic realm="chat"'
    assert response.body == b"log in first\n"


@pytest.mark.swsgi_only
def test_the_body_streams(asgi_serve):
    """Each piece reaches the client when the app sends it (uvicorn holds the body until the last)."""
    s = asgi_serve("swsgi", APP)
    sock = raw_handshake(s, "/streamed")
    answer = receive_until(sock, b"", lambda a: b"first\n" in a)
    assert answer.startswith(b"HTTP/1.1 403 ") and b"last" not in answer, answer
    open(os.path.join(s.data, "go"), "w").close()
    answer = receive_until(sock, answer, lambda a: a.endswith(b"\r\n0\r\n\r\n"))
    assert answer.endswith(b"last\n\r\n0\r\n\r\n"), answer
    sock.close()


@pytest.mark.parametrize("kind, path", [
    *(pytest.param("swsgi", path, marks=pytest.mark.swsgi_only)
      for path in ("/bad-status-str", "/bad-status-99", "/bad-status-101", "/str-header", "/crlf-header")),
    *(("uvicorn", path) for path in ("/bad-status-str", "/bad-status-99", "/str-header", "/crlf-header"))])
def test_invalid_response_is_a_500_with_nothing_of_the_app_on_the_wire(asgi_serve, websockets_client, kind, path):
    # uvicorn raises in the app (then answers 500) and closes the connection without a
    # response on CR/LF; it sends a 101 as it is (the client then misses Sec-WebSocket-Accept).
    s = asgi_serve(kind, APP)
    try:
        response = denial(websockets_client, s, path)
    except websockets_client.InvalidMessage:
        assert kind == "uvicorn" and path == "/crlf-header"
        return
    assert response.status_code == 500
    assert not {name.lower() for name in response.headers} & {"x-injected", "set-cookie", "x-text", "upgrade"}, response.headers
    assert b"the app's body" not in response.body
    if kind == "swsgi":
        assert wait_until(lambda: error_lines(s), 10)
        lines = error_lines(s)
        assert len(lines) == 1 and "websocket_denial.py" in lines[0], lines


@SERVERS
@pytest.mark.parametrize("path, status, sent", [
    ("/body-first", 403, "websocket.http.response.body"),  # then websocket.close
    ("/accept-after-start", 409, "websocket.accept"),
    ("/start-twice", 409, "websocket.http.response.start"),
])
def test_messages_out_of_order_raise_in_the_app(asgi_serve, websockets_client, kind, path, status, sent):
    s = asgi_serve(kind, APP)
    response = denial(websockets_client, s, path)
    assert response.status_code == status
    assert wait_until(lambda: s.data_file("misuse.log"), 10)
    line = s.data_file("misuse.log")
    assert line.startswith("RuntimeError: Expected ASGI message ") and "but got '%s'." % sent in line, line


@pytest.mark.swsgi_only
def test_a_message_after_the_response_raises(asgi_serve, websockets_client):
    # uvicorn sends a second response after the first (then websockets' state check raises).
    s = asgi_serve("swsgi", APP)
    assert denial(websockets_client, s, "/after-complete").body == b"conflict\n"
    assert wait_until(lambda: s.data_file("misuse.log"), 10)
    assert s.data_file("misuse.log") == ("RuntimeError: Unexpected ASGI message 'websocket.http.response.body', "
                                         "after the response already completed.\n")


@pytest.mark.swsgi_only
def test_returning_before_the_body_is_a_500(asgi_serve, websockets_client):
    # uvicorn closes the connection without a response.
    s = asgi_serve("swsgi", APP)
    assert denial(websockets_client, s, "/return-after-start").status_code == 500
    assert wait_until(lambda: "ASGI callable returned without completing the response" in s.log(), 10), s.log()[-2000:]


@pytest.mark.swsgi_only
def test_request_timeout_cuts_the_response_short(asgi_serve):
    s = asgi_serve("swsgi", APP, daemon_options="request-timeout=2")
    sock = raw_handshake(s, "/hang-after-piece")
    answer = receive_until(sock, b"", lambda a: False)
    assert answer.startswith(b"HTTP/1.1 401 ") and b"first\n" in answer and not answer.endswith(b"\r\n0\r\n\r\n"), answer
    sock.close()
    assert "before it ended its HTTP response to the WebSocket handshake" in s.log()
