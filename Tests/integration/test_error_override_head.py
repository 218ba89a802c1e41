"""WSGIErrorOverride (Apache's ErrorDocument replaces an app's error body) and
WSGIMapHEADToGET Off|On|Auto."""
import pytest

from conftest import APACHE_MODULES, TARGET
from daemon_support import SOCKET_DIRECTIVE

DAEMON = SOCKET_DIRECTIVE + "WSGIDaemonProcess g threads=2\nWSGIProcessGroup g\n"
ALIAS = "WSGIScriptAlias /app {apps}/status_method.wsgi\n"
ERROR_DOCUMENT = 'ErrorDocument 404 "custom not found"\n'


def test_error_override_in_daemon_mode(apache_factory):
    a = apache_factory(DAEMON + ALIAS + ERROR_DOCUMENT + "WSGIErrorOverride On\n")
    r = a.get("/app?404")
    assert (r.status, r.body) == (404, b"custom not found")
    assert r.header("X-Method") is None
    # Not an error: the app's own response.
    r = a.get("/app?200")
    assert (r.status, r.body) == (200, b"app body for GET")
    # An error status without an ErrorDocument: Apache's own page.
    r = a.get("/app?503")
    assert r.status == 503 and b"app body" not in r.body and b"Service Unavailable" in r.body


@pytest.mark.swsgi_only  # mod_wsgi 4.9.4 overrides only responses from daemon processes
def test_error_override_in_embedded_mode(apache_factory):
    a = apache_factory(ALIAS + ERROR_DOCUMENT + "WSGIErrorOverride On\n")
    r = a.get("/app?404")
    assert (r.status, r.body) == (404, b"custom not found")


@pytest.mark.parametrize("daemon", [False, True], ids=["embedded", "daemon"])
def test_without_error_override_the_app_body_stays(apache_factory, daemon):
    a = apache_factory((DAEMON if daemon else "") + ALIAS + ERROR_DOCUMENT + "WSGIErrorOverride Off\n")
    r = a.get("/app?404")
    assert (r.status, r.body) == (404, b"app body for GET")


def test_error_override_per_directory(apache_factory):
    a = apache_factory(DAEMON + ALIAS + "WSGIScriptAlias /other {apps}/status_method.wsgi\n"
                       + ERROR_DOCUMENT + '<Location /app>\n    WSGIErrorOverride On\n</Location>\n')
    assert a.get("/app?404").body == b"custom not found"
    assert a.get("/other?404").body == b"app body for GET"


DEFLATE = ("LoadModule deflate_module %s/mod_deflate.so\n"
           "LoadModule filter_module %s/mod_filter.so\n" % (APACHE_MODULES, APACHE_MODULES))


@pytest.mark.parametrize("daemon", [False, True], ids=["embedded", "daemon"])
@pytest.mark.parametrize("setting,filtered,seen", [
    ("On", False, "GET"),
    ("Off", True, "HEAD"),
    ("Auto", False, "HEAD"),
    ("Auto", True, "GET"),
])
def test_map_head_to_get(apache_factory, daemon, setting, filtered, seen):
    a = apache_factory((DAEMON if daemon else "") + (DEFLATE if filtered else "") + ALIAS
                       + "WSGIMapHEADToGET %s\n" % setting
                       + ("SetOutputFilter DEFLATE\n" if filtered else ""))
    r = a.request("HEAD", "/app", headers={"Accept-Encoding": "gzip"})
    assert r.status == 200 and r.body == b""
    assert r.header("X-Method") == seen
    assert a.get("/app").header("X-Method") == "GET"


@pytest.mark.skipif(TARGET == "mod_wsgi", reason="mod_wsgi 4.9.4 defaults to Off (fixed in 6.0)")
def test_map_head_to_get_defaults_to_auto(apache_factory):
    a = apache_factory(DEFLATE + ALIAS + "SetOutputFilter DEFLATE\n")
    assert a.request("HEAD", "/app").header("X-Method") == "GET"
    a2 = apache_factory(ALIAS)
    assert a2.request("HEAD", "/app").header("X-Method") == "HEAD"
