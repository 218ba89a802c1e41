"""Daemon mode: processes and threads, user/group, the socket files, process names and
a clean stop."""
import os
import re
import stat
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import IS_ROOT, pid_alive
from daemon_support import (SOCKET_DIRECTIVE, cmdline, descendants, get_json, named,
                            socket_files, throwaway_user, wait_gone)  # noqa: F401 (fixture)

WWW_DATA_UID = WWW_DATA_GID = 33


def test_processes_and_threads_spread_concurrent_requests(apache_factory):
    a = apache_factory(SOCKET_DIRECTIVE +
                       "WSGIDaemonProcess pt processes=2 threads=4\n"
                       "WSGIScriptAlias / {apps}/daemon/info.wsgi process-group=pt\n")
    n = 16
    with ThreadPoolExecutor(max_workers=n) as pool:
        # warm up: both processes load the script
        list(pool.map(lambda _: get_json(a, "/?sleep=0.05"), range(n)))
        t0 = time.monotonic()
        data = list(pool.map(lambda _: get_json(a, "/?sleep=0.2", timeout=20), range(n)))
        elapsed = time.monotonic() - t0
    pids = Counter(d["pid"] for d in data)
    assert len(pids) == 2, "requests per pid %s, peak %d, %.2f s" % (
        dict(pids), max(d["peak"] for d in data), elapsed)
    assert all(d["multithread"] is True and d["multiprocess"] is True for d in data)
    assert all(d["process_group"] == "pt" for d in data)
    assert max(d["peak"] for d in data) <= 4  # never more than threads= at once
    assert max(d["peak"] for d in data) >= 2
    # 16 x 0.2 s on 2 x 4 threads: two rounds; one at a time would be 3.2 s
    assert elapsed < 1.6, elapsed


def test_environ_flags_without_processes_option(apache_factory):
    a = apache_factory(SOCKET_DIRECTIVE +
                       "WSGIDaemonProcess single threads=1\n"
                       "WSGIDaemonProcess multi processes=1 threads=3\n"
                       "WSGIScriptAlias /single {apps}/daemon/info.wsgi process-group=single\n"
                       "WSGIScriptAlias /multi {apps}/daemon/info.wsgi process-group=multi\n")
    single, multi = get_json(a, "/single"), get_json(a, "/multi")
    assert (single["multithread"], single["multiprocess"]) == (False, False)
    assert (multi["multithread"], multi["multiprocess"]) == (True, True)  # processes= given
    assert (single["process_group"], multi["process_group"]) == ("single", "multi")


def test_user_and_group(apache_factory, throwaway_user):
    name, uid, gid = throwaway_user
    a = apache_factory(SOCKET_DIRECTIVE +
                       "WSGIDaemonProcess own user=%s group=%s home={data}\n"
                       "WSGIDaemonProcess mixed user=%s group=www-data home={data}\n"
                       "WSGIDaemonProcess default\n"
                       "WSGIScriptAlias /own {apps}/daemon/info.wsgi process-group=own\n"
                       "WSGIScriptAlias /mixed {apps}/daemon/info.wsgi process-group=mixed\n"
                       "WSGIScriptAlias /default {apps}/daemon/info.wsgi process-group=default\n"
                       % (name, name, name))
    own, mixed, default = get_json(a, "/own"), get_json(a, "/mixed"), get_json(a, "/default")
    assert (own["uid"], own["euid"], own["gid"], own["egid"]) == (uid, uid, gid, gid), own
    assert own["groups"] == [gid], own  # supplementary groups: the user's, not root's
    assert own["cwd"] == a.data
    assert (mixed["uid"], mixed["euid"]) == (uid, uid), mixed
    assert (mixed["gid"], mixed["egid"]) == (WWW_DATA_GID, WWW_DATA_GID), mixed
    assert 0 not in mixed["groups"], mixed
    # default: Apache's User/Group
    assert (default["uid"], default["euid"]) == (WWW_DATA_UID, WWW_DATA_UID), default
    assert (default["gid"], default["egid"]) == (WWW_DATA_GID, WWW_DATA_GID), default
    assert 0 not in default["groups"], default


def test_socket_files_mode_owner_and_name(apache_factory):
    a = apache_factory(SOCKET_DIRECTIVE +
                       "WSGIDaemonProcess one\n"
                       "WSGIDaemonProcess two\n"
                       "WSGIScriptAlias /one {apps}/daemon/info.wsgi process-group=one\n"
                       "WSGIScriptAlias /two {apps}/daemon/info.wsgi process-group=two\n")
    get_json(a, "/one")
    get_json(a, "/two")
    files = socket_files(a)
    assert len(files) == 2, files
    for path in files:
        assert re.fullmatch(r"w\.%d\.\d+\.\d+\.sock" % a.pid, os.path.basename(path)), path
        st = os.lstat(path)
        assert stat.S_ISSOCK(st.st_mode), path
        assert stat.S_IMODE(st.st_mode) == 0o700, oct(st.st_mode)
        assert st.st_uid == (WWW_DATA_UID if IS_ROOT else os.geteuid()), st


@pytest.mark.swsgi_only
def test_process_names(apache_factory):
    a = apache_factory(SOCKET_DIRECTIVE +
                       "WSGIDaemonProcess named processes=2 display-name=%{GROUP}\n"
                       "WSGIDaemonProcess plain\n"
                       "WSGIDaemonProcess custom display-name=my-custom-name\n"
                       "WSGIScriptAlias /named {apps}/daemon/info.wsgi process-group=named\n"
                       "WSGIScriptAlias /plain {apps}/daemon/info.wsgi process-group=plain\n"
                       "WSGIScriptAlias /custom {apps}/daemon/info.wsgi process-group=custom\n")
    info = {g: get_json(a, "/" + g) for g in ("named", "plain", "custom")}
    procs = descendants(a.pid)
    daemons = [p for p in procs if "apache2" not in cmdline(p)]
    titles = sorted(cmdline(p) for p in daemons)
    assert titles == ["(wsgi:named)", "(wsgi:named)", "my-custom-name", "swsgi:plain"], titles
    for g, i in info.items():
        # forked and reaped by the Apache parent itself, as mod_wsgi does
        assert i["ppid"] == a.pid, (g, i["ppid"], a.pid)
        assert i["pid"] in daemons


def test_stop_leaves_nothing_behind(apache_factory):
    a = apache_factory(SOCKET_DIRECTIVE +
                       "WSGIDaemonProcess s1 processes=2 threads=2 display-name=%{GROUP}\n"
                       "WSGIDaemonProcess s2 display-name=%{GROUP}\n"
                       "WSGIScriptAlias /s1 {apps}/daemon/info.wsgi process-group=s1\n"
                       "WSGIScriptAlias /s2 {apps}/daemon/info.wsgi process-group=s2\n")
    served = {get_json(a, "/s1")["pid"], get_json(a, "/s2")["pid"]}
    procs = descendants(a.pid)
    daemons = named(procs, "(wsgi:")
    assert len(daemons) == 3 and served <= set(daemons), [(p, cmdline(p)) for p in procs]
    assert socket_files(a)
    elapsed = a.stop()
    left = wait_gone(procs, 5)
    assert not left, [(p, cmdline(p)) for p in left]
    assert elapsed < 5, elapsed
    assert not socket_files(a), socket_files(a)
    # nothing anywhere still runs from this ServerRoot or under these names
    strays = [p for p in (int(x) for x in os.listdir("/proc") if x.isdigit())
              if pid_alive(p) and (a.root in cmdline(p) or p in procs)]
    assert not strays, [(p, cmdline(p)) for p in strays]
