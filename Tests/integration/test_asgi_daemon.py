"""What a daemon group does for its ASGI apps as for its WSGI ones: request-timeout (here the
request's task is cancelled and answered 504, the process serves on), maximum-requests and
graceful restarts, with lifespan shutdown and startup around each recycled process. uvicorn
has none of these: swsgi only."""
import hashlib
import json
import os
import re

import pytest

from asgi_support import asgi_serve, asgi_venv  # noqa: F401 (fixtures)
from conftest import wait_until

pytestmark = pytest.mark.swsgi_only
RAW = "apps/asgi/raw.py"


def lifespan_events(s):
    return [tuple(line.split()) for line in s.data_file("lifespan.log").splitlines()]


def test_request_timeout_cancels_the_task_and_answers_504(asgi_serve):
    s = asgi_serve("swsgi", RAW, daemon_options="request-timeout=1")
    pid = json.loads(s.request("GET", "/state")[2])["own"]
    status, _, _ = s.request("GET", "/sleep?5")
    assert status == 504
    assert wait_until(lambda: ("cancelled", str(pid)) in lifespan_events(s), 5), s.log()[-2000:]
    assert "request-timeout of 1 s reached by ASGI app" in s.log()
    # The process serves on: the other requests' tasks were not disturbed.
    assert json.loads(s.request("GET", "/state")[2])["own"] == pid


def test_request_timeout_bounds_the_wait_for_a_slow_lifespan_startup(asgi_serve):
    s = asgi_serve("swsgi", RAW, daemon_options="request-timeout=1",
                   setup=lambda data: open(os.path.join(data, "slow-startup"), "w").close())
    assert s.request("GET", "/state")[0] == 504
    assert "request-timeout of 1 s passed while its lifespan startup ran" in s.log()
    # The startup went on, and ran once.
    assert wait_until(lambda: lifespan_events(s), 5)
    status, _, body = s.request("GET", "/state")
    assert status == 200, body
    assert [e[0] for e in lifespan_events(s)] == ["startup"]


def test_lifespan_startup_runs_at_process_start_when_both_groups_are_named(asgi_serve):
    # As mod_wsgi preloads a script whose alias names both groups: no request needed.
    s = asgi_serve("swsgi", RAW, alias_options="application-group=%{GLOBAL}")
    assert wait_until(lambda: lifespan_events(s), 15), s.log()[-2000:]
    [(event, pid)] = lifespan_events(s)
    assert event == "startup"
    assert json.loads(s.request("GET", "/state")[2])["pid"] == int(pid)
    s.stop()
    assert lifespan_events(s) == [("startup", pid), ("shutdown", pid)]


def test_slow_startup_at_process_start_comes_before_the_first_request(asgi_serve):
    # The process takes no request until its startup ended: request-timeout does not run out
    # on a request that waited for it.
    s = asgi_serve("swsgi", RAW, daemon_options="request-timeout=1", alias_options="application-group=%{GLOBAL}",
                   setup=lambda data: open(os.path.join(data, "slow-startup"), "w").close())
    status, _, body = s.request("GET", "/state")
    assert status == 200, body
    [(event, pid)] = lifespan_events(s)
    assert event == "startup" and json.loads(body)["own"] == int(pid)


def test_failed_startup_at_process_start_is_logged_and_answers_503(asgi_serve):
    s = asgi_serve("swsgi", RAW, alias_options="application-group=%{GLOBAL}",
                   setup=lambda data: open(os.path.join(data, "fail-startup"), "w").close())
    assert wait_until(lambda: "lifespan startup failed: the database is unreachable" in s.log(), 15), s.log()[-2000:]
    assert [s.request("GET", "/state")[0] for _ in range(2)] == [503, 503]
    assert s.log().count("answering 503 as its lifespan startup failed") == 2


def test_maximum_requests_recycles_with_lifespan_shutdown_and_startup(asgi_serve):
    s = asgi_serve("swsgi", RAW, daemon_options="maximum-requests=2")
    pids = [json.loads(s.request("GET", "/state")[2])["own"] for _ in range(3)]
    assert pids[0] == pids[1] != pids[2]
    events = lifespan_events(s)
    assert events == [("startup", str(pids[0])), ("shutdown", str(pids[0])), ("startup", str(pids[2]))], events


def test_graceful_restart_runs_lifespan_shutdown(asgi_serve):
    s = asgi_serve("swsgi", RAW)
    old = json.loads(s.request("GET", "/state")[2])["own"]
    s.server.graceful()
    assert wait_until(lambda: ("shutdown", str(old)) in lifespan_events(s), 15), s.log()[-2000:]
    new = wait_until(lambda: _pid_or_none(s), 15)
    assert new and new != old
    assert lifespan_events(s)[-1] == ("startup", str(new))


def _pid_or_none(s):
    try:
        status, _, body = s.request("GET", "/state")
    except OSError:
        return None
    return json.loads(body)["own"] if status == 200 else None


def test_a_group_serves_wsgi_and_asgi_side_by_side(asgi_serve):
    s = asgi_serve("swsgi", RAW, extra="WSGIScriptAlias /wsgi {apps}/daemon/info.wsgi process-group=api\n")
    asgi_pid = json.loads(s.request("GET", "/state")[2])["own"]
    conn = s.connection()
    conn.request("GET", "/wsgi")
    r = conn.getresponse()
    body = r.read()
    conn.close()
    assert r.status == 200, body
    assert re.search(rb'"pid": *%d' % asgi_pid, body), body


def test_one_daemon_thread_serves_asgi_and_wsgi_requests_in_turn(asgi_serve):
    # threads=1: every request runs on the one worker thread, which hands each ASGI request
    # to the event loop and is woken for its I/O; the task of a timed-out request may still
    # wake it after it went on to the next.
    s = asgi_serve("swsgi", RAW, threads=1, daemon_options="request-timeout=2",
                   extra="WSGIScriptAlias /wsgi {apps}/daemon/info.wsgi process-group=api\n")
    assert s.request("GET", "/sleep?5")[0] == 504
    conn = s.connection()
    for i in range(10):
        # Larger than one http.request message: the worker reads pieces as the task asks.
        body = os.urandom(70000 + i)
        conn.request("POST", s.url("/echo"), body=body)
        r = conn.getresponse()
        answer = json.loads(r.read())
        assert r.status == 200 and answer["length"] == len(body), answer
        assert answer["sha256"] == hashlib.sha256(body).hexdigest()
        conn.request("GET", "/wsgi")
        r = conn.getresponse()
        assert r.status == 200 and b'"pid"' in r.read()
        conn.request("GET", s.url("/stream?3,0"))
        r = conn.getresponse()
        assert (r.status, r.read()) == (200, b"chunk 0\nchunk 1\nchunk 2\n")
    conn.close()
