"""`make bench`: swsgi against Debian's mod_wsgi and against Apache serving static files.

Every scenario runs against three targets on identical Apache configurations that differ
only in the LoadModule line (the WSGI directives sit in <IfDirective WSGIScriptAlias>):

    swsgi     LoadModule wsgi_module build/pyX.Y/mod_swsgi.so
    mod_wsgi  LoadModule wsgi_module /usr/lib/apache2/modules/mod_wsgi.so
    floor     no WSGI module: the same URL is a static file of the same response size
    granian   granian --interface wsgi, the same app from the same venv (no Apache)
    gunicorn  gunicorn --worker-class gthread, likewise
    uvicorn   the ASGI scenarios only (asgi_bench.py), with granian --interface asgi
    granian-proxied, gunicorn-proxied, uvicorn-proxied
              the same Apache with mod_proxy_http in front of that peer (proxied.py)

Each run starts its own Apache (one at a time), checks the response once (status 200,
body), warms up, snapshots the CPU time of every process of the instance, runs wrk, takes
the snapshot again plus the RSS of children and daemons, and stops Apache. Repetitions
are interleaved (round 1 of every scenario and target, then round 2, ...), and the report
gives medians and the per-round paired ratios swsgi/mod_wsgi and swsgi/floor.

Usage:
    /usr/bin/python3 bench/bench.py                  # full run -> bench/RESULTS.md, bench/results.json
    /usr/bin/python3 bench/bench.py --quick          # < 3 min -> bench/partial/
    /usr/bin/python3 bench/bench.py --scenarios hello,upload --modes daemon --rounds 3
"""

import argparse
import datetime
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import asgi_bench
import proxied

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
# The Python swsgi is built for (make bench PYTHON=...): the venvs are made with it.
PYTHON = os.environ.get("PYTHON", "/usr/bin/python3")
PY_VERSION = tuple(int(x) for x in subprocess.run(
    [PYTHON, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
    capture_output=True, text=True, check=True).stdout.split("."))
APACHE2 = os.environ.get("APACHE2", "/usr/sbin/apache2")
APACHE_MODULES = "/usr/lib/apache2/modules"
sys.path.insert(0, os.path.join(REPO, "tools"))
import built_module  # noqa: E402
from processes import pid_alive, port_answers, read_pid, wait_until  # noqa: E402

SWSGI_MODULE = os.environ.get("SWSGI_MODULE") or built_module.module_path(PYTHON)
MOD_WSGI_MODULE = os.environ.get("MOD_WSGI_MODULE", os.path.join(APACHE_MODULES, "mod_wsgi.so"))
WRK = os.environ.get("WRK", "/usr/bin/wrk")
WRK_SCRIPT = os.path.join(HERE, "wrk.lua")
VENV = os.environ.get("SWSGI_BENCH_VENV", "/tmp/swsgi-bench-venv-py%d.%d" % PY_VERSION)
IS_ROOT = os.geteuid() == 0
CLK_TCK = os.sysconf("SC_CLK_TCK")
MIB = 1 << 20



def linked_python(module):
    """(major, minor) of the libpython a module links, or None."""
    out = subprocess.run(["readelf", "-d", module], capture_output=True, text=True).stdout
    m = re.search(r"libpython(\d+)\.(\d+)", out)
    return (int(m.group(1)), int(m.group(2))) if m else None


# Debian's mod_wsgi embeds Debian's Python: a venv of another Python is not for it.
MOD_WSGI_PYTHON = linked_python(MOD_WSGI_MODULE) if os.path.exists(MOD_WSGI_MODULE) else None
TARGETS = ["swsgi", "mod_wsgi", "floor", "granian", "gunicorn"] + list(asgi_bench.ASGI_ONLY) + list(proxied.TARGETS)
# Asked for by name only (--targets swsgi,swsgi-nometrics): swsgi with WSGIMetrics Off, for the
# cost of the metrics side by side.
NOMETRICS = "swsgi-nometrics"
# Targets that do not depend on the mode: they run once per scenario and round and are paired
# with every mode of it. The peers serve the app with as many Python processes as swsgi has
# in the default modes (one), with 16 threads where they take a number.
PEERS = ("granian", "gunicorn") + asgi_bench.ASGI_ONLY + proxied.TARGETS
MODELESS = ("floor",) + PEERS
PEER_THREADS = 16
MODULE_LINES = {
    # SWSGI_MODULE_ID=swsgi_module measures builds older than mod_wsgi's name.
    "swsgi": "LoadModule %s %s" % (os.environ.get("SWSGI_MODULE_ID", "wsgi_module"), SWSGI_MODULE),
    NOMETRICS: "LoadModule %s %s\nWSGIMetrics Off" % (os.environ.get("SWSGI_MODULE_ID", "wsgi_module"), SWSGI_MODULE),
    "mod_wsgi": "LoadModule wsgi_module %s" % MOD_WSGI_MODULE,
    "floor": "# (floor: no WSGI module; the URLs below are static files)",
    **{t: proxied.MODULE_LINES for t in proxied.TARGETS},
}

# Daemon modes: the WSGIDaemonProcess options; hello also runs with two processes.
MODES = {
    "embedded": None,
    "daemon": "processes=1 threads=16",
    "daemon-2x8": "processes=2 threads=8",
    # Two application groups in one process, sharing its GIL or each with its own (3.12+).
    "groups": "processes=1 threads=4",
    "groups-own-gil": "processes=1 threads=4",
}
OWN_GIL_MODES = {"groups-own-gil"}  # swsgi only: mod_wsgi 4.9.4 has no per-interpreter GIL

UPLOAD_BYTES = MIB


def large_list_body():
    return b"".join(bytes([65 + i]) * 65536 for i in range(16))  # as apps/large_list.wsgi


def stream_body():
    return b"".join(b"%04d" % i * 256 for i in range(64))  # as apps/stream.wsgi


def large_file_body():
    return random.Random(1).randbytes(MIB)


# name: url, script, modes, request body size, what the floor does
SCENARIOS = {
    "hello": dict(url="/hello", script="hello.wsgi", modes=["embedded", "daemon", "daemon-2x8"],
                  body=lambda: b"Hello world!"),
    "large-list": dict(url="/large-list", script="large_list.wsgi", modes=["embedded", "daemon"],
                       body=large_list_body),
    "large-file": dict(url="/large-file", script="large_file.wsgi", modes=["embedded", "daemon"],
                       body=large_file_body),
    "stream": dict(url="/stream", script="stream.wsgi", modes=["embedded", "daemon"],
                   body=stream_body),
    "upload": dict(url="/upload", script="upload.wsgi", modes=["embedded", "daemon"],
                   body=lambda: str(UPLOAD_BYTES).encode(), post=UPLOAD_BYTES),
    "flask": dict(url="/flask/api", alias="/flask", script="flask_app.wsgi",
                  modes=["embedded", "daemon"], body=None, venv=True),
    "django": dict(url="/django/api", alias="/django", script="django_app.wsgi",
                   modes=["embedded", "daemon"], body=None, venv=True),
    # wrk alternates between the paths, one application group each.
    "cpu": dict(url="/cpu/a", paths=["/cpu/a", "/cpu/b"], script="cpu.wsgi",
                modes=["groups"] + (["groups-own-gil"] if PY_VERSION >= (3, 12) else []),
                body=lambda: b"%d\n" % sum(range(200_000))),
    **asgi_bench.SCENARIOS,
}

# Targets the lead optimises against: minimum swsgi/mod_wsgi throughput per (scenario, mode).
SPEEDUP_GOALS = {
    ("hello", "embedded"): 1.3, ("hello", "daemon"): 1.5, ("hello", "daemon-2x8"): 1.5,
    ("large-file", "daemon"): 3.0, ("large-list", "daemon"): 2.0, ("upload", "daemon"): 2.0,
    ("flask", "embedded"): 1.05, ("flask", "daemon"): 1.05,
    ("cpu", "groups"): 0.95,  # the app's own Python dominates: no module can do much there
}
# Minimum throughput of two application groups with their own GIL over the same with one.
OWN_GIL_GOAL = 1.5
FLOOR_GOALS = {("large-file", "embedded"): 0.9, ("large-list", "embedded"): 0.9}
RSS_GOAL = 1.2

QUICK = dict(scenarios=["hello", "large-file", "upload"], modes=["embedded", "daemon"],
             rounds=2, duration=3, warmup=1)
FULL = dict(rounds=5, duration=8, warmup=1)


def log(msg=""):
    print(msg, flush=True)


def loadavg():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def fmt_load(la=None):
    la = la or loadavg()
    return "load %.2f %.2f %.2f" % tuple(la)


# --------------------------------------------------------------------------- dependencies

def ensure_dependencies():
    missing = []
    if not os.path.exists(WRK):
        missing.append("wrk")
    if not os.path.exists(MOD_WSGI_MODULE):
        missing.append("libapache2-mod-wsgi-py3")
    if missing:
        if not IS_ROOT:
            sys.exit("bench: missing %s; install as root: apt-get install -y %s"
                     % (", ".join(missing), " ".join(missing)))
        log("bench: installing %s" % " ".join(missing))
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq"] + missing, env=env, check=True)
    for path, what in ((APACHE2, "apache2"), (SWSGI_MODULE, "mod_swsgi.so (run `make`)"),
                       (WRK, "wrk"), (MOD_WSGI_MODULE, "mod_wsgi.so")):
        if not os.path.exists(path):
            sys.exit("bench: %s not found at %s" % (what, path))


VENV_PACKAGES = ("flask", "django", "granian", "gunicorn", "starlette", "uvicorn")


def bench_venv():
    """The cached venv (made with PYTHON -m venv) with Flask and the peers; None if pip fails."""
    python = os.path.join(VENV, "bin", "python")
    ok = lambda: os.path.exists(python) and subprocess.run(
        [python, "-c", "import " + ", ".join(VENV_PACKAGES + asgi_bench.IMPORTS)], stderr=subprocess.DEVNULL).returncode == 0
    if ok():
        return VENV
    log("bench: making the venv in %s" % VENV)
    if not os.path.exists(python):
        if subprocess.run([PYTHON, "-m", "venv", VENV]).returncode:
            return None
    packages = [p for p in VENV_PACKAGES if p not in asgi_bench.IMPORTS] + list(asgi_bench.PACKAGES)
    if subprocess.run([os.path.join(VENV, "bin", "pip"), "install", "-q"] + packages).returncode or not ok():
        return None
    return VENV


def app_body(venv, scenario):
    """The response body of a venv scenario's URL, from its app called directly."""
    sc = SCENARIOS[scenario]
    code = ("import runpy, sys\n"
            "from wsgiref.util import setup_testing_defaults\n"
            "app = runpy.run_path(sys.argv[1])['application']\n"
            "environ = {'SCRIPT_NAME': sys.argv[2], 'PATH_INFO': sys.argv[3]}\n"
            "setup_testing_defaults(environ)\n"
            "status = []\n"
            "body = b''.join(app(environ, lambda s, h, e=None: status.append(s)))\n"
            "assert status[0].startswith('200'), status\n"
            "sys.stdout.buffer.write(body)\n")
    out = subprocess.run([os.path.join(venv, "bin", "python"), "-c", code, os.path.join(HERE, "apps", sc["script"]),
                          sc["alias"], sc["url"][len(sc["alias"]):]], check=True, capture_output=True)
    return out.stdout


# --------------------------------------------------------------------------- processes

def read_stat(pid):
    """(ppid, utime+stime, cutime+cstime) in ticks, or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[1]), int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])


def process_tree(root_pid):
    """{pid: (self ticks, reaped children ticks)} of root_pid and all its descendants."""
    stats = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            s = read_stat(int(name))
            if s:
                stats[int(name)] = s
    children = {}
    for pid, (ppid, _, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    tree, todo = {}, [root_pid]
    while todo:
        pid = todo.pop()
        if pid in stats and pid not in tree:
            tree[pid] = stats[pid][1:]
            todo.extend(children.get(pid, []))
    return tree


def cpu_ticks(tree):
    # utime+stime of every live process, plus cutime+cstime: the times of processes of the
    # instance that exited and were reaped during the run move into their parent's cutime.
    return sum(own + reaped for own, reaped in tree.values())


def rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def describe(tree, root_pid):
    """[{pid, ppid, comm, rss_kib}] of the processes of an instance, for the JSON."""
    out = []
    for pid in sorted(tree):
        st = read_stat(pid)
        try:
            with open("/proc/%d/comm" % pid) as f:
                comm = f.read().strip()
        except OSError:
            comm = "?"
        out.append(dict(pid=pid, ppid=st[0] if st else None, comm=comm, rss_kib=rss_kib(pid),
                        role="parent" if pid == root_pid else "child/daemon"))
    return out


LOG_PROBLEMS = (":error]", ":crit]", ":alert]", ":emerg]", "exit signal")
# wrk drops its connections when its time is up, in the middle of large responses; the
# errors this causes (and the lines logged with them for the same client) are not problems.
LOG_DISCONNECTS = ("Broken pipe", "Connection reset by peer", "failed to write response data")
CLIENT_TAG = re.compile(r"\[(?:client|remote) ([0-9.:]+)\]")


def unix_answers(path):
    """True once something accepts connections on the Unix socket at path."""
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(1)
        try:
            s.connect(path)
            return True
        except OSError:
            return False


# --------------------------------------------------------------------------- Apache

class Bench:
    def __init__(self, args, venv):
        self.args = args
        self.venv = venv
        self.root = tempfile.mkdtemp(prefix="swb-")  # short: daemon socket paths live here
        self.port = self.free_port()
        self.configs = {}
        self.peer = None  # the running peer's Popen
        try:
            self.prepare_root(venv)
        except BaseException:
            self.cleanup()
            raise

    def prepare_root(self, venv):
        for d in ("htdocs", "htdocs/flask", "apps", "run", "logs"):
            os.makedirs(os.path.join(self.root, d), exist_ok=True)
        for name in os.listdir(os.path.join(HERE, "apps")):
            if name.endswith((".wsgi", ".py")):
                shutil.copy(os.path.join(HERE, "apps", name), os.path.join(self.root, "apps", name))
        self.expected = {}
        for name, sc in SCENARIOS.items():
            body = sc["body"]() if sc["body"] else (app_body(venv, name) if venv else None)
            if body is None:
                continue
            self.expected[name] = body
            # The floor's static file: the same bytes at the same URL.
            for path in sc.get("paths", [sc["url"]]):
                os.makedirs(os.path.dirname(os.path.join(self.root, "htdocs", path.lstrip("/"))), exist_ok=True)
                with open(os.path.join(self.root, "htdocs", path.lstrip("/")), "wb") as f:
                    f.write(body)
        for dirpath, dirnames, filenames in os.walk(self.root):
            os.chmod(dirpath, 0o755)
            for n in filenames:
                os.chmod(os.path.join(dirpath, n), 0o644)

    @staticmethod
    def free_port():
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    def conf_path(self, target):
        return os.path.join(self.root, "httpd-%s.conf" % target)

    def config(self, target, scenario, mode):
        sc = SCENARIOS[scenario]
        daemon = MODES.get(mode)  # the floor runs as "-"
        venv = self.venv if sc.get("venv") else None
        r = self.root
        lines = [
            'ServerRoot "%s"' % r,
            'DefaultRuntimeDir "%s/run"' % r,
            'PidFile "%s/run/httpd.pid"' % r,
            "LoadModule mpm_event_module %s/mod_mpm_event.so" % APACHE_MODULES,
            "LoadModule authz_core_module %s/mod_authz_core.so" % APACHE_MODULES,
            MODULE_LINES[target],
            "ServerName 127.0.0.1",
            "Listen 127.0.0.1:%d" % self.port,
            'ErrorLog "%s/logs/error-%s.log"' % (r, target),
            "LogLevel warn",
            "Timeout 60",
            "KeepAlive On",
            "MaxKeepAliveRequests 0",
            "StartServers 1",
            "ServerLimit 1",
            "ThreadLimit 24",
            "ThreadsPerChild 24",
            "MinSpareThreads 1",
            "MaxSpareThreads 24",
            "MaxRequestWorkers 24",
        ]
        if IS_ROOT:
            lines += ["User www-data", "Group www-data"]
        lines += [
            'DocumentRoot "%s/htdocs"' % r,
            "<Directory />",
            "    Require all denied",
            # As Debian's stock apache2.conf: no .htaccess looked for on every request.
            "    AllowOverride None",
            "</Directory>",
            '<Directory "%s/htdocs">' % r,
            "    Require all granted",
            "</Directory>",
            '<Directory "%s/apps">' % r,
            "    Require all granted",
            "</Directory>",
            "<IfDirective WSGIScriptAlias>",
            '    WSGISocketPrefix "%s/run/w"' % r,
            "    WSGIApplicationGroup %{GLOBAL}",
        ]
        if venv and not daemon:
            lines.append('    WSGIPythonHome "%s"' % venv)
        if daemon:
            lines.append("    WSGIDaemonProcess bench %s%s" % (daemon, ' python-home=%s' % venv if venv else ""))
            lines.append("    WSGIProcessGroup bench")
        if mode in OWN_GIL_MODES:
            lines.append("    WSGIPerInterpreterGIL On")
        if "paths" in sc:
            for path in sc["paths"]:
                lines.append('    WSGIScriptAlias %s "%s/apps/%s" application-group=%s'
                             % (path, r, sc["script"], path.rsplit("/", 1)[1]))
        else:
            lines.append('    WSGIScriptAlias %s "%s/apps/%s"%s' % (sc.get("alias", sc["url"]), r, sc["script"],
                                                                 asgi_bench.alias_options(sc)))
        lines.append("</IfDirective>")
        if target in proxied.TARGETS:
            lines += proxied.proxy_lines(sc.get("alias", sc["url"]), os.path.join(r, proxied.SOCKET))
        return "\n".join(lines) + "\n"

    def apache(self, target, *args, timeout=60):
        return subprocess.run([APACHE2, "-d", self.root, "-f", self.conf_path(target)] + list(args),
                              capture_output=True, text=True, timeout=timeout,
                              env=dict(os.environ, LANG="C"))

    def read_pid(self):
        return read_pid(os.path.join(self.root, "run", "httpd.pid"))

    def port_answers(self):
        return port_answers(self.port)

    def log_path(self, target):
        return os.path.join(self.root, "logs", "error-%s.log" % target)

    def log_size(self, target):
        try:
            return os.path.getsize(self.log_path(target))
        except OSError:
            return 0

    def log_problems(self, target, mark):
        """Lines at level error or worse (and crashed children) logged since mark."""
        try:
            with open(self.log_path(target), "rb") as f:
                f.seek(mark)
                text = f.read().decode("utf-8", "replace")
        except OSError:
            return [], 0
        problems = [line for line in text.splitlines() if any(p in line for p in LOG_PROBLEMS)]
        dropped = set()
        for line in problems:
            m = CLIENT_TAG.search(line)
            if m and any(d in line for d in LOG_DISCONNECTS):
                dropped.add(m.group(1))
        real, disconnects = [], 0
        for line in problems:
            m = CLIENT_TAG.search(line)
            if (m and m.group(1) in dropped) or any(d in line for d in LOG_DISCONNECTS):
                disconnects += 1
            else:
                real.append(line)
        return real, disconnects

    def error_log_tail(self, target, n=30):
        try:
            with open(os.path.join(self.root, "logs", "error-%s.log" % target), errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def start_peer(self, target, scenario):
        """A peer server with the scenario's app, from the bench venv, on the bench's port, or
        for a proxied target on the Unix socket its Apache proxies to; its pid."""
        sc = SCENARIOS[scenario]
        peer, app, venv_bin = proxied.peer(target), "peer_app:application", os.path.join(self.venv, "bin")
        sock = os.path.join(self.root, proxied.SOCKET) if peer != target else None
        if sock:
            if os.path.exists(sock):  # left by a peer that does not remove it
                os.unlink(sock)
            listen = ["--bind", "unix:" + sock] if peer == "gunicorn" else ["--uds", sock]
            if peer == "granian":  # its socket is 0600 otherwise: Apache's children run as www-data
                listen += ["--uds-permissions", "666"]
            answers = lambda: unix_answers(sock)
        else:
            listen = (["--bind", "127.0.0.1:%d" % self.port] if peer == "gunicorn"
                      else ["--host", "127.0.0.1", "--port", str(self.port)])
            answers = self.port_answers
        if sc.get("asgi"):
            cmd = asgi_bench.peer_command(peer, venv_bin, listen)
        elif peer == "granian":
            cmd = [os.path.join(venv_bin, "granian"), "--interface", "wsgi"] + listen + [
                   "--workers", "1", "--no-ws", "--log-level", "warning", app]
        else:
            cmd = [os.path.join(venv_bin, "gunicorn"), "--worker-class", "gthread", "--workers", "1",
                   "--threads", str(PEER_THREADS)] + listen + ["--log-level", "warning", app]
        env = dict(os.environ, BENCH_SCRIPT=os.path.join(self.root, "apps", sc["script"]),
                   BENCH_MOUNT=sc.get("alias", ""), PYTHONPATH=HERE)
        self.configs["%s/-/%s" % (scenario, target)] = " ".join(cmd)
        with open(self.log_path(target), "ab") as log_file:
            self.peer = subprocess.Popen(cmd, cwd=self.root, env=env, stdout=log_file, stderr=log_file,
                                         start_new_session=True)
        if not wait_until(lambda: self.peer.poll() is None and answers(), 30):
            self.stop_peer()
            raise RuntimeError("%s did not answer\n%s" % (target, self.error_log_tail(target)))
        return self.peer.pid

    def stop_peer(self):
        known = set(process_tree(self.peer.pid))
        os.killpg(self.peer.pid, signal.SIGTERM)
        try:
            self.peer.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.peer.pid, signal.SIGKILL)
            self.peer.wait()
        wait_until(lambda: not any(pid_alive(p) for p in known), 15)
        self.peer = None

    def start(self, target, scenario, mode):
        """Starts the target; the pid of its Apache (a bare peer's own)."""
        if target in PEERS and target not in proxied.TARGETS:
            return self.start_peer(target, scenario)
        if target in proxied.TARGETS:
            self.start_peer(target, scenario)
        text = self.config(target, scenario, mode)
        self.configs["%s/%s/%s" % (scenario, mode, target)] = text
        with open(self.conf_path(target), "w") as f:
            f.write(text)
        os.chmod(self.conf_path(target), 0o644)
        p = self.apache(target, "-k", "start")
        if p.returncode and target in proxied.TARGETS:
            self.stop_peer()
        if p.returncode:
            raise RuntimeError("apache2 -k start failed for %s:\n%s%s\n%s"
                               % (target, p.stdout, p.stderr, self.error_log_tail(target)))
        if not wait_until(lambda: self.read_pid() and self.port_answers(), 30):
            self.stop(target, self.read_pid())
            raise RuntimeError("Apache (%s) did not answer\n%s" % (target, self.error_log_tail(target)))
        return self.read_pid()

    def instance(self, pid):
        """process_tree of what serves the requests: the Apache (or bare peer) at pid, and a
        proxied target's peer behind it."""
        tree = process_tree(pid)
        if pid not in tree or self.peer is None or self.peer.poll() is not None:
            return tree
        return {**tree, **process_tree(self.peer.pid)}

    def stop(self, target, pid):
        if target in PEERS and target not in proxied.TARGETS:
            return self.stop_peer()
        known = set(process_tree(pid)) if pid else set()
        try:
            self.apache(target, "-k", "stop", timeout=60)
        except subprocess.TimeoutExpired:
            pass
        if pid and not wait_until(lambda: not pid_alive(pid), 30):
            os.kill(pid, signal.SIGKILL)
            wait_until(lambda: not pid_alive(pid), 5)
        # Daemon processes must be gone as well before the next instance starts.
        if not wait_until(lambda: not any(pid_alive(p) for p in known), 15):
            for p in known:
                if pid_alive(p):
                    try:
                        os.kill(p, signal.SIGKILL)
                    except OSError:
                        pass
        try:
            os.unlink(os.path.join(self.root, "run", "httpd.pid"))
        except OSError:
            pass
        if target in proxied.TARGETS:
            self.stop_peer()

    # ---- one measurement
    def check(self, scenario):
        """One request; the response must be 200 with exactly the expected body."""
        sc = SCENARIOS[scenario]
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            if sc.get("post"):
                conn.request("POST", sc["url"], body=b"x" * sc["post"],
                             headers={"Content-Type": "application/octet-stream"})
            else:
                conn.request("GET", sc["url"])
            r = conn.getresponse()
            body = r.read()
        finally:
            conn.close()
        want = self.expected[scenario]
        if r.status != 200 or body != want:
            return "status %d, %d-byte body %r (expected 200, %d bytes %r)" % (
                r.status, len(body), body[:60], len(want), want[:60])
        return None

    def wrk(self, scenario, duration):
        sc = SCENARIOS[scenario]
        a = self.args
        cmd = [WRK, "-t%d" % a.threads, "-c%d" % a.connections, "-d%ds" % duration,
               "--timeout", "10s", "-s", WRK_SCRIPT, "http://127.0.0.1:%d%s" % (self.port, sc["url"])]
        env = dict(os.environ, BENCH_POST_BYTES=str(sc.get("post", 0)), BENCH_PATHS=",".join(sc.get("paths", [])))
        p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=duration + 60)
        for line in p.stdout.splitlines():
            if line.startswith("BENCH_JSON "):
                return json.loads(line[len("BENCH_JSON "):])
        raise RuntimeError("wrk failed (rc=%d):\n%s%s" % (p.returncode, p.stdout, p.stderr))

    def run_one(self, target, scenario, mode, rnd):
        load_before = loadavg()
        t0 = time.monotonic()
        mark = self.log_size(target)
        pid = self.start(target, scenario, mode)
        result = dict(target=target, scenario=scenario, mode=mode, round=rnd, load_before=load_before)
        try:
            problem = self.check(scenario)
            if problem:
                result["check_error"] = problem
                log("  !! %s %s %s: wrong response: %s\n%s" % (scenario, mode, target, problem,
                                                                 self.error_log_tail(target, 10)))
                return result
            if self.args.warmup > 0:
                self.wrk(scenario, self.args.warmup)
            before = self.instance(pid)
            w = self.wrk(scenario, self.args.duration)
            after = self.instance(pid)
            # The children of Apache and of a peer; a peer with one process (uvicorn
            # --workers 1) has none: its own.
            children = []
            for root in {pid, self.peer.pid if self.peer else pid}:
                children += [p for p in process_tree(root) if p != root] or [root]
            seconds = w["duration_us"] / 1e6
            errors = w["connect_errors"] + w["read_errors"] + w["write_errors"] + w["timeouts"]
            result.update(
                wrk=w,
                rps=w["requests"] / seconds if seconds else 0.0,
                p50_ms=w["p50_us"] / 1000.0, p99_ms=w["p99_us"] / 1000.0,
                errors=errors, non2xx=w["status_errors"],
                cpu_s=(cpu_ticks(after) - cpu_ticks(before)) / CLK_TCK,
                processes=len(after),
                rss_mib=sum(rss_kib(p) for p in children) / 1024.0,
            )
            result["cpu_us_per_req"] = (result["cpu_s"] * 1e6 / w["requests"]) if w["requests"] else None
            result["process_list"] = describe(after, pid)
        finally:
            self.stop(target, pid)
            problems, result["log_disconnect_lines"] = self.log_problems(target, mark)
            result["log_problems"] = len(problems)
            if problems:
                result["log_problem_lines"] = problems[:5]
            result["wall_s"] = round(time.monotonic() - t0, 2)
        return result

    def cleanup(self):
        shutil.rmtree(self.root, ignore_errors=True)


# --------------------------------------------------------------------------- plan & report

def plan(scenarios, modes, targets, rounds):
    """Interleaved order: every round visits every scenario and mode; the order of the
    targets rotates from round to round. The floor and the peers do not depend on the mode,
    so they run once per scenario and round and are paired with every mode of that round."""
    runs = []
    wsgi_targets = [t for t in ("swsgi", NOMETRICS, "mod_wsgi") if t in targets]
    for r in range(rounds):
        for s in scenarios:
            smodes = [m for m in modes if m in SCENARIOS[s]["modes"]]
            if not smodes:
                continue
            units = []
            for m in smodes:
                order = wsgi_targets[r % len(wsgi_targets):] + wsgi_targets[:r % len(wsgi_targets)] \
                    if wsgi_targets else []
                units += [(t, s, m) for t in order if asgi_bench.serves(t, SCENARIOS[s]) and not (t == "mod_wsgi" and (
                    m in OWN_GIL_MODES or (SCENARIOS[s].get("venv") and MOD_WSGI_PYTHON != PY_VERSION)))]
            modeless = [(t, s, "-") for t in MODELESS if t in targets and asgi_bench.serves(t, SCENARIOS[s])
                        and (t == "floor" or "paths" not in SCENARIOS[s])]  # peers have no app groups
            units = modeless + units if r % 2 == 0 else units + modeless
            runs += [(t, s, m, r) for t, s, m in units]
    return runs


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def summarise(results, scenarios, modes, targets, rounds):
    ok = [r for r in results if "rps" in r]
    by = {}
    for r in ok:
        by[(r["scenario"], r["mode"], r["target"], r["round"])] = r
    rows = []
    for s in scenarios:
        for m in [m for m in modes if m in SCENARIOS[s]["modes"]]:
            row = dict(scenario=s, mode=m, targets={})
            for t in targets:
                tm = "-" if t in MODELESS else m
                runs = [by[(s, tm, t, i)] for i in range(rounds) if (s, tm, t, i) in by]
                checks = [r["check_error"] for r in results
                          if r["scenario"] == s and r["mode"] == tm and r["target"] == t and "check_error" in r]
                row["targets"][t] = dict(
                    runs=len(runs),
                    rps=median([r["rps"] for r in runs]),
                    p50_ms=median([r["p50_ms"] for r in runs]),
                    p99_ms=median([r["p99_ms"] for r in runs]),
                    cpu_us_per_req=median([r["cpu_us_per_req"] for r in runs]),
                    rss_mib=median([r["rss_mib"] for r in runs]),
                    errors=sum(r["errors"] for r in runs),
                    non2xx=sum(r["non2xx"] for r in runs),
                    log_problems=sum(r.get("log_problems", 0) for r in results
                                     if r["scenario"] == s and r["mode"] == tm and r["target"] == t),
                    run_errors=[r["run_error"] for r in results
                                if r["scenario"] == s and r["mode"] == tm and r["target"] == t and "run_error" in r],
                    check_errors=checks,
                )

            def paired(other, key, other_mode):
                out = []
                for i in range(rounds):
                    a, b = by.get((s, m, "swsgi", i)), by.get((s, other_mode, other, i))
                    if a and b and a.get(key) and b.get(key):
                        out.append(a[key] / b[key])
                return out

            row["ratio_mod_wsgi"] = paired("mod_wsgi", "rps", m)
            row["ratio_floor"] = paired("floor", "rps", "-")
            for peer in PEERS:
                row["ratio_" + peer] = paired(peer, "rps", "-")
                row["cpu_ratio_" + peer] = paired(peer, "cpu_us_per_req", "-")
            row["cpu_ratio_mod_wsgi"] = paired("mod_wsgi", "cpu_us_per_req", m)
            row["rss_ratio_mod_wsgi"] = paired("mod_wsgi", "rss_mib", m)
            row["ratio_shared_gil"] = paired("swsgi", "rps", "groups") if m in OWN_GIL_MODES else []
            row["ratio_nometrics"] = paired(NOMETRICS, "rps", m)
            row["goals"], row["status"] = judge(row)
            rows.append(row)
    return rows


def judge(row):
    """The targets that apply to the row, and 'met' / 'not met: ...' / 'n/a'."""
    key = (row["scenario"], row["mode"])
    sw, mw = row["targets"].get("swsgi", {}), row["targets"].get("mod_wsgi", {})
    goals, failed = [], []
    if row["mode"] in OWN_GIL_MODES:
        ro = median(row["ratio_shared_gil"])
        goals.append("≥%g× one shared GIL" % OWN_GIL_GOAL)
        if ro is None:
            return goals, "n/a"
        return goals, ("met" if ro >= OWN_GIL_GOAL else "not met: %.2f× < %g×" % (ro, OWN_GIL_GOAL))
    if SCENARIOS[row["scenario"]].get("asgi"):
        goals.append("≥%g× uvicorn" % asgi_bench.UVICORN_GOAL)
        ru = median(row["ratio_uvicorn"])
        if ru is None:
            return goals, "n/a"
        failed = ["%.2f× < %g×" % (ru, asgi_bench.UVICORN_GOAL)] if ru < asgi_bench.UVICORN_GOAL else []
        if sw.get("errors") or sw.get("non2xx") or sw.get("check_errors") or sw.get("run_errors"):
            failed.append("errors")
        return goals, ("met" if not failed else "not met: " + "; ".join(failed))
    speed = SPEEDUP_GOALS.get(key, 1.0)
    goals.append("≥%g× mod_wsgi" % speed)
    rm = median(row["ratio_mod_wsgi"])
    if rm is None:
        return goals, "n/a"
    if rm < speed:
        failed.append("%.2f× < %g×" % (rm, speed))
    if key in FLOOR_GOALS:
        goals.append("≥%g× floor" % FLOOR_GOALS[key])
        rf = median(row["ratio_floor"])
        if rf is not None and rf < FLOOR_GOALS[key]:
            failed.append("floor %.2f× < %g×" % (rf, FLOOR_GOALS[key]))
    goals.append("CPU/req < mod_wsgi")
    if sw.get("cpu_us_per_req") is not None and mw.get("cpu_us_per_req") is not None \
            and sw["cpu_us_per_req"] >= mw["cpu_us_per_req"]:
        failed.append("CPU/req %.0f ≥ %.0f µs" % (sw["cpu_us_per_req"], mw["cpu_us_per_req"]))
    goals.append("RSS ≤%g× mod_wsgi" % RSS_GOAL)
    if sw.get("rss_mib") and mw.get("rss_mib") and sw["rss_mib"] > RSS_GOAL * mw["rss_mib"]:
        failed.append("RSS %.1f > %.1f MiB" % (sw["rss_mib"], RSS_GOAL * mw["rss_mib"]))
    if sw.get("errors") or sw.get("non2xx") or sw.get("check_errors") or sw.get("run_errors"):
        failed.append("errors")
    return goals, ("met" if not failed else "not met: " + "; ".join(failed))


def fnum(x, fmt="%.0f"):
    return "—" if x is None else fmt % x


def fratio(xs):
    if not xs:
        return "—"
    m = median(xs)
    if len(xs) == 1:
        return "%.2f×" % m
    return "%.2f× (%.2f–%.2f)" % (m, min(xs), max(xs))


def peer_table(title, text, rows, peers):
    """The lines of a report section comparing swsgi with peers."""
    out = ["## %s\n" % title,
           "swsgi's throughput over each peer's (medians of the per-round paired ratios) and CPU "
           "per request, swsgi / peer. %s\n" % text,
           "| scenario | mode | " + " | ".join("swsgi/%s | CPU/req swsgi/%s" % (p, p) for p in peers) + " |",
           "|---|---|" + "---|---|" * len(peers)]
    for r in rows:
        if not any(r.get("ratio_" + p) for p in peers):
            continue
        cells = []
        for p in peers:
            pc = r["targets"].get(p, {})
            cells += [fratio(r["ratio_" + p]), "%s / %s µs" % (fnum(r["targets"]["swsgi"].get("cpu_us_per_req")),
                                                               fnum(pc.get("cpu_us_per_req")))]
        out.append("| %s | %s | %s |" % (r["scenario"], r["mode"], " | ".join(cells)))
    return out + [""]


def markdown(meta, rows, targets):
    a = meta["args"]
    out = []
    full = meta["full_run"]
    out.append("# swsgi benchmark results\n")
    if full:
        out.append("Full run finished %s (%d min), swsgi %s, module %s. Reproduce with `make "
                   "bench`; every run is in `%s`.\n" % (
                       meta["finished"], round(meta["elapsed_s"] / 60), meta["versions"]["swsgi"],
                       meta["versions"]["swsgi_module"], meta["json_name"]))
    else:
        out.append("**Partial run** (%s: %s; %s; %d round(s) of %ds) finished %s (%d min), swsgi %s "
                   "(module %s) — not the full benchmark, which is `make bench`. Every run is in `%s`.\n"
                   % ("--quick" if a["quick"] else "filtered", ",".join(a["scenarios"]),
                      ",".join(a["modes"]), a["rounds"], a["duration"], meta["finished"],
                      round(meta["elapsed_s"] / 60), meta["versions"]["swsgi"],
                      meta["versions"]["swsgi_module"], meta["json_name"]))
    out.append("## Goals\n")
    out.append("Throughput ratios are medians of the per-round paired ratios (min–max over the "
               "rounds in brackets); CPU and RSS compare the medians.\n")
    out.append("| scenario | mode | swsgi/mod_wsgi | swsgi/floor | CPU/req swsgi/mod_wsgi | "
               "RSS swsgi/mod_wsgi | goals | status |")
    out.append("|---|---|---|---|---|---|---|---|")
    for r in rows:
        sw, mw = r["targets"].get("swsgi", {}), r["targets"].get("mod_wsgi", {})
        cpu = "%s / %s µs" % (fnum(sw.get("cpu_us_per_req")), fnum(mw.get("cpu_us_per_req")))
        rss = "%s / %s MiB" % (fnum(sw.get("rss_mib"), "%.1f"), fnum(mw.get("rss_mib"), "%.1f"))
        status = r["status"]
        status = "**met**" if status == "met" else status
        versus = fratio(r["ratio_mod_wsgi"]) if r["mode"] not in OWN_GIL_MODES \
            else "own GIL / shared: %s" % fratio(r["ratio_shared_gil"])
        out.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r["scenario"], r["mode"], versus, fratio(r["ratio_floor"]),
            cpu, rss, ", ".join(r["goals"]), status))
    out.append("")
    if NOMETRICS in targets:
        out.append("Metrics on over off (swsgi / %s, per-round paired throughput ratios): %s\n" % (
            NOMETRICS, "; ".join("%s %s %s" % (r["scenario"], r["mode"], fratio(r["ratio_nometrics"])) for r in rows)))
    for title, text, group in (
            ("Against what users pick instead", "The peers serve the same app from the same venv "
             "without Apache, with one worker process, as swsgi has one Python process here.",
             [p for p in PEERS if p in targets and p not in proxied.TARGETS]),
            ("Behind Apache: the proxied peers", "The same Apache as swsgi's passes the requests "
             "with mod_proxy_http to the peer (one worker, as above) on a Unix socket; the CPU "
             "counts Apache's processes and the peer's.",
             [p for p in proxied.TARGETS if p in targets])):
        if group:
            out += peer_table(title, text, rows, group)
    out.append("## Per target\n")
    out.append("Medians over the rounds; errors (socket errors and timeouts) and non-2xx "
               "(wrk counts statuses ≥ 400) are totals. CPU is the utime+stime of the whole "
               "Apache instance per request (with a proxied peer's processes); RSS is the sum over its children and daemons after "
               "the run. The floor row is shared by the modes of a scenario. ⚠ marks a wrong response "
               "in the pre-run check, a failed run, or error-log lines at level error or worse "
               "(those about clients that wrk disconnected mid-response when its time was up "
               "are not counted).\n")
    out.append("| scenario | mode | target | req/s | p50 ms | p99 ms | CPU µs/req | RSS MiB | "
               "errors | non-2xx | runs |")
    out.append("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        for t in targets:
            d = r["targets"].get(t)
            if not d or not asgi_bench.serves(t, SCENARIOS[r["scenario"]]):
                continue
            note = ""
            if d["check_errors"]:
                note += " ⚠ wrong response: %s" % d["check_errors"][0]
            if d["run_errors"]:
                note += " ⚠ %d run(s) failed" % len(d["run_errors"])
            if d["log_problems"]:
                note += " ⚠ %d error-log line(s)" % d["log_problems"]
            out.append("| %s | %s | %s | %s | %s | %s | %s | %s | %d | %d | %d%s |" % (
                r["scenario"], r["mode"], t, fnum(d["rps"]), fnum(d["p50_ms"], "%.2f"),
                fnum(d["p99_ms"], "%.2f"), fnum(d["cpu_us_per_req"]), fnum(d["rss_mib"], "%.1f"),
                d["errors"], d["non2xx"], d["runs"], note))
    out.append("")
    out.append("## Machine\n")
    m = meta["machine"]
    out.append("- %d CPUs (%s), %s" % (m["nproc"], m["cpu"], m["kernel"]))
    out.append("- load average at start %s, at end %s (1/5/15 min; the machine may be shared, "
               "each run's load is in the JSON)" % (
                   " ".join("%.2f" % x for x in meta["load_start"]),
                   " ".join("%.2f" % x for x in meta["load_end"])))
    v = meta["versions"]
    out.append("- %s; mod_wsgi %s; %s; %s; Flask %s; granian %s; gunicorn %s; Starlette %s; uvicorn %s"
               % (v["apache"], v["mod_wsgi"], v["python"], v["wrk"], v.get("flask") or "not installed",
                  v.get("granian") or "not installed", v.get("gunicorn") or "not installed",
                  v.get("starlette") or "not installed", v.get("uvicorn") or "not installed"))
    out.append("")
    out.append("## Method\n")
    out.append("""- Targets: **swsgi** (`build/mod_swsgi.so`), **mod_wsgi** (Debian's
  `mod_wsgi.so`) and **floor** (the same Apache without a WSGI module, serving a static file
  with the same bytes at the same URL). The Apache configurations are identical except for
  the `LoadModule` line: the WSGI directives sit inside `<IfDirective WSGIScriptAlias>`.
- %(apache)s, event MPM, 1 child × 24 threads (`StartServers 1`, `ServerLimit 1`,
  `ThreadsPerChild 24`, `MinSpareThreads 1`, `MaxSpareThreads 24`, `MaxRequestWorkers 24`),
  `KeepAlive On`, `MaxKeepAliveRequests 0`, no access log, `AllowOverride None`, `LogLevel warn`, User/Group
  www-data when run as root, own ServerRoot under /tmp, loopback port.
- Both WSGI modules get exactly the same WSGI directives and otherwise their defaults:
  `WSGIApplicationGroup %%{GLOBAL}`, `WSGISocketPrefix` in the ServerRoot, and in daemon mode
  `WSGIDaemonProcess bench processes=1 threads=16` (hello also `processes=2 threads=8`) with
  `WSGIProcessGroup bench`. Neither is given `WSGIEnableSendfile On` (off by default): like
  the floor's static file, the large file is copied from a mapping of it.
- Scenarios (apps in `bench/apps/`): hello (12 bytes), large-list (1 MiB as sixteen 64 KiB
  list items), stream (64 KiB yielded by a generator in 1 KiB blocks, no Content-Length:
  each block is flushed to the client as it comes), large-file (1 MiB through `wsgi.file_wrapper`), upload (1 MiB POST read fully
  from `wsgi.input` in 64 KiB reads; the app answers with the byte count, 7 bytes), flask
  (the JSON endpoint of a small Flask app in a venv made by `$PYTHON -m venv` + `pip
  install flask`, cached in `%(venv)s`; `WSGIPythonHome` embedded, `python-home=` daemon),
  django (the JSON endpoint of a one-file Django project with the usual middleware and no
  database, from the same venv).
- Peers: **granian** (`--interface wsgi --workers 1`, its other defaults) and **gunicorn**
  (`--worker-class gthread --workers 1 --threads 16`) serve the same app files from the same
  venv (through `bench/peer_app.py`, which moves the mount path into SCRIPT_NAME), without
  Apache, once per scenario and round like the floor. One worker: swsgi has one Python
  process in the embedded and daemon modes here. granian has no `wsgi.file_wrapper`, so
  large-file falls back to 64 KiB reads there (PEP 3333's fallback).
  cpu (a 10 ms pure-Python loop, served by two application groups of one daemon process
  with `threads=4`, wrk alternating between them; mode `groups` shares the process's GIL,
  `groups-own-gil` adds `WSGIPerInterpreterGIL On`, swsgi only, Python 3.12+).
  Every app but stream sets Content-Length.
- ASGI scenarios (`asgi_bench.py`): asgi-hello (a raw ASGI app, 12 bytes) and
  asgi-starlette (a Starlette JSON endpoint, from the venv), swsgi in the daemon group
  (`processes=1 threads=16`, the alias with `interface=asgi`) against **uvicorn** (with
  uvloop and httptools, `--workers 1`) and granian (`--interface asgi --workers 1`), which
  serve the same app files from the same venv through `bench/asgi_peer.py` (the mount as
  `root_path`). Goal: at least uvicorn's throughput.
- Proxied peers (`proxied.py`): **granian-proxied**, **gunicorn-proxied** (WSGI scenarios)
  and **uvicorn-proxied**, granian-proxied (ASGI scenarios) are Apache with mod_proxy_http in
  front of that peer, what a site that keeps Apache (TLS, auth, static files, other vhosts)
  deploys instead of swsgi: the same Apache configuration as above with `mod_proxy` and
  `mod_proxy_http` in place of the WSGI module and `ProxyPass <mount>
  "unix:<ServerRoot>/run/peer.sock|http://localhost<mount>" ttl=1`. The peer runs as the bare
  one (same app, venv, options, one worker) but listens on that Unix socket (`--uds`,
  gunicorn `--bind unix:`), as their deployment docs put them behind a proxy: no TCP on
  either side of the hop. mod_proxy_http keeps its default pool of up to ThreadsPerChild
  kept-alive backend connections per child; `ttl=1` closes idle ones before the peer's
  keep-alive timeout (gunicorn's 2 s) can. CPU and RSS count Apache's processes and the peer's.
- Floor for upload: the same 1 MiB POST to a 7-byte static file. Apache's default handler
  serves static files to POST as well as GET after reading and discarding the request body
  (`ap_discard_request_body`), so the floor reads the whole upload too and answers 200.
- Each run starts a fresh Apache (one at a time), checks one response (status 200 and the
  exact expected body; for upload the echoed byte count), warms up for %(warmup)gs, runs `wrk
  -t%(threads)d -c%(connections)d -d%(duration)gs` (a Lua `done()` hook reports the p50/p99 latency and error counts),
  and stops Apache with `apache2 -k stop`, waiting for its processes to go. %(rounds)d rounds,
  interleaved: each round runs every scenario, mode and target, the order of swsgi and
  mod_wsgi alternating between rounds; the floor runs once per scenario and round.
- CPU per request: utime+stime (plus cutime+cstime, for processes reaped during the run) of
  every process in the tree under the PidFile's pid — parent, child, daemon supervisors and
  daemon processes — from `/proc/<pid>/stat` before and after the timed wrk run, divided by
  the requests. RSS: the sum of `VmRSS` of every process in the tree except the parent,
  right after the timed run.
""" % dict(apache=v["apache"].split()[0] if v["apache"] else "", venv=VENV, warmup=a["warmup"],
           threads=a["threads"], connections=a["connections"], duration=a["duration"],
           rounds=a["rounds"]))
    notes = meta.get("notes")
    if notes:
        out.append("## Notes\n")
        out += ["- %s" % n for n in notes]
        out.append("")
    return "\n".join(out)


def module_id(path):
    """sha256 prefix and mtime of a module file: the build that was measured."""
    import hashlib
    try:
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()[:12]
        mtime = datetime.datetime.fromtimestamp(os.path.getmtime(path)).strftime("%Y-%m-%d %H:%M")
        return "%s (sha256 %s, built %s)" % (os.path.relpath(path, REPO) if path.startswith(REPO) else path,
                                              digest, mtime)
    except OSError:
        return "missing"


def machine_facts():
    def cmd(*c):
        try:
            p = subprocess.run(list(c), capture_output=True, text=True, timeout=30)
            return (p.stdout + p.stderr).strip()
        except OSError:
            return ""
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    rev = cmd("git", "-C", REPO, "rev-parse", "--short", "HEAD")
    dirty = cmd("git", "-C", REPO, "status", "--porcelain", "--untracked-files=no")
    return (dict(nproc=os.cpu_count(), cpu=cpu, kernel=cmd("uname", "-sr")), dict(
        swsgi=(rev + ("+dirty" if dirty else "")) if rev else "unknown",
        apache=cmd(APACHE2, "-v").splitlines()[0].replace("Server version: ", "") if cmd(APACHE2, "-v") else "",
        mod_wsgi=cmd("dpkg-query", "-W", "-f=${Version}", "libapache2-mod-wsgi-py3"),
        python=cmd(PYTHON, "--version"),
        wrk=cmd(WRK, "-v").splitlines()[0].split(" Copyright")[0] if cmd(WRK, "-v") else ""))


# --------------------------------------------------------------------------- main

def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="hello, large-file, upload; embedded+daemon; 2 rounds of 3 s (< 3 min)")
    p.add_argument("--scenarios", help="comma-separated: " + ",".join(SCENARIOS))
    p.add_argument("--modes", help="comma-separated: " + ",".join(MODES))
    p.add_argument("--targets", help="comma-separated subset of " + ",".join(TARGETS + [NOMETRICS]))
    p.add_argument("--rounds", type=int)
    p.add_argument("--duration", type=int, help="seconds of each timed wrk run (8)")
    p.add_argument("--warmup", type=int, help="seconds of the untimed wrk run before it (1; 0: none)")
    p.add_argument("--threads", type=int, default=2, help="wrk -t (2)")
    p.add_argument("--connections", type=int, default=16, help="wrk -c (16)")
    p.add_argument("--out", help="directory for RESULTS.md and results.json (default: bench/ "
                                 "for a full run, bench/partial/ otherwise)")
    a = p.parse_args()
    base = QUICK if a.quick else FULL
    a.scenarios_given = bool(a.scenarios or a.modes or a.targets)
    for name, allowed in (("scenarios", SCENARIOS), ("modes", MODES), ("targets", TARGETS + [NOMETRICS])):
        val = getattr(a, name)
        if val:
            items = [x.strip() for x in val.split(",") if x.strip()]
            bad = [x for x in items if x not in allowed]
            if bad:
                p.error("unknown %s: %s (choose from %s)" % (name, ", ".join(bad), ", ".join(allowed)))
            setattr(a, name, [x for x in allowed if x in items])  # canonical order
        else:
            setattr(a, name, base.get(name, [x for x in allowed if x != NOMETRICS]))
    for name in ("rounds", "duration", "warmup"):
        if getattr(a, name) is None:
            setattr(a, name, base[name])
    a.full = (not a.quick and not a.scenarios_given and a.rounds == FULL["rounds"]
              and a.duration == FULL["duration"] and a.threads == 2 and a.connections == 16)
    return a


def main():
    args = parse_args()
    ensure_dependencies()
    out_dir = args.out or (HERE if args.full else os.path.join(HERE, "partial"))
    notes = []
    venv = None
    if any(SCENARIOS[s].get("venv") for s in args.scenarios) or set(PEERS) & set(args.targets):
        venv = bench_venv()
        if not venv:
            notes.append("the venv scenarios and the peers skipped: could not make the venv or pip install %s."
                         % ", ".join(VENV_PACKAGES))
            log("bench: " + notes[-1])
            args.scenarios = [s for s in args.scenarios if not SCENARIOS[s].get("venv")]
            args.targets = [t for t in args.targets if t not in PEERS]
    if "mod_wsgi" in args.targets and MOD_WSGI_PYTHON != PY_VERSION and any(SCENARIOS[s].get("venv") for s in args.scenarios):
        notes.append("mod_wsgi is left out of the venv scenarios: it embeds Python %s, the venv is Python %s."
                     % (".".join(map(str, MOD_WSGI_PYTHON or ())), ".".join(map(str, PY_VERSION))))
    machine, versions = machine_facts()
    versions["swsgi_module"] = module_id(SWSGI_MODULE)
    if venv:
        for package in VENV_PACKAGES:
            versions[package] = subprocess.run(
                [os.path.join(venv, "bin", "python"), "-c", "import importlib.metadata as m; print(m.version(%r))" % package],
                capture_output=True, text=True).stdout.strip()
    bench = Bench(args, venv)
    runs = plan(args.scenarios, args.modes, args.targets, args.rounds)
    per_run = args.duration + args.warmup + 1.5
    log("bench: %d runs, about %.0f min; %d CPUs, %s; ServerRoot %s, port %d"
        % (len(runs), len(runs) * per_run / 60, os.cpu_count(), fmt_load(), bench.root, bench.port))
    load_start = loadavg()
    t_start = time.monotonic()
    results = []
    try:
        for i, (t, s, m, r) in enumerate(runs, 1):
            try:
                res = bench.run_one(t, s, m, r)
            except (RuntimeError, OSError, subprocess.SubprocessError, ValueError) as e:
                res = dict(target=t, scenario=s, mode=m, round=r, run_error=str(e))
                log("  !! %s %s %s round %d failed: %s" % (s, m, t, r + 1, e))
            results.append(res)
            if "rps" in res:
                log("[%3d/%d] round %d %-10s %-10s %-8s %9.0f req/s  p50 %6.2f ms  p99 %7.2f ms  "
                    "%5.0f µs CPU/req  RSS %6.1f MiB  err %d non-2xx %d  (%s)" % (
                        i, len(runs), r + 1, s, m, t, res["rps"], res["p50_ms"], res["p99_ms"],
                        res["cpu_us_per_req"] or 0, res["rss_mib"], res["errors"], res["non2xx"],
                        fmt_load(res["load_before"])))
    except KeyboardInterrupt:
        notes.append("interrupted after %d of %d runs" % (len(results), len(runs)))
        log("bench: interrupted; reporting what ran")
    finally:
        bench.cleanup()
    load_end = loadavg()
    if module_id(SWSGI_MODULE) != versions["swsgi_module"]:
        notes.append("build/mod_swsgi.so changed during the run (now %s): the swsgi numbers mix "
                     "two builds; run again." % module_id(SWSGI_MODULE))
        log("bench: WARNING: " + notes[-1])
    rows = summarise(results, args.scenarios, args.modes, args.targets, args.rounds)
    meta = dict(
        full_run=args.full, finished=datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        elapsed_s=round(time.monotonic() - t_start), load_start=load_start, load_end=load_end,
        machine=machine, versions=versions, notes=notes, json_name=os.path.relpath(
            os.path.join(out_dir, "results.json"), REPO),
        args=dict(scenarios=args.scenarios, modes=args.modes, targets=args.targets,
                  rounds=args.rounds, duration=args.duration, warmup=args.warmup,
                  threads=args.threads, connections=args.connections, quick=args.quick),
    )
    text = markdown(meta, rows, args.targets)
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "RESULTS.md"), "w") as f:
        f.write(text)
    with open(os.path.join(out_dir, "results.json"), "w") as f:
        json.dump(dict(meta=meta, summary=rows, runs=results,
                       configs=bench.configs), f, indent=1, ensure_ascii=False)
        f.write("\n")
    log("")
    log(text.split("## Machine")[0].rstrip())
    log("")
    log("bench: %s; wrote %s and results.json" % (fmt_load(), os.path.join(out_dir, "RESULTS.md")))
    bad = [r for r in results if "check_error" in r or "run_error" in r]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
