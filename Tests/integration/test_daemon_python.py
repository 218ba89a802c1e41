"""Daemon mode: each process group has its own Python (python-home=, python-path=),
side by side with embedded mode in one server."""
import os

from conftest import BASE_PREFIX, SYSTEM_PACKAGE, make_venv, venv_site_packages
from daemon_support import SOCKET_DIRECTIVE, get_json


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def setup_pythons(a):
    # venvE: WSGIPythonHome (embedded mode and group gc); venvA, venvB: python-home=
    for tag in ("A", "B", "E"):
        venv = a.path("venv" + tag)
        make_venv(venv)
        write(os.path.join(venv_site_packages(venv), "which_venv.py"), "VALUE = %r\n" % tag)
    # the same module name in three python paths
    for tag in ("A", "B", "E"):
        write(a.path("pp" + tag, "samename.py"), "VALUE = %r\n" % ("path-" + tag))
    write(a.path("ppE", "embedded_only.py"), "VALUE = 'E'\n")


DIRECTIVES = SOCKET_DIRECTIVE + """\
WSGIPythonHome {root}/venvE
WSGIPythonPath {root}/ppE
WSGIDaemonProcess ga python-home={root}/venvA python-path={root}/ppA
WSGIDaemonProcess gb python-home={root}/venvB python-path={root}/ppB threads=2
WSGIDaemonProcess gc
WSGIScriptAlias /ga {apps}/daemon/info.wsgi process-group=ga
WSGIScriptAlias /gb {apps}/daemon/info.wsgi process-group=gb
WSGIScriptAlias /gc {apps}/daemon/info.wsgi process-group=gc
WSGIScriptAlias /emb {apps}/daemon/info.wsgi
"""

QUERY = "?import=which_venv,samename,embedded_only," + SYSTEM_PACKAGE


def test_groups_have_their_own_python_home_and_path(apache_factory):
    a = apache_factory(DIRECTIVES, setup=setup_pythons)
    info = {name: get_json(a, "/" + name + QUERY) for name in ("ga", "gb", "gc", "emb")}
    ga, gb, gc, emb = info["ga"], info["gb"], info["gc"], info["emb"]

    # four different processes, each reports its group
    assert len({i["pid"] for i in info.values()}) == 4
    assert (ga["process_group"], gb["process_group"], gc["process_group"]) == ("ga", "gb", "gc")
    assert not emb["process_group"]

    # python-home= per group, else WSGIPythonHome
    assert ga["prefix"] == a.path("venvA")
    assert gb["prefix"] == a.path("venvB")
    assert gc["prefix"] == a.path("venvE")
    assert emb["prefix"] == a.path("venvE")
    for name, tag in (("ga", "A"), ("gb", "B"), ("gc", "E"), ("emb", "E")):
        imp = info[name]["imports"]
        assert imp["which_venv"]["ok"] and imp["which_venv"]["value"] == tag, (name, imp)
        assert not imp[SYSTEM_PACKAGE]["ok"], (name, imp)  # the system's site-packages are not seen
        assert not any("dist-packages" in p for p in info[name]["path"]), (name, info[name]["path"])

    # python-path= per group; the same module name resolves to different files
    assert ga["imports"]["samename"]["file"] == a.path("ppA", "samename.py")
    assert gb["imports"]["samename"]["file"] == a.path("ppB", "samename.py")
    assert emb["imports"]["samename"]["file"] == a.path("ppE", "samename.py")
    assert not gc["imports"]["samename"]["ok"], gc["imports"]
    assert a.path("ppA") in ga["path"] and a.path("ppB") in gb["path"]
    assert a.path("ppB") not in ga["path"] and a.path("ppA") not in gb["path"]

    # WSGIPythonPath is for embedded mode only
    assert emb["imports"]["embedded_only"]["ok"]
    for name in ("ga", "gb", "gc"):
        assert a.path("ppE") not in info[name]["path"], (name, info[name]["path"])
        assert not info[name]["imports"]["embedded_only"]["ok"], name

    # state stays per process: a second round gives the same processes
    again = {name: get_json(a, "/" + name)["pid"] for name in info}
    assert again == {name: i["pid"] for name, i in info.items()}
