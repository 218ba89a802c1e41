"""asgi-starlette: the JSON endpoint of a small Starlette app, routed under its mount."""
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

# A literal: bench.py reads it for the body it expects.
PAYLOAD = {"message": "hello", "items": [1, 2, 3], "ok": True}


async def api(request):
    return JSONResponse(PAYLOAD)


application = Starlette(routes=[Route("/api", api)])
