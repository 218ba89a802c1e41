"""WSGIHandlerScript name script [options], used with AddHandler and SetHandler: the
script's handle_request serves what the URL maps to."""
import os

import pytest

from conftest import APACHE_MODULES, TARGET
from daemon_support import SOCKET_DIRECTIVE


def pages(a):
    with open(a.path("htdocs", "page.bobo"), "w") as f:
        f.write("bobo content")


def test_addhandler_runs_handle_request_on_the_file(apache_factory):
    a = apache_factory("WSGIHandlerScript bobo-script {apps}/handler.wsgi\n"
                       "AddHandler bobo-script .bobo\n", setup=pages)
    env = a.get_json("/page.bobo")
    assert env["content"] == "bobo content"
    assert env["SCRIPT_FILENAME"] == a.path("htdocs", "page.bobo")
    assert env["SCRIPT_NAME"] == "/page.bobo"
    assert env["mod_wsgi.handler_script"] == a.app("handler.wsgi")
    assert env["mod_wsgi.callable_object"] == "handle_request"
    assert env["mod_wsgi.process_group"] == ""
    # Other files are Apache's, as before.
    with open(a.path("htdocs", "plain.txt"), "w") as f:
        f.write("plain")
    assert a.get("/plain.txt").body == b"plain"


def test_sethandler_serves_urls_without_files(apache_factory):
    a = apache_factory("WSGIHandlerScript bobo-script {apps}/handler.wsgi\n"
                       "<Location /virtual>\n    SetHandler bobo-script\n</Location>\n")
    env = a.get_json("/virtual/x")
    assert env["content"] is None
    assert env["SCRIPT_FILENAME"] == a.path("htdocs", "virtual")
    assert env["PATH_INFO"] == "/x"


def test_handler_script_in_a_daemon_group(apache_factory):
    a = apache_factory(SOCKET_DIRECTIVE + "WSGIDaemonProcess g threads=2\n"
                       "WSGIHandlerScript bobo-script {apps}/handler.wsgi process-group=g "
                       "application-group=%{GLOBAL} pass-authorization=On\n"
                       "AddHandler bobo-script .bobo\n", setup=pages)
    env = a.get_json("/page.bobo", headers={"Authorization": "Basic eDp5"})
    assert env["content"] == "bobo content"
    assert (env["mod_wsgi.process_group"], env["mod_wsgi.application_group"]) == ("g", "")
    assert env["mod_wsgi.handler_script"] == a.app("handler.wsgi")
    assert env["authorization"] == "Basic eDp5"
    assert env["pid"] != a.pid


def test_handler_script_per_directory(apache_factory):
    a = apache_factory("AddHandler bobo-script .bobo\n"
                       '<Directory "{root}/htdocs/sub">\n'
                       "    WSGIHandlerScript bobo-script {apps}/handler.wsgi\n</Directory>\n",
                       setup=lambda a: (pages(a), os.makedirs(a.path("htdocs", "sub")),
                                        open(a.path("htdocs", "sub", "x.bobo"), "w").write("sub")))
    assert a.get_json("/sub/x.bobo")["content"] == "sub"
    # Outside that directory no handler script answers to the name: Apache serves the file.
    assert a.get("/page.bobo").body == b"bobo content"


@pytest.mark.parametrize("line,needle", [
    pytest.param("WSGIHandlerScript bobo-script relative.wsgi", "must be an absolute path",
                 marks=pytest.mark.swsgi_only),
    ("WSGIHandlerScript bobo-script /x.wsgi bogus=1", "bogus=1"),
    ("WSGIHandlerScript bobo-script", "WSGIHandlerScript"),
])
def test_bad_handler_script_lines_fail_configtest(apache_factory, line, needle):
    a = apache_factory(line + "\n", start=False)
    rc, out = a.configtest()
    assert rc != 0
    if TARGET == "swsgi":
        assert needle in out, out


def test_action_hands_a_file_type_to_a_wsgi_url(apache_factory):
    a = apache_factory("LoadModule actions_module %s/mod_actions.so\n" % APACHE_MODULES
                       + "AddHandler bobo-action .bobo\nAction bobo-action /handler\n"
                       "WSGIScriptAlias /handler {apps}/environ.wsgi\n", setup=pages)
    env = a.get_json("/page.bobo")
    assert (env["SCRIPT_NAME"], env["PATH_INFO"]) == ("/handler", "/page.bobo")
    assert env["PATH_TRANSLATED"] == a.path("htdocs", "page.bobo")
