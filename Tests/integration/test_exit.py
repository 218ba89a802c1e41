"""The apps' atexit functions run when their process exits at Apache's stop."""
import os

import pytest

from conftest import wait_until


# The harness runs mod_wsgi with WSGIDestroyInterpreter Off (else its stops take ~10 s), which
# also skips its atexit functions: swsgi only.
@pytest.mark.swsgi_only
@pytest.mark.parametrize("mode", ["embedded", "daemon"])
def test_atexit_functions_run_at_stop(apache_factory, mode):
    daemon = ("WSGISocketPrefix {root}/run/w\nWSGIDaemonProcess ex threads=2\nWSGIProcessGroup ex\n"
              if mode == "daemon" else "")
    a = apache_factory(daemon + "WSGIScriptAlias /exit {apps}/atexit_app.wsgi\n", start=False)
    os.makedirs(a.data, exist_ok=True)
    os.chmod(a.data, 0o777)
    a.start()
    r = a.get("/exit")
    assert r.status == 200, r
    pid = int(r.body)
    a.stop()
    assert wait_until(lambda: os.path.exists(os.path.join(a.data, "atexit.%d" % pid)), 5), os.listdir(a.data)
