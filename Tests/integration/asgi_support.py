"""ASGI tests run each app under swsgi (a daemon group with interface=asgi) and under uvicorn,
so that every assertion is proven right against a real ASGI server. Both serve the app at
/api: swsgi as the mount, uvicorn with --root-path /api (requests then leave the prefix out)."""
import http.client
import importlib
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import types

import pytest

from conftest import APACHE_MODULES, APPS, EXAMPLES, HTTP_TIMEOUT, PY_VERSION, free_port, venv_site_packages, venv_with, wait_until
from daemon_support import SOCKET_DIRECTIVE
from processes import port_answers, terminate

MOUNT = "/api"
# Each test of both: the uvicorn half runs whatever the target, the swsgi half is swsgi's
# (mod_wsgi has no ASGI).
SERVERS = pytest.mark.parametrize("kind", [pytest.param("swsgi", marks=pytest.mark.swsgi_only), "uvicorn"])
MPM = dict(StartServers=4, ServerLimit=4, ThreadsPerChild=64, ThreadLimit=64, MaxRequestWorkers=256,
           MinSpareThreads=1, MaxSpareThreads=256)


@pytest.fixture(scope="session")
def asgi_venv():
    """A venv with Starlette, FastAPI, Django, uvicorn and uvloop from PyPI; cached per session."""
    yield from venv_with(os.path.join(APPS, "asgi", "requirements.txt"), "starlette fastapi django uvicorn uvloop")


@pytest.fixture(scope="session")
def websockets_client(asgi_venv, tmp_path_factory):
    """The `websockets` package's synchronous client, for this (the harness's) Python: the ASGI
    venv's when it is of the same Python, else from a venv of the harness's own."""
    if PY_VERSION == "%d.%d" % sys.version_info[:2]:
        site = venv_site_packages(asgi_venv)
    else:
        venv = str(tmp_path_factory.mktemp("websockets") / "venv")
        subprocess.run([sys.executable, "-m", "venv", venv], check=True, capture_output=True, timeout=300)
        subprocess.run([os.path.join(venv, "bin", "pip"), "install", "-q", "websockets"], check=True, capture_output=True, timeout=600)
        site = os.path.join(venv, "lib", "python%d.%d" % sys.version_info[:2], "site-packages")
    sys.path.insert(0, site)
    exceptions = importlib.import_module("websockets.exceptions")
    return types.SimpleNamespace(connect=importlib.import_module("websockets.sync.client").connect,
                                 ConnectionClosed=exceptions.ConnectionClosed, InvalidStatus=exceptions.InvalidStatus,
                                 InvalidMessage=exceptions.InvalidMessage)


class Uvicorn:
    """uvicorn serving <script> (under apps/ or examples/) from copies of both beside a
    writable data/, as an Apache ServerRoot of the tests has them."""

    def __init__(self, venv, script, callable_name="application"):
        self.root = tempfile.mkdtemp(prefix="swsgi-it-uvicorn-")
        for tree in (APPS, EXAMPLES):
            shutil.copytree(tree, os.path.join(self.root, os.path.basename(tree)), ignore=shutil.ignore_patterns("__pycache__"))
        self.data = os.path.join(self.root, "data")
        os.makedirs(self.data)
        self.port = free_port()
        self.prefix = ""
        directory, name = os.path.split(os.path.join(self.root, script))
        self.log_path = os.path.join(self.root, "uvicorn.log")
        self.args = [os.path.join(venv, "bin", "uvicorn"), "--app-dir", directory,
                     "%s:%s" % (os.path.splitext(name)[0], callable_name), "--host", "127.0.0.1",
                     "--port", str(self.port), "--root-path", MOUNT, "--workers", "1", "--log-level", "info"]
        self.process = None

    def start(self):
        self.log = open(self.log_path, "ab")
        self.process = subprocess.Popen(self.args, stdout=self.log, stderr=subprocess.STDOUT, cwd=self.root)
        assert wait_until(lambda: port_answers(self.port), 20), self.error_log()
        return self

    def stop(self):
        if self.process:
            terminate(self.process)
        self.log.close()

    def error_log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


class Served:
    """What a test needs of either server: requests to the app's paths, the log, stopping."""

    def __init__(self, kind, server, tls=False, port=None):
        self.kind, self.server, self.tls = kind, server, tls
        self.port = port or server.port
        self.prefix = MOUNT if kind == "swsgi" else ""
        self.data = server.data

    def url(self, path):
        return self.prefix + path

    def ws_url(self, path):
        return "%s://127.0.0.1:%d%s" % ("wss" if self.tls else "ws", self.port, self.url(path))

    def connection(self, timeout=HTTP_TIMEOUT):
        if self.tls:
            return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout, context=client_tls_context())
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, timeout=HTTP_TIMEOUT, chunked=False):
        conn = self.connection(timeout)
        try:
            conn.request(method, self.url(path), body=body, headers=headers or {}, encode_chunked=chunked)
            r = conn.getresponse()
            return r.status, r.getheaders(), r.read()
        finally:
            conn.close()

    def log(self):
        return self.server.error_log()

    def data_file(self, name):
        path = os.path.join(self.data, name)
        if not os.path.exists(path):
            return ""
        with open(path) as f:
            return f.read()

    def stop(self):
        self.server.stop()


@pytest.fixture
def asgi_serve(apache_factory, asgi_venv):
    """Factory: asgi_serve(kind, script, threads=16, daemon_options="", alias_options="", extra="", setup=None, mpm=None,
    tls=None) -> Served."""
    made = []

    def make(kind, script, **options):
        served = serve(kind, apache_factory, asgi_venv, script, **options)
        made.append(served)
        return served
    yield make
    for served in made:
        if served.kind == "uvicorn":
            served.server.cleanup()


@pytest.fixture(scope="session")
def tls_certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1 and its key, made with openssl: (cert, key)."""
    directory = tmp_path_factory.mktemp("tls")
    key, cert = str(directory / "key.pem"), str(directory / "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "1", "-subj", "/CN=127.0.0.1"], check=True, capture_output=True, timeout=60)
    # Apache's children read them as its user.
    os.chmod(str(directory), 0o755)
    os.chmod(key, 0o644)
    return cert, key


def client_tls_context():
    """A client context that takes the self-signed certificate. TLS 1.2: the `websockets`
    sync client reads on a thread of its own while it writes the handshake, and Python's
    SSL sockets are not safe for that when TLS 1.3's session tickets arrive meanwhile
    ("[SSL] internal error"; python-socketio#1568 has the same race)."""
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    return context


TLS_VHOST = ("LoadModule ssl_module %s/mod_ssl.so\nLoadModule socache_shmcb_module %s/mod_socache_shmcb.so\n"
             "SSLSessionCache shmcb:{root}/run/ssl_cache(512000)\nListen 127.0.0.1:%d\n"
             "<VirtualHost 127.0.0.1:%d>\n    SSLEngine on\n    SSLCertificateFile %s\n    SSLCertificateKeyFile %s\n"
             "</VirtualHost>\n")


def serve(kind, apache_factory, venv, script, threads=16, daemon_options="", alias_options="", extra="", setup=None, mpm=None,
          tls=None):
    """Starts script ("apps/..." or "examples/...") as an ASGI app on swsgi or uvicorn; returns a Served.
    tls: (cert, key) to serve HTTPS and wss:// only (swsgi: on a mod_ssl virtual host of its own port)."""
    if kind == "uvicorn":
        u = Uvicorn(venv, script)
        if tls:
            u.args += ["--ssl-certfile", tls[0], "--ssl-keyfile", tls[1]]
        if setup:
            setup(u.data)
        return Served(kind, u.start(), tls=bool(tls))
    tls_port = tls and free_port()
    if tls:
        extra += TLS_VHOST % (APACHE_MODULES, APACHE_MODULES, tls_port, tls_port, tls[0], tls[1])

    def prepare(a):
        shutil.copytree(EXAMPLES, a.path("examples"), ignore=shutil.ignore_patterns("__pycache__"))
        os.chmod(a.data, 0o777)  # the daemon writes its records there
        if setup:
            setup(a.data)
    directives = SOCKET_DIRECTIVE + (
        "WSGIDaemonProcess api processes=1 threads=%d python-home=%s %s\n"
        "WSGIScriptAlias %s {root}/%s process-group=api interface=asgi %s\n"
        "<Directory {root}/examples>\n    Require all granted\n</Directory>\n%s"
        % (threads, venv, daemon_options, MOUNT, script, alias_options, extra))
    return Served(kind, apache_factory(directives, mpm=dict(MPM, **(mpm or {})), setup=prepare), tls=bool(tls), port=tls_port)

