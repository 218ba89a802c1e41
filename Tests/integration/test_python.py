"""Python configuration: WSGIPythonHome, WSGIPythonPath, application groups."""
import os

from conftest import BASE_PREFIX, SYSTEM_PACKAGE, SYSTEM_PACKAGE_FILE, make_venv, venv_site_packages


def test_system_package_is_outside_any_venv():
    # premise of the venv test: SYSTEM_PACKAGE comes from the system's site-packages
    assert "dist-packages" in SYSTEM_PACKAGE_FILE or "site-packages" in SYSTEM_PACKAGE_FILE


def setup_venv(a):
    venv = a.path("venv")
    make_venv(venv)
    pkg = os.path.join(venv_site_packages(venv), "venvonly_pkg")
    os.makedirs(pkg)
    with open(os.path.join(pkg, "__init__.py"), "w") as f:
        f.write("VALUE = 'from-the-venv'\n")


def test_python_home_venv(apache_factory):
    a = apache_factory("WSGIPythonHome {root}/venv\n"
                       "WSGIScriptAlias /info {apps}/pyinfo.wsgi\n"
                       "WSGIScriptAlias /ginfo {apps}/pyinfo.wsgi\n"
                       "<Location /ginfo>\n    WSGIApplicationGroup %{GLOBAL}\n</Location>\n",
                       setup=setup_venv)
    venv = a.path("venv")
    for url in ("/info", "/ginfo"):  # a sub-interpreter and the main interpreter
        info = a.get_json(url + "?venvonly_pkg," + SYSTEM_PACKAGE)
        assert info["prefix"] == venv, url
        assert info["base_prefix"] == BASE_PREFIX, url
        assert venv_site_packages(venv) in info["path"], url
        imp = info["imports"]
        assert imp["venvonly_pkg"]["ok"] and imp["venvonly_pkg"]["value"] == "from-the-venv", imp
        assert not imp[SYSTEM_PACKAGE]["ok"], imp  # system site-packages are not visible
        assert not any("dist-packages" in p for p in info["path"]), info["path"]


def setup_pth(a):
    pp = a.path("pp")
    for d in ("extra", "extra2", "abs_dir", "extra/rel_dir"):
        os.makedirs(os.path.join(pp, d))
    with open(os.path.join(pp, "abs_dir", "pth_abs_mod.py"), "w") as f:
        f.write("VALUE = 'abs'\n")
    with open(os.path.join(pp, "extra", "rel_dir", "pth_rel_mod.py"), "w") as f:
        f.write("VALUE = 'rel'\n")
    with open(os.path.join(pp, "extra2", "extra2_mod.py"), "w") as f:
        f.write("VALUE = 'extra2'\n")
    with open(os.path.join(pp, "extra", "a_paths.pth"), "w") as f:
        f.write("# a comment line\n"
                "%s\n"
                "rel_dir\n"
                "import sys; sys.swsgi_pth_marker = 'pth-import-ran'\n"
                "%s\n" % (os.path.join(pp, "abs_dir"), os.path.join(pp, "missing_dir")))


def test_python_path_and_pth_files(apache_factory):
    a = apache_factory("WSGIPythonPath {root}/pp/extra:{root}/pp/extra2\n"
                       "WSGIScriptAlias /info {apps}/pyinfo.wsgi\n"
                       "WSGIScriptAlias /ginfo {apps}/pyinfo.wsgi\n"
                       "<Location /ginfo>\n    WSGIApplicationGroup %{GLOBAL}\n</Location>\n",
                       setup=setup_pth)
    pp = a.path("pp")
    expected_front = [os.path.join(pp, "extra"), os.path.join(pp, "abs_dir"),
                      os.path.join(pp, "extra", "rel_dir"), os.path.join(pp, "extra2")]
    for url in ("/info", "/ginfo"):  # a sub-interpreter and the main interpreter
        info = a.get_json(url + "?pth_abs_mod,pth_rel_mod,extra2_mod")
        path = info["path"]
        # the directories and what their .pth files add come first, in order
        assert path[:4] == expected_front, (url, path)
        assert os.path.join(pp, "missing_dir") not in path
        assert not any(p.endswith("missing_dir") for p in path)
        assert info["pth_marker"] == "pth-import-ran", url
        imp = info["imports"]
        assert imp["pth_abs_mod"]["value"] == "abs", imp
        assert imp["pth_rel_mod"]["value"] == "rel", imp
        assert imp["extra2_mod"]["value"] == "extra2", imp


def test_application_groups_are_separate_interpreters(apache_factory):
    a = apache_factory(
        "WSGIScriptAlias /a {apps}/appgroup.wsgi application-group=alpha\n"
        "WSGIScriptAlias /b {apps}/appgroup.wsgi\n"
        "WSGIScriptAlias /g {apps}/appgroup.wsgi application-group=%{GLOBAL}\n"
        "WSGIScriptAlias /a2 {apps}/appgroup.wsgi\n"
        "<Location /b>\n    WSGIApplicationGroup beta\n</Location>\n"
        "<Location /a2>\n    WSGIApplicationGroup alpha\n</Location>\n")
    ra = a.get_json("/a?set=from-alpha")
    rb = a.get_json("/b")
    rg = a.get_json("/g?set=from-global")
    assert (ra["group"], rb["group"], rg["group"]) == ("alpha", "beta", "")
    assert ra["pid"] == rb["pid"] == rg["pid"]  # one child process
    assert ra["marker"] == "from-alpha"
    assert rb["marker"] is None  # alpha's module state is not visible in beta
    assert rg["marker"] == "from-global"
    assert len({ra["sys_id"], rb["sys_id"], rg["sys_id"]}) == 3
    # the state persists within a group, across scripts aliases of the same group
    ra2 = a.get_json("/a2")
    assert ra2["group"] == "alpha"
    assert ra2["marker"] == "from-alpha"
    assert ra2["sys_id"] == ra["sys_id"]
    assert a.get_json("/b")["marker"] is None
    assert a.get_json("/g")["marker"] == "from-global"
    # the script module is loaded once per interpreter and keeps its globals
    assert a.get_json("/b")["hits"] == 3
