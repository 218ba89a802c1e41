"""Helpers for the daemon-mode tests (test_daemon*.py): process inspection through
/proc, socket files, a keep-alive load generator and a throwaway system user."""
import glob
import hashlib
import http.client
import json
import os
import random
import re
import subprocess
import threading
import time
from collections import Counter

import pytest

from conftest import IS_ROOT, pid_alive, wait_until

# Relative to the ServerRoot; kept short (Unix socket paths are limited to 107 bytes).
SOCKET_PREFIX = "run/w"
SOCKET_DIRECTIVE = "WSGISocketPrefix %s\n" % SOCKET_PREFIX


# --------------------------------------------------------------------------- /proc

def read_proc(pid, name):
    try:
        with open("/proc/%d/%s" % (pid, name), "rb") as f:
            return f.read()
    except OSError:
        return None


def cmdline(pid):
    raw = read_proc(pid, "cmdline")
    return raw.replace(b"\0", b" ").decode("utf-8", "replace").strip() if raw else ""


def proc_status(pid):
    raw = read_proc(pid, "status")
    out = {}
    for line in (raw or b"").decode("utf-8", "replace").splitlines():
        k, _, v = line.partition(":")
        out[k] = v.strip()
    return out


def vm_hwm_kib(pid):
    """Peak resident set size of pid in KiB (VmHWM)."""
    return int(proc_status(pid)["VmHWM"].split()[0])


def ppid_of(pid):
    raw = read_proc(pid, "stat")
    if not raw:
        return None
    try:
        return int(raw.decode().rsplit(")", 1)[1].split()[1])
    except (IndexError, ValueError):
        return None


def all_pids():
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def descendants(root_pid):
    """Live (non-zombie) descendants of root_pid, as a sorted list."""
    parent = {p: ppid_of(p) for p in all_pids()}
    found, frontier = set(), {root_pid}
    while frontier:
        nxt = {p for p, pp in parent.items() if pp in frontier and p not in found}
        found |= nxt
        frontier = nxt
    return sorted(p for p in found if pid_alive(p))


def named(pids, text):
    return [p for p in pids if text in cmdline(p)]


def wait_gone(pids, timeout):
    """Waits until none of pids is alive; returns those still alive."""
    wait_until(lambda: not any(pid_alive(p) for p in pids), timeout)
    return [p for p in pids if pid_alive(p)]


# --------------------------------------------------------------------------- sockets

def socket_files(apache):
    return sorted(glob.glob(apache.path(SOCKET_PREFIX) + ".*.sock"))


# --------------------------------------------------------------------------- HTTP

def get_json(apache, path, timeout=10):
    r = apache.get(path, timeout=timeout)
    assert r.status == 200, "%r\n--- error.log\n%s" % (r, apache.error_log()[-4000:])
    return r.json()


class Load:
    """`clients` threads send GET path over keep-alive connections until `total`
    requests were made or stop() is called.

    Every non-200 response and every exception is a failure, with one exception that
    browsers make too: when a *reused* keep-alive connection turns out to be closed
    by the server before any byte of a response arrived, the request is sent again on
    a new connection (counted in `retries`)."""

    RETRYABLE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError,
                 ConnectionAbortedError)

    def __init__(self, apache, path, clients, total=None, timeout=15):
        self.apache, self.path, self.clients, self.total = apache, path, clients, total
        self.timeout = timeout
        self.lock = threading.Lock()
        self.issued = 0
        self.ok = 0
        self.retries = 0
        self.failures = []
        self.pids = Counter()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._client, daemon=True) for _ in range(clients)]

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def stop(self):
        self.stopping.set()

    def join(self, timeout):
        deadline = time.monotonic() + timeout
        for t in self.threads:
            t.join(max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in self.threads)

    def seen_pids(self):
        """The pids that answered so far (safe while the clients run)."""
        with self.lock:
            return set(self.pids)

    def _ticket(self):
        with self.lock:
            if self.stopping.is_set() or (self.total is not None and self.issued >= self.total):
                return False
            self.issued += 1
            return True

    def _fail(self, what):
        with self.lock:
            self.failures.append(what)

    def _client(self):
        conn, reused = None, False
        while self._ticket():
            for attempt in (0, 1):
                if conn is None:
                    conn, reused = self.apache.connection(self.timeout), False
                try:
                    conn.request("GET", self.path)
                    r = conn.getresponse()
                except self.RETRYABLE as e:
                    conn.close()
                    conn = None
                    if reused and attempt == 0:
                        with self.lock:
                            self.retries += 1
                        continue
                    self._fail("before response: %r" % e)
                    break
                except Exception as e:  # noqa: BLE001 - every failure counts
                    conn.close()
                    conn = None
                    self._fail("before response: %r" % e)
                    break
                try:
                    body = r.read()
                except Exception as e:  # noqa: BLE001
                    conn.close()
                    conn = None
                    self._fail("reading body of %s: %r" % (r.status, e))
                    break
                reused = True
                if r.will_close:
                    conn.close()
                    conn = None
                if r.status != 200:
                    self._fail("status %s: %r" % (r.status, body[:200]))
                    break
                try:
                    pid = json.loads(body)["pid"]
                except (ValueError, KeyError):
                    self._fail("bad body: %r" % body[:200])
                    break
                with self.lock:
                    self.ok += 1
                    self.pids[pid] += 1
                break
        if conn is not None:
            conn.close()


# --------------------------------------------------------------------------- big bodies

MIB = 1 << 20


def pattern_chunks(total_mib, seed=1):
    """Yields total_mib chunks of 1 MiB, each different; returns nothing."""
    base = bytearray(random.Random(seed).randbytes(MIB))
    for i in range(total_mib):
        base[:8] = i.to_bytes(8, "little")
        yield bytes(base)


def pattern_sha256(total_mib, seed=1):
    sha = hashlib.sha256()
    for chunk in pattern_chunks(total_mib, seed):
        sha.update(chunk)
    return sha.hexdigest()


def write_pattern_file(path, total_mib, seed=2):
    sha = hashlib.sha256()
    with open(path, "wb") as f:
        for chunk in pattern_chunks(total_mib, seed):
            f.write(chunk)
            sha.update(chunk)
    return sha.hexdigest()


# --------------------------------------------------------------------------- system user

@pytest.fixture(scope="module")
def throwaway_user():
    """A system user with its own group, made with useradd --system for the tests of
    this module and removed afterwards: (name, uid, gid).  Skips unless root."""
    if not IS_ROOT:
        pytest.skip("user=/group= need Apache started as root (and useradd)")
    name = "swsgit%d" % (os.getpid() % 100000)
    p = subprocess.run(["useradd", "--system", "--user-group", "--no-create-home",
                        "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", name],
                       capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        pytest.skip("useradd failed: %s" % (p.stderr or p.stdout))
    try:
        import pwd
        pw = pwd.getpwnam(name)
        yield name, pw.pw_uid, pw.pw_gid
    finally:
        subprocess.run(["userdel", name], capture_output=True, timeout=30)
        subprocess.run(["groupdel", name], capture_output=True, timeout=30)


def error_lines(apache, mark=0, limit=20):
    """The error-level (and worse) lines of the error log after mark, for messages."""
    lines = [l for l in apache.log_since(mark).splitlines()
             if re.search(r":(error|crit|alert|emerg)\]", l)]
    return "\n".join(lines[:limit])
