"""The bench's ASGI apps for uvicorn and granian, which take a module:callable: the script
named by BENCH_SCRIPT, its scope given BENCH_MOUNT as root_path for paths under it, as
swsgi gives the mount of WSGIScriptAlias."""
import os
import runpy

app = runpy.run_path(os.environ["BENCH_SCRIPT"])["application"]
mount = os.environ.get("BENCH_MOUNT", "")


async def application(scope, receive, send):
    if mount and scope["type"] == "http" and scope["path"].startswith(mount):
        scope = dict(scope, root_path=mount)
    await app(scope, receive, send)
