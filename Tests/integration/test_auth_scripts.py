"""WSGIAuthUserScript (the 'wsgi' provider of AuthBasicProvider and AuthDigestProvider),
WSGIAuthGroupScript (Require wsgi-group) and WSGIAccessScript: the functions of
apps/auth.wsgi decide, in the Apache child even when the app runs in a daemon, and no
password ever reaches a log."""
import base64
import os
import shutil
import tempfile
import urllib.error
import urllib.request

import pytest

from conftest import APACHE_MODULES, APPS, IS_ROOT, make_tree_readable
from daemon_support import SOCKET_DIRECTIVE

MODULES = "".join("LoadModule %s_module %s/mod_%s.so\n" % (m, APACHE_MODULES, m)
                  for m in ("authn_core", "auth_basic", "auth_digest", "authz_user"))

CONF = MODULES + SOCKET_DIRECTIVE + """
LogLevel debug
WSGIDaemonProcess authd threads=2
WSGIScriptAlias /basic {apps}/environ.wsgi
WSGIScriptAlias /daemon {apps}/environ.wsgi process-group=authd
WSGIScriptAlias /digest {apps}/environ.wsgi
WSGIScriptAlias /group {apps}/environ.wsgi
WSGIScriptAlias /access {apps}/environ.wsgi
<Location /basic>
    AuthType Basic
    AuthName "swsgi basic"
    AuthBasicProvider wsgi
    WSGIAuthUserScript {apps}/auth.wsgi
    Require valid-user
</Location>
<Location /daemon>
    AuthType Basic
    AuthName "swsgi daemon"
    AuthBasicProvider wsgi
    WSGIAuthUserScript {apps}/auth.wsgi
    Require valid-user
</Location>
<Location /digest>
    AuthType Digest
    AuthName "swsgi digest"
    AuthDigestProvider wsgi
    WSGIAuthUserScript {apps}/auth.wsgi
    Require valid-user
</Location>
<Location /group>
    AuthType Basic
    AuthName "swsgi group"
    AuthBasicProvider wsgi
    WSGIAuthUserScript {apps}/auth.wsgi
    WSGIAuthGroupScript {apps}/auth.wsgi
    Require wsgi-group admins
</Location>
<Location /access>
    WSGIAccessScript {apps}/auth.wsgi
</Location>
"""

SECRET = "S3cret-Never-Logged"


def basic(user, password):
    return {"Authorization": "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()}


@pytest.fixture(scope="module")
def apache(module_apache_factory):
    return module_apache_factory(CONF)


@pytest.mark.parametrize("path", ["/basic", "/daemon"])
def test_basic_right_wrong_unknown(apache, path):
    r = apache.get(path + "/", headers=basic("alice", "wonderland"))
    assert r.status == 200, r
    assert r.json()["REMOTE_USER"] == "alice"
    assert r.json()["AUTH_TYPE"] == "Basic"
    assert apache.get(path + "/", headers=basic("alice", "wrong")).status == 401
    assert apache.get(path + "/", headers=basic("nobody", "x")).status == 401
    assert apache.get(path + "/").status == 401


def test_script_runs_in_the_apache_child(apache):
    # check_password answers True only in the Apache child, with mod_wsgi's environ for it
    # (no Authorization, no wsgi.input); the app itself runs in the daemon.
    mark = apache.log_mark()
    r = apache.get("/daemon/", headers=basic("where", "x"))
    assert r.status == 200, (r, apache.log_since(mark)[-3000:])
    assert r.json()["mod_wsgi.process_group"] == "authd"
    assert "check_password ran in process group ''" in apache.log_since(mark)


def test_user_name_from_check_password(apache):
    r = apache.get("/basic/", headers=basic("renamed", "x"))
    assert r.status == 200, r
    assert r.json()["REMOTE_USER"] == "someone-else"


def test_exception_is_500_with_traceback(apache):
    mark = apache.log_mark()
    r = apache.get("/basic/", headers=basic("crash", SECRET))
    assert r.status == 500
    log = apache.wait_log(mark, "check_password failed on purpose")
    assert "Traceback" in log, log


@pytest.mark.swsgi_only
def test_wrong_result_type_is_500(apache):
    # mod_wsgi logs the TypeError and answers 500 too, but with another sentence
    mark = apache.log_mark()
    assert apache.get("/basic/", headers=basic("badtype", "x")).status == 500
    assert "it must return True, False, None or the user's name" in apache.wait_log(mark, "check_password()")


def test_password_never_logged(apache):
    mark = apache.log_mark()
    for user in ("alice", "nobody", "crash", "badtype"):
        apache.get("/basic/", headers=basic(user, SECRET))
        apache.get("/group/", headers=basic(user, SECRET))
    apache.get("/daemon/", headers=basic("alice", SECRET))
    log = apache.log_since(mark)
    assert "check_password failed on purpose" in log  # the log was written meanwhile
    assert SECRET not in log
    assert base64.b64encode(("alice:%s" % SECRET).encode()).decode() not in log


def test_digest_through_get_realm_hash(apache):
    url = "http://127.0.0.1:%d/digest/" % apache.port

    def fetch(user, password):
        manager = urllib.request.HTTPPasswordMgrWithDefaultRealm()
        manager.add_password(None, url, user, password)
        opener = urllib.request.build_opener(urllib.request.HTTPDigestAuthHandler(manager))
        try:
            with opener.open(url, timeout=30) as response:
                return response.status
        except urllib.error.HTTPError as e:
            return e.code

    assert fetch("bob", "builder") == 200
    assert fetch("bob", "wrong") == 401
    assert fetch("nobody", "x") == 401


def test_group(apache):
    assert apache.get("/group/", headers=basic("alice", "wonderland")).status == 200
    mark = apache.log_mark()
    assert apache.get("/group/", headers=basic("bob", "builder")).status == 401
    assert "bob" in apache.wait_log(mark, "bob")


@pytest.mark.swsgi_only
def test_group_exception_is_500(apache):
    # mod_wsgi denies (401) when groups_for_user raises
    mark = apache.log_mark()
    r = apache.get("/group/", headers=dict(basic("alice", "wonderland"), **{"X-Decision": "crash"}))
    assert r.status == 500
    assert "Traceback" in apache.wait_log(mark, "groups_for_user failed on purpose")


@pytest.mark.parametrize("decision,status", [("allow", 200), ("deny", 403), (None, 200), ("host", 200)])
def test_access_script(apache, decision, status):
    headers = {"X-Decision": decision} if decision else {}
    assert apache.get("/access/", headers=headers).status == status


@pytest.mark.swsgi_only
def test_access_exception_is_500(apache):
    # mod_wsgi answers 403 when allow_access raises
    mark = apache.log_mark()
    assert apache.get("/access/", headers={"X-Decision": "crash"}).status == 500
    assert "Traceback" in apache.wait_log(mark, "allow_access failed on purpose")


@pytest.mark.parametrize("directive", [
    "WSGIAuthUserScript {apps}/auth.wsgi",
    "WSGIAccessScript {apps}/auth.wsgi application-group=%{GLOBAL}",
])
def test_not_in_server_config(apache_factory, directive):
    a = apache_factory(directive + "\n", start=False)
    rc, out = a.configtest()
    assert rc != 0 and directive.split()[0] in out, out


@pytest.mark.swsgi_only
@pytest.mark.parametrize("options,word", [
    ("process-group=authd", "process-group=authd"),
    ("callable-object=x", "callable-object=x"),
    ("application-group=%{RESOURCE}", "application-group=%{RESOURCE}"),
])
def test_bad_options_fail_configtest(apache_factory, options, word):
    a = apache_factory("<Location /x>\n    WSGIAuthGroupScript {apps}/auth.wsgi %s\n</Location>\n" % options, start=False)
    rc, out = a.configtest()
    assert rc != 0 and "WSGIAuthGroupScript" in out and word in out, out


def test_in_htaccess(apache_factory):
    # AllowOverride AuthConfig admits the scripts, FileInfo the trusted proxies, as in mod_wsgi.
    def setup(a):
        os.makedirs(a.path("site"))
        for name in ("environ.wsgi", "auth.wsgi"):
            shutil.copy(os.path.join(APPS, name), a.path("site"))
        with open(a.path("site", ".htaccess"), "w") as f:
            f.write('AuthType Basic\nAuthName "htaccess"\nAuthBasicProvider wsgi\n'
                    "WSGIAuthUserScript %s\nRequire valid-user\n"
                    "WSGITrustedProxyHeaders X-Real-IP\nWSGITrustedProxies 127.0.0.1\n" % a.path("site", "auth.wsgi"))
        make_tree_readable(a.root)

    a = apache_factory(MODULES + "WSGIScriptAlias /h {root}/site/environ.wsgi\n"
                       "<Directory {root}/site>\n    AllowOverride AuthConfig FileInfo\n    Require all granted\n</Directory>\n",
                       setup=setup)
    assert a.get("/h/").status == 401
    assert a.get("/h/", headers=basic("alice", "wrong")).status == 401
    env = a.get_json("/h/", headers=dict(basic("alice", "wonderland"), **{"X-Real-IP": "203.0.113.7", "X-Client-IP": "6.6.6.6"}))
    assert env["REMOTE_USER"] == "alice"
    assert env["REMOTE_ADDR"] == "203.0.113.7"
    assert "HTTP_X_CLIENT_IP" not in env


@pytest.mark.swsgi_only
@pytest.mark.skipif(not IS_ROOT, reason="Apache's User is only another user when run as root")
def test_script_unreadable_by_apache_user_fails_configtest(apache_factory):
    # the scripts run in the Apache child even with WSGIRestrictEmbedded On
    private = tempfile.mkdtemp(prefix="swsgi-it-private-")  # mode 0700
    try:
        script = os.path.join(private, "auth.wsgi")
        shutil.copy(os.path.join(APPS, "auth.wsgi"), script)
        a = apache_factory("WSGIRestrictEmbedded On\n<Location /x>\n    WSGIAuthUserScript %s\n</Location>\n" % script,
                           start=False)
        rc, out = a.configtest()
        assert rc != 0, out
        assert "WSGIAuthUserScript '%s' cannot be read by Apache's User 'www-data'" % script in out, out
    finally:
        shutil.rmtree(private)
