"""Daemon mode: a daemon killed mid-request, request-, socket- and shutdown-timeout, an
unreachable group, peers that send part of a request or nothing."""
import os
import signal
import socket
import struct
import threading
import time

import pytest

from conftest import TARGET, pid_alive, wait_until
from daemon_support import SOCKET_DIRECTIVE, Load, error_lines, get_json, socket_files


def in_background(fn):
    """Runs fn() in a thread; returns a dict that gets 'result' or 'error' and 'elapsed'."""
    box = {}

    def run():
        t0 = time.monotonic()
        try:
            box["result"] = fn()
        except Exception as e:  # noqa: BLE001
            box["error"] = e
        box["elapsed"] = time.monotonic() - t0

    t = threading.Thread(target=run, daemon=True)
    t.start()
    box["thread"] = t
    return box


def test_kill_9_of_a_daemon(apache_factory):
    a = apache_factory(SOCKET_DIRECTIVE +
                       "WSGIDaemonProcess k threads=4\n"
                       "WSGIScriptAlias / {apps}/daemon/info.wsgi process-group=k\n")
    old = get_json(a, "/")["pid"]
    get_json(a, "/")  # the Apache child now has a pooled/used connection to the daemon
    mark = a.log_mark()
    inflight = in_background(lambda: a.get("/?sleep=6", timeout=20))
    time.sleep(0.7)  # the request is inside the app now
    assert "result" not in inflight and "error" not in inflight
    killed_at = time.monotonic()
    os.kill(old, signal.SIGKILL)

    # the next requests succeed within 2 s, served by a new process
    new = None
    while time.monotonic() - killed_at < 2.0 and new is None:
        try:
            r = a.get("/", timeout=2)
            if r.status == 200 and r.json()["pid"] != old:
                new = r.json()["pid"]
        except OSError:
            pass
        if new is None:
            time.sleep(0.05)
    assert new, "no request succeeded within 2 s of the kill\n" + a.log_since(mark)
    assert [a.get("/", timeout=5).status for _ in range(5)] == [200] * 5

    # the in-flight request got an error, promptly, and was not run again elsewhere
    inflight["thread"].join(20)
    if "result" in inflight:
        r = inflight["result"]
        assert r.status >= 500, "in-flight request answered %r after %.1f s (replayed?)\n%s" % (
            r, inflight["elapsed"], a.log_since(mark))
    assert inflight["elapsed"] < 5, (inflight, a.log_since(mark))
    assert not pid_alive(old)
    if TARGET == "swsgi":
        log = a.wait_log(mark, "daemon process %d of group 'k' was killed by signal 9" % old)
        assert "daemon process %d of group 'k' was killed by signal 9" % old in log, log


# mod_wsgi logs "has died", and decodes the exit code as a signal too.
@pytest.mark.swsgi_only
@pytest.mark.parametrize("code", [1, 9])
def test_exit_status_of_a_daemon_is_not_taken_for_a_signal(apache_factory, code):
    a = apache_factory(SOCKET_DIRECTIVE +
                       "WSGIDaemonProcess x threads=2\n"
                       "WSGIScriptAlias /info {apps}/daemon/info.wsgi process-group=x\n"
                       "WSGIScriptAlias /exit {apps}/daemon/exit.wsgi process-group=x\n")
    for generation in range(2):
        if generation:
            a.graceful()
            time.sleep(1)
        pid = get_json(a, "/info")["pid"]
        mark = a.log_mark()
        assert a.get("/exit?%d" % code).status >= 500
        line = "daemon process %d of group 'x' exited with status %d" % (pid, code)
        log = a.wait_log(mark, line)
        assert line in log and "killed by signal" not in log, log
        assert get_json(a, "/info")["pid"] != pid


@pytest.mark.swsgi_only
def test_request_timeout(apache_factory):
    # mod_wsgi 4.9.4 kills the process too, but answers 500 (truncated headers)
    a = apache_factory(SOCKET_DIRECTIVE +
                       "WSGIDaemonProcess rt threads=1 request-timeout=2\n"
                       "WSGIScriptAlias /rt {apps}/daemon/info.wsgi process-group=rt\n")
    old = get_json(a, "/rt")["pid"]
    mark = a.log_mark()
    t0 = time.monotonic()
    r = a.get("/rt/sleepy?sleep=30", timeout=20)
    elapsed = time.monotonic() - t0
    assert r.status == 504, (r, a.log_since(mark))
    assert 1.9 < elapsed < 6, elapsed
    log = a.wait_log(mark, "request-timeout", "/rt/sleepy")
    assert "request-timeout" in log and "/rt/sleepy" in log, log
    # the process is replaced
    assert wait_until(lambda: not pid_alive(old), 5), "pid %d still alive\n%s" % (old, a.log_since(mark))
    new = get_json(a, "/rt")["pid"]
    assert new != old


@pytest.mark.swsgi_only
def test_request_timeout_spares_quick_requests(apache_factory):
    # a process with a stuck request keeps answering others until it is restarted, and the
    # requests sent meanwhile on the Apache child's pooled connections (the stuck one's
    # included, once answered) reach the next process: none is lost
    # (mod_wsgi 4.9.4 divides the elapsed time by threads=: 504 only after ~12 s)
    a = apache_factory(SOCKET_DIRECTIVE +
                       "WSGIDaemonProcess rt threads=4 request-timeout=3\n"
                       "WSGIScriptAlias /rt {apps}/daemon/info.wsgi process-group=rt\n")
    pid = get_json(a, "/rt")["pid"]
    stuck = in_background(lambda: a.get("/rt?sleep=30", timeout=20))

    def answered_beside_it():
        # requests are sent one at a time: only the stuck one can run beside this one
        r = get_json(a, "/rt?sleep=0.1")
        return r["pid"] == pid and r["peak"] >= 2

    assert wait_until(answered_beside_it, 15), stuck
    load = Load(a, "/rt", clients=3).start()
    try:
        stuck["thread"].join(20)
        assert "result" in stuck, stuck
        assert stuck["result"].status == 504, stuck
        assert stuck["elapsed"] < 10, stuck
        assert wait_until(lambda: load.seen_pids() - {pid}, 15), (load.ok, load.failures[:5])
    finally:
        load.stop()
        finished = load.join(30)
    assert finished
    assert not load.failures, (load.ok, load.failures[:5], error_lines(a))
    assert get_json(a, "/rt")["pid"] != pid


def test_unreachable_group_gives_503(apache_factory):
    a = apache_factory(SOCKET_DIRECTIVE +
                       "WSGIDaemonProcess gone connect-timeout=1\n"
                       "WSGIScriptAlias /gone {apps}/daemon/info.wsgi process-group=gone\n")
    files = socket_files(a)
    assert len(files) == 1, files
    os.unlink(files[0])  # before any request: no connection exists yet
    mark = a.log_mark()
    t0 = time.monotonic()
    r = a.get("/gone", timeout=20)
    assert r.status == 503, r
    assert time.monotonic() - t0 < 5  # connect-timeout=1
    needle = "unable to connect to wsgi daemon process 'gone'"
    log = wait_until(lambda: needle in a.log_since(mark).lower(), 5) and a.log_since(mark)
    assert log, a.log_since(mark)


@pytest.mark.swsgi_only
def test_startup_timeout_restarts_a_daemon_whose_script_keeps_failing(apache_factory):
    # the script fails to load; startup-timeout=1 replaces the process a second later
    a = apache_factory(SOCKET_DIRECTIVE +
                       "WSGIDaemonProcess st startup-timeout=1\n"
                       "WSGIScriptAlias /st {apps}/daemon/info.wsgi process-group=st callable-object=missing\n")
    first = a.get("/st")
    assert first.status == 500, first
    needle = "startup-timeout of 1 s passed before a wsgi script loaded"
    assert wait_until(lambda: needle in a.error_log().lower(), 10), a.error_log()[-3000:]
    assert wait_until(lambda: "restarting it" in a.error_log(), 5), a.error_log()[-3000:]


def test_socket_timeout_defaults_to_apache_timeout(apache_factory):
    # Apache's Timeout (2 s here), not a fixed minute, bounds a silent daemon app
    a = apache_factory(SOCKET_DIRECTIVE + "Timeout 2\n"
                       "WSGIDaemonProcess silent threads=2\n"
                       "WSGIScriptAlias / {apps}/daemon/info.wsgi process-group=silent\n")
    get_json(a, "/")
    t0 = time.monotonic()
    r = a.get("/?sleep=6", timeout=20)
    elapsed = time.monotonic() - t0
    assert r.status == 504, r
    assert elapsed < 5, elapsed


@pytest.mark.swsgi_only
def test_shutdown_timeout_lets_a_request_finish_when_the_generation_ends(apache_factory):
    # mod_wsgi 4.9.4's daemons get SIGKILL 3 s after SIGTERM, whatever shutdown-timeout says
    a = apache_factory(SOCKET_DIRECTIVE +
                       "WSGIDaemonProcess long threads=2 shutdown-timeout=8\n"
                       "WSGIScriptAlias / {apps}/daemon/info.wsgi process-group=long\n")
    old = get_json(a, "/")["pid"]
    inflight = in_background(lambda: a.get("/?sleep=5", timeout=30))
    time.sleep(0.7)
    a.graceful()
    inflight["thread"].join(30)
    assert "result" in inflight, inflight
    assert inflight["result"].status == 200, inflight["result"]
    assert inflight["result"].json()["pid"] == old
    assert wait_until(lambda: not pid_alive(old), 10)
    assert get_json(a, "/")["pid"] != old


def one_worker_daemon(apache_factory):
    """An Apache whose group has one worker thread, and the group's socket path."""
    a = apache_factory(SOCKET_DIRECTIVE +
                       "WSGIDaemonProcess one threads=1\n"
                       "WSGIScriptAlias / {apps}/daemon/info.wsgi process-group=one\n")
    get_json(a, "/")
    [path] = socket_files(a)
    return a, path


def raw_peer(path, sent):
    """A connection to a daemon socket (as root or Apache's user) that sends `sent` and stops."""
    peer = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    peer.connect(path)
    peer.sendall(sent)
    return peer


@pytest.mark.swsgi_only
def test_a_peer_holding_half_a_frame_stalls_no_other_request(apache_factory):
    # A peer (an Apache child that died mid-frame) sends part of a request frame and stops;
    # with one worker thread, a daemon that waited for the rest would answer nobody else
    # until socket-timeout (Apache's Timeout, 30 s here). The frames are swsgi's.
    a, path = one_worker_daemon(apache_factory)
    peers = [raw_peer(path, sent) for sent in (b"\x01\x01", struct.pack("<BBHI", 1, 1, 0, 100) + b"REQUEST_")]
    try:
        time.sleep(0.5)
        t0 = time.monotonic()
        for i in range(5):
            assert a.get("/?n=%d" % i, timeout=20).status == 200
        assert time.monotonic() - t0 < 10, "requests waited behind the stuck peers"
    finally:
        for peer in peers:
            peer.close()
    get_json(a, "/")


@pytest.mark.swsgi_only
def test_a_silent_peer_does_not_keep_the_daemon_from_accepting(apache_factory):
    # A connection that never sends its request must not count as a request on its way for
    # long: with one worker, the daemon would accept no other connection.
    a, path = one_worker_daemon(apache_factory)
    peer = raw_peer(path, b"")
    try:
        time.sleep(0.5)
        # two at once: the Apache child needs a second connection to the daemon
        both = [in_background(lambda: a.get("/?sleep=0.5", timeout=25)) for _ in range(2)]
        for box in both:
            box["thread"].join(30)
        assert [box["result"].status for box in both] == [200, 200], both
        assert max(box["elapsed"] for box in both) < 10, both
    finally:
        peer.close()
