"""The directives mod_wsgi allows in .htaccess (AllowOverride FileInfo), no more; SetEnv in
.htaccess choosing the groups of a %{ENV:var} in the main configuration."""
import os

import pytest

from conftest import APACHE_MODULES, TARGET
from daemon_support import SOCKET_DIRECTIVE

APP = '''
def reply(name):
    def app(environ, start_response):
        body = ("%s %s %s" % (name, environ["mod_wsgi.process_group"],
                              environ["mod_wsgi.application_group"])).encode()
        start_response("404 Not Found" if environ["QUERY_STRING"] == "404" else "200 OK",
                       [("Content-Type", "text/plain")])
        return [body]
    return app

application = reply("application")
other = reply("other")
'''
SITE = ("LoadModule env_module %s/mod_env.so\n" % APACHE_MODULES
        + "WSGIScriptAlias /ht {apps}/ht/\n"
        '<Directory "{apps}/ht">\n    AllowOverride %s\n</Directory>\n')


def with_htaccess(text):
    def setup(a):
        os.makedirs(a.app("ht"))
        with open(a.app("ht/app.wsgi"), "w") as f:
            f.write(APP)
        with open(a.app("ht/.htaccess"), "w") as f:
            f.write(text)
    return setup


@pytest.mark.parametrize("directive", [
    "WSGICallableObject other", "WSGIPassAuthorization On", "WSGIScriptReloading Off",
    "WSGIErrorOverride On", "WSGIChunkedRequest On", "WSGIMapHEADToGET On",
    "WSGIIgnoreActivity On", "WSGIEnableSendfile On"])
def test_fileinfo_directives_in_htaccess(apache_factory, directive):
    a = apache_factory(SITE % "FileInfo", setup=with_htaccess(directive + "\n"))
    r = a.get("/ht/app.wsgi")
    assert r.status == 200, a.error_log()[-2000:]
    expected = "other" if directive.startswith("WSGICallableObject") else "application"
    assert r.text.startswith(expected + " ")


def test_htaccess_read_per_request_keeps_its_settings(apache_factory):
    a = apache_factory(SITE % "FileInfo" + 'ErrorDocument 404 "custom not found"\n',
                       setup=with_htaccess("WSGICallableObject other\nWSGIErrorOverride On\n"))
    assert a.get("/ht/app.wsgi").text == "other  127.0.0.1:%d|/ht/app.wsgi" % a.port
    # The same .htaccess read again, many times: the same settings.
    for _ in range(20):
        assert a.get("/ht/app.wsgi").text.startswith("other ")
    if TARGET == "swsgi":  # mod_wsgi 4.9.4 overrides only responses from daemon processes
        assert a.get("/ht/app.wsgi?404").body == b"custom not found"


@pytest.mark.parametrize("directive", [
    "WSGIProcessGroup g", "WSGIApplicationGroup %{GLOBAL}", "WSGIPassApacheRequest On",
    "WSGIScriptAlias /x {apps}/hello.wsgi", "WSGIDaemonProcess g"])
def test_other_directives_are_refused_in_htaccess(apache_factory, directive):
    a = apache_factory(SITE % "All", setup=with_htaccess(directive + "\n"))
    mark = a.log_mark()
    assert a.get("/ht/app.wsgi").status == 500
    log = a.wait_log(mark, ".htaccess")
    assert directive.split()[0] in log and "not allowed here" in log, log


def test_fileinfo_is_the_override_needed(apache_factory):
    a = apache_factory(SITE % "AuthConfig", setup=with_htaccess("WSGICallableObject other\n"))
    assert a.get("/ht/app.wsgi").status == 500


def test_setenv_in_htaccess_chooses_the_groups(apache_factory):
    a = apache_factory(SOCKET_DIRECTIVE + "WSGIDaemonProcess site threads=2\n"
                       "WSGIProcessGroup %{ENV:SITE_GROUP}\nWSGIApplicationGroup %{ENV:SITE_APP}\n"
                       + SITE % "FileInfo",
                       setup=with_htaccess("SetEnv SITE_GROUP site\nSetEnv SITE_APP site-app\n"))
    assert a.get("/ht/app.wsgi").text == "application site site-app"
