"""`apache2 -t` (configtest): bad directives are rejected with a useful message."""
import os
import shutil
import tempfile

import pytest

from conftest import IS_ROOT, PY_VERSION
from daemon_support import SOCKET_DIRECTIVE


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



@pytest.fixture
def private_prefix():
    """A Python-looking prefix inside a directory only root may enter, like pyenv's under
    /root: configtest (as root) can read it, Apache's User cannot."""
    private = tempfile.mkdtemp(prefix="swsgi-it-private-")  # mode 0700
    prefix = os.path.join(private, "python")
    os.makedirs(os.path.join(prefix, "lib", "python" + PY_VERSION))
    open(os.path.join(prefix, "lib", "python" + PY_VERSION, "os.py"), "w").close()
    try:
        yield private, prefix
    finally:
        shutil.rmtree(private)


@pytest.mark.swsgi_only
@pytest.mark.skipif(not IS_ROOT, reason="Apache's User is only another user when run as root")
def test_python_home_unreadable_by_apache_user_fails_configtest(apache_factory, private_prefix):
    private, prefix = private_prefix
    a, rc, out = configtest(apache_factory, "WSGIPythonHome %s\n"
                                            "WSGIScriptAlias / {apps}/hello.wsgi\n" % prefix)
    assert rc != 0, out
    assert "WSGIPythonHome '%s' cannot be read by Apache's User 'www-data'" % prefix in out, out
    assert "directory '%s' is not searchable" % private in out, out


@pytest.mark.swsgi_only
@pytest.mark.skipif(not IS_ROOT, reason="Apache's User is only another user when run as root")
def test_python_path_unreadable_by_daemon_user_fails_configtest(apache_factory, private_prefix):
    private, prefix = private_prefix
    a, rc, out = configtest(apache_factory, SOCKET_DIRECTIVE +
                            "WSGIDaemonProcess site python-path=%s\n"
                            "WSGIScriptAlias / {apps}/hello.wsgi process-group=site\n" % private)
    assert rc != 0, out
    assert ("WSGIDaemonProcess python-path '%s' cannot be read by user 'www-data', "
            "as which WSGIDaemonProcess 'site' runs" % private) in out, out
