"""Apache lifecycle and concurrency: graceful restart, prompt stop, many clients."""
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import pid_alive, wait_until


def test_graceful_restart_while_serving(apache_factory):
    a = apache_factory("WSGIScriptAlias / {apps}/environ.wsgi\n",
                       mpm=dict(ServerLimit=2, MaxRequestWorkers=50))
    first_pid = a.get_json("/")["pid"]
    parent = a.pid
    results, errors = [], []
    stop = threading.Event()

    def client():
        while not stop.is_set():
            try:
                r = a.get("/", timeout=20)
                results.append((r.status, r.json()["pid"] if r.status == 200 else None))
            except Exception as e:  # noqa: BLE001 - every failure counts
                errors.append(repr(e))

    threads = [threading.Thread(target=client) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        time.sleep(0.5)
        mark = a.log_mark()
        a.graceful()
        # a new generation of children answers
        new_pid = wait_until(
            lambda: next((p for s, p in results[-8:] if p and p != first_pid), None), 20)
        time.sleep(0.5)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    assert not errors, errors[:5]
    assert results and all(s == 200 for s, _ in results), [s for s, _ in results if s != 200][:5]
    assert new_pid, "no request was served by a new child after the graceful restart"
    assert a.get_json("/")["pid"] != first_pid
    assert a.read_pid() == parent and pid_alive(parent)  # same parent, new generation
    assert "resuming normal operations" in a.wait_log(mark, "resuming normal operations")
    # the old child goes away
    assert wait_until(lambda: not pid_alive(first_pid), 20)


@pytest.mark.swsgi_only
def test_stop_is_prompt_after_sub_interpreters(apache_factory):
    # mod_wsgi 4.9.4 with Python 3.11 hangs in the child's exit after destroying
    # a sub-interpreter, until Apache SIGKILLs it (~10 s).
    a = apache_factory(
        "WSGIScriptAlias /a {apps}/appgroup.wsgi application-group=alpha\n"
        "WSGIScriptAlias /b {apps}/appgroup.wsgi application-group=beta\n"
        "WSGIScriptAlias /r {apps}/appgroup.wsgi\n"
        "WSGIScriptAlias /g {apps}/appgroup.wsgi application-group=%{GLOBAL}\n",
        destroy_interpreters=True)
    for url in ("/a", "/b", "/r", "/g", "/a", "/b"):
        assert a.get(url).status == 200
    child = a.get_json("/a")["pid"]
    mark = a.log_mark()
    elapsed = a.stop()
    assert elapsed < 5.0, (elapsed, a.log_since(mark))
    assert not pid_alive(child)
    log = a.log_since(mark)
    assert "SIGKILL" not in log and "still did not exit" not in log, log


def test_concurrent_clients(apache_factory):
    a = apache_factory("WSGIScriptAlias / {apps}/threaded.wsgi\n")
    assert a.get("/?0").status == 200  # load the script first
    n = 32
    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=n) as pool:
        futures = [pool.submit(a.get, "/?0.3", timeout=30) for _ in range(n)]
        responses = [f.result(timeout=60) for f in futures]
    elapsed = time.monotonic() - t0
    assert [r.status for r in responses] == [200] * n
    data = [r.json() for r in responses]
    assert len({d["pid"] for d in data}) == 1
    assert all(d["multithread"] for d in data)
    peak = max(d["peak"] for d in data)
    assert peak >= 8, peak  # requests really ran in parallel threads
    assert len({d["thread"] for d in data}) >= 8
    assert elapsed < 6, elapsed  # 32 x 0.3 s one at a time would be 9.6 s
