"""Daemon mode: clients that send their request bodies slowly hold no worker thread of the
daemon, so the group's other requests are not starved; what the Apache child reads ahead
reaches the app unchanged (Content-Length and chunked bodies, across the buffer's limits)."""
import hashlib
import json
import os
import socket
import threading
import time

import pytest

from conftest import TARGET, read_until_closed
from daemon_support import SOCKET_DIRECTIVE, get_json

KIB = 1024
MIB = 1024 * KIB

# Apache needs a thread for every slow client and for the GETs measured beside them.
MANY_THREADS = dict(ThreadsPerChild=64, ThreadLimit=64, MaxRequestWorkers=64)


def group(options=""):
    return SOCKET_DIRECTIVE + (
        "WSGIDaemonProcess slow threads=4 %s\n"
        "WSGIScriptAlias /up {apps}/daemon/upload.wsgi process-group=slow\n"
        "WSGIScriptAlias /info {apps}/daemon/info.wsgi process-group=slow\n"
        "<Location /up>\n    WSGIChunkedRequest On\n</Location>\n"
        "LimitRequestBody 0\n" % options)


class SlowUploaders:
    """`count` raw connections, each POSTing a `size`-byte body to `path` at `rate` bytes a
    second (one piece a second), until the body is sent or stop()."""

    def __init__(self, port, path, count, size, rate):
        self.port, self.path, self.count, self.size, self.rate = port, path, count, size, rate
        self.socks = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._drip, daemon=True)

    def start(self):
        head = ("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n"
                "Content-Length: %d\r\n\r\n" % (self.path, self.size)).encode()
        for _ in range(self.count):
            s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            s.sendall(head)
            self.socks.append(s)
        self.thread.start()
        return self

    def _drip(self):
        sent = 0
        while sent < self.size and not self.stopping.wait(1.0):
            piece = b"x" * min(self.rate, self.size - sent)
            for s in self.socks:
                try:
                    s.sendall(piece)
                except OSError:
                    pass
            sent += len(piece)

    def stop(self):
        self.stopping.set()
        self.thread.join(5)
        for s in self.socks:
            s.close()


def get_latencies(apache, path, clients, seconds):
    """`clients` threads GET path one after another for `seconds`: (latency, status) of each."""
    results, lock = [], threading.Lock()
    deadline = time.monotonic() + seconds

    def client():
        while time.monotonic() < deadline:
            t0 = time.monotonic()
            try:
                status = apache.get(path, timeout=60).status
            except OSError as e:
                status = repr(e)
            with lock:
                results.append((time.monotonic() - t0, status))

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 70)
    return results


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


@pytest.mark.swsgi_only
def test_slow_uploads_do_not_starve_the_group(apache_factory):
    # 30 clients send 1 MiB bodies at 1 KiB/s (17 minutes each) to a group of 4 threads; a
    # daemon whose workers pulled those bodies from the clients would answer nothing else.
    a = apache_factory(group(), mpm=MANY_THREADS)
    get_json(a, "/info")
    uploads = SlowUploaders(a.port, "/up", count=30, size=MIB, rate=KIB).start()
    try:
        time.sleep(2)
        results = get_latencies(a, "/info", clients=4, seconds=8)
    finally:
        uploads.stop()
    latencies = [latency for latency, _ in results]
    p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
    print("GETs beside 30 slow uploads: %d, p50 %.3f s, p99 %.3f s, max %.3f s"
          % (len(latencies), p50, p99, max(latencies)))
    assert [status for _, status in results if status != 200] == [], a.error_log()[-3000:]
    assert p99 < 5, "p99 %.1f s: slow uploads starve the group" % p99
    get_json(a, "/info")


def post_slowly(port, path, pieces, delay, chunked=False):
    """POSTs the byte strings of pieces one by one, delay seconds apart; the response."""
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    try:
        length = "Transfer-Encoding: chunked" if chunked else "Content-Length: %d" % sum(map(len, pieces))
        s.sendall(("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s\r\n\r\n"
                   % (path, length)).encode())
        for piece in pieces:
            s.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            time.sleep(delay)
        if chunked:
            s.sendall(b"0\r\n\r\n")
        response = read_until_closed(s)
    finally:
        s.close()
    head, _, body = response.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("size", [1000, 200 * KIB, 700 * KIB], ids=["small", "spilled", "beyond-buffer"])
def test_bodies_read_ahead_reach_the_app_whole(apache_factory, size, chunked):
    # 1000 bytes stay in memory, 200 KiB go on to a temporary file, 700 KiB are more than
    # the 512 KiB the child reads ahead here: the rest streams as the app reads it.
    a = apache_factory(group("request-buffer-size=524288" if TARGET == "swsgi" else ""))
    data = os.urandom(size)
    pieces = [data[i:i + 50 * KIB] for i in range(0, size, 50 * KIB)]
    status, body = post_slowly(a.port, "/up", pieces, delay=0.05, chunked=chunked)
    assert status == 200, a.error_log()[-3000:]
    got = json.loads(body)
    assert (got["length"], got["sha256"]) == (size, hashlib.sha256(data).hexdigest())


def test_each_body_read_ahead_is_its_own_after_larger_ones(apache_factory):
    # The child keeps its temporary files for the next requests: a body that follows a
    # larger one must reach the app as sent, without any of the earlier one's bytes.
    a = apache_factory(group())
    for size in (900 * KIB, 300 * KIB, 100 * KIB, 65 * KIB, 1000):
        data = os.urandom(size)
        status, body = post_slowly(a.port, "/up", [data[:size // 2], data[size // 2:]], delay=0.05)
        assert status == 200, a.error_log()[-3000:]
        got = json.loads(body)
        assert (got["length"], got["sha256"]) == (size, hashlib.sha256(data).hexdigest())


def body_file_groups():
    return SOCKET_DIRECTIVE + (
        "WSGIDaemonProcess a threads=2\nWSGIDaemonProcess b threads=2\nWSGIApplicationGroup %{GLOBAL}\n"
        "WSGIScriptAlias /a {apps}/daemon/body_files.wsgi process-group=a\n"
        "WSGIScriptAlias /b {apps}/daemon/upload.wsgi process-group=b\n")


@pytest.mark.swsgi_only
def test_a_daemon_is_given_no_more_of_a_body_file_than_its_body(apache_factory):
    # The child hands the daemon the part of a body it read ahead into a file as the file
    # itself, and reuses its files: one that held a larger body is cut to the new one first.
    a = apache_factory(body_file_groups())
    assert post_slowly(a.port, "/a", [os.urandom(900 * KIB)], delay=0) == (200, b"%d" % (896 * KIB))
    # 256 KiB in the file, the last 44 KiB in memory.
    assert post_slowly(a.port, "/a", [os.urandom(300 * KIB)], delay=0) == (200, b"%d" % (256 * KIB))


@pytest.mark.swsgi_only
def test_a_body_file_kept_in_one_group_never_holds_another_groups_body(apache_factory):
    # An app may keep a duplicate of the descriptor: a file is reused for its group only.
    a = apache_factory(body_file_groups())
    first = os.urandom(300 * KIB)
    assert post_slowly(a.port, "/a", [first], delay=0) == (200, b"%d" % (256 * KIB))
    secret = os.urandom(300 * KIB)
    status, body = post_slowly(a.port, "/b", [secret], delay=0)
    assert status == 200 and json.loads(body)["length"] == len(secret), a.error_log()[-3000:]
    kept = a.get("/a").body
    assert kept == first[:256 * KIB]


@pytest.mark.swsgi_only
def test_a_body_is_whole_when_no_temporary_file_can_be_made(apache_factory, monkeypatch):
    # Past 64 KiB the child moves what it read ahead to a file in TMPDIR; where it cannot,
    # it says so and the rest of the body comes from the client as the app reads it.
    monkeypatch.setenv("TMPDIR", "/nonexistent-swsgi-tmp")
    a = apache_factory(group())
    data = os.urandom(300 * KIB)
    status, body = post_slowly(a.port, "/up", [data[:100 * KIB], data[100 * KIB:]], delay=0.1)
    assert status == 200, a.error_log()[-3000:]
    got = json.loads(body)
    assert (got["length"], got["sha256"]) == (len(data), hashlib.sha256(data).hexdigest())
    assert "cannot make a temporary file for a request body in /nonexistent-swsgi-tmp" in a.error_log()


def test_a_client_that_expects_100_continue_gets_it_and_its_answer(apache_factory):
    # curl sends larger bodies only after "100 Continue": the child that reads ahead asks for it.
    a = apache_factory(group())
    data = os.urandom(300 * KIB)
    s = socket.create_connection(("127.0.0.1", a.port), timeout=10)
    try:
        s.sendall(b"POST /up HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nExpect: 100-continue\r\n"
                  b"Content-Length: %d\r\n\r\n" % len(data))
        assert s.recv(100).startswith(b"HTTP/1.1 100 Continue\r\n")
        s.sendall(data)
        response = b""
        while not response.endswith(b"}"):
            chunk = s.recv(65536)
            if not chunk:
                break
            response += chunk
    finally:
        s.close()
    head, _, body = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), response[:300]
    got = json.loads(body)
    assert (got["length"], got["sha256"]) == (len(data), hashlib.sha256(data).hexdigest())
