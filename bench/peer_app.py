"""The bench's apps for the peers (granian, gunicorn), which take a module:callable: the
WSGI script named by BENCH_SCRIPT, loaded as Apache's modules load it. BENCH_MOUNT is the
URL path Apache mounts it at (WSGIScriptAlias): moved from PATH_INFO to SCRIPT_NAME."""
import os
import runpy

script = runpy.run_path(os.environ["BENCH_SCRIPT"])["application"]
mount = os.environ.get("BENCH_MOUNT", "")


def mounted(environ, start_response):
    path = environ.get("PATH_INFO", "")
    if path.startswith(mount):
        environ["SCRIPT_NAME"], environ["PATH_INFO"] = environ.get("SCRIPT_NAME", "") + mount, path[len(mount):]
    return script(environ, start_response)


application = mounted if mount else script
