"""The daemon options a user relies on for security: socket-user= owns the group's socket,
script-user=/script-group= refuse scripts that are not theirs (as mod_wsgi does), chroot=
confines the daemon, with its Python and scripts checked to be inside at configtest; options and directives without effect are named at configtest;
WSGIRestrictProcess limits the groups a context may use."""
import os
import shutil
import subprocess

import pytest

from conftest import PYTHON, TARGET
from daemon_support import SOCKET_DIRECTIVE, get_json, socket_files, throwaway_user  # noqa: F401


def copy_script(a, owner=None, group=None, file_mode=0o644, dir_mode=0o755):
    """{root}/scripts/info.wsgi, a copy of the daemon probe, with that owner and modes."""
    directory = a.path("scripts")
    os.makedirs(directory, exist_ok=True)
    script = os.path.join(directory, "info.wsgi")
    shutil.copy(os.path.join(a.apps, "daemon", "info.wsgi"), script)
    for path, mode in ((script, file_mode), (directory, dir_mode)):
        os.chown(path, -1 if owner is None else owner, -1 if group is None else group)
        os.chmod(path, mode)


def test_socket_user_owns_the_socket(apache_factory, throwaway_user):
    name, uid, _ = throwaway_user
    a = apache_factory(SOCKET_DIRECTIVE +
                       "WSGIDaemonProcess s socket-user=%s\n" % name +
                       "WSGIScriptAlias / {apps}/daemon/info.wsgi process-group=s\n")
    files = socket_files(a)
    assert len(files) == 1, files
    assert os.stat(files[0]).st_uid == uid
    # Apache's User is not its owner: it cannot connect.
    assert a.get("/").status == 503


SCRIPT_CASES = {
    # name: (option, owned by the user/group, file mode, directory mode, expected status)
    "script-user, its own script": ("user", True, 0o644, 0o755, 200),
    "script-user, another's script": ("user", False, 0o644, 0o755, 403),
    "script-user, group-writable script": ("user", True, 0o664, 0o755, 403),
    "script-user, world-writable directory": ("user", True, 0o644, 0o757, 403),
    "script-group, its group's script": ("group", True, 0o664, 0o775, 200),
    "script-group, another group's script": ("group", False, 0o644, 0o755, 403),
    "script-group, world-writable script": ("group", True, 0o646, 0o755, 403),
}


@pytest.mark.parametrize("case", sorted(SCRIPT_CASES))
def test_script_user_and_group_refuse_scripts_that_are_not_theirs(apache_factory, throwaway_user, case):
    name, uid, gid = throwaway_user
    option, owned, file_mode, dir_mode, expected = SCRIPT_CASES[case]
    owner = (uid if option == "user" else None) if owned else None
    group = (gid if option == "group" else None) if owned else None

    def setup(a):
        copy_script(a, owner=owner, group=group, file_mode=file_mode, dir_mode=dir_mode)

    a = apache_factory(SOCKET_DIRECTIVE +
                       "WSGIDaemonProcess s script-%s=%s\n" % (option, name) +
                       "WSGIScriptAlias / {root}/scripts/info.wsgi process-group=s\n"
                       '<Directory "{root}/scripts">\n    Require all granted\n</Directory>\n', setup=setup)
    mark = a.log_mark()
    r = a.get("/")
    assert r.status == expected, (r, a.log_since(mark))
    if expected == 403 and TARGET == "swsgi":
        log = a.wait_log(mark, "refuses to run it")
        assert "daemon process group 's' refuses to run it" in log, log


def make_jail(a, python=True):
    """{root}/jail with the module's Python (its standard library and program, hard-linked
    where the file system allows) and {root}/jail/srv/info.wsgi."""
    jail = a.path("jail")
    paths = subprocess.run([PYTHON, "-c", "import sys, sysconfig; print(sysconfig.get_path('stdlib')); "
                            "print(sysconfig.get_path('platstdlib')); print(sys.executable)"],
                           check=True, capture_output=True, text=True).stdout.split()
    for path in sorted(set(paths)) if python else []:
        target = jail + path
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if subprocess.run(["cp", "-al", path, target], capture_output=True).returncode != 0:
            subprocess.run(["cp", "-a", path, target], check=True)
    os.makedirs(jail + "/srv", exist_ok=True)
    with open(jail + "/srv/info.wsgi", "w") as f:
        f.write(JAILED_APP)
    return jail


# What the daemon sees of the file system: the query string is a path to look for.
JAILED_APP = """import json, os, sys
def application(environ, start_response):
    facts = {"script_filename": environ["SCRIPT_FILENAME"], "file": __file__, "prefix": sys.prefix,
             "exists": os.path.exists(environ["QUERY_STRING"]), "cwd": os.getcwd()}
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(facts).encode()]
"""


CHROOT_CONF = (SOCKET_DIRECTIVE +
               "WSGIDaemonProcess s chroot={root}/jail threads=2\n"
               "WSGIScriptAlias / {root}/jail/srv/info.wsgi process-group=s\n"
               '<Directory "{root}/jail/srv">\n    Require all granted\n</Directory>\n')


# mod_wsgi 4.9.4 chroots too, but its daemon exits with status 1 while initialising Python in
# this jail (which holds the standard library, but not all that mod_wsgi's Python start reads).
@pytest.mark.swsgi_only
def test_chroot_confines_the_daemon(apache_factory):
    a = apache_factory(CHROOT_CONF, setup=make_jail)
    inside = get_json(a, "/?/srv/info.wsgi")
    assert inside["script_filename"] == "/srv/info.wsgi" and inside["exists"] is True, inside
    outside = get_json(a, "/?" + a.conf)
    assert outside["exists"] is False, outside  # Apache's configuration is outside the jail


@pytest.mark.swsgi_only
def test_chroot_without_the_python_or_the_script_inside_fails_configtest(apache_factory):
    # mod_wsgi 4.9.4 starts such a group, which then fails in every process.
    a = apache_factory(CHROOT_CONF, start=False, setup=lambda a: make_jail(a, python=False))
    rc, out = a.configtest()
    assert rc != 0, out
    assert "WSGIDaemonProcess 's': its processes run inside chroot '%s/jail', which must hold their Python" % a.root in out, out
    a = apache_factory(SOCKET_DIRECTIVE + "WSGIDaemonProcess s chroot={root}/jail\n"
                       "WSGIScriptAlias / {apps}/daemon/info.wsgi process-group=s\n", start=False, setup=make_jail)
    rc, out = a.configtest()
    assert rc != 0, out
    assert "is for daemon process group 's', whose chroot is '%s/jail': the script must be inside that directory" % a.root in out, out


@pytest.mark.swsgi_only
def test_configtest_names_each_option_and_directive_without_effect(apache_factory):
    a = apache_factory(SOCKET_DIRECTIVE +
                       "WSGIDaemonProcess s deadlock-timeout=60 send-buffer-size=4096\n"
                       "WSGIRestrictStdout On\n"
                       "WSGIScriptAlias / {apps}/daemon/info.wsgi process-group=s\n", start=False)
    rc, out = a.configtest()
    assert rc == 0 and "Syntax OK" in out, out
    for name in ("WSGIDaemonProcess 's': option 'deadlock-timeout'", "WSGIDaemonProcess 's': option 'send-buffer-size'",
                 "WSGIRestrictStdout"):
        assert out.count("swsgi: %s is accepted for compatibility with mod_wsgi but has no effect" % name) == 1, out
    assert "request-timeout" not in out and "process-group" not in out, out


RESTRICTED = (SOCKET_DIRECTIVE +
              "WSGIDaemonProcess a threads=2\n"
              "WSGIDaemonProcess b threads=2\n"
              "WSGIRestrictProcess a\n"
              "WSGIScriptAlias /a {apps}/daemon/info.wsgi\n"
              "WSGIScriptAlias /b {apps}/daemon/info.wsgi\n"
              "WSGIScriptAlias /e {apps}/daemon/info.wsgi\n"
              "WSGIScriptAlias /own-b {apps}/daemon/info.wsgi\n"
              "<Location /a>\n    WSGIProcessGroup a\n</Location>\n"
              "<Location /b>\n    WSGIProcessGroup b\n</Location>\n"
              "<Location /e>\n    WSGIProcessGroup %{GLOBAL}\n</Location>\n"
              "<Location /own-b>\n    WSGIProcessGroup b\n    WSGIRestrictProcess b %{GLOBAL}\n</Location>\n")


def test_restrict_process_limits_the_groups_a_context_may_use(apache_factory):
    a = apache_factory(RESTRICTED)
    mark = a.log_mark()
    assert a.get("/a").status == 200
    assert a.get("/b").status == 500, a.log_since(mark)
    assert a.get("/e").status == 500, "embedded mode is not in the list either"
    assert a.get("/own-b").status == 200, "a Location's own list replaces the server's"
    if TARGET == "swsgi":
        log = a.log_since(mark)
        assert "process group 'b' cannot be used for" in log and "WSGIRestrictProcess allows only a" in log, log
        assert "process group %{GLOBAL} (embedded mode) cannot be used" in log, log


@pytest.mark.swsgi_only
def test_restrict_process_naming_an_undefined_group_fails_configtest(apache_factory):
    a = apache_factory(SOCKET_DIRECTIVE + "WSGIDaemonProcess a\nWSGIRestrictProcess a ghost\n", start=False)
    rc, out = a.configtest()
    assert rc != 0, out
    assert "WSGIRestrictProcess: process group 'ghost' is not defined by any WSGIDaemonProcess" in out, out
