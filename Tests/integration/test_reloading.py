"""WSGIScriptReloading: a changed script is loaded again (the default), or not (Off)."""
import os
import time

import pytest

from conftest import TARGET, wait_until

SCRIPT = '''
def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"%s"]
'''


def write_script(path, text, mtime):
    with open(path, "w") as f:
        f.write(SCRIPT % text)
    os.chmod(path, 0o644)
    os.utime(path, (mtime, mtime))


@pytest.mark.parametrize("mode", ["embedded", "daemon"])
@pytest.mark.parametrize("reloading", ["On", "Off"])
def test_script_reloading(apache_factory, mode, reloading):
    daemon = ("WSGISocketPrefix {root}/run/w\nWSGIDaemonProcess rl threads=2\nWSGIProcessGroup rl\n"
              if mode == "daemon" else "")
    a = apache_factory(daemon + "WSGIScriptReloading %s\n"
                       "WSGIScriptAlias /r {data}/reload.wsgi\n"
                       "<Directory {data}>\n    Require all granted\n</Directory>\n" % reloading, start=False)
    os.makedirs(a.data, exist_ok=True)
    os.chmod(a.data, 0o755)
    script = os.path.join(a.data, "reload.wsgi")
    write_script(script, "first", time.time() - 100)
    a.start()
    assert a.get("/r").body == b"first"
    write_script(script, "second", time.time())
    expected = b"second" if reloading == "On" else b"first"
    assert a.get("/r").body == expected


RESTART_SCRIPT = '''
import json, os, sys
sys.path.insert(0, os.path.dirname(__file__))
import reloadmod

def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps({"pid": os.getpid(), "version": reloadmod.VERSION}).encode()]
'''


def test_touching_the_script_restarts_the_daemon(apache_factory):
    """The standard deploy (`touch wsgi.py`): the daemon process restarts, so modules the
    app imported load afresh, and no request fails while clients keep asking."""
    from daemon_support import Load, get_json
    a = apache_factory("WSGISocketPrefix {root}/run/w\nWSGIDaemonProcess rs threads=4\nWSGIProcessGroup rs\n"
                       "WSGIScriptAlias /r {data}/restart.wsgi\n"
                       "<Directory {data}>\n    Require all granted\n</Directory>\n", start=False)
    os.chmod(a.data, 0o755)
    script, module = os.path.join(a.data, "restart.wsgi"), os.path.join(a.data, "reloadmod.py")
    with open(script, "w") as f:
        f.write(RESTART_SCRIPT)
    with open(module, "w") as f:
        f.write("VERSION = 1\n")
    then = time.time() - 100
    os.utime(script, (then, then))
    os.utime(module, (then, then))
    a.start()
    first = get_json(a, "/r")
    assert first["version"] == 1
    load = Load(a, "/r", clients=10).start()
    try:
        assert wait_until(lambda: load.ok > 20, 20)
        mark = a.log_mark()
        with open(module, "w") as f:
            f.write("VERSION = 2\n")
        os.utime(script)
        fresh = wait_until(lambda: (lambda r: r if r["version"] == 2 else None)(get_json(a, "/r")), 20)
        assert fresh, "the daemon kept serving the old code"
        assert fresh["pid"] != first["pid"]
        done = load.ok
        assert wait_until(lambda: load.ok > done + 20, 20)
    finally:
        load.stop()
        load.join(30)
    assert not load.failures, load.failures[:5]
    said = "Force restart of process 'rs'" if TARGET == "mod_wsgi" else "because WSGI script '%s' changed" % script
    assert said in a.log_since(mark)
