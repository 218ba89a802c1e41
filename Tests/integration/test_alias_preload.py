"""A WSGIScriptAlias naming both process-group= and application-group= (literally) has its
script loaded as the process starts, as mod_wsgi preloads it: a daemon process's before it
takes requests, an Apache child's with its Python, before its first request. A script that
fails then is logged and its process serves on; its requests try the import again."""
import os

from conftest import wait_until
from daemon_support import SOCKET_DIRECTIVE, get_json


def writable_data(a):
    os.chmod(a.data, 0o777)  # the script records its imports there, as Apache's user


def imports(a):
    path = a.path("data", "imports.log")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [tuple(line.split(" ", 1)) for line in f.read().splitlines()]


def test_daemon_loads_the_script_of_an_alias_naming_both_groups_at_start(apache_factory):
    a = apache_factory(SOCKET_DIRECTIVE +
                       "WSGIDaemonProcess d processes=1 threads=2\n"
                       "WSGIScriptAlias /both {apps}/preload/alias.wsgi process-group=d application-group=shop\n"
                       "WSGIScriptAlias /one {apps}/preload/alias.wsgi process-group=d\n", setup=writable_data)
    assert wait_until(lambda: imports(a), 15), a.error_log()[-3000:]
    [(pid, group)] = imports(a)
    assert group == "shop"
    info = get_json(a, "/both")
    assert (info["pid"], info["group"]) == (int(pid), "shop")
    assert imports(a) == [(pid, "shop")]  # the request found it loaded
    # Only a request names the %{RESOURCE} group: loaded then.
    assert get_json(a, "/one")["pid"] == int(pid)
    assert [g for _, g in imports(a)] == ["shop", get_json(a, "/one")["group"]]


def test_embedded_alias_naming_both_groups_is_loaded_before_its_first_request(apache_factory):
    a = apache_factory("WSGIScriptAlias /both {apps}/preload/alias.wsgi process-group=%{GLOBAL} application-group=shop\n"
                       "WSGIScriptAlias /hello {apps}/hello.wsgi\n", setup=writable_data)
    assert a.get("/hello").status == 200
    assert wait_until(lambda: imports(a), 15), a.error_log()[-3000:]
    [(pid, group)] = imports(a)
    assert group == "shop"
    assert get_json(a, "/both")["pid"] == int(pid)
    assert imports(a) == [(pid, "shop")]


def test_a_script_failing_at_preload_is_logged_and_the_process_serves_on(apache_factory):
    a = apache_factory(SOCKET_DIRECTIVE +
                       "WSGIDaemonProcess d processes=1 threads=2\n"
                       "WSGIScriptAlias /broken {apps}/preload/broken.wsgi process-group=d application-group=%{GLOBAL}\n"
                       "WSGIScriptAlias /both {apps}/preload/alias.wsgi process-group=d application-group=shop\n",
                       setup=writable_data)
    message = "RuntimeError: this script cannot be imported"
    assert wait_until(lambda: message in a.error_log(), 15), a.error_log()[-3000:]
    assert get_json(a, "/both")["group"] == "shop"
    assert a.get("/broken").status == 500
    assert a.error_log().count(message) == 2  # the request tried again
