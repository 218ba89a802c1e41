"""WSGIDispatchScript: process_group(environ), application_group(environ) and
callable_object(environ) choose per request where it runs; their answers are checked."""
import os
import shutil

import pytest

from conftest import IS_ROOT
from daemon_support import SOCKET_DIRECTIVE

CONF = (SOCKET_DIRECTIVE + "WSGIDaemonProcess blog threads=2\nWSGIDaemonProcess shop threads=2\n"
        "WSGIScriptAlias / {apps}/dispatched.wsgi\n"
        "WSGIDispatchScript {apps}/dispatch.wsgi\n")


def get(a, host):
    return a.get("/", headers={"Host": host})


def test_dispatch_script_routes_by_host(apache_factory):
    a = apache_factory(CONF)
    blog = get(a, "blog.example").json()
    shop = get(a, "shop.example").json()
    assert (blog["process_group"], blog["application_group"], blog["callable"]) == ("blog", "blog-app", "application")
    assert (shop["process_group"], shop["application_group"]) == ("shop", "")
    assert blog["pid"] != shop["pid"]
    embedded = get(a, "embedded.example").json()
    assert (embedded["process_group"], embedded["callable"]) == ("", "other")
    # None everywhere: the configuration's choice (embedded, %{RESOURCE}).
    default = get(a, "other.example").json()
    assert default["process_group"] == "" and default["application_group"].endswith("|")


def test_an_undefined_group_from_the_script_is_a_500_naming_it(apache_factory):
    a = apache_factory(CONF)
    mark = a.log_mark()
    assert get(a, "missing.example").status == 500
    log = a.wait_log(mark, "undefinedgrp")
    assert "no wsgi daemon process called 'undefinedgrp' has been configured" in log.lower(), log


def test_a_failing_dispatch_script_is_a_500_with_its_traceback(apache_factory):
    a = apache_factory(CONF)
    mark = a.log_mark()
    assert get(a, "raise.example").status == 500
    log = a.wait_log(mark, "dispatch script raised for raise.example")
    assert "RuntimeError: dispatch script raised for raise.example" in log, log
    assert get(a, "number.example").status == 500
    assert get(a, "blog.example").status == 200


def test_dispatch_script_per_location(apache_factory):
    a = apache_factory(SOCKET_DIRECTIVE + "WSGIDaemonProcess blog threads=2\n"
                       "WSGIScriptAlias /a {apps}/dispatched.wsgi\nWSGIScriptAlias /b {apps}/dispatched.wsgi\n"
                       "<Location /a>\n    WSGIDispatchScript {apps}/dispatch.wsgi\n</Location>\n")
    assert a.get("/a", headers={"Host": "blog.example"}).json()["process_group"] == "blog"
    assert a.get("/b", headers={"Host": "blog.example"}).json()["process_group"] == ""


@pytest.mark.swsgi_only  # mod_wsgi finds it only per request
@pytest.mark.skipif(not IS_ROOT, reason="needs root: Apache's User must differ from the owner")
def test_a_dispatch_script_apache_cannot_read_fails_configtest(apache_factory):
    a = apache_factory("WSGIScriptAlias / {apps}/dispatched.wsgi\n"
                       "WSGIDispatchScript {data}/private/dispatch.wsgi\n", start=False)
    os.makedirs(a.path("data", "private"))
    shutil.copy(a.app("dispatch.wsgi"), a.path("data", "private", "dispatch.wsgi"))
    a.prepare()
    os.chmod(a.path("data", "private", "dispatch.wsgi"), 0o600)
    p = a._run("-t")
    assert p.returncode != 0
    assert "WSGIDispatchScript '%s' cannot be read by Apache's User" % a.path("data", "private", "dispatch.wsgi") \
        in p.stdout + p.stderr, p.stdout + p.stderr
