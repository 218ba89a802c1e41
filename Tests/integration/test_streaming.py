"""Streamed responses: every block an app yields or writes reaches the client when it is
produced, not when the response ends (PEP 3333), in both modes."""
import re
import socket
import time

import pytest

from daemon_support import SOCKET_DIRECTIVE

STAMP = re.compile(rb"(\d{10}\.\d{4})\n")
BLOCKS = 4
# Each block must arrive within this long of being produced (the app pauses 0.6 s between).
PROMPT = 0.3

MODES = {
    "embedded": "",
    "daemon": SOCKET_DIRECTIVE + "WSGIDaemonProcess st threads=2\nWSGIProcessGroup st\n",
}


@pytest.fixture(scope="module", params=sorted(MODES))
def stream_apache(request, module_apache_factory):
    return module_apache_factory(MODES[request.param] + "WSGIScriptAlias /stream {apps}/stream.wsgi\n")


def arrivals(apache, path):
    """(produced, arrived) for each block, read off a raw socket as the bytes come in."""
    with socket.create_connection(("127.0.0.1", apache.port), timeout=30) as s:
        s.sendall(b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n" % path.encode())
        data, seen, found = b"", 0, []
        while True:
            chunk = s.recv(65536)
            now = time.time()
            if not chunk:
                break
            data += chunk
            for match in STAMP.finditer(data, seen):
                found.append((float(match.group(1)), now))
                seen = match.end()
    assert data.startswith(b"HTTP/1.1 200"), data[:200]
    return found


@pytest.mark.parametrize("path", ["/stream", "/stream?write", "/stream?length"])
def test_each_block_arrives_when_produced(stream_apache, path):
    stream_apache.get(path)  # the first request also loads the script
    blocks = arrivals(stream_apache, path)
    assert len(blocks) == BLOCKS, blocks
    late = [(round(arrived - produced, 3)) for produced, arrived in blocks if arrived - produced > PROMPT]
    assert not late, "blocks held back by (s): %s" % late
