"""A raw ASGI app that answers WebSocket handshakes with HTTP responses (the
websocket.http.response extension), served by swsgi and by uvicorn alike.

/denied: a 401 with header x-denied and a body in three pieces (a 403 by websocket.close
where the extension is not offered), then records the disconnect in data/disconnect.log.
/streamed: a 403 whose first piece goes out before the app sends the second, once the test
created data/go. /bad-status-str, /bad-status-99, /bad-status-101, /str-header,
/crlf-header: bad responses. /body-first, /accept-after-start, /start-twice, /after-complete:
messages in the wrong order, the exception each raises recorded in data/misuse.log.
/return-after-start: returns after the start. /hang-after-piece: sleeps 30 s after the first piece."""
import asyncio
import os

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "data")
BAD_HEADS = {
    "/bad-status-str": ("401", []),
    "/bad-status-99": (99, []),
    "/bad-status-101": (101, [(b"upgrade", b"websocket"), (b"connection", b"Upgrade")]),
    "/str-header": (401, [("x-text", "str")]),
    "/crlf-header": (401, [(b"x-injected", b"a\r\nSet-Cookie: evil=1")]),
}


def record(name, line):
    with open(os.path.join(DATA, name), "a") as f:
        f.write(line + "\n")


def start(status, headers=()):
    return {"type": "websocket.http.response.start", "status": status, "headers": list(headers)}


def body(data, more=False):
    return {"type": "websocket.http.response.body", "body": data, "more_body": more}


async def misuse(send, message):
    """Sends a message that is out of order, recording what it raised."""
    try:
        await send(message)
    except Exception as e:
        record("misuse.log", "%s: %s" % (type(e).__name__, e))
    else:
        record("misuse.log", "no exception")


async def application(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    assert (await receive())["type"] == "websocket.connect"
    path = scope["path"][len(scope["root_path"]):]
    if path == "/denied":
        if "websocket.http.response" not in scope.get("extensions", {}):
            return await send({"type": "websocket.close"})
        await send(start(401, [(b"x-denied", b"yes"), (b"content-type", b"text/plain")]))
        for piece in (b"not ", b"for "):
            await send(body(piece, more=True))
        await send(body(b"you\n"))
        message = await receive()
        record("disconnect.log", "%s %d" % (message["type"], message["code"]))
    elif path == "/streamed":
        await send(start(403))
        await send(body(b"first\n", more=True))
        for _ in range(600):
            if os.path.exists(os.path.join(DATA, "go")):
                break
            await asyncio.sleep(0.05)
        await send(body(b"last\n"))
    elif path in BAD_HEADS:
        await send(start(*BAD_HEADS[path]))
        await send(body(b"the app's body\n"))
    elif path == "/body-first":
        await misuse(send, body(b"too early"))
        await send({"type": "websocket.close"})
    elif path in ("/accept-after-start", "/start-twice"):
        await send(start(409))
        await misuse(send, {"type": "websocket.accept"} if path == "/accept-after-start" else start(410))
        await send(body(b"conflict\n"))
    elif path == "/after-complete":
        await send(start(409))
        await send(body(b"conflict\n"))
        await misuse(send, body(b"again\n"))
    elif path == "/return-after-start":
        await send(start(401))
    elif path == "/hang-after-piece":
        await send(start(401))
        await send(body(b"first\n", more=True))
        await asyncio.sleep(30)
