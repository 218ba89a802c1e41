"""The proxied peers of bench.py: what a site that keeps Apache in front (TLS, auth, static
files, other vhosts) runs instead of swsgi. The same Apache as swsgi's and the floor's, with
mod_proxy_http instead of a WSGI module, passes the scenario's mount to granian, gunicorn or
uvicorn, started as the bare peer is (same app, venv and worker count) but listening on a
Unix socket. Unix rather than loopback TCP, as gunicorn's and uvicorn's deployment docs do it
behind a proxy: no port to keep from the outside, no TCP stack on either side."""

SUFFIX = "-proxied"
TARGETS = tuple(p + SUFFIX for p in ("granian", "gunicorn", "uvicorn"))
SOCKET = "run/peer.sock"  # under the bench's ServerRoot, which is short enough for sun_path

MODULE_LINES = "\n".join("LoadModule %s_module /usr/lib/apache2/modules/mod_%s.so" % (m, m)
                         for m in ("proxy", "proxy_http"))


def peer(target):
    """The bare peer a target runs (itself unless proxied)."""
    return target[:-len(SUFFIX)] if target.endswith(SUFFIX) else target


def proxy_lines(mount, socket_path):
    """The ProxyPass of a mount. mod_proxy_http keeps a pool per child of up to
    ThreadsPerChild kept-alive connections to the backend and reuses them (its default);
    ttl=1 closes an idle one before the backend's keep-alive timeout does (gunicorn's is 2 s,
    the shortest), so Apache never sends a request on a connection being closed."""
    return ['ProxyPass "%s" "unix:%s|http://localhost%s" ttl=1' % (mount, socket_path, mount)]
