# A WSGI app that runs an event loop of its own per request with asyncio.run, which checks on
# each step that asyncio still knows it as the running loop.
import asyncio
import json


async def steps():
    loop = asyncio.get_running_loop()
    for _ in range(10):
        await asyncio.sleep(0.05)
        if asyncio.get_running_loop() is not loop:
            return False
    return True


def application(environ, start_response):
    ok = asyncio.run(steps())
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps({"group": environ["mod_wsgi.application_group"], "same_loop": ok}).encode()]
