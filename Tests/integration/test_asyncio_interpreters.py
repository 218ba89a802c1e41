"""asyncio in several interpreters of one process. Before Python 3.12 the _asyncio accelerator
caches the running loop under a thread-state id that is unique only within an interpreter, so
a thread of one interpreter could be handed another interpreter's loop; swsgi gives its
sub-interpreters asyncio's pure-Python implementation there (see swsgi_py_new_interpreter)."""
import threading

import pytest

from conftest import PY_VERSION
from daemon_support import SOCKET_DIRECTIVE

# Where sub-interpreters keep asyncio's C accelerator.
C_IN_SUBINTERPRETERS = tuple(map(int, PY_VERSION.split("."))) >= (3, 12)

ASGI_GROUPS = (SOCKET_DIRECTIVE +
               "WSGIDaemonProcess d processes=1 threads=4\n"
               "WSGIScriptAlias /a {apps}/asgi/group.py process-group=d application-group=a interface=asgi\n"
               "WSGIScriptAlias /b {apps}/asgi/group.py process-group=d application-group=b interface=asgi\n"
               "WSGIScriptAlias /g {apps}/asgi/group.py process-group=d application-group=%{GLOBAL} interface=asgi\n"
               "WSGIScriptAlias /r {apps}/asgi/group.py process-group=d interface=asgi\n")


def answer(apache, path, host=None):
    r = apache.get(path, headers={"Host": host} if host else None, timeout=15)
    assert r.status == 200, "%s %r\n--- error.log\n%s" % (path, r, apache.error_log()[-4000:])
    return r.json()


@pytest.mark.swsgi_only  # mod_wsgi 4.9.4 has no ASGI
def test_asgi_apps_of_several_interpreters_each_run_their_loop(apache_factory):
    a = apache_factory(ASGI_GROUPS)
    for _ in range(2):
        groups = [answer(a, path) for path in ("/a", "/b", "/g")]
        assert [g["group"] for g in groups] == ["a", "b", ""], groups
        assert all(g["same_loop"] for g in groups), groups
        assert [g["c_tasks"] for g in groups] == [C_IN_SUBINTERPRETERS, C_IN_SUBINTERPRETERS, True], groups
    # %{RESOURCE}: each Host a client names is an interpreter of its own.
    hosts = [answer(a, "/r", host) for host in ("one.test", "two.test", "one.test")]
    assert hosts[0]["group"] != hosts[1]["group"] == "two.test|/r", hosts
    assert hosts[0]["group"] == hosts[2]["group"], hosts
    assert all(h["same_loop"] for h in hosts), hosts
    assert "another loop is running" not in a.error_log()


@pytest.mark.swsgi_only  # mod_wsgi 4.9.4 on 3.11 has the bug: "asyncio.run() cannot be called from a running event loop"
def test_asyncio_run_in_two_sub_interpreters_at_once(apache_factory):
    a = apache_factory(SOCKET_DIRECTIVE +
                       "WSGIDaemonProcess d processes=1 threads=2\n"
                       "WSGIScriptAlias /a {apps}/asyncio_run.wsgi process-group=d application-group=a\n"
                       "WSGIScriptAlias /b {apps}/asyncio_run.wsgi process-group=d application-group=b\n")
    for _ in range(3):
        answers = {}
        threads = [threading.Thread(target=lambda p=p: answers.update({p: answer(a, p)})) for p in ("/a", "/b")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert answers == {"/a": {"group": "a", "same_loop": True}, "/b": {"group": "b", "same_loop": True}}, \
            a.error_log()[-4000:]
