"""An ASGI app that answers from its event loop with the application group it runs in: the
asyncio tests of several interpreters in one process."""
import asyncio
import json

import mod_wsgi


async def application(scope, receive, send):
    if scope["type"] != "http":
        return
    loop = asyncio.get_running_loop()
    await asyncio.sleep(0.01)
    body = json.dumps({"group": mod_wsgi.application_group, "same_loop": asyncio.get_running_loop() is loop,
                       "c_tasks": asyncio.Task is not asyncio.tasks._PyTask})
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body.encode()})
