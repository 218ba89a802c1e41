"""WSGIEnableSendfile: a wsgi.file_wrapper file is sent with sendfile where On; by default
(Off, as mod_wsgi) Apache's core copies it from a mapping of the file, or reads it where
EnableMMAP is Off. The file arrives whole every way, in both modes."""
import hashlib
import socket

import pytest

from conftest import wait_until
from daemon_support import MIB, SOCKET_DIRECTIVE, descendants, read_proc, write_pattern_file

CONF = SOCKET_DIRECTIVE + """
WSGIDaemonProcess files threads=2
<Location /on>
    WSGIEnableSendfile On
</Location>
<Location /nommap>
    EnableMMAP Off
</Location>
<Location /don>
    WSGIEnableSendfile On
</Location>
WSGIScriptAlias /off {apps}/file_wrapper.wsgi
WSGIScriptAlias /on {apps}/file_wrapper.wsgi
WSGIScriptAlias /nommap {apps}/file_wrapper.wsgi
WSGIScriptAlias /doff {apps}/file_wrapper.wsgi process-group=files
WSGIScriptAlias /don {apps}/file_wrapper.wsgi process-group=files
WSGIScriptAlias /env-off {apps}/environ.wsgi
WSGIScriptAlias /env-on {apps}/environ.wsgi
WSGIScriptAlias /env-don {apps}/environ.wsgi process-group=files
<Location /env-on>
    WSGIEnableSendfile On
</Location>
<Location /env-don>
    WSGIEnableSendfile On
</Location>
"""
SIZE_MIB = 16
LOCATIONS = ["off", "on", "nommap", "doff", "don"]


@pytest.fixture(scope="module")
def apache(module_apache_factory):
    sha = {}

    def setup(a):
        sha["big"] = write_pattern_file(a.path("data", "big.bin"), SIZE_MIB)
    a = module_apache_factory(CONF, setup=setup)
    a.sha = sha["big"]
    return a


@pytest.mark.parametrize("location", LOCATIONS)
def test_file_arrives_whole(apache, location):
    r = apache.get("/%s?name=big.bin" % location, timeout=60)
    assert r.status == 200, (r, apache.error_log()[-2000:])
    assert len(r.body) == SIZE_MIB * MIB and hashlib.sha256(r.body).hexdigest() == apache.sha


@pytest.mark.parametrize("location, expected", [("env-off", "0"), ("env-on", "1"), ("env-don", "1")])
def test_environ_says_whether_sendfile_is_on(apache, location, expected):
    assert apache.get_json("/" + location)["mod_wsgi.enable_sendfile"] == expected


def mapped(apache):
    """Whether an Apache process has the served file mapped."""
    path = apache.path("data", "big.bin").encode()
    return any(path in (read_proc(pid, "maps") or b"") for pid in descendants(apache.pid))


@pytest.mark.parametrize("location, maps", [
    ("off", True), ("on", False),
    pytest.param("nommap", False, marks=pytest.mark.swsgi_only)])  # mod_wsgi maps it all the same
def test_how_the_file_leaves(apache, location, maps):
    # A client that takes the first bytes and then nothing: the rest waits in Apache's
    # output filter, as a mapping of the file unless it is sendfile'd or read.
    with socket.socket() as client:
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        client.settimeout(30)
        client.connect(("127.0.0.1", apache.port))
        client.sendall(b"GET /%s?name=big.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % location.encode())
        assert client.recv(4096).startswith(b"HTTP/1.1 200 ")
        assert wait_until(lambda: mapped(apache), 5 if maps else 1) == maps
