"""Error-log lines as mod_wsgi writes them: tagged [wsgi:...], the app's output and tracebacks
with the client's address ([client ...] embedded, [remote ...] in a daemon), and the info
lines operators read (Python started, script loaded or reloaded, daemon started and stopped)."""
import http.client
import os
import re
import time

import pytest

from conftest import BASE_PREFIX, PY_VERSION, free_port
from daemon_support import SOCKET_DIRECTIVE

CONF = SOCKET_DIRECTIVE + """
WSGIDaemonProcess logs threads=2 maximum-requests=3
WSGIScriptAlias /emb {apps}/logging.wsgi
WSGIScriptAlias /dmn {apps}/logging.wsgi process-group=logs
WSGIDaemonProcess info threads=3 maximum-requests=3
WSGIScriptAlias /info {apps}/logging.wsgi process-group=info
WSGIScriptAlias /hello-emb {apps}/hello.wsgi
"""
CONTEXT = {"emb": "client", "dmn": "remote"}


@pytest.fixture(scope="module")
def apache(module_apache_factory):
    return module_apache_factory(CONF)


def get_from_port(apache, path):
    """GET path from a client port of our choosing; returns (status, port)."""
    port = free_port()
    conn = http.client.HTTPConnection("127.0.0.1", apache.port, timeout=30,
                                      source_address=("127.0.0.1", port))
    try:
        conn.request("GET", path)
        return conn.getresponse().status, port
    finally:
        conn.close()


@pytest.mark.parametrize("mode", sorted(CONTEXT))
def test_app_output_carries_tag_and_client(apache, mode):
    token = "%s%d" % (mode, time.monotonic_ns())
    mark = apache.log_mark()
    status, port = get_from_port(apache, "/%s?%s" % (mode, token))
    assert status == 500
    needles = ["errors-line-" + token, "stderr-line-" + token, "print-line-" + token,
               "Traceback (most recent call last):", "RuntimeError: boom-" + token]
    text = apache.wait_log(mark, *needles)
    context = "[wsgi:error] [pid %%d:tid %%d] [%s 127.0.0.1:%d] " % (CONTEXT[mode], port)
    pattern = re.escape(context).replace("%d", r"\d+")
    for needle in needles:
        line = next((l for l in text.splitlines() if needle in l), None)
        assert line is not None, (needle, text)
        assert re.search(pattern, line), (pattern, line)


def test_info_lines_of_a_daemon(apache):
    # A group of its own, which no other test sends requests to: its first process loads the
    # script here. (In a group that served one already, mod_wsgi's process may take a request
    # past maximum-requests before it stops, and the new process would load nothing.)
    mark = apache.log_mark()
    for _ in range(3):
        assert apache.get("/info?x").status == 500
    script = apache.app("logging.wsgi")
    text = apache.wait_log(mark, "threads=3")
    # Loaded once in this process, in the request's context; after three requests it
    # stops (maximum-requests) and a new process starts.
    assert re.search(r"\[wsgi:info\] .*\[remote 127\.0\.0\.1:\d+\] .*[Ll]oading (Python script file|WSGI script) '%s'"
                     % re.escape(script), text), text
    assert re.search(r"[Mm]aximum.requests", text), text
    assert re.search(r"\[wsgi:info\] .*with uid=\d+, gid=\d+ and threads=3", text), text


def test_reload_is_logged_in_embedded_mode(apache):
    script = apache.app("logging.wsgi")
    assert apache.get("/emb?x").status == 500
    mark = apache.log_mark()
    later = time.time() + 5
    os.utime(script, (later, later))
    assert apache.get("/emb?y").status == 500
    text = apache.wait_log(mark, "boom-y")
    assert re.search(r"\[wsgi:info\] .*\[client 127\.0\.0\.1:\d+\] .*[Rr]eloading WSGI script '%s'"
                     % re.escape(script), text), text


@pytest.mark.swsgi_only
def test_python_version_and_home_logged(apache_factory):
    # mod_wsgi logs "Python home" only when one is set, and no version.
    a = apache_factory("WSGIPythonHome %s\nWSGIScriptAlias / {apps}/hello.wsgi\n" % BASE_PREFIX)
    mark = a.log_mark()
    assert a.get("/").status == 200
    text = a.wait_log(mark, "initialised Python")
    assert re.search(r"\[wsgi:info\] .*Apache child \d+ initialised Python %s\.\d+ with sys.prefix '%s' "
                     r"\(WSGIPythonHome '%s'\)" % ((re.escape(PY_VERSION),) + (re.escape(BASE_PREFIX),) * 2), text), text


# mod_wsgi 4.9.4 has no LogHandler (mod_wsgi 6 has).
@pytest.mark.swsgi_only
@pytest.mark.parametrize("mode", sorted(CONTEXT))
def test_log_handler_logs_at_apache_levels(apache_factory, mode):
    a = apache_factory(SOCKET_DIRECTIVE + "LogLevel info wsgi:debug\nWSGIDaemonProcess logs threads=2\n"
                       "WSGIScriptAlias /emb {apps}/log_handler.wsgi\n"
                       "WSGIScriptAlias /dmn {apps}/log_handler.wsgi process-group=logs\n")
    token = "%s%d" % (mode, time.monotonic_ns())
    mark = a.log_mark()
    r = a.get("/%s?%s" % (mode, token))
    assert r.status == 200, (r, a.log_since(mark))
    assert r.json() == {"subclass": True, "module": "mod_wsgi", "same": True}
    text = a.wait_log(mark, "level-5-" + token, "second-" + token)
    expected = {"level-50-": "crit", "level-40-": "error", "level-30-": "warn", "level-35-": "warn",
                "level-20-": "info", "level-10-": "debug", "level-5-": "debug", "first-": "error", "second-": "error"}
    for needle, level in expected.items():
        line = next((l for l in text.splitlines() if needle + token in l), None)
        assert line is not None, (needle, text)
        assert "[wsgi:%s]" % level in line and "[%s 127.0.0.1:" % CONTEXT[mode] in line, line
