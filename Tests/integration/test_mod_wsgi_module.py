"""`import mod_wsgi` in the app's interpreter: attributes, request_data(), events, shutdown."""
import glob
import os
import time

import pytest

from conftest import wait_until
from daemon_support import SOCKET_DIRECTIVE

CONF = SOCKET_DIRECTIVE + """
WSGIDaemonProcess api processes=1 threads=1
WSGIScriptAlias /emb {apps}/mod_wsgi_api.wsgi
WSGIScriptAlias /dmn {apps}/mod_wsgi_api.wsgi process-group=api
"""
MODES = {"emb": ("", 1, 25), "dmn": ("api", 1, 1)}


@pytest.mark.parametrize("mode", sorted(MODES))
def test_attributes_and_request_data(apache_factory, mode):
    a = apache_factory(CONF)
    group, processes, threads = MODES[mode]
    r = a.get("/%s/attrs" % mode)
    assert r.status == 200, a.error_log()[-3000:]
    assert r.header("X-Wrapped") == "1", r.headers      # the request_started subscriber's wrapper
    out = r.json()
    assert tuple(out["version"][:2]) >= (4, 9) and len(out["version"]) == 3, out
    assert out["process_group"] == group
    assert out["application_group"] == out["environ_group"] == "127.0.0.1:%d|/%s" % (a.port, mode)
    assert (out["maximum_processes"], out["threads_per_process"]) == (processes, threads), out
    assert out["request_data_same"] and out["started"] == out["request_id"], out
    assert out["file_wrapper"], out
    assert {"pid", "request_count", "memory_rss", "cpu_user_time", "current_time"} <= set(out["metrics"]), out


@pytest.mark.parametrize("mode", sorted(MODES))
def test_events(apache_factory, mode):
    a = apache_factory(CONF)
    assert a.get("/%s/attrs" % mode).status == 200
    assert a.get("/%s/?raise" % mode).status == 500
    time.sleep(0.3)   # request_finished may run just after the client has the whole response
    events = a.get_json("/%s/events" % mode)
    names = [e[0] for e in events]
    assert names[:6] == ["request_started", "response_started", "request_finished",
                         "request_started", "request_exception", "request_finished"], events
    started, response, finished, exception = events[0][1], events[1][1], events[2][1], events[4]
    assert {"request_id", "request_environ", "application_object", "request_data", "thread_id",
            "request_start", "application_start"} <= set(started), started
    assert {"request_id", "response_status", "response_headers", "exception_info"} <= set(response), response
    assert {"request_id", "application_finish", "application_time", "output_length", "request_data"} <= set(finished)
    assert {"request_id", "exception_info", "request_data"} <= set(exception[1]) and exception[2] == "boom", exception


def test_shutdown_callback_in_daemon(apache_factory):
    a = apache_factory(CONF)
    pid = a.get_json("/dmn/attrs")["pid"]
    a.stop()
    stop_file = os.path.join(a.data, "stopping-%d" % pid)
    assert wait_until(lambda: os.path.exists(stop_file), 10), (glob.glob(a.data + "/*"), a.error_log()[-3000:])
    with open(stop_file) as f:
        assert f.read().startswith("process_stopping "), stop_file
