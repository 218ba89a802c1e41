"""interrupt-timeout (mod_wsgi 6; 4.9.4 has no such option): a request past request-timeout
is first interrupted with mod_wsgi.RequestTimeout; one that unwinds is answered 504 and the
process goes on, one that does not is cut off and the process restarted."""
import http.client
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import PY_VERSION, pid_alive, wait_until
from daemon_support import SOCKET_DIRECTIVE

pytestmark = pytest.mark.swsgi_only

GROUPS = {"global": "%{GLOBAL}", "sub-interpreter": "stuck"}
if tuple(map(int, PY_VERSION.split("."))) >= (3, 12):
    GROUPS["sub-interpreter with its own GIL"] = "own-gil"


def conf(group, threads=1):
    return (SOCKET_DIRECTIVE + ("WSGIPerInterpreterGIL On\n" if group == "own-gil" else "") +
            "WSGIDaemonProcess it threads=%d request-timeout=1 interrupt-timeout=3\n" % threads +
            "WSGIScriptAlias / {apps}/daemon/stuck.wsgi process-group=it application-group=%s\n" % group)


def pid_of(a):
    r = a.get("/pid")
    assert r.status == 200, r
    return int(r.body)


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_an_interrupted_request_gets_504_and_the_process_goes_on(apache_factory, group):
    a = apache_factory(conf(GROUPS[group]))
    pid = pid_of(a)
    mark = a.log_mark()
    t0 = time.monotonic()
    r = a.get("/spin", timeout=20)
    elapsed = time.monotonic() - t0
    log = a.wait_log(mark, "INTERRUPTED-WITH")
    assert r.status == 504, (r, log)
    assert elapsed < 3, (elapsed, log)
    assert "INTERRUPTED-WITH mod_wsgi.RequestTimeout exception=False" in log, log
    # The same thread (threads=1) serves the next requests, with no exception left over.
    assert [pid_of(a) for _ in range(3)] == [pid] * 3, a.log_since(mark)
    time.sleep(3.5)  # past interrupt-timeout: nothing restarts the process later
    assert pid_of(a) == pid and pid_alive(pid), a.log_since(mark)
    log = a.log_since(mark)
    assert "interrupting it" in log and "answering 504" in log, log
    assert "restarting the process" not in log and "is stopping" not in log, log


def test_other_requests_go_on_while_one_is_interrupted(apache_factory):
    a = apache_factory(conf("%{GLOBAL}", threads=4))
    pid = pid_of(a)
    with ThreadPoolExecutor(2) as pool:
        stuck = [pool.submit(a.get, "/spin", timeout=20) for _ in range(2)]
        time.sleep(0.3)
        for _ in range(5):
            assert pid_of(a) == pid
        assert [s.result().status for s in stuck] == [504, 504]
    assert pid_of(a) == pid


def test_a_request_that_ignores_the_interruption_restarts_the_process(apache_factory):
    a = apache_factory(conf("%{GLOBAL}"))
    pid = pid_of(a)
    mark = a.log_mark()
    t0 = time.monotonic()
    r = a.get("/ignore", timeout=20)
    elapsed = time.monotonic() - t0
    assert r.status == 504, (r, a.log_since(mark))
    assert 3.5 < elapsed < 8, elapsed  # request-timeout, then interrupt-timeout
    log = a.wait_log(mark, "did not unwind")
    assert "IGNORED-INTERRUPTION" in log, log
    assert "GET /ignore did not unwind within interrupt-timeout of 3 s after request-timeout of 1 s" in log, log
    assert wait_until(lambda: not pid_alive(pid), 10), a.log_since(mark)
    assert pid_of(a) != pid


def test_a_response_interrupted_after_its_headers_is_cut_short(apache_factory):
    a = apache_factory(conf("%{GLOBAL}"))
    pid = pid_of(a)
    mark = a.log_mark()
    conn = http.client.HTTPConnection("127.0.0.1", a.port, timeout=20)
    conn.request("GET", "/stream")
    r = conn.getresponse()
    assert r.status == 200
    with pytest.raises(http.client.IncompleteRead) as cut:
        r.read()
    assert cut.value.partial == b"first block\n"
    conn.close()
    assert pid_of(a) == pid
    log = a.wait_log(mark, "its response was cut short")
    assert "request-timeout interrupted WSGI script" in log, log
