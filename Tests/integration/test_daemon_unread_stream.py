"""Daemon mode: a worker whose sends wait for a client that reads nothing does not keep the
process's other workers from Python (the GIL is not held across a send that can wait)."""
import os
import socket

from conftest import wait_until
from daemon_support import SOCKET_DIRECTIVE, read_proc

# x86_64 system call numbers: write, writev, sendto, sendmsg; and poll, where a send with a
# timeout waits for room on its one socket.
WRITES = {1, 20, 44, 46}
POLL = 7


def waits_to_send(pid):
    """Whether a thread of pid waits in a send, or in a poll of one descriptor with a timeout
    (idle workers wait without one, or in epoll_wait): /proc/PID/task/TID/syscall."""
    for tid in os.listdir("/proc/%d/task" % pid):
        fields = (read_proc(pid, "task/%s/syscall" % tid) or b"").split()
        if not fields or not fields[0].isdigit():
            continue
        number = int(fields[0])
        if number in WRITES or (number == POLL and int(fields[2], 16) == 1 and int(fields[3], 16) < 0x7fffffff):
            return True
    return False


def test_a_client_that_reads_nothing_of_a_stream_holds_up_no_other_request(apache_factory):
    # A send that waits gives up at Apache's Timeout (the child's write to the client, the
    # daemon's socket-timeout): longer than the requests below wait.
    a = apache_factory("Timeout 300\n" + SOCKET_DIRECTIVE + "WSGIDaemonProcess f threads=2\n"
                       "WSGIScriptAlias / {apps}/daemon/flood.wsgi process-group=f\n")
    daemon = int(a.get("/").body)
    assert not waits_to_send(daemon)
    stalled = socket.socket()
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.connect(("127.0.0.1", a.port))
    try:
        # 64 MiB in 1 KiB blocks: far more than the socket buffers on its way hold.
        stalled.sendall(b"GET /?blocks=65536&size=1024 HTTP/1.1\r\nHost: localhost\r\n\r\n")
        assert wait_until(lambda: waits_to_send(daemon), 30), "the daemon's worker never waited to send"
        for _ in range(5):
            assert a.get("/", timeout=60).body == str(daemon).encode(), a.error_log()[-3000:]
    finally:
        stalled.close()
