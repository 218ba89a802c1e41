"""`swsgi serve`: one command runs an app under a real Apache, and stops it leaving nothing."""
import contextlib
import http.client
import json
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request

import pytest

from conftest import (EXAMPLES, IS_ROOT, MODULE_PATH, PY_VERSION, free_port, make_tree_readable, pid_alive,
                      sanitized_env, wait_until)
from daemon_support import descendants
from tool_support import TOOL, tool
from processes import terminate

pytestmark = pytest.mark.swsgi_only  # the tool serves with swsgi

HELLO = """\
import os
def application(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [('hello from %s %s' % (environ['mod_wsgi.process_group'], os.getcwd())).encode()]
"""

WHOAMI = """\
import os, pwd
def application(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [pwd.getpwuid(os.getuid()).pw_name.encode()]
"""


class Served:
    """`swsgi serve ARGS` running in the background on a free port."""

    def __init__(self, workdir, *args, env=None, prefix=()):
        self.port = free_port()
        self.log_path = os.path.join(workdir, "serve.log")
        self.log = open(self.log_path, "w")
        if prefix:  # run as another user, who must be able to reopen its stderr (/dev/stderr)
            os.chown(self.log_path, pwd.getpwnam("nobody").pw_uid, -1)
        self.process = subprocess.Popen(list(prefix) + [TOOL, "serve", "--port", str(self.port), "--module", MODULE_PATH] + list(args),
                                        stdout=self.log, stderr=subprocess.STDOUT, cwd=workdir,
                                        env=sanitized_env(dict(env or os.environ), "swsgi-serve"))

    def output(self):
        with open(self.log_path) as f:
            return f.read()

    def get(self, path, timeout=10):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request("GET", path)
            r = conn.getresponse()
            return r.status, r.read()
        finally:
            conn.close()

    def wait_ready(self, path="/"):
        def answered():
            try:
                return self.get(path)[0] != 503 or None
            except OSError:
                return None if self.process.poll() is None else "exited"
        assert wait_until(answered, 30, 0.2) is True, self.output()

    def stop(self, sig=signal.SIGINT, timeout=30):
        """Signals the tool; returns its exit status."""
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        finally:
            self.log.close()

    def kill(self):
        """After a failure: stops the tool as SIGTERM does (it then cleans up), else kills it."""
        terminate(self.process)
        self.log.close()


@contextlib.contextmanager
def serving(workdir, *args, env=None, ready="/", prefix=()):
    """Serves ARGS until the block ends, then stops it with Ctrl-C, which must exit 0."""
    served = Served(workdir, *args, env=env, prefix=prefix)
    try:
        served.wait_ready(ready)
        yield served
        assert served.stop() == 0, served.output()
    finally:
        served.kill()


@pytest.fixture
def workdir():
    path = tempfile.mkdtemp(prefix="swsgi-it-serve-")
    os.chmod(path, 0o755)  # the daemon runs as www-data when the tests run as root
    yield path
    shutil.rmtree(path, ignore_errors=True)


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    make_tree_readable(os.path.dirname(path))


def server_root(output):
    return output.split("server root ", 1)[1].split(")", 1)[0]


def test_serve_hello_and_ctrl_c_leaves_nothing(workdir):
    write(os.path.join(workdir, "app", "hello.wsgi"), HELLO)
    served = Served(workdir, "app/hello.wsgi")
    try:
        served.wait_ready()
        status, body = served.get("/")
        assert status == 200, served.output()
        # daemon mode, one group, the script's directory as the current directory
        assert body == ("hello from 127.0.0.1:%d %s/app" % (served.port, workdir)).encode()
        root = server_root(served.output())
        assert os.path.isdir(root)
        processes = descendants(served.process.pid)
        assert len(processes) >= 3  # Apache's parent, a child, the daemon
        assert served.stop(signal.SIGINT) == 0, served.output()
    finally:
        served.kill()
    assert not [p for p in processes if pid_alive(p)]
    assert not os.path.exists(root)
    with pytest.raises(OSError):
        served.get("/", timeout=2)
    assert "caught SIGTERM, shutting down" in served.output()


def test_serve_stops_on_sigterm_with_status_0(workdir):
    write(os.path.join(workdir, "hello.wsgi"), HELLO)
    served = Served(workdir, "hello.wsgi")
    try:
        served.wait_ready()
        processes = descendants(served.process.pid)
        assert served.stop(signal.SIGTERM) == 0, served.output()
    finally:
        served.kill()
    assert wait_until(lambda: not [p for p in processes if pid_alive(p)], 5)


def test_serve_flask_in_the_active_venv(workdir, flask_venv):
    env = dict(os.environ, VIRTUAL_ENV=flask_venv)
    with serving(workdir, os.path.join(EXAMPLES, "flask", "app.wsgi"), env=env, ready="/api") as served:
        status, body = served.get("/api?x=1")
        assert status == 200, served.output()
        data = json.loads(body)
        assert data["prefix"] == flask_venv
        assert data["args"] == {"x": "1"}
        assert "with Python %s at %s " % (PY_VERSION, flask_venv) in served.output()


def test_serve_url_alias_serves_static_files(workdir):
    write(os.path.join(workdir, "hello.wsgi"), HELLO)
    write(os.path.join(workdir, "assets", "site.css"), "body { color: red }\n")
    with serving(workdir, "hello.wsgi", "--url-alias", "/static", "assets") as served:
        assert served.get("/static/site.css") == (200, b"body { color: red }\n")
        assert served.get("/static/missing.css")[0] == 404
        assert served.get("/other")[1].startswith(b"hello from")


def test_serve_document_root_files_first_then_the_app(workdir):
    write(os.path.join(workdir, "hello.wsgi"), HELLO)
    write(os.path.join(workdir, "htdocs", "robots.txt"), "User-agent: *\n")
    with serving(workdir, "hello.wsgi", "--document-root", "htdocs") as served:
        assert served.get("/robots.txt") == (200, b"User-agent: *\n")
        assert served.get("/robots.txt/x")[1].startswith(b"hello from")
        assert served.get("/nothere.txt")[1].startswith(b"hello from")


def test_serve_mount_point(workdir):
    write(os.path.join(workdir, "hello.wsgi"), HELLO)
    with serving(workdir, "hello.wsgi", "--mount-point", "/app", ready="/app") as served:
        assert served.get("/app/x")[1].startswith(b"hello from")
        assert served.get("/")[0] in (403, 404)  # nothing else is served
        assert "on http://127.0.0.1:%d/app " % served.port in served.output()


def test_serve_include_file_adds_directives(workdir):
    write(os.path.join(workdir, "hello.wsgi"), HELLO)
    write(os.path.join(workdir, "extra", "note.txt"), "included\n")
    write(os.path.join(workdir, "extra.conf"),
          'Alias /extra "%s/extra"\n<Directory "%s/extra">\n    Require all granted\n</Directory>\n' % (workdir, workdir))
    with serving(workdir, "hello.wsgi", "--include-file", "extra.conf") as served:
        assert served.get("/extra/note.txt") == (200, b"included\n")


PID = """\
import os
def application(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [str(os.getpid()).encode()]
"""


def test_serve_processes_threads_and_maximum_requests_reach_the_daemon(workdir):
    write(os.path.join(workdir, "pid.wsgi"), PID)
    root = os.path.join(workdir, "server")
    p = tool("serve", "pid.wsgi", "--setup-only", "--server-root", root, "--processes", "2", "--threads", "3",
             "--maximum-requests", "1", "--request-timeout", "7", "--interrupt-timeout", "4", "--python-path", workdir, cwd=workdir)
    assert p.returncode == 0, p.stderr
    conf = open(os.path.join(root, "httpd.conf")).read()
    daemon = next(line for line in conf.splitlines() if line.startswith("WSGIDaemonProcess"))
    for option in ('"processes=2"', '"threads=3"', '"maximum-requests=1"', '"request-timeout=7"', '"interrupt-timeout=4"',
                   '"python-path=%s:%s"' % (workdir, workdir), '"home=%s"' % workdir):
        assert option in daemon, daemon
    # maximum-requests=1: every request is answered by a fresh process
    with serving(workdir, "pid.wsgi", "--maximum-requests", "1") as served:
        pids = set()
        for _ in range(3):
            status, body = served.get("/")
            assert status == 200
            pids.add(body)
        assert len(pids) == 3


def test_serve_application_type_module(workdir):
    write(os.path.join(workdir, "pkg", "__init__.py"), "")
    write(os.path.join(workdir, "pkg", "web.py"),
          "def app(environ, start_response):\n"
          "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
          "    return [b'from a module']\n")
    with serving(workdir, "--application-type", "module", "pkg.web", "--callable-object", "app",
                 "--working-directory", workdir) as served:
        assert served.get("/") == (200, b"from a module")


def test_serve_reload_on_changes_picks_up_an_edited_module(workdir):
    write(os.path.join(workdir, "greeting.py"), "TEXT = 'first'\n")
    write(os.path.join(workdir, "app.wsgi"),
          "import greeting\n"
          "def application(environ, start_response):\n"
          "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
          "    return [greeting.TEXT.encode()]\n")
    with serving(workdir, "app.wsgi", "--reload-on-changes") as served:
        assert served.get("/") == (200, b"first")
        time.sleep(1.1)  # a new modification time
        write(os.path.join(workdir, "greeting.py"), "TEXT = 'second'\n")

        def reloaded():
            try:
                return served.get("/")[1] == b"second"
            except OSError:
                return False
        assert wait_until(reloaded, 20, 0.3), served.output()


def test_serve_setup_only_and_the_generated_apachectl(workdir):
    write(os.path.join(workdir, "hello.wsgi"), HELLO)
    root = os.path.join(workdir, "server")
    port = free_port()
    p = tool("serve", "hello.wsgi", "--setup-only", "--server-root", root, "--port", str(port), cwd=workdir)
    assert p.returncode == 0, p.stderr
    assert os.path.isfile(os.path.join(root, "httpd.conf"))
    apachectl = os.path.join(root, "apachectl")
    assert os.access(apachectl, os.X_OK)
    assert "%s start" % apachectl in p.stdout
    start = subprocess.run([apachectl, "start"], capture_output=True, text=True, timeout=60,
                           env=sanitized_env(dict(os.environ), "apachectl"))
    assert start.returncode == 0, start.stdout + start.stderr
    pidfile = os.path.join(root, "httpd.pid")
    try:
        def body():
            try:
                return urllib.request.urlopen("http://127.0.0.1:%d/" % port, timeout=5).read()
            except OSError:
                return None
        assert (wait_until(body, 20, 0.2) or b"").startswith(b"hello from"), open(os.path.join(root, "error_log")).read()
        pid = int(open(pidfile).read())
        processes = [pid] + descendants(pid)
    finally:
        stop = subprocess.run([apachectl, "stop"], capture_output=True, text=True, timeout=60,
                              env=sanitized_env(dict(os.environ), "apachectl"))
    assert stop.returncode == 0, stop.stdout + stop.stderr
    assert wait_until(lambda: not [p for p in processes if pid_alive(p)], 20)


def private_tmpdir(workdir):
    """An environment whose TMPDIR (where serve makes its server root) only this test uses."""
    os.makedirs(os.path.join(workdir, "tmp"), exist_ok=True)
    return dict(os.environ, TMPDIR=os.path.join(workdir, "tmp"))


@pytest.mark.parametrize("args, sentence", [
    (["--port", "0"], "--port must be from 1 to 65535, not 0."),
    (["--processes", "0"], "--processes must be at least 1, not 0."),
    (["--log-level", "loud"], "--log-level must be one of"),
    (["--url-alias", "/static"], "--url-alias takes two values"),
    (["--python-home", "/nonexistent/venv"], "--python-home '/nonexistent/venv' is not a directory."),
    (["--python-path", "/nonexistent/dir"], "--python-path '/nonexistent/dir' is not a directory."),
    (["--host", "localhost"], "--host must be an IPv4 address such as 127.0.0.1 or 0.0.0.0, not 'localhost'."),
])
def test_serve_wrong_option_gets_one_sentence(workdir, args, sentence):
    write(os.path.join(workdir, "hello.wsgi"), HELLO)
    p = tool("serve", "hello.wsgi", *args, cwd=workdir, env=private_tmpdir(workdir))
    assert not os.listdir(os.path.join(workdir, "tmp"))  # no server root left behind
    assert p.returncode != 0
    assert sentence in p.stderr.splitlines()[0], p.stderr
    assert "AH0" not in p.stderr  # no Apache stack


def test_serve_missing_script(workdir):
    p = tool("serve", "nothere.wsgi", cwd=workdir, env=private_tmpdir(workdir))
    assert not os.listdir(os.path.join(workdir, "tmp"))
    assert p.returncode == 1
    assert p.stderr.strip() == "Error: The WSGI script 'nothere.wsgi' is not a readable file."


def test_serve_venv_of_another_python_is_one_sentence(workdir):
    venv = os.path.join(workdir, "old")
    write(os.path.join(venv, "pyvenv.cfg"), "home = /usr/bin\nversion = 3.9.2\n")
    write(os.path.join(workdir, "hello.wsgi"), HELLO)
    env = dict(os.environ, VIRTUAL_ENV=venv)
    p = tool("serve", "hello.wsgi", cwd=workdir, env=env)
    assert p.returncode == 1
    assert "VIRTUAL_ENV '%s' is a virtual environment of Python 3.9" % venv in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1


@pytest.mark.skipif(not IS_ROOT, reason="--user needs root")
def test_serve_user_option_runs_the_daemon_as_that_user(workdir):
    write(os.path.join(workdir, "whoami.wsgi"), WHOAMI)
    with serving(workdir, "whoami.wsgi", "--user", "nobody", "--group", "nogroup") as served:
        assert served.get("/") == (200, b"nobody")


@pytest.mark.skipif(not IS_ROOT, reason="needs root to become another user")
def test_serve_as_an_ordinary_user(workdir):
    """Not root, Apache and the daemon run as the user who started swsgi."""
    write(os.path.join(workdir, "whoami.wsgi"), WHOAMI)
    as_nobody = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
    with serving(workdir, "whoami.wsgi", prefix=as_nobody) as served:
        assert served.get("/") == (200, b"nobody")
