"""Daemon mode: 100 MiB request and response bodies stream through a daemon process
without it holding them in memory."""
import hashlib
import json

import pytest

from conftest import SANITIZED, TARGET
from daemon_support import (MIB, SOCKET_DIRECTIVE, get_json, pattern_chunks, vm_hwm_kib,
                            write_pattern_file)

SIZE_MIB = 100
RSS_LIMIT_KIB = 64 * 1024

DIRECTIVES = SOCKET_DIRECTIVE + """\
WSGIDaemonProcess big threads=2
WSGIScriptAlias /upload {apps}/daemon/upload.wsgi process-group=big
WSGIScriptAlias /download {apps}/file_wrapper.wsgi process-group=big
WSGIScriptAlias /info {apps}/daemon/info.wsgi process-group=big
"""


def test_100_mib_upload_and_file_wrapper_download(apache_factory):
    file_sha = {}

    def setup(a):
        file_sha["big.bin"] = write_pattern_file(a.path("data", "big.bin"), SIZE_MIB)

    a = apache_factory(DIRECTIVES, setup=setup)
    pid = get_json(a, "/info")["pid"]

    # upload: streamed from a generator; the app hashes wsgi.input.read(65536) as it goes
    sent = hashlib.sha256()

    def body():
        for chunk in pattern_chunks(SIZE_MIB):
            sent.update(chunk)
            yield chunk

    conn = a.connection(timeout=60)
    try:
        conn.request("POST", "/upload", body=body(),
                     headers={"Content-Length": str(SIZE_MIB * MIB),
                              "Content-Type": "application/octet-stream"})
        r = conn.getresponse()
        data = r.read()
    finally:
        conn.close()
    assert r.status == 200, (r.status, data[:500], a.error_log()[-3000:])
    got = json.loads(data)
    assert got["pid"] == pid
    assert got["length"] == SIZE_MIB * MIB
    assert got["sha256"] == sent.hexdigest()

    # download through wsgi.file_wrapper
    conn = a.connection(timeout=60)
    try:
        conn.request("GET", "/download?name=big.bin")
        r = conn.getresponse()
        assert r.status == 200, r.status
        received, length = hashlib.sha256(), 0
        while True:
            chunk = r.read(MIB)
            if not chunk:
                break
            received.update(chunk)
            length += len(chunk)
    finally:
        conn.close()
    assert length == SIZE_MIB * MIB
    assert received.hexdigest() == file_sha["big.bin"]

    # the same daemon process did both, and never held much in memory
    assert get_json(a, "/info")["pid"] == pid
    hwm = vm_hwm_kib(pid)
    print("daemon peak RSS: %d KiB" % hwm)
    assert SANITIZED or hwm < RSS_LIMIT_KIB, "daemon %d peak RSS %d KiB (target %s)" % (pid, hwm, TARGET)


def io_counters(pid):
    with open("/proc/%d/io" % pid) as f:
        return {k: int(v) for k, v in (line.split(":") for line in f)}


@pytest.mark.swsgi_only
def test_file_wrapper_bytes_do_not_pass_through_the_daemon(apache_factory):
    # swsgi passes the file descriptor to the Apache child (sendfile); mod_wsgi's
    # daemon reads the file and writes it to the socket
    size_mib = 32

    def setup(a):
        write_pattern_file(a.path("data", "mid.bin"), size_mib)

    a = apache_factory(DIRECTIVES, setup=setup)
    pid = get_json(a, "/info")["pid"]
    before = io_counters(pid)
    r = a.get("/download?name=mid.bin", timeout=60)
    after = io_counters(pid)
    assert r.status == 200 and len(r.body) == size_mib * MIB
    read, written = after["rchar"] - before["rchar"], after["wchar"] - before["wchar"]
    assert read < MIB and written < MIB, (read, written)
