"""A Starlette app for the ASGI tests, served by swsgi and by uvicorn alike."""
import asyncio
import contextlib
import hashlib
import os

from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "data")


@contextlib.asynccontextmanager
async def lifespan(app):
    yield {"greeting": "hello from startup", "started_in": os.getpid()}


async def hello(request):
    return JSONResponse({"greeting": request.state.greeting, "started_in": request.state.started_in,
                         "pid": os.getpid(), "path": request.url.path, "url_for": str(request.url_for("item", item_id=7)),
                         "query": dict(request.query_params)})


async def item(request):
    return JSONResponse({"item_id": request.path_params["item_id"]})


async def upload(request):
    sha, length, pieces = hashlib.sha256(), 0, 0
    async for piece in request.stream():
        sha.update(piece)
        length += len(piece)
        pieces += 1
    return JSONResponse({"sha256": sha.hexdigest(), "length": length, "pieces": pieces})


async def stream(request):
    async def numbers():
        for i in range(3):
            yield "line %d\n" % i
            await asyncio.sleep(0.3)
    return StreamingResponse(numbers(), media_type="text/plain")


def note(text):
    with open(os.path.join(DATA, "background.log"), "a") as f:
        f.write(text + "\n")


async def background(request):
    return JSONResponse({"queued": True}, background=BackgroundTask(note, "ran after the response"))


async def error(request):
    raise RuntimeError("starlette view failed")


application = Starlette(lifespan=lifespan, routes=[
    Route("/hello", hello), Route("/items/{item_id:int}", item, name="item"),
    Route("/upload", upload, methods=["POST"]), Route("/stream", stream),
    Route("/background", background), Route("/error", error),
])
