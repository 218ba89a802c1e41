"""`apache2 -t` (configtest): bad directives are rejected with a useful message."""
import os

import pytest

from conftest import PY_VERSION


def configtest(apache_factory, directives, setup=None):
    a = apache_factory(directives, start=False, setup=setup)
    rc, out = a.configtest()
    return a, rc, out


def test_good_configuration_passes(apache_factory):
    a, rc, out = configtest(apache_factory,
                            "WSGIScriptAlias / {apps}/hello.wsgi\n"
                            "WSGIPythonOptimize 1\n"
                            "WSGIPassAuthorization On\n"
                            "WSGIApplicationGroup %{GLOBAL}\n")
    assert rc == 0, out
    assert "Syntax OK" in out


@pytest.mark.parametrize("directives,names", [
    ("WSGIScriptAlias /only-one-argument\n", ["WSGIScriptAlias"]),
    ("WSGIScriptAlias\n", ["WSGIScriptAlias"]),
    ("WSGIPassAuthorization maybe\n", ["WSGIPassAuthorization"]),
    ("WSGIChunkedRequest 1 2\n", ["WSGIChunkedRequest"]),
    ("<VirtualHost 127.0.0.1:{port}>\n    WSGIPythonHome /usr\n</VirtualHost>\n",
     ["WSGIPythonHome"]),
    ("<VirtualHost 127.0.0.1:{port}>\n    WSGIPythonPath /tmp\n</VirtualHost>\n",
     ["WSGIPythonPath"]),
    ("<Location />\n    WSGIScriptAlias / {apps}/hello.wsgi\n</Location>\n", ["WSGIScriptAlias"]),
])
def test_bad_directive_fails_configtest(apache_factory, directives, names):
    a, rc, out = configtest(apache_factory, directives)
    assert rc != 0, out
    assert "Syntax OK" not in out
    with open(a.conf) as f:
        lineno = next(i for i, line in enumerate(f, 1) if line.strip().startswith(names[0]))
    assert "Syntax error on line %d of %s" % (lineno, a.conf) in out, out
    for n in names:
        assert n in out, out


@pytest.mark.swsgi_only
@pytest.mark.parametrize("value", ["7", "-1", "one", "1x"])
def test_bad_python_optimize_fails_configtest(apache_factory, value):
    # mod_wsgi takes atoi() of anything
    a, rc, out = configtest(apache_factory, "WSGIPythonOptimize %s\n" % value)
    assert rc != 0, out
    assert "WSGIPythonOptimize" in out and "Syntax OK" not in out, out


@pytest.mark.swsgi_only
def test_missing_python_home_fails_configtest(apache_factory):
    a, rc, out = configtest(apache_factory, "WSGIPythonHome {root}/no-such-venv\n"
                                            "WSGIScriptAlias / {apps}/hello.wsgi\n")
    assert rc != 0, out
    assert "WSGIPythonHome" in out, out
    assert a.path("no-such-venv") in out, out


def fake_other_version_venv(a):
    home = a.path("venv399")
    os.makedirs(os.path.join(home, "lib", "python3.99", "site-packages"))
    os.makedirs(os.path.join(home, "bin"))
    with open(os.path.join(home, "pyvenv.cfg"), "w") as f:
        f.write("home = /opt/python3.99/bin\n"
                "include-system-site-packages = false\n"
                "version = 3.99.0\n")


@pytest.mark.swsgi_only
def test_other_version_python_home_fails_configtest(apache_factory):
    a, rc, out = configtest(apache_factory, "WSGIPythonHome {root}/venv399\n"
                                            "WSGIScriptAlias / {apps}/hello.wsgi\n",
                            setup=fake_other_version_venv)
    assert rc != 0, out
    assert "WSGIPythonHome" in out, out
    assert a.path("venv399") in out, out
    assert "3.99" in out, out
    assert PY_VERSION in out, out

