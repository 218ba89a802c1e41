"""WSGIScriptAliasMatch: $N in the target, SCRIPT_NAME/PATH_INFO, and one daemon group per
site, named with %{ENV:var} (mod_wsgi's way) or with $N (swsgi only)."""
import os
import shutil

import pytest

from conftest import APACHE_MODULES, TARGET
from daemon_support import SOCKET_DIRECTIVE

SITES = ("blog", "shop")
SETENVIF = "LoadModule setenvif_module %s/mod_setenvif.so\n" % APACHE_MODULES


def site_scripts(a):
    """A copy of environ.wsgi per site: apps/<site>/app.wsgi."""
    for site in SITES:
        os.makedirs(a.app(site))
        shutil.copy(a.app("environ.wsgi"), a.app(os.path.join(site, "app.wsgi")))


def check_sites(a):
    pids = set()
    for site in SITES:
        env = a.get_json("/%s/x/y?q=1" % site)
        assert env["SCRIPT_FILENAME"] == a.app(os.path.join(site, "app.wsgi"))
        assert (env["SCRIPT_NAME"], env["PATH_INFO"]) == ("/" + site, "/x/y")
        assert env["mod_wsgi.process_group"] == site
        assert env["mod_wsgi.application_group"] == site
        pids.add(env["pid"])
    assert len(pids) == 2, pids


def test_two_sites_in_two_daemon_groups_named_by_environment(apache_factory):
    a = apache_factory(SOCKET_DIRECTIVE + SETENVIF
                       + "WSGIDaemonProcess blog threads=2\nWSGIDaemonProcess shop threads=2\n"
                       "SetEnvIf Request_URI ^/(blog|shop) SITE=$1\n"
                       "WSGIScriptAliasMatch ^/(blog|shop) {apps}/$1/app.wsgi "
                       "process-group=%{ENV:SITE} application-group=%{ENV:SITE}\n",
                       setup=site_scripts)
    check_sites(a)
    assert a.get("/other/x").status == 404


@pytest.mark.swsgi_only  # mod_wsgi 4.9.4 takes a $1 in process-group= literally
def test_groups_named_by_the_pattern(apache_factory):
    a = apache_factory(SOCKET_DIRECTIVE
                       + "WSGIDaemonProcess blog threads=2\nWSGIDaemonProcess shop threads=2\n"
                       "WSGIScriptAliasMatch ^/(blog|shop) {apps}/$1/app.wsgi "
                       "process-group=$1 application-group=$1\n",
                       setup=site_scripts)
    check_sites(a)


@pytest.mark.swsgi_only  # mod_wsgi finds an undefined group only per request
def test_configtest_names_a_group_the_pattern_can_name_but_nobody_defines(apache_factory):
    a = apache_factory(SOCKET_DIRECTIVE + "WSGIDaemonProcess blog\n"
                       "WSGIScriptAliasMatch ^/(blog|shop) {apps}/$1/app.wsgi process-group=$1\n",
                       start=False)
    rc, out = a.configtest()
    assert rc != 0
    assert "WSGIScriptAliasMatch ^/(blog|shop): process-group=$1 can name 'shop', " \
           "but no WSGIDaemonProcess defines it" in out, out


@pytest.mark.swsgi_only
def test_an_undecidable_group_is_checked_per_request(apache_factory):
    a = apache_factory(SOCKET_DIRECTIVE + "WSGIDaemonProcess blog threads=2\n"
                       "WSGIScriptAliasMatch ^/([a-z]+) {apps}/environ.wsgi process-group=$1\n")
    assert a.get_json("/blog/x")["mod_wsgi.process_group"] == "blog"
    mark = a.log_mark()
    assert a.get("/nosuch/x").status == 500
    assert "no WSGI daemon process called 'nosuch' has been configured" in a.wait_log(mark, "nosuch")


def test_pattern_target_is_a_directory_of_scripts(apache_factory):
    a = apache_factory("WSGIScriptAliasMatch ^/scripts/([^/]+)\\.py {apps}/$1.wsgi\n")
    env = a.get_json("/scripts/environ.py/more")
    assert env["SCRIPT_FILENAME"] == a.app("environ.wsgi")
    assert (env["SCRIPT_NAME"], env["PATH_INFO"]) == ("/scripts/environ.py", "/more")
    assert a.get("/scripts/missing.py").status == 404


def test_a_bad_pattern_fails_configtest(apache_factory):
    a = apache_factory("WSGIScriptAliasMatch ^/(open {apps}/environ.wsgi\n", start=False)
    rc, out = a.configtest()
    assert rc != 0
    if TARGET == "swsgi":  # mod_wsgi: "Regular expression could not be compiled."
        assert "WSGIScriptAliasMatch: '^/(open' is not a regular expression" in out, out
