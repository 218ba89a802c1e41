"""An ASGI app misusing receive and send (apps/asgi/misuse_app.py): wrong message types, calls
after the response or the WebSocket ended, kept past the request, made from a thread with its
own event loop. Each gives the app an exception or the client an error, never a crashed
process; against swsgi and uvicorn serving the same app."""
import http.client
import json

import pytest

from asgi_support import SERVERS, asgi_venv, serve, websockets_client  # noqa: F401 (fixtures)
from conftest import wait_until

APP = "apps/asgi/misuse_app.py"
CRASHES = ("Segmentation fault", "exit signal", "Bus error", "killed by signal", "Fatal Python error", "AddressSanitizer")

# What swsgi answers each http case: a 500 when the app raised before its response went out,
# the body when it had completed (what the app did after that raised only in the app).
# uvicorn (the control) is laxer with wrong types: it may send what it was given (str header
# names), or close the connection without a response; it is only seen to go on serving.
HTTP_CASES = {
    "message-none": 500,
    "message-no-type": 500,
    "message-unknown-type": 500,
    "body-before-start": 500,
    "status-str": 500,
    "status-huge": 500,
    "headers-not-iterable": 500,
    "headers-str-pairs": 500,
    "headers-triples": 500,
    "body-str": 500,
    "body-int": 500,
    "body-after-complete": (200, b"answered"),
    "receive-after-complete": (200, b"answered"),
}
# http.response.pathsend, an extension uvicorn does not offer.
SWSGI_HTTP_CASES = {
    "pathsend-descriptor": 500,
    "pathsend-missing": 500,
}
# What a send of each message gives the app after websocket.accept ("raised" alone: the type
# differs between the servers); uvicorn lets a websocket.send without text or bytes pass.
WS_CASES = {
    "send-nothing": "raised RuntimeError",
    "send-text-int": "raised",
    "send-bytes-str": "raised",
    "send-bytes-int": "raised",
    "accept-again": "raised RuntimeError",
    "unknown-type": "raised RuntimeError",
    "close-code-str": "raised",
}
LAX_IN_UVICORN = {"send-nothing"}


def request(s, path):
    try:
        return s.request("GET", path)
    except (OSError, http.client.HTTPException):
        return None


def still_serving(s):
    """The server answers, and (swsgi) no process of it crashed."""
    status, _, body = s.request("GET", "/case/body-after-complete")
    assert (status, body) == (200, b"answered"), (status, body, s.log()[-3000:])
    if s.kind == "swsgi":
        log = s.log()
        for needle in CRASHES:
            assert needle not in log, log[-5000:]


@pytest.fixture(scope="module")
def servers(module_apache_factory, asgi_venv):
    """servers(kind): one server of each kind for all of the module's tests."""
    made = {}

    def get(kind):
        if kind not in made:
            made[kind] = serve(kind, module_apache_factory, asgi_venv, APP)
        return made[kind]
    yield get
    if "uvicorn" in made:
        made["uvicorn"].server.cleanup()


def check_http_case(s, name, expected):
    r = request(s, "/case/" + name)
    if s.kind == "swsgi":
        if isinstance(expected, tuple):
            assert r is not None and (r[0], r[2]) == expected, (name, r, s.log()[-3000:])
        else:
            assert r is not None and r[0] == expected, (name, r, s.log()[-3000:])
            assert b"Traceback" not in r[2]
    elif isinstance(expected, tuple):
        assert r is not None and (r[0], r[2]) == expected, (name, r)
    still_serving(s)


@SERVERS
@pytest.mark.parametrize("name", sorted(HTTP_CASES))
def test_wrong_http_messages_give_errors(servers, kind, name):
    check_http_case(servers(kind), name, HTTP_CASES[name])


@pytest.mark.swsgi_only
@pytest.mark.parametrize("name", sorted(SWSGI_HTTP_CASES))
def test_wrong_pathsend_gives_errors(servers, name):
    s = servers("swsgi")
    for _ in range(3):  # the daemon's descriptors are as they were
        check_http_case(s, name, SWSGI_HTTP_CASES[name])


@SERVERS
def test_receive_and_send_kept_past_their_request(servers, kind):
    s = servers(kind)
    assert s.request("GET", "/keep")[2] == b"kept"
    status, _, body = s.request("GET", "/use")
    assert status == 200, (status, body, s.log()[-3000:])
    uses = json.loads(body)
    assert uses["receive"] == "returned http.disconnect", uses
    assert uses["send start"].startswith("raised") or uses["send start"] == "returned None", uses
    assert "LATE" not in s.request("GET", "/keep")[2].decode()
    still_serving(s)


@SERVERS
def test_send_from_another_thread_and_loop(servers, kind):
    s = servers(kind)
    r = request(s, "/thread")
    assert r is not None and r[0] == 200, (r, s.log()[-3000:])
    still_serving(s)


def ws_outcomes(s, name, count=1):
    assert wait_until(lambda: len(s.data_file("ws-%s.log" % name).splitlines()) >= count, 20), s.log()[-3000:]
    return s.data_file("ws-%s.log" % name).splitlines()


@SERVERS
@pytest.mark.parametrize("name", sorted(WS_CASES))
def test_wrong_websocket_messages_raise_in_the_app(servers, websockets_client, kind, name):
    s = servers(kind)
    with websockets_client.connect(s.ws_url("/ws/" + name), open_timeout=20) as ws:
        with pytest.raises(websockets_client.ConnectionClosed):
            ws.recv(20)
    outcome = ws_outcomes(s, name)[0]
    assert outcome.startswith("returned" if kind == "uvicorn" and name in LAX_IN_UVICORN else WS_CASES[name]), outcome
    still_serving(s)


@SERVERS
def test_websocket_send_and_receive_after_close(servers, websockets_client, kind):
    s = servers(kind)
    with websockets_client.connect(s.ws_url("/ws/after-close"), open_timeout=20) as ws:
        with pytest.raises(websockets_client.ConnectionClosed):
            ws.recv(20)
    after_send, after_disconnect = ws_outcomes(s, "after-close", 2)
    assert after_send.startswith("raised"), after_send
    assert after_disconnect == "returned websocket.disconnect", after_disconnect
    still_serving(s)


@SERVERS
def test_websocket_receive_and_send_kept_past_the_connection(servers, websockets_client, kind):
    s = servers(kind)
    with websockets_client.connect(s.ws_url("/ws-keep"), open_timeout=20):
        pass
    status, _, body = s.request("GET", "/ws-use")
    assert status == 200, (status, body, s.log()[-3000:])
    uses = json.loads(body)
    assert uses["receive"] == "returned websocket.disconnect", uses
    assert uses["send"].startswith("raised"), uses
    still_serving(s)


@SERVERS
def test_websocket_send_from_another_thread_and_loop(servers, websockets_client, kind):
    s = servers(kind)
    with websockets_client.connect(s.ws_url("/ws/thread"), open_timeout=20) as ws:
        try:
            while True:
                ws.recv(20)
        except websockets_client.ConnectionClosed:
            pass
    assert ws_outcomes(s, "thread")[0].startswith(("returned", "raised")), ws_outcomes(s, "thread")
    still_serving(s)
