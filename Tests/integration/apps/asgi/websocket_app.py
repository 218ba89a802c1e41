"""A raw ASGI WebSocket app for the WebSocket tests, served by swsgi and by uvicorn alike.

/echo: accepts (subprotocol "chat" when offered, header x-accepted), echoes text and bytes;
"close CODE REASON" makes it close with that code; each disconnect is recorded in
<ServerRoot>/data/disconnect.log (and a send after it that raised OSError in late-send.log). /scope: sends its scope as JSON. /deny: closes before accepting.
/fail: raises before accepting. /hang: sleeps 30 s before it answers. /flood: sends 500 64 KiB messages, recording in data/flood.log
how many went out."""
import asyncio
import json
import os

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "data")


def record(name, line, mode="a"):
    with open(os.path.join(DATA, name), mode) as f:
        f.write(line + "\n")


async def lifespan(receive, send):
    while True:
        message = await receive()
        await send({"type": message["type"] + ".complete"})
        if message["type"] == "lifespan.shutdown":
            return


async def echo(scope, receive, send):
    subprotocol = "chat" if "chat" in scope["subprotocols"] else None
    await send({"type": "websocket.accept", "subprotocol": subprotocol, "headers": [(b"x-accepted", b"yes")]})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            # int(): uvicorn gives websockets' CloseCode, an IntEnum that str() names on 3.10.
            record("disconnect.log", "%d %s" % (int(message["code"]), message.get("reason") or ""))
            try:
                await send({"type": "websocket.send", "text": "too late"})
            except OSError:
                record("late-send.log", "OSError")
            return
        text = message.get("text")
        if text is not None and text.startswith("close "):
            _, code, reason = text.split(" ", 2)
            await send({"type": "websocket.close", "code": int(code), "reason": reason})
        elif text is not None:
            await send({"type": "websocket.send", "text": text})
        else:
            await send({"type": "websocket.send", "bytes": message["bytes"]})


async def application(scope, receive, send):
    if scope["type"] == "lifespan":
        return await lifespan(receive, send)
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"plain http\n"})
        return
    assert (await receive())["type"] == "websocket.connect"
    path = scope["path"][len(scope["root_path"]):]
    if path == "/echo":
        await echo(scope, receive, send)
    elif path == "/scope":
        await send({"type": "websocket.accept"})
        keys = ("type", "http_version", "scheme", "path", "raw_path", "root_path", "query_string", "subprotocols")
        got = {k: (scope[k].decode("latin-1") if isinstance(scope[k], bytes) else scope[k]) for k in keys}
        got["x-test"] = [v.decode("latin-1") for k, v in scope["headers"] if k == b"x-test"]
        got["client"] = list(scope["client"])
        await send({"type": "websocket.send", "text": json.dumps(got)})
        await receive()
    elif path == "/deny":
        await send({"type": "websocket.close"})
    elif path == "/hang":
        await asyncio.sleep(30)
    elif path == "/fail":
        raise RuntimeError("the app refuses this WebSocket with an exception")
    elif path == "/flood":
        await send({"type": "websocket.accept"})
        piece = b"x" * 65536
        for n in range(1, 501):
            await send({"type": "websocket.send", "bytes": piece})
            record("flood.log", str(n), "w")
        await receive()
