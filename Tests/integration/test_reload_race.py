"""A script reloaded while many requests run: each version of its callable ends up with
exactly the references Python holds to it. The loaded-callable cache is read, the GIL let go
while the script loads, and the cache updated; threads that all saw the same old version
must not each release it (one reference too few: freed while requests still run it), nor
overwrite each other's entries (a reference kept forever)."""
import os
import time

from conftest import wait_until
from daemon_support import Load

# Every version keeps its callable and a plain sibling function in a list no reload empties:
# both are referenced by that list and by their module's globals, and nothing else but the
# loaded-callable cache (for the version in use) and running requests.
SCRIPT = '''
import builtins, json, os, sys
VERSIONS = builtins.__dict__.setdefault("_swsgi_reload_versions", [])


def sibling():
    pass


def application(environ, start_response):
    body = json.dumps({"pid": os.getpid()}).encode()
    if environ["QUERY_STRING"] == "count":
        body = str(len(VERSIONS)).encode()
    elif environ["QUERY_STRING"] == "check":
        # sys.getrefcount counts its argument too, alike for both.
        body = json.dumps([[sys.getrefcount(VERSIONS[i][0]), sys.getrefcount(VERSIONS[i][1])]
                           for i in range(len(VERSIONS)) if VERSIONS[i][0] is not application]).encode()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [body]


VERSIONS.append((application, sibling))
'''

VERSIONS = 40


def test_reloads_under_load_keep_every_version_counted(apache_factory):
    a = apache_factory("WSGIScriptAlias /r {data}/race.wsgi\n"
                       "<Directory {data}>\n    Require all granted\n</Directory>\n", start=False)
    os.makedirs(a.data, exist_ok=True)
    os.chmod(a.data, 0o755)
    script = os.path.join(a.data, "race.wsgi")
    with open(script, "w") as f:
        f.write(SCRIPT)
    os.chmod(script, 0o644)
    mtime = time.time() - 1000
    os.utime(script, (mtime, mtime))
    a.start()
    assert a.get("/r").status == 200
    load = Load(a, "/r", clients=12).start()
    try:
        # A new mtime at each look, until enough versions of the script have run.
        def reloaded():
            nonlocal mtime
            count = int(a.get("/r?count", timeout=30).body)
            mtime += 1
            os.utime(script, (mtime, mtime))
            return count >= VERSIONS
        assert wait_until(reloaded, 120), a.error_log()[-3000:]
    finally:
        load.stop()
        assert load.join(60)
    assert not load.failures, load.failures[:5]
    counts = a.get_json("/r?check")
    assert len(counts) >= VERSIONS - 1, counts
    assert all(own == sibling for own, sibling in counts), counts
    log = a.error_log()
    assert "Segmentation fault" not in log and "exit signal" not in log, log[-3000:]
