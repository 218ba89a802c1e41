"""mod_wsgi's mod_wsgi.* and apache.* environ keys, with mod_wsgi's types, in both modes; and
URL paths that are not UTF-8 reach PATH_INFO and SCRIPT_NAME as their bytes."""
import time

import pytest

from daemon_support import SOCKET_DIRECTIVE

CONF = SOCKET_DIRECTIVE + """
WSGIDaemonProcess keys threads=1
WSGIScriptAlias /emb {apps}/modwsgi_keys.wsgi
WSGIScriptAlias /dmn {apps}/modwsgi_keys.wsgi process-group=keys
"""

# Keys both modes have; type names as mod_wsgi 4.9.4 gives them.
COMMON = {
    "mod_wsgi.version": "tuple", "apache.version": "tuple",
    "mod_wsgi.process_group": "str", "mod_wsgi.application_group": "str",
    "mod_wsgi.callable_object": "str", "mod_wsgi.request_handler": "str",
    "mod_wsgi.handler_script": "str", "mod_wsgi.script_reloading": "str",
    "mod_wsgi.enable_sendfile": "str", "mod_wsgi.ignore_activity": "str",
    "mod_wsgi.listener_host": "str", "mod_wsgi.listener_port": "str",
    "mod_wsgi.request_start": "str", "mod_wsgi.script_start": "str",
    "mod_wsgi.request_id": "str", "mod_wsgi.script_name": "str", "mod_wsgi.path_info": "str",
    "mod_wsgi.thread_id": "int", "mod_wsgi.thread_requests": "int", "mod_wsgi.total_requests": "int",
}
DAEMON = {"mod_wsgi.queue_start": "str", "mod_wsgi.daemon_start": "str"}
MODES = {"emb": ("", COMMON), "dmn": ("keys", dict(COMMON, **DAEMON))}


@pytest.fixture(scope="module")
def apache(module_apache_factory):
    return module_apache_factory(CONF)


@pytest.mark.parametrize("mode", sorted(MODES))
def test_keys_and_types(apache, mode):
    group, expected = MODES[mode]
    env = apache.get_json("/%s/x/y" % mode)
    for key, type_name in expected.items():
        assert key in env, (key, env)
        assert env[key][0] == type_name, (key, env[key])
    value = {k: v[1] for k, v in env.items()}
    assert len(value["mod_wsgi.version"]) == 3 and value["apache.version"][:2] == [2, 4], value
    assert value["mod_wsgi.process_group"] == group
    assert value["mod_wsgi.application_group"] == "127.0.0.1:%d|/%s" % (apache.port, mode)
    assert value["mod_wsgi.callable_object"] == "application"
    assert value["mod_wsgi.request_handler"] == "wsgi-script"
    assert value["mod_wsgi.script_reloading"] == "1"
    assert value["mod_wsgi.enable_sendfile"] in ("0", "1") and value["mod_wsgi.ignore_activity"] == "0"
    assert value["mod_wsgi.listener_host"] == "127.0.0.1"
    assert value["mod_wsgi.listener_port"] == str(apache.port)
    assert value["mod_wsgi.script_name"] == "/" + mode and value["mod_wsgi.path_info"] == "/x/y"
    assert value["mod_wsgi.request_id"] and value["mod_wsgi.thread_id"] >= 1
    # Microseconds since the epoch, in the order a request passes them.
    order = ["mod_wsgi.request_start"] + (["mod_wsgi.queue_start", "mod_wsgi.daemon_start"] if group else []) \
        + ["mod_wsgi.script_start"]
    times = [int(value[k]) for k in order]
    assert times == sorted(times) and abs(times[0] / 1e6 - time.time()) < 60, dict(zip(order, times))


def test_request_counts(apache):
    # One daemon thread: every request runs on it, one after the other.
    seen = []
    for _ in range(3):
        env = apache.get_json("/dmn/")
        seen.append((env["mod_wsgi.thread_requests"][1], env["mod_wsgi.total_requests"][1]))
        time.sleep(0.2)
    threads, totals = zip(*seen)
    assert list(threads) == list(range(threads[0], threads[0] + 3)), seen
    assert list(totals) == list(range(totals[0], totals[0] + 3)), seen


def test_request_ids_differ(apache):
    ids = {apache.get_json("/%s/" % mode)["mod_wsgi.request_id"][1] for mode in ("emb", "dmn", "emb")}
    assert len(ids) == 3, ids


@pytest.mark.parametrize("mode", sorted(MODES))
def test_non_utf8_path_is_latin1(apache, mode):
    env = apache.get_json("/%s/env/caf%%E9/x" % mode)
    assert env["PATH_INFO"] == "/env/caf\xe9/x", env["PATH_INFO"]
    assert env["SCRIPT_NAME"] == "/" + mode, env["SCRIPT_NAME"]
    infos = {apache.get_json("/%s/a%s" % (mode, b))["PATH_INFO"] for b in ("%80", "%FF", "%E9")}
    assert infos == {"/a\x80", "/a\xff", "/a\xe9"}, infos


@pytest.mark.parametrize("mode", sorted(MODES))
def test_values_follow_each_request(apache, mode):
    # The gateway reuses the previous request's str where the bytes are the same: a value
    # that changes, goes and comes back, or is too long to keep, must still be this request's.
    values = ["caf\xe9", "cafe", "caf\xe9", "", "x" * 3000, "x" * 2999 + "y", None, "cafe"]
    seen = []
    for value in values:
        headers = {} if value is None else {"X-Value": value}
        seen.append(apache.get_json("/%s/v" % mode, headers=headers).get("HTTP_X_VALUE"))
    assert seen == values, seen
