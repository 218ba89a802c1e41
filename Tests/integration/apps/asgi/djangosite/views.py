"""An async view, a sync one (Django runs it in a thread of its own), a request body, a
streamed response and an error."""
import asyncio
import hashlib
import os

from django.http import JsonResponse, StreamingHttpResponse


def where(request):
    try:
        asyncio.get_running_loop()
        on_loop = True
    except RuntimeError:
        on_loop = False
    return {"path": request.path, "path_info": request.path_info, "script_name": request.META["SCRIPT_NAME"],
            "query": request.GET.get("q"), "method": request.method, "on_event_loop": on_loop,
            "header": request.headers.get("X-Test"), "pid": os.getpid()}


async def async_view(request):
    await asyncio.sleep(0.01)
    return JsonResponse(dict(where(request), view="async"))


def sync_view(request):
    return JsonResponse(dict(where(request), view="sync"))


async def echo(request):
    body = request.body
    return JsonResponse({"length": len(body), "sha256": hashlib.sha256(body).hexdigest()})


async def stream(request):
    async def chunks():
        for i in range(3):
            await asyncio.sleep(0.01)
            yield b"chunk %d\n" % i
    return StreamingHttpResponse(chunks(), content_type="text/plain")


async def raise_error(request):
    raise ValueError("raised in a Django view")
