"""How many concurrent idle WebSockets one Apache with MaxRequestWorkers 64 holds for an ASGI
app in a daemon group (issue 14's target: 1000).

Opens --count WebSockets to an echo app (raw ASGI, one daemon process with 4 threads), each
checked with one message, and holds them all; then checks that a plain HTTP request is still
answered, that every WebSocket still echoes, and reports what the processes use. --tls: wss://
and HTTPS through mod_ssl (a self-signed certificate made with openssl), where Apache relays
each WebSocket.

    /usr/bin/python3 bench/idle_websockets.py --count 1000 [--tls]
"""
import argparse
import asyncio
import base64
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tools"))
import built_module  # noqa: E402

PYTHON = os.environ.get("PYTHON", "/usr/bin/python3")
MODULE = os.environ.get("SWSGI_MODULE") or built_module.module_path(PYTHON)
APACHE_MODULES = "/usr/lib/apache2/modules"

APP = '''
async def application(scope, receive, send):
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"plain http"})
        return
    if scope["type"] != "websocket":
        return
    await receive()
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        await send({"type": "websocket.send", "text": message.get("text")})
'''

CONF = '''ServerRoot "{root}"
DefaultRuntimeDir "{root}"
PidFile "{root}/httpd.pid"
LoadModule mpm_event_module {modules}/mod_mpm_event.so
LoadModule authz_core_module {modules}/mod_authz_core.so
LoadModule swsgi_module {module}
ServerName 127.0.0.1
Listen 127.0.0.1:{port}
ErrorLog "{root}/error.log"
LogLevel warn
{user}
StartServers 1
ServerLimit 1
ThreadsPerChild 64
ThreadLimit 64
MaxRequestWorkers 64
MinSpareThreads 1
MaxSpareThreads 64
WSGISocketPrefix {root}/wsgi
WSGIDaemonProcess ws processes=1 threads=4
WSGIScriptAlias /ws {root}/app.py process-group=ws interface=asgi
<Directory "{root}">
    Require all granted
</Directory>
{tls}'''

# A relayed (suspended) connection counts against the event MPM's limit of connections per
# child, ThreadsPerChild + AsyncRequestWorkerFactor x idle threads: 64 + 20 x 64 here.
TLS = '''AsyncRequestWorkerFactor 20
LoadModule ssl_module {modules}/mod_ssl.so
LoadModule socache_shmcb_module {modules}/mod_socache_shmcb.so
SSLSessionCache shmcb:{root}/ssl_cache(512000)
SSLEngine on
SSLCertificateFile {root}/cert.pem
SSLCertificateKeyFile {root}/key.pem
'''


def frame(text):
    """A masked text frame of the client (under 126 bytes)."""
    payload, mask = text.encode(), os.urandom(4)
    return bytes((0x81, 0x80 | len(payload))) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


async def echo(reader, writer, text):
    writer.write(frame(text))
    first, length = await reader.readexactly(2)
    got = await reader.readexactly(length & 0x7F)
    return first == 0x81 and got == text.encode()


async def open_websocket(port, n, context):
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=context)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(("GET /ws/ HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % key).encode())
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 101 ") or not await echo(reader, writer, "hello %d" % n):
        raise RuntimeError("WebSocket %d: %r" % (n, head[:100]))
    return reader, writer


async def plain_request(port, context):
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=context)
    writer.write(b"GET /ws/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    answer = await reader.read()
    writer.close()
    return answer.startswith(b"HTTP/1.1 200") and b"plain http" in answer


def rss_mib(pids):
    total = 0
    for pid in pids:
        with open("/proc/%s/status" % pid) as f:
            total += next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    return total / 1024


def processes(root):
    """The Apache children and the daemon processes (named swsgi:group), the parent left out."""
    with open(os.path.join(root, "httpd.pid")) as f:
        parent = f.read().strip()
    children = subprocess.run(["pgrep", "-P", parent], capture_output=True, text=True).stdout.split()
    daemons = [pid for pid in children if open("/proc/%s/comm" % pid).read().startswith("swsgi")]
    return [pid for pid in children if pid not in daemons], daemons


async def measure(port, count, root, context):
    sockets, start = [], time.monotonic()
    try:
        for n in range(count):
            sockets.append(await open_websocket(port, n, context))
    except (OSError, RuntimeError, asyncio.IncompleteReadError) as e:
        print("stopped at %d WebSockets: %s" % (len(sockets), e))
    opened = time.monotonic() - start
    print("open WebSockets: %d of %d (in %.1f s)" % (len(sockets), count, opened))
    print("plain HTTP request answered while they are open: %s" % await plain_request(port, context))
    live = [await echo(r, w, "still there %d" % n) for n, (r, w) in enumerate(sockets)]
    print("WebSockets that still echo: %d" % sum(live))
    children, daemons = processes(root)
    print("Apache children: %d, RSS %.0f MiB; daemon processes: %d, RSS %.0f MiB"
          % (len(children), rss_mib(children), len(daemons), rss_mib(daemons)))
    for _, writer in sockets:
        writer.close()
    return len(sockets) == count and all(live)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--tls", action="store_true", help="wss:// and HTTPS through mod_ssl")
    args = parser.parse_args()
    root = tempfile.mkdtemp(prefix="swsgi-bench-ws-")
    os.chmod(root, 0o755)
    with open(os.path.join(root, "app.py"), "w") as f:
        f.write(APP)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    context = None
    if args.tls:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", os.path.join(root, "key.pem"),
                        "-out", os.path.join(root, "cert.pem"), "-days", "1", "-subj", "/CN=127.0.0.1"],
                       check=True, capture_output=True)
        os.chmod(os.path.join(root, "key.pem"), 0o644)
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    conf = os.path.join(root, "httpd.conf")
    user = "User www-data\nGroup www-data" if os.geteuid() == 0 else ""
    with open(conf, "w") as f:
        tls = TLS.format(root=root, modules=APACHE_MODULES) if args.tls else ""
        f.write(CONF.format(root=root, modules=APACHE_MODULES, module=MODULE, port=port, user=user, tls=tls))
    subprocess.run(["apache2", "-d", root, "-f", conf, "-k", "start"], check=True)
    try:
        time.sleep(2)
        ok = asyncio.run(measure(port, args.count, root, context))
    finally:
        subprocess.run(["apache2", "-d", root, "-f", conf, "-k", "stop"])
        time.sleep(2)
        with open(os.path.join(root, "error.log")) as f:
            problems = [line for line in f if ":error]" in line or ":crit]" in line]
        print("".join(problems[-10:]), end="")
        shutil.rmtree(root, ignore_errors=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
