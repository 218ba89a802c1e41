"""WSGITrustedProxyHeaders and WSGITrustedProxies: a trusted proxy's headers rewrite REMOTE_ADDR,
wsgi.url_scheme, HTTP_HOST, SERVER_PORT and SCRIPT_NAME; the other spellings of a trusted
header's family, and everything of that family an untrusted peer sends, never reach the app
(mod_wsgi's CVE-2022-2255 was X-Client-IP getting through). The tests' peer is 127.0.0.1, so
it is trusted or not through WSGITrustedProxies. Embedded and daemon mode alike."""
import pytest

from conftest import TARGET
from daemon_support import SOCKET_DIRECTIVE

HEADERS = "X-Forwarded-For X-Forwarded-Proto X-Forwarded-Host X-Forwarded-Port X-Script-Name"

CONF = SOCKET_DIRECTIVE + """
WSGIDaemonProcess px threads=2
WSGIScriptAlias /trusted {apps}/environ.wsgi
WSGIScriptAlias /untrusted {apps}/environ.wsgi
WSGIScriptAlias /chain {apps}/environ.wsgi
WSGIScriptAlias /d-trusted {apps}/environ.wsgi process-group=px
WSGIScriptAlias /d-untrusted {apps}/environ.wsgi process-group=px
WSGIScriptAlias /plain {apps}/environ.wsgi
<Location /trusted>
    WSGITrustedProxyHeaders %(headers)s
    WSGITrustedProxies 127.0.0.1
</Location>
<Location /d-trusted>
    WSGITrustedProxyHeaders %(headers)s
    WSGITrustedProxies 10.0.0.0/8 127.0.0.0/255.0.0.0
</Location>
<Location /untrusted>
    WSGITrustedProxyHeaders %(headers)s
    WSGITrustedProxies 10.0.0.0/8 ::1
</Location>
<Location /d-untrusted>
    WSGITrustedProxyHeaders %(headers)s
    WSGITrustedProxies 192.168
</Location>
<Location /chain>
    WSGITrustedProxyHeaders X-Forwarded-For
    WSGITrustedProxies 127.0.0.1 10.0.0.0/8
</Location>
""" % {"headers": HEADERS}

# What a client can send for each family, in every spelling mod_wsgi knows of.
SPOOFS = {
    "X-Forwarded-For": "6.6.6.6", "X-Client-IP": "6.6.6.7", "X-Real-IP": "6.6.6.8",
    "X-Forwarded-Proto": "https", "X-Forwarded-Scheme": "https", "X-Scheme": "https",
    "X-Forwarded-HTTPS": "on", "X-Forwarded-SSL": "on", "X-HTTPS": "1",
    "X-Forwarded-Host": "evil.example", "X-Host": "evil.example",
    "X-Forwarded-Port": "6666",
    "X-Script-Name": "/evil", "X-Forwarded-Script-Name": "/evil",
}
# Underscores instead of dashes: Apache leaves such headers out of the environ altogether.
UNDERSCORED = {"X_Forwarded_For": "6.6.6.9", "X_Real_IP": "6.6.6.10", "X-Forwarded_Host": "evil.example"}


def variable(header):
    return "HTTP_" + header.upper().replace("-", "_")


@pytest.fixture(scope="module")
def apache(module_apache_factory):
    return module_apache_factory(CONF)


@pytest.mark.parametrize("path", ["/trusted", "/d-trusted"])
def test_trusted_proxy_rewrites_the_environ(apache, path):
    env = apache.get_json(path + "/x", headers=dict(SPOOFS, **{
        "X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "www.example.org",
        "X-Forwarded-Port": "8443", "X-Script-Name": "/mounted"}))
    assert env["REMOTE_ADDR"] == "203.0.113.7"
    assert env["wsgi.url_scheme"] == "https"
    assert env["HTTP_HOST"] == "www.example.org"
    assert env["SERVER_PORT"] == "8443"
    assert env["SCRIPT_NAME"] == "/mounted"
    assert env["PATH_INFO"] == "/x"
    # The trusted headers stay, as the record of what set the variables; no other spelling does.
    for header in HEADERS.split():
        assert variable(header) in env, header
    for header in SPOOFS:
        if header not in HEADERS.split():
            assert variable(header) not in env, (header, env.get(variable(header)))


@pytest.mark.parametrize("path", ["/untrusted", "/d-untrusted"])
def test_untrusted_peer_spoofs_nothing(apache, path):
    env = apache.get_json(path + "/x", headers=dict(SPOOFS, **UNDERSCORED))
    assert env["REMOTE_ADDR"] == "127.0.0.1"
    assert env["wsgi.url_scheme"] == "http"
    assert env["HTTP_HOST"] == "127.0.0.1:%d" % apache.port
    assert env["SERVER_PORT"] == str(apache.port)
    assert env["SCRIPT_NAME"] == path
    families = [h for h in SPOOFS if h != "X-Forwarded-Port"]  # mod_wsgi 4.9.4 leaves the port's header
    for header in families:
        assert variable(header) not in env, (header, env.get(variable(header)))
    leaked = [v for v in env.values() if isinstance(v, str) and ("6.6.6." in v or "evil" in v)]
    if TARGET == "swsgi":
        assert leaked == []
        assert "HTTP_X_FORWARDED_PORT" not in env


def test_without_trusted_headers_nothing_is_touched(apache):
    env = apache.get_json("/plain/x", headers={"X-Forwarded-For": "6.6.6.6", "X-Client-IP": "6.6.6.7"})
    assert env["REMOTE_ADDR"] == "127.0.0.1"
    assert env["HTTP_X_FORWARDED_FOR"] == "6.6.6.6"
    assert env["HTTP_X_CLIENT_IP"] == "6.6.6.7"


@pytest.mark.parametrize("chain,client,kept", [
    # Walked from the right over trusted hops; the address before them is the client.
    ("6.6.6.6, 203.0.113.7, 10.1.2.3", "203.0.113.7", "203.0.113.7, 10.1.2.3"),
    ("203.0.113.7", "203.0.113.7", "203.0.113.7"),
    # No trusted hop: the last address is the client.
    ("6.6.6.6, 203.0.113.7", "203.0.113.7", "203.0.113.7"),
    # Every hop trusted: the leftmost.
    ("10.9.9.9, 10.1.2.3", "10.9.9.9", "10.9.9.9, 10.1.2.3"),
])
def test_forwarded_for_chain(apache, chain, client, kept):
    env = apache.get_json("/chain/", headers={"X-Forwarded-For": chain, "X-Real-IP": "6.6.6.8"})
    assert env["REMOTE_ADDR"] == client
    assert env["HTTP_X_FORWARDED_FOR"] == kept
    assert "HTTP_X_REAL_IP" not in env


@pytest.mark.swsgi_only
def test_forwarded_for_skips_empty_elements(apache):
    # RFC 9110 5.6.1; mod_wsgi before 6.0 took the empty element for an address
    env = apache.get_json("/chain/", headers={"X-Forwarded-For": "203.0.113.7, , 10.1.2.3,"})
    assert env["REMOTE_ADDR"] == "203.0.113.7"
    assert env["HTTP_X_FORWARDED_FOR"] == "203.0.113.7, 10.1.2.3"


def test_valid_addresses_pass_configtest(apache_factory):
    a = apache_factory("WSGITrustedProxies 127.0.0.1 10.0.0.0/8 172.16.0.0/255.240.0.0 192.168 ::1 fe80::/10 2001:db8::/32\n"
                       "WSGITrustedProxyHeaders X-Forwarded-For x-forwarded-proto\n",
                       start=False)
    rc, out = a.configtest()
    assert rc == 0, out


@pytest.mark.swsgi_only
@pytest.mark.parametrize("directive,word", [
    ("WSGITrustedProxies 10.0.0.0/33", "10.0.0.0/33"),
    ("WSGITrustedProxies proxy.example.com", "proxy.example.com"),
    ("WSGITrustedProxies 10.0.0.1/255.0.255.0", "10.0.0.1/255.0.255.0"),
    ("WSGITrustedProxies fe80::1%eth0", "fe80::1%eth0"),
    ("WSGITrustedProxyHeaders X-Bogus", "X-Bogus"),
    ("WSGITrustedProxyHeaders X_Forwarded_For", "X_Forwarded_For"),
    ("WSGITrustedProxyHeaders X-Forwarded-For X-Real-IP", "X-Real-IP"),
])
def test_bad_values_fail_configtest(apache_factory, directive, word):
    # mod_wsgi takes unknown and underscored header names (and then ignores them), and two
    # headers of one family ("which will be used is indeterminate")
    a = apache_factory(directive + "\n", start=False)
    rc, out = a.configtest()
    assert rc != 0, out
    name = directive.split()[0]
    assert name in out and "'%s'" % word in out, out
