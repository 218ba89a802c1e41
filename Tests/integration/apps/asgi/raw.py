"""A raw ASGI 3 app for the ASGI tests, served by swsgi and by uvicorn alike.

Lifespan: startup puts the process id into the state; startup and shutdown are recorded in
<ServerRoot>/data/lifespan.log; data/fail-startup makes it fail, data/slow-startup take 3 s."""
import asyncio
import hashlib
import json
import os

in_flight = peak = 0
all_in = None
DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "data")


def record(event):
    with open(os.path.join(DATA, "lifespan.log"), "a") as f:
        f.write("%s %d\n" % (event, os.getpid()))


def text(value):
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if isinstance(value, (list, tuple)):
        return [text(v) for v in value]
    if isinstance(value, dict):
        return {k: text(v) for k, v in value.items()}
    return value


async def lifespan(receive, send):
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            if os.path.exists(os.path.join(DATA, "fail-startup")):
                await send({"type": "lifespan.startup.failed", "message": "the database is unreachable"})
                return
            if os.path.exists(os.path.join(DATA, "slow-startup")):
                await asyncio.sleep(3)
            record("startup")
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            record("shutdown")
            await send({"type": "lifespan.shutdown.complete"})
            return


async def respond(send, status=200, body=b"", headers=None, content_type=b"application/json"):
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type)] + (headers or [])})
    await send({"type": "http.response.body", "body": body})


async def application(scope, receive, send):
    if scope["type"] == "lifespan":
        scope["state"]["pid"] = os.getpid()
        scope["state"]["items"] = []
        return await lifespan(receive, send)
    assert scope["type"] == "http"
    path = scope["path"][len(scope["root_path"]):]
    query = scope["query_string"].decode()
    if path.startswith("/scope"):
        shown = {k: v for k, v in scope.items() if k != "state"}
        shown["state"] = {"pid": scope["state"].get("pid")}
        shown["extra_keys"] = sorted(set(scope) - {"type", "asgi", "http_version", "method", "scheme", "path",
                                                    "raw_path", "root_path", "query_string", "headers", "client",
                                                    "server", "state", "extensions"})
        return await respond(send, body=json.dumps(text(shown)).encode())
    if path == "/state":
        # Each request sees a shallow copy: a key it sets does not reach the next one.
        scope["state"]["mine"] = True
        scope["state"]["items"].append(1)
        return await respond(send, body=json.dumps({"pid": scope["state"].get("pid"), "items": len(scope["state"]["items"]),
                                                    "own": os.getpid()}).encode())
    if path == "/sleep":
        # ?seconds[,n]: the most requests in the app at once, in this process; with n, each
        # first waits (10 s at most) until n are in, so that a peak of n does not hang on timing.
        global in_flight, peak, all_in
        seconds, _, wanted = (query or "1").partition(",")
        in_flight += 1
        peak = max(peak, in_flight)
        try:
            if wanted:
                all_in = all_in or asyncio.Event()
                if in_flight >= int(wanted):
                    all_in.set()
                try:
                    await asyncio.wait_for(all_in.wait(), 10)
                except asyncio.TimeoutError:
                    pass
            await asyncio.sleep(float(seconds))
        except asyncio.CancelledError:
            record("cancelled")
            raise
        finally:
            in_flight -= 1
        return await respond(send, body=json.dumps({"peak": peak, "pid": os.getpid()}).encode())
    if path == "/echo":
        # Every http.request message: the body streams in as several of them.
        sha, length, messages = hashlib.sha256(), 0, 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return record("disconnect")
            assert message["type"] == "http.request", message
            messages += 1
            sha.update(message["body"])
            length += len(message["body"])
            if not message.get("more_body", False):
                break
        return await respond(send, body=json.dumps({"sha256": sha.hexdigest(), "length": length,
                                                    "messages": messages}).encode())
    if path == "/stream":
        # Chunks with pauses between them: each must reach the client before the next is made.
        count, pause = (int(x) for x in query.split(","))
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        for i in range(count):
            await send({"type": "http.response.body", "body": b"chunk %d\n" % i, "more_body": True})
            await asyncio.sleep(pause / 1000)
        await send({"type": "http.response.body", "body": b""})
        return
    if path == "/wait-disconnect":
        # Sends a little, then waits for http.disconnect (which comes once the client is gone).
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"waiting\n", "more_body": True})
        while True:
            done = asyncio.ensure_future(receive())
            while not done.done():
                await asyncio.sleep(0.1)
                await send({"type": "http.response.body", "body": b".", "more_body": True})
            message = done.result()
            if message["type"] == "http.disconnect":
                record("disconnect")
                return
    if path == "/long-poll":
        # Sends nothing while it waits: the client leaving must reach it all the same.
        assert (await receive())["type"] == "http.request"
        record("polling")
        record((await receive())["type"])
        return
    if path == "/pathsend":
        # This file, by http.response.pathsend where the server offers it.
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/x-python")]})
        if "http.response.pathsend" in scope.get("extensions", {}):
            return await send({"type": "http.response.pathsend", "path": os.path.abspath(__file__)})
        with open(__file__, "rb") as f:
            return await send({"type": "http.response.body", "body": f.read()})
    if path == "/bad-status":
        return await respond(send, status="200 OK")
    if path == "/bad-header":
        return await respond(send, headers=[("x-text", "str, not bytes")])
    if path == "/crlf-header":
        return await respond(send, headers=[(b"x-injected", b"a\r\nSet-Cookie: evil=1")])
    if path == "/raise-before":
        raise ValueError("raised before the response started")
    if path == "/raise-after":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"partial " * 1000, "more_body": True})
        raise ValueError("raised after the response started")
    return await respond(send, status=404, body=b'"not found"')
