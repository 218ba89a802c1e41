"""A Range request for a wsgi.file_wrapper response is answered by Apache from the file (206),
as mod_wsgi does in embedded mode; swsgi does the same in daemon mode."""
import os

import pytest

from daemon_support import SOCKET_DIRECTIVE

CONF = SOCKET_DIRECTIVE + """
WSGIDaemonProcess ranges threads=2
WSGIScriptAlias /emb {apps}/file_wrapper.wsgi
WSGIScriptAlias /dmn {apps}/file_wrapper.wsgi process-group=ranges
"""
CONTENT = bytes(range(256)) * 400


@pytest.fixture(scope="module")
def apache(module_apache_factory):
    def setup(a):
        with open(os.path.join(a.data, "ranged.bin"), "wb") as f:
            f.write(CONTENT)
    return module_apache_factory(CONF, setup=setup)


@pytest.mark.parametrize("mode", ["emb", pytest.param("dmn", marks=pytest.mark.swsgi_only)])
def test_range_of_file_wrapper(apache, mode):
    path = "/%s?name=ranged.bin" % mode
    r = apache.get(path, headers={"Range": "bytes=1000-1999"})
    assert r.status == 206, (r, apache.error_log()[-2000:])
    assert r.header("Content-Range") == "bytes 1000-1999/%d" % len(CONTENT)
    assert r.body == CONTENT[1000:2000]
    r = apache.get(path, headers={"Range": "bytes=-10"})
    assert r.status == 206 and r.body == CONTENT[-10:]
    r = apache.get(path)
    assert r.status == 200 and r.body == CONTENT


def test_range_of_iterated_body_is_ignored(apache):
    # Not a file: the body streams, and the whole of it is sent, as with mod_wsgi.
    r = apache.get("/emb?name=ranged.bin&mode=bytesio", headers={"Range": "bytes=0-9"})
    assert r.status == 200 and r.body == CONTENT
