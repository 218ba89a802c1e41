"""Daemon mode: frames a peer on a daemon socket may send (the peers Apache's user can be: an
Apache child, or anything running as that user). Large frames leave no lasting cost; random
and mutated frames for a few seconds leave the daemon up and serving. The frames are swsgi's
(Sources/SwsgiProtocol/Frame.swift), so these tests are swsgi only."""
import os
import random
import socket
import struct
import time

import pytest

from conftest import SANITIZED, wait_until
from daemon_support import SOCKET_DIRECTIVE, get_json, proc_status, socket_files

pytestmark = pytest.mark.swsgi_only

REQUEST, READ_BODY, BODY, BODY_END, END = 1, 2, 3, 4, 8
MIB = 1 << 20


def frame(kind, payload, version=1):
    return struct.pack("<BBHI", version, kind, 0, len(payload)) + payload


def strings(items):
    return struct.pack("<I", len(items)) + b"".join(struct.pack("<I", len(s)) + s for s in items)


def environ(a, **extra):
    """What an Apache child sends for GET /: the CGI variables and the child's mod_wsgi.* keys."""
    env = {
        "REQUEST_METHOD": "GET", "REQUEST_URI": "/", "SCRIPT_NAME": "", "PATH_INFO": "/",
        "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1", "SERVER_PORT": str(a.port),
        "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1", "REMOTE_PORT": "1",
        "SCRIPT_FILENAME": a.app("daemon/info.wsgi"), "mod_wsgi.process_group": "peer",
        "mod_wsgi.application_group": "", "mod_wsgi.callable_object": "application",
        "mod_wsgi.script_reloading": "1",
    }
    env.update(extra)
    return [s.encode("latin-1") for kv in env.items() for s in kv]


def peer_daemon(apache_factory):
    a = apache_factory(SOCKET_DIRECTIVE +
                       "WSGIDaemonProcess peer threads=4\n"
                       "WSGIScriptAlias / {apps}/daemon/info.wsgi process-group=peer\n")
    pid = get_json(a, "/")["pid"]
    [path] = socket_files(a)
    return a, pid, path


def connect(path):
    peer = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    peer.connect(path)
    return peer


def ended(received):
    """Whether received holds a whole .end frame (the daemon's answer is complete)."""
    offset = 0
    while len(received) - offset >= 8:
        kind, length = received[offset + 1], struct.unpack_from("<I", received, offset + 4)[0]
        if kind == END and len(received) - offset >= 8 + length:
            return True
        offset += 8 + length
    return False


def exchange(path, data, wait=0.0):
    """Sends data on a new connection, reads what comes back until the daemon's answer ends
    or closes the connection, for at most wait seconds, and closes it."""
    peer = connect(path)
    received = b""
    try:
        peer.sendall(data)
        deadline = time.monotonic() + wait
        while not ended(received):
            peer.settimeout(max(0.001, deadline - time.monotonic()))
            chunk = peer.recv(65536)
            if not chunk:
                break
            received += chunk
    except OSError:
        pass
    finally:
        peer.close()
    return received


def rss_kib(pid):
    return int(proc_status(pid)["VmRSS"].split()[0])


def test_a_handmade_request_frame_is_served(apache_factory):
    # the fuzzer's starting point is a frame the daemon takes for a real request
    a, pid, path = peer_daemon(apache_factory)
    answer = exchange(path, frame(REQUEST, strings(environ(a))), wait=5)
    assert b"200 OK" in answer and b'"pid": %d' % pid in answer, answer[:300]


def test_large_frames_leave_no_lasting_cost(apache_factory):
    # 16 MiB is the largest payload the protocol allows. Before, a daemon that received a few
    # such frames kept their memory for good (20 MiB grew to 85 MiB and stayed).
    a, pid, path = peer_daemon(apache_factory)
    baseline = rss_kib(pid)
    size = 16 * MIB
    large = [
        strings(environ(a, HTTP_X_LARGE="x" * (size - 1000))),  # a request, served
        strings([b"v" * (size - 8)]),                          # a string list that is no environ
    ]
    for _ in range(3):
        for payload in large:
            exchange(path, frame(REQUEST, payload), wait=5)
        exchange(path, frame(BODY, b"\0" * size), wait=1)         # a body nobody asked for
    get_json(a, "/")
    # Lasting: on a loaded machine the daemon may still be reading the last frame just now.
    settled = SANITIZED or wait_until(lambda: rss_kib(pid) < baseline + 8 * 1024, 10)
    after = rss_kib(pid)
    print("daemon RSS: %d KiB before, %d KiB after 9 frames of 16 MiB" % (baseline, after))
    assert settled, "RSS %d KiB grew from %d KiB" % (after, baseline)
    assert get_json(a, "/")["pid"] == pid


def mutations(rng, a):
    """Byte strings, one per connection: random bytes, and frames the daemon takes for requests,
    flipped, cut, retyped, resized, or followed by answers nobody asked for."""
    valid = frame(REQUEST, strings(environ(a)))
    while True:
        choice = rng.randrange(8)
        if choice == 0:
            yield rng.randbytes(rng.randrange(200))
        elif choice == 1:
            data = bytearray(valid)
            for _ in range(rng.randrange(1, 8)):
                data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
            yield bytes(data)
        elif choice == 2:
            yield valid[:rng.randrange(len(valid))]
        elif choice == 3:
            yield frame(rng.randrange(256), valid[8:], version=rng.choice([1, 1, 0, 2, 255]))
        elif choice == 4:
            yield struct.pack("<BBHI", 1, REQUEST, 0, rng.choice([0, 3, 7, 2**24, 2**24 + 1, 2**32 - 1])) + valid[8:]
        elif choice == 5:
            items = [rng.randbytes(rng.randrange(20)) for _ in range(rng.randrange(12))]
            yield frame(REQUEST, strings(items))
        elif choice == 6:
            answers = [frame(rng.choice([BODY, BODY_END, READ_BODY, 5, 8, 9, 42]), rng.randbytes(rng.randrange(40)))
                       for _ in range(rng.randrange(1, 5))]
            yield frame(REQUEST, strings(environ(a, REQUEST_METHOD="POST", CONTENT_LENGTH="10"))) + b"".join(answers)
        else:
            env = environ(a)
            i = rng.randrange(len(env))
            env[i] = rng.choice([b"", b"\0", b"\xff" * 300, rng.randbytes(30), env[i] * 50])
            yield frame(REQUEST, strings(env))


def test_fuzzed_frames_leave_the_daemon_serving(apache_factory):
    # SWSGI_FUZZ_SEED repeats a run, SWSGI_FUZZ_SECONDS makes it longer.
    a, pid, path = peer_daemon(apache_factory)
    seed = int(os.environ.get("SWSGI_FUZZ_SEED", time.time()))
    rng = random.Random(seed)
    held = []  # connections left with part of a frame, as a dead Apache child leaves them
    sent = 0
    deadline = time.monotonic() + float(os.environ.get("SWSGI_FUZZ_SECONDS", 4))
    try:
        for data in mutations(rng, a):
            if time.monotonic() > deadline:
                break
            if rng.random() < 0.02 and len(held) < 20:
                peer = connect(path)
                peer.sendall(data[:rng.randrange(max(1, len(data)))])
                held.append(peer)
            else:
                exchange(path, data, wait=rng.choice([0, 0, 0.05]))
            sent += 1
            if sent % 100 == 0:
                r = a.get("/", timeout=20)
                assert r.status == 200, "seed %d, after %d: %r\n%s" % (seed, sent, r, a.error_log()[-3000:])
    finally:
        for peer in held:
            peer.close()
    # A frame may ask for another callable or no reloading of the loaded script: the daemon
    # then restarts as planned. Nothing may end it otherwise.
    log = a.error_log()
    planned = log.count("because WSGI script")
    print("fuzz seed %d: %d connections, %d planned restarts" % (seed, sent, planned))
    assert get_json(a, "/")["pid"] == pid or planned, "seed %d: the daemon restarted" % seed
    deaths = [line for line in log.splitlines() if "of group 'peer'" in line and
              ("killed by signal" in line or "exited with status" in line and "status 0;" not in line)]
    assert deaths == [], "seed %d: %s" % (seed, deaths)
    for fatal in ("Segmentation fault", "Bus error", "Aborted"):
        assert fatal not in log, "seed %d: %s\n%s" % (seed, fatal, log[-3000:])
