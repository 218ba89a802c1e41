"""WSGIImportScript: a script loaded when a process group's Python starts."""
import pytest

from daemon_support import SOCKET_DIRECTIVE, get_json


def test_import_script_in_a_daemon(apache_factory):
    a = apache_factory(SOCKET_DIRECTIVE +
                       "WSGIDaemonProcess pre threads=2\n"
                       "WSGIImportScript {apps}/preload/preload.py process-group=pre application-group=%{GLOBAL}\n"
                       "WSGIScriptAlias /pre {apps}/preload/app.wsgi process-group=pre application-group=%{GLOBAL}\n")
    info = get_json(a, "/pre")
    assert info["preloaded_by"] == info["pid"], info


def test_import_script_embedded_in_its_application_group_only(apache_factory):
    a = apache_factory("WSGIImportScript {apps}/preload/preload.py process-group=%{GLOBAL} application-group=%{GLOBAL}\n"
                       "WSGIScriptAlias /global {apps}/preload/app.wsgi application-group=%{GLOBAL}\n"
                       "WSGIScriptAlias /other {apps}/preload/app.wsgi application-group=other\n")
    info = get_json(a, "/global")
    assert info["preloaded_by"] == info["pid"], info
    assert get_json(a, "/other")["preloaded_by"] is None


@pytest.mark.swsgi_only  # mod_wsgi 4.9.4 accepts the line and leaves it unclear where it runs
def test_import_script_needs_both_groups(apache_factory):
    a = apache_factory("WSGIImportScript {apps}/preload/preload.py process-group=%{GLOBAL}\n", start=False)
    rc, out = a.configtest()
    assert rc != 0 and "WSGIImportScript" in out, out
