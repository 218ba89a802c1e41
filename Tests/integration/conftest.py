"""Harness for swsgi's integration tests.

Every test writes an httpd.conf into a fresh temporary ServerRoot, starts the real
Apache (`apache2 -f CONF -k start`) with the module under test, and talks to it over
HTTP on a free loopback port.  The same tests run against Debian's mod_wsgi to prove
that they are right:

    SWSGI_TEST_TARGET=mod_wsgi /usr/bin/python3 -m pytest Tests/integration
    SWSGI_TEST_TARGET=swsgi    /usr/bin/python3 -m pytest Tests/integration   # default

Environment:
    SWSGI_TEST_TARGET  swsgi (default) or mod_wsgi
    SWSGI_TEST_ALL     1: also run the swsgi_only tests against mod_wsgi (they are
                       expected to fail there; shows where swsgi does better)
    SWSGI_MODULE       path of mod_swsgi.so (default <repo>/build/pyX.Y/mod_swsgi.so, built for PYTHON)
    MOD_WSGI_MODULE    path of mod_wsgi.so (default /usr/lib/apache2/modules/mod_wsgi.so)
    APACHE2            the httpd binary (default /usr/sbin/apache2)
    PYTHON             the Python the module is built for (default /usr/bin/python3)
    SWSGI_TEST_PRELOAD LD_PRELOAD for apache2: the sanitizer runtime of a sanitized module
                       (`make test-asan`); PYTHONMALLOC=malloc is then set too, so that
                       Python's objects are malloc'd where ASan sees them
    SWSGI_TEST_ASAN_OPTIONS  ASAN_OPTIONS (and UBSAN_OPTIONS) for apache2; the harness adds a
                       log_path, and any report written there fails the test and the session
    SWSGI_TEST_ASAN_REPORTS  where those reports go (default: a temporary directory)
"""

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "tools"))
import built_module  # noqa: E402
from processes import pid_alive, port_answers, read_pid, wait_until  # noqa: E402,F401

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
APPS = os.path.join(HERE, "apps")
EXAMPLES = os.path.join(REPO, "examples")

TARGET = os.environ.get("SWSGI_TEST_TARGET", "swsgi")
PYTHON = os.environ.get("PYTHON", "/usr/bin/python3")
APACHE2 = os.environ.get("APACHE2", "/usr/sbin/apache2")
APACHE_MODULES = "/usr/lib/apache2/modules"

# swsgi is loaded as mod_wsgi is (see shim/identity.c); it also answers to swsgi_module.
MODULE_ID = "wsgi_module"
if TARGET == "swsgi":
    MODULE_PATH = os.environ.get("SWSGI_MODULE") or built_module.module_path(PYTHON)
elif TARGET == "mod_wsgi":
    MODULE_PATH = os.environ.get("MOD_WSGI_MODULE", os.path.join(APACHE_MODULES, "mod_wsgi.so"))
else:
    raise pytest.UsageError("SWSGI_TEST_TARGET must be 'swsgi' or 'mod_wsgi', not %r" % TARGET)

IS_ROOT = os.geteuid() == 0

# A sanitized module (`make test-asan`): the runtime preloaded into apache2, which is not
# instrumented itself, and every sanitizer report written to a file named for its ServerRoot.
PRELOAD = os.environ.get("SWSGI_TEST_PRELOAD", "")
SANITIZED = bool(PRELOAD)  # memory figures mean nothing: ASan's shadow and quarantine count
ASAN_OPTIONS = os.environ.get("SWSGI_TEST_ASAN_OPTIONS")
ASAN_REPORTS = None
if ASAN_OPTIONS is not None:
    ASAN_REPORTS = os.environ.get("SWSGI_TEST_ASAN_REPORTS") or tempfile.mkdtemp(prefix="swsgi-asan-")
    os.makedirs(ASAN_REPORTS, exist_ok=True)
    os.chmod(ASAN_REPORTS, 0o1777)  # Apache's children and daemons write as their own users

START_TIMEOUT = 20.0  # seconds until the port must answer
STOP_TIMEOUT = 20.0  # seconds until the parent must be gone before we SIGKILL it
HTTP_TIMEOUT = 30.0  # per socket operation


def python_version(python=PYTHON):
    out = subprocess.run(
        [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        check=True, capture_output=True, text=True, timeout=30,
    ).stdout
    return out.strip()


PY_VERSION = python_version()


def system_package(python=PYTHON):
    """A package in the base Python's own site-packages (Debian's pytest, pyenv's pip): a venv
    made without --system-site-packages must not see it."""
    out = subprocess.run(
        [python, "-c", "import importlib.util as u\nfor n in ('_pytest', 'pip', 'setuptools'):\n"
                       "    s = u.find_spec(n)\n    if s: print(n); print(s.origin); break"],
        check=True, capture_output=True, text=True, timeout=30,
    ).stdout.split("\n")
    return out[0], out[1]


SYSTEM_PACKAGE, SYSTEM_PACKAGE_FILE = system_package()
BASE_PREFIX = subprocess.run([PYTHON, "-c", "import sys; print(sys.base_prefix)"], check=True,
                             capture_output=True, text=True, timeout=30).stdout.strip()


# --------------------------------------------------------------------------- pytest hooks

def pytest_configure(config):
    config.addinivalue_line(
        "markers", "swsgi_only: behaviour where swsgi is stricter than mod_wsgi; skipped for mod_wsgi")
    config.addinivalue_line("markers", "slow: takes more than a few seconds")


def pytest_collection_modifyitems(config, items):
    if TARGET == "mod_wsgi" and os.environ.get("SWSGI_TEST_ALL") != "1":
        skip = pytest.mark.skip(reason="swsgi_only: mod_wsgi does not implement this check")
        for item in items:
            if "swsgi_only" in item.keywords:
                item.add_marker(skip)
    if items and not os.path.isfile(MODULE_PATH):
        raise pytest.UsageError(
            "module for target %s not found at %s (build it, or set SWSGI_MODULE / "
            "SWSGI_TEST_TARGET=mod_wsgi)" % (TARGET, MODULE_PATH))


def pytest_report_header(config):
    header = "swsgi integration: target=%s module=%s python=%s (%s)" % (
        TARGET, MODULE_PATH, PYTHON, PY_VERSION)
    if ASAN_REPORTS:
        header += "\nsanitizer: LD_PRELOAD=%s, reports in %s" % (PRELOAD, ASAN_REPORTS)
    return header


def sanitizer_reports(prefix=""):
    """Paths of the sanitizer reports whose names start with prefix."""
    if not ASAN_REPORTS:
        return []
    return sorted(os.path.join(ASAN_REPORTS, n) for n in os.listdir(ASAN_REPORTS) if n.startswith(prefix))


def sanitized_env(env, name):
    """env for a process that starts Apache: with the sanitizer's runtime and options, if any,
    and its reports in files named for name."""
    if PRELOAD:
        env["LD_PRELOAD"] = PRELOAD
        env["PYTHONMALLOC"] = "malloc"
    if ASAN_REPORTS:
        log_path = os.path.join(ASAN_REPORTS, name)
        options = "%s:log_path=%s" % (ASAN_OPTIONS, log_path) if ASAN_OPTIONS else "log_path=" + log_path
        env["ASAN_OPTIONS"] = env["UBSAN_OPTIONS"] = options
    return env


def read_reports(paths, limit=20000):
    text = ""
    for path in paths:
        with open(path, encoding="utf-8", errors="replace") as f:
            text += "==== %s\n%s\n" % (path, f.read())
    return text[:limit]


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    reports = sanitizer_reports()
    if reports:
        terminalreporter.section("sanitizer reports")
        terminalreporter.write(read_reports(reports))


def pytest_sessionfinish(session, exitstatus):
    # Every report fails the run, including one from an Apache no test's teardown looked at.
    if sanitizer_reports():
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


# --------------------------------------------------------------------------- helpers

def read_until_closed(sock):
    """Everything sock receives until the peer closes it."""
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_tree_readable(path):
    """chmod 0755 every directory and a+r every file below path (Apache's children
    run as www-data when the tests run as root)."""
    os.chmod(path, 0o755)
    for dirpath, dirnames, filenames in os.walk(path):
        for d in dirnames:
            p = os.path.join(dirpath, d)
            if not os.path.islink(p):
                os.chmod(p, os.stat(p).st_mode | 0o755)
        for f in filenames:
            p = os.path.join(dirpath, f)
            if not os.path.islink(p):
                os.chmod(p, os.stat(p).st_mode | 0o444)


class Response:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers  # list of (name, value), in order
        self.body = body

    def header(self, name, default=None):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return default

    def header_all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return "<Response %s %s %r>" % (self.status, self.reason, self.body[:200])


class Apache:
    """One Apache instance in its own temporary ServerRoot."""

    def __init__(self, directives="", mpm=None, name="apache", destroy_interpreters=False,
                 modules=((MODULE_ID, MODULE_PATH),)):
        self.destroy_interpreters = destroy_interpreters
        self.load_lines = ["LoadModule %s %s" % m for m in modules]
        self.root = tempfile.mkdtemp(prefix="swsgi-it-%s-" % name)
        self.port = free_port()
        self.conf = os.path.join(self.root, "httpd.conf")
        self.pidfile = os.path.join(self.root, "run", "httpd.pid")
        self.error_log_path = os.path.join(self.root, "error.log")
        self.apps = os.path.join(self.root, "apps")
        self.data = os.path.join(self.root, "data")
        self.pid = None
        self.started = False
        os.makedirs(os.path.join(self.root, "run"))
        os.makedirs(os.path.join(self.root, "logs"))
        shutil.copytree(APPS, self.apps, ignore=shutil.ignore_patterns("__pycache__"))
        os.makedirs(self.data)
        self.mpm = dict(StartServers=1, ServerLimit=1, ThreadsPerChild=25, ThreadLimit=25,
                        MaxRequestWorkers=25, MinSpareThreads=1, MaxSpareThreads=50)
        if mpm:
            self.mpm.update(mpm)
        self.write_conf(directives)

    # ---- paths
    def app(self, name):
        return os.path.join(self.apps, name)

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    # ---- configuration
    def base_conf(self):
        lines = [
            'ServerRoot "%s"' % self.root,
            'DefaultRuntimeDir "%s/run"' % self.root,
            'PidFile "%s"' % self.pidfile,
            "LoadModule mpm_event_module %s/mod_mpm_event.so" % APACHE_MODULES,
            "LoadModule authz_core_module %s/mod_authz_core.so" % APACHE_MODULES,
            "LoadModule mime_module %s/mod_mime.so" % APACHE_MODULES,
        ] + self.load_lines + [
            "ServerName 127.0.0.1",
            "Listen 127.0.0.1:%d" % self.port,
            'ErrorLog "%s"' % self.error_log_path,
            "LogLevel info",
            "TypesConfig /dev/null",
            "Timeout 30",
            "KeepAlive On",
            "GracefulShutdownTimeout 10",
        ]
        lines += ["%s %s" % kv for kv in self.mpm.items()]
        if TARGET == "mod_wsgi" and not self.destroy_interpreters:
            # mod_wsgi 4.9.4 + Python 3.11: a child that ran a sub-interpreter hangs
            # in its exit until Apache SIGKILLs it (~10 s per stop).  Skip the
            # finalisation so the suite stays fast; the swsgi_only test of a
            # prompt stop keeps mod_wsgi's default and shows the hang.
            lines.append("WSGIDestroyInterpreter Off")
        if IS_ROOT:
            lines += ["User www-data", "Group www-data"]
        lines += [
            'DocumentRoot "%s/htdocs"' % self.root,
            "<Directory />",
            "    Require all denied",
            "</Directory>",
            '<Directory "%s">' % self.apps,
            "    Require all granted",
            "</Directory>",
            # PATH_TRANSLATED is computed by a sub-request for PATH_INFO below here
            '<Directory "%s/htdocs">' % self.root,
            "    Require all granted",
            "</Directory>",
        ]
        return "\n".join(lines) + "\n"

    def write_conf(self, directives=""):
        os.makedirs(os.path.join(self.root, "htdocs"), exist_ok=True)
        text = self.base_conf() + "\n# ---- test directives\n" + self.fill(directives) + "\n"
        with open(self.conf, "w") as f:
            f.write(text)

    def fill(self, text):
        """Substitute {root}, {apps}, {data}, {port} in directive text."""
        return (text.replace("{root}", self.root).replace("{apps}", self.apps)
                .replace("{data}", self.data).replace("{port}", str(self.port)))

    # ---- control
    def _run(self, *args, timeout=60):
        env = sanitized_env(dict(os.environ), os.path.basename(self.root))
        env.setdefault("LANG", "C")
        return subprocess.run([APACHE2, "-d", self.root, "-f", self.conf] + list(args),
                              capture_output=True, text=True, timeout=timeout, env=env)

    def configtest(self):
        """Run `apache2 -t`; returns (returncode, combined output)."""
        self.prepare()
        p = self._run("-t")
        return p.returncode, (p.stdout or "") + (p.stderr or "")

    def prepare(self):
        make_tree_readable(self.root)
        os.chmod(self.data, 0o777)

    def read_pid(self):
        return read_pid(self.pidfile)

    def port_answers(self):
        return port_answers(self.port)

    def start(self):
        self.prepare()
        p = self._run("-k", "start")
        self.started = True  # even on failure: make sure stop() looks for a pid
        if p.returncode != 0:
            raise RuntimeError("apache2 -k start failed (rc=%d):\n%s%s\n--- error.log\n%s" % (
                p.returncode, p.stdout, p.stderr, self.error_log()))
        if not wait_until(lambda: self.read_pid() and self.port_answers(), START_TIMEOUT):
            raise RuntimeError("Apache did not answer on port %d within %ss\n--- error.log\n%s" % (
                self.port, START_TIMEOUT, self.error_log()))
        self.pid = self.read_pid()
        return self

    def graceful(self):
        p = self._run("-k", "graceful")
        assert p.returncode == 0, p.stdout + p.stderr

    def stop(self, timeout=STOP_TIMEOUT):
        """Stop Apache; returns the seconds it took for the parent to disappear."""
        if not self.started:
            return 0.0
        pid = self.read_pid() or self.pid
        t0 = time.monotonic()
        try:
            self._run("-k", "stop", timeout=30)
        except subprocess.TimeoutExpired:
            pass
        if pid:
            if not wait_until(lambda: not pid_alive(pid), timeout):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
                wait_until(lambda: not pid_alive(pid), 5)
        elapsed = time.monotonic() - t0
        self.started = False
        return elapsed

    def cleanup(self):
        try:
            self.stop()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    # ---- logs
    def error_log(self):
        try:
            with open(self.error_log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def log_mark(self):
        try:
            return os.path.getsize(self.error_log_path)
        except OSError:
            return 0

    def log_since(self, mark):
        try:
            with open(self.error_log_path, "rb") as f:
                f.seek(mark)
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def wait_log(self, mark, *needles, timeout=10.0):
        """Wait until every needle appears in the log after mark; returns that log text."""
        def check():
            text = self.log_since(mark)
            return text if all(n in text for n in needles) else None
        text = wait_until(check, timeout)
        return text if text is not None else self.log_since(mark)

    # ---- HTTP
    def connection(self, timeout=HTTP_TIMEOUT):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, timeout=HTTP_TIMEOUT,
                encode_chunked=False):
        conn = self.connection(timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {},
                         encode_chunked=encode_chunked)
            r = conn.getresponse()
            data = r.read()
            return Response(r.status, r.reason, r.getheaders(), data)
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body, **kw):
        return self.request("POST", path, body=body, **kw)

    def get_json(self, path, **kw):
        r = self.get(path, **kw)
        assert r.status == 200, "%r\n--- error.log\n%s" % (r, self.error_log()[-4000:])
        return r.json()


@pytest.fixture
def apache_factory(request):
    """Factory: apache_factory(directives, start=True, mpm=None, setup=None) -> Apache.

    mpm: overrides of the event MPM settings; setup(apache): called before the
    configuration is (re)written and Apache started, to create files under its root.

    Directive text may use {apps}, {data}, {root}, {port}.  Every instance is
    stopped and its ServerRoot removed when the test ends, whatever happened."""
    yield from _factory(re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.name)[:40])


@pytest.fixture(scope="module")
def module_apache_factory(request):
    """Like apache_factory, but instances live for the whole test module."""
    yield from _factory(request.module.__name__.rsplit(".", 1)[-1][:40])


def _factory(name):
    """Makes Apache instances named name and cleans them all up afterwards."""
    made = []

    def make(directives="", start=True, mpm=None, setup=None, **kw):
        a = Apache(directives, mpm=mpm, **kw, name=name)
        made.append(a)
        if setup:
            setup(a)
            a.write_conf(directives)
        if start:
            a.start()
        return a

    yield make
    for a in made:
        a.cleanup()
    reports = [r for a in made for r in sanitizer_reports(os.path.basename(a.root) + ".")]
    if reports:
        pytest.fail("sanitizer reports:\n" + read_reports(reports), pytrace=False)


def make_venv(path, with_pip=False, timeout=300):
    args = [PYTHON, "-m", "venv"]
    if not with_pip:
        args.append("--without-pip")
    subprocess.run(args + [path], check=True, capture_output=True, timeout=timeout)
    return path


def venv_site_packages(venv):
    return os.path.join(venv, "lib", "python%s" % PY_VERSION, "site-packages")


def venv_with(requirements, what):
    """For a session fixture: yields a venv (made by PYTHON) with a requirements file installed
    from PyPI, and removes it afterwards; skips the tests when that fails (offline)."""
    root = tempfile.mkdtemp(prefix="swsgi-it-venv-")
    venv = os.path.join(root, "venv")
    reason = None
    try:
        make_venv(venv, with_pip=True)
        p = subprocess.run([os.path.join(venv, "bin", "pip"), "install", "--disable-pip-version-check",
                            "-q", "-r", requirements],
                           capture_output=True, text=True, timeout=600)
        if p.returncode != 0:
            reason = "pip install %s failed (offline?): %s" % (what, (p.stderr or p.stdout)[-500:])
    except (subprocess.SubprocessError, OSError) as e:
        reason = "could not build a venv with %s: %s" % (what, e)
    if reason:
        shutil.rmtree(root, ignore_errors=True)
        pytest.skip(reason)
    make_tree_readable(root)
    try:
        yield venv
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def flask_venv():
    """A venv (made by PYTHON) with Flask installed from PyPI; cached per session."""
    yield from venv_with(os.path.join(EXAMPLES, "flask", "requirements.txt"), "flask")
