"""asgi-hello: the ASGI twin of hello.wsgi, a 12-byte response (and lifespan declined)."""
BODY = b"Hello world!"
START = {"type": "http.response.start", "status": 200,
         "headers": [(b"content-type", b"text/plain"), (b"content-length", b"%d" % len(BODY))]}
END = {"type": "http.response.body", "body": BODY}


async def application(scope, receive, send):
    if scope["type"] != "http":
        raise RuntimeError("no lifespan here")
    await send(START)
    await send(END)
