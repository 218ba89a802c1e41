"""An ASGI app misusing receive and send, served by swsgi and by uvicorn alike.

/case/NAME: one misuse of an http request (see CASES); /keep then /use: receive and send kept
past their request and called in a later one (answered as JSON: "returned ..." or "raised
Type"); /thread: send called from a thread of the app's own with its own event loop;
WebSocket /ws/NAME: one misuse of a WebSocket (see WS_CASES), each outcome recorded in
<ServerRoot>/data/ws-NAME.log; WebSocket /ws-keep keeps receive and send for /ws-use."""
import asyncio
import json
import os
import threading

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "data")
KEPT = {}


async def attempt(call):
    try:
        result = await call()
        return "returned %s" % (result["type"] if isinstance(result, dict) else result,)
    except BaseException as e:  # noqa: BLE001
        return "raised %s" % type(e).__name__


def start(status=200, headers=((b"content-type", b"text/plain"),)):
    return {"type": "http.response.start", "status": status, "headers": list(headers)}


def body(data, more=False):
    return {"type": "http.response.body", "body": data, "more_body": more}


async def respond(send, data):
    await send(start())
    await send(body(data))


async def answer_after_complete(scope, receive, send):
    """The response is complete; a second body and a receive are answered."""
    await respond(send, b"answered")
    await send(body(b"again"))


async def receive_after_complete(scope, receive, send):
    await respond(send, b"answered")
    return await receive()


def wrong_send(*messages):
    async def run(scope, receive, send):
        for message in messages:
            await send(message)
    return run


CASES = {
    "message-none": wrong_send(None),
    "message-no-type": wrong_send({}),
    "message-unknown-type": wrong_send({"type": "http.response.nonsense"}),
    "body-before-start": wrong_send(body(b"x")),
    "status-str": wrong_send(start(status="200"), body(b"x")),
    "status-huge": wrong_send(start(status=2 ** 70), body(b"x")),
    "headers-not-iterable": wrong_send({"type": "http.response.start", "status": 200, "headers": 5}, body(b"x")),
    "headers-str-pairs": wrong_send(start(headers=[("content-type", "text/plain")]), body(b"x")),
    "headers-triples": wrong_send(start(headers=[(b"a", b"b", b"c")]), body(b"x")),
    "body-str": wrong_send(start(), body("text")),
    "body-int": wrong_send(start(), body(5)),
    "pathsend-descriptor": wrong_send(start(), {"type": "http.response.pathsend", "path": 2}),
    "pathsend-missing": wrong_send(start(), {"type": "http.response.pathsend", "path": "/nonexistent/file"}),
    "body-after-complete": answer_after_complete,
    "receive-after-complete": receive_after_complete,
}


async def keep(scope, receive, send):
    KEPT.update(receive=receive, send=send)
    await respond(send, b"kept")


async def use(scope, receive, send):
    receive_kept, send_kept = KEPT["receive"], KEPT["send"]
    uses = {
        "receive": await attempt(receive_kept),
        "send start": await attempt(lambda: send_kept(start())),
        "send body": await attempt(lambda: send_kept(body(b"LATE"))),
    }
    await respond(send, json.dumps(uses).encode())


async def from_thread(scope, receive, send):
    """The whole response sent from another thread, each message on an event loop of its own."""
    outcomes = []

    def run():
        for message in (start(), body(b"from a thread")):
            try:
                asyncio.run(send(message))
                outcomes.append("returned")
            except BaseException as e:  # noqa: BLE001
                outcomes.append("raised %s" % type(e).__name__)

    thread = threading.Thread(target=run)
    thread.start()
    await asyncio.get_running_loop().run_in_executor(None, thread.join)
    if outcomes != ["returned", "returned"]:
        await respond(send, json.dumps(outcomes).encode())


def record(name, line):
    with open(os.path.join(DATA, "ws-%s.log" % name), "a") as f:
        f.write(line + "\n")


def ws_wrong(name, message):
    async def run(scope, receive, send):
        await receive()
        await send({"type": "websocket.accept"})
        record(name, await attempt(lambda: send(message)))
        await send({"type": "websocket.close", "code": 4000})
    return run


WS_MESSAGES = {
    "send-nothing": {"type": "websocket.send"},
    "send-text-int": {"type": "websocket.send", "text": 5},
    "send-bytes-str": {"type": "websocket.send", "bytes": "text"},
    "send-bytes-int": {"type": "websocket.send", "bytes": 5},
    "accept-again": {"type": "websocket.accept"},
    "unknown-type": {"type": "websocket.nonsense"},
    "close-code-str": {"type": "websocket.close", "code": "x"},
}


async def ws_after_close(scope, receive, send):
    """After the app closed: a send, and receives until the disconnect (which then repeats)."""
    await receive()
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.close", "code": 4000})
    record("after-close", await attempt(lambda: send({"type": "websocket.send", "text": "late"})))
    while (await receive())["type"] != "websocket.disconnect":
        pass
    record("after-close", await attempt(receive))


async def ws_keep(scope, receive, send):
    await receive()
    await send({"type": "websocket.accept"})
    KEPT.update(ws_receive=receive, ws_send=send)
    while (await receive())["type"] != "websocket.disconnect":
        pass


async def ws_use(scope, receive, send):
    uses = {
        "receive": await attempt(KEPT["ws_receive"]),
        "send": await attempt(lambda: KEPT["ws_send"]({"type": "websocket.send", "text": "late"})),
        "close": await attempt(lambda: KEPT["ws_send"]({"type": "websocket.close"})),
    }
    await respond(send, json.dumps(uses).encode())


async def ws_thread(scope, receive, send):
    """A message sent from a thread with its own event loop, then the close from the app's."""
    await receive()
    await send({"type": "websocket.accept"})
    outcome = []
    thread = threading.Thread(target=lambda: outcome.append(
        asyncio.run(attempt(lambda: send({"type": "websocket.send", "text": "from a thread"})))))
    thread.start()
    await asyncio.get_running_loop().run_in_executor(None, thread.join)
    record("thread", outcome[0])
    await send({"type": "websocket.close", "code": 4000})


ROUTES = {"/keep": keep, "/use": use, "/thread": from_thread, "/ws-use": ws_use}
WS_ROUTES = {"/ws/after-close": ws_after_close, "/ws-keep": ws_keep, "/ws/thread": ws_thread}


async def application(scope, receive, send):
    if scope["type"] == "lifespan":
        raise ValueError("no lifespan here")  # as many small apps: both servers carry on without
    path = scope["path"][len(scope["root_path"]):] if scope["path"].startswith(scope["root_path"]) else scope["path"]
    if scope["type"] == "websocket":
        name = path[len("/ws/"):]
        if name in WS_MESSAGES:
            return await ws_wrong(name, WS_MESSAGES[name])(scope, receive, send)
        return await WS_ROUTES[path](scope, receive, send)
    if path.startswith("/case/"):
        return await CASES[path[len("/case/"):]](scope, receive, send)
    return await ROUTES[path](scope, receive, send)
