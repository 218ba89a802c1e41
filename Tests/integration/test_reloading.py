"""WSGIScriptReloading: a changed script is loaded again (the default), or not (Off)."""
import os
import time

import pytest

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
