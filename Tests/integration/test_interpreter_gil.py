"""WSGIPerInterpreterGIL (mod_wsgi 6): application groups in sub-interpreters with a GIL of
their own (Python 3.12+, PEP 684), chosen server-wide or per <WSGIInterpreterOptions>."""
import os
import threading
import time

import pytest

from conftest import PY_VERSION, wait_until
from daemon_support import SOCKET_DIRECTIVE, get_json

OWN_GIL_PYTHON = tuple(map(int, PY_VERSION.split("."))) >= (3, 12)
pytestmark = pytest.mark.swsgi_only  # mod_wsgi 4.9.4 has no per-interpreter GIL

GROUPS = (SOCKET_DIRECTIVE +
          "WSGIDaemonProcess d processes=1 threads=4\n"
          "WSGIScriptAlias /a {apps}/gil.wsgi process-group=d application-group=a\n"
          "WSGIScriptAlias /b {apps}/gil.wsgi process-group=d application-group=b\n")


def ran_together(a):
    """Whether /b ran Python while /a held its GIL (see apps/gil.wsgi)."""
    flag = a.path("data", "flag")
    with open(flag, "wb") as f:
        f.write(b"\0")
    os.chmod(flag, 0o666)
    get_json(a, "/a"), get_json(a, "/b")  # both interpreters exist before the rendezvous
    waiting = {}
    waiter = threading.Thread(target=lambda: waiting.update(get_json(a, "/a?wait=" + flag)))
    waiter.start()
    time.sleep(0.5)  # /a is spinning
    assert get_json(a, "/b?signal=" + flag)["group"] == "b"
    waiter.join()
    assert waiting["group"] == "a", waiting
    return waiting["met"]


@pytest.mark.skipif(OWN_GIL_PYTHON, reason="the refusal is for Pythons older than 3.12")
def test_per_interpreter_gil_needs_python_312(apache_factory):
    a = apache_factory("WSGIPerInterpreterGIL On\n", start=False)
    rc, out = a.configtest()
    assert rc != 0, out
    assert "WSGIPerInterpreterGIL On needs Python 3.12 or newer" in out, out
    assert "Python %s" % PY_VERSION in out, out


def test_interpreter_options_check_their_contents(apache_factory):
    a = apache_factory("<WSGIInterpreterOptions process-group=ghost>\n"
                       "    WSGIPerInterpreterGIL Off\n</WSGIInterpreterOptions>\n", start=False)
    rc, out = a.configtest()
    assert rc != 0 and "process group 'ghost' is not defined" in out, out
    a = apache_factory("<WSGIInterpreterOptions application-group=x>\n"
                       "    WSGIPythonOptimize 1\n</WSGIInterpreterOptions>\n", start=False)
    rc, out = a.configtest()
    assert rc != 0 and "WSGIPythonOptimize cannot be used inside <WSGIInterpreterOptions>" in out, out
    a = apache_factory("<WSGIInterpreterOptions colour=blue>\n</WSGIInterpreterOptions>\n", start=False)
    rc, out = a.configtest()
    assert rc != 0 and "option 'colour=blue' is unknown" in out, out


@pytest.mark.skipif(not OWN_GIL_PYTHON, reason="needs Python 3.12+")
def test_groups_with_their_own_gil_run_in_parallel(apache_factory):
    shared = apache_factory(GROUPS)
    assert not ran_together(shared), shared.error_log()
    shared.stop()
    own = apache_factory("WSGIPerInterpreterGIL On\n" + GROUPS + "LogLevel info\n")
    assert ran_together(own), own.error_log()
    log = own.error_log()
    assert "created the interpreter of application group 'a' with its own GIL" in log, log


@pytest.mark.skipif(not OWN_GIL_PYTHON, reason="needs Python 3.12+")
def test_interpreter_options_choose_per_group(apache_factory):
    a = apache_factory(GROUPS + "LogLevel info\n"
                       "<WSGIInterpreterOptions process-group=d application-group=b>\n"
                       "    WSGIPerInterpreterGIL On\n</WSGIInterpreterOptions>\n")
    get_json(a, "/a"), get_json(a, "/b")
    log = a.error_log()
    assert "created the interpreter of application group 'b' with its own GIL" in log, log
    assert "created the interpreter of application group 'a'" in log, log
    assert "application group 'a' with its own GIL" not in log, log


@pytest.mark.skipif(not OWN_GIL_PYTHON, reason="needs Python 3.12+")
def test_single_phase_extension_gives_a_clear_500(apache_factory):
    a = apache_factory("WSGIPerInterpreterGIL On\n" + GROUPS)
    r = a.get("/a?import=_testsinglephase")
    if r.status == 200:
        pytest.skip("this Python's _testsinglephase loads anywhere")
    assert r.status == 500, r
    log = a.error_log()
    assert "extension module '_testsinglephase' cannot be loaded in application group 'a'" in log, log
    assert "Segmentation fault" not in log and "exit signal" not in log, log
    assert get_json(a, "/b")["group"] == "b"  # the process goes on serving


@pytest.mark.skipif(not OWN_GIL_PYTHON, reason="needs Python 3.12+")
def test_own_gil_interpreter_lives_like_any_other(apache_factory):
    # Daemon threads, reloading, graceful restart, atexit and a prompt stop.
    a = apache_factory(SOCKET_DIRECTIVE + "WSGIPerInterpreterGIL On\n"
                       "WSGIDaemonProcess d threads=2\n"
                       "WSGIScriptAlias /t {apps}/threads_atexit.wsgi process-group=d application-group=t\n")
    pid, version = a.get("/t").text.split()
    assert version == "one"
    script = a.app("threads_atexit.wsgi")
    with open(script) as f:
        text = f.read().replace('VERSION = "one"', 'VERSION = "two"')
    with open(script, "w") as f:
        f.write(text)
    os.utime(script, (time.time() + 5, time.time() + 5))
    assert wait_until(lambda: a.get("/t").text.split()[1] == "two", 10), a.error_log()
    a.graceful()
    assert wait_until(lambda: a.get("/t").status == 200, 10), a.error_log()
    pid = a.get("/t").text.split()[0]
    began = time.monotonic()
    a.stop()
    assert time.monotonic() - began < 8, a.error_log()
    assert wait_until(lambda: os.path.exists(os.path.join(a.data, "atexit." + pid)), 5), os.listdir(a.data)
    assert "Segmentation fault" not in a.error_log()
