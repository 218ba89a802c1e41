"""`swsgi doctor`: what it predicts for each process group is what the group's app then sees,
and each problem is one sentence with its fix."""
import json
import os
import subprocess

import pytest

from conftest import BASE_PREFIX, IS_ROOT, MODULE_PATH, PY_VERSION, make_venv, venv_site_packages
from daemon_support import SOCKET_DIRECTIVE, get_json
from tool_support import TOOL, tool

pytestmark = pytest.mark.swsgi_only  # doctor judges a configuration for swsgi

# The probe app of test_daemon_python: sys.prefix and sys.path as JSON.
INFO = "{apps}/daemon/info.wsgi"


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def doctor(a):
    """Runs doctor --json on a's configuration (written, not started)."""
    a.prepare()
    p = tool("doctor", "-f", a.conf, "--json")
    assert p.returncode in (0, 1), p.stdout + p.stderr
    report = json.loads(p.stdout)
    assert (p.returncode == 1) == bool(report["problems"])
    return report


def line_of(a, text):
    return next(n for n, line in enumerate(open(a.conf).read().splitlines(), 1) if line.startswith(text))


def group(report, name):
    return next(g for g in report["groups"] if g["name"] == name)


def setup_two_venvs(a):
    for tag in ("A", "B"):
        make_venv(a.path("venv" + tag))
        write(os.path.join(venv_site_packages(a.path("venv" + tag)), "which.py"), "VALUE = %r\n" % tag)
    # python-path of group b: a .pth file that adds a second directory
    write(a.path("ppB", "extra.pth"), a.path("ppB-extra") + "\n")
    write(a.path("ppB-extra", "extra_mod.py"), "VALUE = 'extra'\n")


TWO_GROUPS = SOCKET_DIRECTIVE + """\
WSGIRestrictEmbedded On
WSGIDaemonProcess a python-home={root}/venvA %s
WSGIDaemonProcess b python-home={root}/venvB python-path={root}/ppB threads=2
WSGIScriptAlias /a %s process-group=a
WSGIScriptAlias /b %s process-group=b
""" % ("user=nobody" if IS_ROOT else "", INFO, INFO)


def test_doctor_predicts_the_python_of_two_groups_with_their_own_venvs(apache_factory):
    a = apache_factory(TWO_GROUPS, setup=setup_two_venvs, start=False)
    report = doctor(a)
    assert report["problems"] == [], report["problems"]
    assert [g["name"] for g in report["groups"]] == ["a", "b"]  # embedded mode is restricted
    if IS_ROOT:
        assert [g["user"] for g in report["groups"]] == ["nobody", "www-data"]
    predicted = {name: group(report, name)["python"] for name in ("a", "b")}
    assert predicted["a"]["prefix"] == a.path("venvA")
    assert predicted["b"]["prefix"] == a.path("venvB")
    assert predicted["b"]["path"][:2] == [a.path("ppB"), a.path("ppB-extra")]  # the .pth file's entry too
    assert report["sockets"]["prefix"] == a.path("run/w")

    a.start()
    for name in ("a", "b"):
        real = get_json(a, "/%s?import=which,extra_mod" % name)
        assert real["prefix"] == predicted[name]["prefix"]
        assert real["path"] == predicted[name]["path"]
    assert get_json(a, "/b?import=extra_mod")["imports"]["extra_mod"]["ok"]


def test_doctor_embedded_mode_with_python_path_and_pth_file(apache_factory):
    def setup(a):
        make_venv(a.path("venv"))
        write(a.path("pp", "more.pth"), a.path("pp-more") + "\nimport sys; sys.swsgi_pth_marker = 'seen'\n")
        os.makedirs(a.path("pp-more"))
    a = apache_factory("WSGIPythonHome {root}/venv\nWSGIPythonPath {root}/pp\n"
                       "WSGIScriptAlias / {apps}/pyinfo.wsgi\n", setup=setup, start=False)
    report = doctor(a)
    assert report["problems"] == []
    embedded = group(report, "(embedded)")
    assert embedded["mode"] == "embedded"
    predicted = embedded["python"]
    assert predicted["prefix"] == a.path("venv")
    assert predicted["version"].startswith(PY_VERSION + ".")
    a.start()
    real = a.get_json("/")
    assert real["pth_marker"] == "seen"
    assert (real["prefix"], real["base_prefix"], real["path"]) == (predicted["prefix"], predicted["base_prefix"], predicted["path"])


def test_doctor_missing_home(apache_factory):
    a = apache_factory(SOCKET_DIRECTIVE + "WSGIDaemonProcess g python-home={root}/nothere\n"
                       "WSGIScriptAlias / %s process-group=g\n" % INFO, start=False)
    report = doctor(a)
    g = group(report, "g")
    assert g["python"] is None
    [problem] = g["problems"]
    # the module refuses the definition: named with its file and line, as configtest does
    assert problem.startswith("%s:%d: WSGIDaemonProcess python-home '%s' does not exist; " % (a.conf, line_of(a, "WSGIDaemonProcess g"), a.path("nothere")))
    assert "must be sys.prefix of a Python %s installation or virtual environment" % PY_VERSION in problem
    assert problem in report["problems"]


def test_doctor_home_of_another_version(apache_factory):
    def setup(a):
        write(a.path("old", "pyvenv.cfg"), "home = /usr/bin\nversion = 3.9.2\n")
    a = apache_factory(SOCKET_DIRECTIVE + "WSGIDaemonProcess g python-home={root}/old\n"
                       "WSGIScriptAlias / %s process-group=g\n" % INFO, setup=setup, start=False)
    report = doctor(a)
    [problem] = group(report, "g")["problems"]
    assert problem == ("%s:%d: WSGIDaemonProcess python-home '%s' is a virtual environment of Python 3.9, but this module "
                       "is built for Python %s; recreate it with python%s -m venv"
                       % (a.conf, line_of(a, "WSGIDaemonProcess g"), a.path("old"), PY_VERSION, PY_VERSION))
    assert report["problems"] == [problem]  # not again where the group is used
    text = tool("doctor", "-f", a.conf)
    assert text.returncode == 1
    assert "- " + problem in text.stdout.splitlines()


def test_doctor_prefix_home_of_another_version(apache_factory):
    def setup(a):
        write(a.path("py39", "lib", "python3.9", "os.py"), "")
    a = apache_factory("WSGIPythonHome {root}/py39\nWSGIScriptAlias / {apps}/pyinfo.wsgi\n", setup=setup, start=False)
    report = doctor(a)
    assert report["problems"] == [
        "%s:%d: WSGIPythonHome '%s' is a Python 3.9 installation, but this module is built for Python %s; WSGIPythonHome "
        "must be sys.prefix of a Python %s installation or virtual environment (not the bin/python file, not site-packages)"
        % (a.conf, line_of(a, "WSGIPythonHome"), a.path("py39"), PY_VERSION, PY_VERSION)]


def test_doctor_home_of_another_installation_of_the_same_version(apache_factory):
    """A prefix whose standard library is another installation's than the module's libpython."""
    def setup(a):
        os.makedirs(a.path("other", "lib"))
        os.symlink(os.path.join(BASE_PREFIX, "lib", "python" + PY_VERSION), a.path("other", "lib", "python" + PY_VERSION))
    a = apache_factory("WSGIPythonHome {root}/other\nWSGIScriptAlias / {apps}/pyinfo.wsgi\n", setup=setup, start=False)
    report = doctor(a)
    embedded = group(report, "(embedded)")
    assert embedded["python"]["base_prefix"] == a.path("other")
    [problem] = report["problems"]
    assert problem.startswith("Embedded mode: its standard library is that of the Python at '%s', but the module "
                              "embeds the one at '%s'" % (a.path("other"), BASE_PREFIX))
    a.start()
    assert a.get_json("/")["base_prefix"] == a.path("other")  # what doctor predicted


@pytest.mark.skipif(not IS_ROOT, reason="needs root to run the daemon as www-data")
def test_doctor_home_unreadable_by_the_daemon_user(apache_factory):
    def setup(a):
        make_venv(a.path("private", "venv"))
        os.makedirs(a.path("private", "pp"))
    a = apache_factory(SOCKET_DIRECTIVE + "WSGIDaemonProcess g python-home={root}/private/venv python-path={root}/private/pp user=www-data\n"
                       "WSGIScriptAlias / %s process-group=g\n" % INFO, setup=setup, start=False)
    a.prepare()
    os.chmod(a.path("private"), 0o700)
    p = tool("doctor", "-f", a.conf, "--json")
    report = json.loads(p.stdout)
    assert p.returncode == 1
    readable = [q for q in report["problems"] if "cannot be read by user 'www-data'" in q]
    # every path that user cannot read, each in its sentence
    assert [q.split(" cannot be read")[0] for q in readable] == [
        "WSGIDaemonProcess python-home '%s'" % a.path("private", "venv"),
        "WSGIDaemonProcess python-path '%s'" % a.path("private", "pp")]
    assert "directory '%s' is not searchable (x) for it" % a.path("private") in readable[0]
    # and the Python asked as that user indeed does not start
    assert group(report, "g")["python"] is None
    assert any("does not start as user www-data" in q for q in group(report, "g")["problems"])


@pytest.mark.skipif(not IS_ROOT, reason="needs root to ask as Apache's User")
def test_doctor_socket_directory_apache_cannot_search(apache_factory):
    a = apache_factory("WSGISocketPrefix {root}/private/sockets/w\nWSGIDaemonProcess g\n"
                       "WSGIScriptAlias / %s process-group=g\n" % INFO, start=False)
    os.makedirs(a.path("private", "sockets"))
    a.prepare()
    os.chmod(a.path("private"), 0o700)
    report = json.loads(tool("doctor", "-f", a.conf, "--json").stdout)
    assert report["sockets"] == {"prefix": a.path("private/sockets/w"), "directory": a.path("private/sockets")}
    assert ("The daemon socket directory '%s' cannot be searched by Apache's User www-data, so its children cannot "
            "reach the daemons (503); give that user x permission on it, or point WSGISocketPrefix elsewhere."
            % a.path("private/sockets")) in report["problems"]


def test_doctor_socket_directory_missing(apache_factory):
    a = apache_factory("WSGISocketPrefix nothere/w\nWSGIDaemonProcess g\nWSGIScriptAlias / %s process-group=g\n" % INFO,
                       start=False)
    report = doctor(a)
    assert report["problems"] == [
        "The daemon socket directory '%s' does not exist: Apache cannot create the sockets there; create it (mkdir -p) "
        "or point WSGISocketPrefix at a directory that exists." % a.path("nothere")]


MOD_WSGI = "/usr/lib/apache2/modules/mod_wsgi.so"


def test_doctor_reports_mod_wsgi_loaded_too(apache_factory):
    # under another word: configtest would fail
    a = apache_factory("WSGIScriptAlias / {apps}/pyinfo.wsgi\n", start=False,
                       modules=[("swsgi_module", MODULE_PATH), ("wsgi_module", MOD_WSGI)])
    report = doctor(a)
    assert report["problems"] == ["%s:%d: mod_wsgi is loaded too, and one Apache can run only one of them (configtest "
                                  "fails); remove that LoadModule line (a2dismod wsgi)."
                                  % (a.conf, line_of(a, "LoadModule wsgi_module"))]
    # under the same word: Apache skips the second line
    a = apache_factory("WSGIScriptAlias / {apps}/pyinfo.wsgi\n", start=False,
                       modules=[("wsgi_module", MODULE_PATH), ("wsgi_module", MOD_WSGI)])
    [problem] = doctor(a)["problems"]
    assert problem.startswith("%s:%d: Apache skips this LoadModule of mod_wsgi, as wsgi_module is swsgi already"
                              % (a.conf, line_of(a, "LoadModule wsgi_module " + MOD_WSGI)))


def test_doctor_configuration_of_mod_wsgi(apache_factory):
    a = apache_factory("WSGIScriptAlias / {apps}/pyinfo.wsgi\n", start=False, modules=[("wsgi_module", MOD_WSGI)])
    report = doctor(a)
    assert report["problems"] == ["%s:%d: this configuration loads mod_wsgi, not swsgi; to run swsgi, make that line "
                                  "LoadModule wsgi_module %s (this report assumes that module)."
                                  % (a.conf, line_of(a, "LoadModule wsgi_module"), MODULE_PATH)]
    assert report["module"] == MODULE_PATH
    assert group(report, "(embedded)")["python"]["prefix"] == BASE_PREFIX


def test_doctor_follows_includes_and_sections(apache_factory):
    def setup(a):
        make_venv(a.path("venv"))
        write(a.path("conf.d", "site.conf"),
              "<IfModule swsgi_module>\n"
              "  <VirtualHost *:{port}>\n".replace("{port}", str(a.port)) +
              "    WSGIDaemonProcess site python-home=%s\n" % a.path("venv") +
              "    WSGIScriptAlias /site %s process-group=site\n" % a.path("apps", "daemon", "info.wsgi") +
              "  </VirtualHost>\n"
              "</IfModule>\n"
              "<IfModule !swsgi_module>\n  WSGIDaemonProcess never\n</IfModule>\n"
              "<IfDefine NOT_DEFINED>\n  WSGIDaemonProcess nor\n</IfDefine>\n")
    a = apache_factory(SOCKET_DIRECTIVE + "IncludeOptional conf.d/*.conf\nIncludeOptional nothing/*.conf\n",
                       setup=setup, start=False)
    report = doctor(a)
    assert [g["name"] for g in report["groups"]] == ["(embedded)", "site"]
    assert group(report, "site")["python"]["prefix"] == a.path("venv")
    a.start()
    assert get_json(a, "/site")["path"] == group(report, "site")["python"]["path"]


def test_doctor_directive_error_names_file_and_line(apache_factory):
    a = apache_factory("WSGIDaemonProcess g processes=2x\n", start=False)
    report = doctor(a)
    assert report["problems"] == ["%s:%d: WSGIDaemonProcess: option 'processes=2x' is not a whole number"
                                  % (a.conf, line_of(a, "WSGIDaemonProcess g"))]


def test_doctor_text_report_lists_sys_path(apache_factory):
    a = apache_factory("WSGIScriptAlias / {apps}/pyinfo.wsgi\n", start=False)
    a.prepare()
    p = tool("doctor", "-f", a.conf)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "Embedded mode (Apache's children, as" in p.stdout
    assert "  sys.path\n" in p.stdout
    assert p.stdout.rstrip().endswith("No problems found.")


def test_doctor_unreadable_config_is_one_sentence():
    p = subprocess.run([TOOL, "doctor", "-f", "/nonexistent/apache2.conf"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 1
    assert p.stderr.strip() == "Error: The Apache configuration '/nonexistent/apache2.conf' is not a readable file; give it with -f."
