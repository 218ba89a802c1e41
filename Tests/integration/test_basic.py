"""Hello world, the environ, request headers."""
import base64

import pytest

from conftest import PY_VERSION


def test_hello(apache_factory):
    a = apache_factory("WSGIScriptAlias / {apps}/hello.wsgi\n")
    r = a.get("/")
    assert r.status == 200, a.error_log()
    assert r.body == b"Hello, World!\n"
    assert r.header("Content-Type") == "text/plain"
    assert r.header("Content-Length") == "14"
    r = a.get("/any/path?x=1")
    assert r.status == 200 and r.body == b"Hello, World!\n"


def test_server_banner_names_the_module_and_its_python(apache_factory):
    # mod_wsgi: "Apache/2.4.x (Debian) mod_wsgi/4.9.4 Python/3.11"
    a = apache_factory("WSGIScriptAlias / {apps}/hello.wsgi\n")
    banner = a.get("/").header("Server")
    assert ("Python/%s" % PY_VERSION) in banner.split(), banner
    assert any(word.startswith(("swsgi/", "mod_wsgi/")) for word in banner.split()), banner
    assert "Python/%s configured" % PY_VERSION in a.error_log()


@pytest.fixture(scope="module")
def env_apache(module_apache_factory):
    # /sub is listed first: the first matching WSGIScriptAlias wins.
    return module_apache_factory(
        "WSGIScriptAlias /sub {apps}/environ.wsgi\n"
        "WSGIScriptAlias /global {apps}/environ.wsgi\n"
        "WSGIScriptAlias /noauth {apps}/environ.wsgi\n"
        "WSGIScriptAlias /auth {apps}/environ.wsgi\n"
        "WSGIScriptAlias /authopt {apps}/environ.wsgi pass-authorization=On\n"
        "WSGIScriptAlias / {apps}/environ.wsgi\n"
        "<Location /global>\n    WSGIApplicationGroup %{GLOBAL}\n</Location>\n"
        "<Location /auth>\n    WSGIPassAuthorization On\n</Location>\n"
    )


def test_environ_wsgi_keys(env_apache):
    e = env_apache.get_json("/sub/x")
    assert e["wsgi.version"] == [1, 0]
    assert e["wsgi.url_scheme"] == "http"
    assert e["wsgi.multithread"] is True  # event MPM, 25 threads
    assert e["wsgi.multiprocess"] is False  # ServerLimit 1
    assert e["wsgi.run_once"] is False
    assert e["input_methods"] == ["__iter__", "read", "readline", "readlines"]
    assert e["errors_methods"] == ["flush", "write", "writelines"]
    assert e["file_wrapper_callable"] is True
    assert e["environ_is_dict"] is True
    assert e["REQUEST_METHOD"] == "GET"
    assert e["SERVER_NAME"] == "127.0.0.1"
    assert e["SERVER_PORT"] == str(env_apache.port)
    assert e["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert e["REMOTE_ADDR"] == "127.0.0.1"
    assert e["HTTP_HOST"] == "127.0.0.1:%d" % env_apache.port
    assert e["SCRIPT_FILENAME"] == env_apache.app("environ.wsgi")
    assert e["REQUEST_URI"] == "/sub/x"
    assert e["mod_wsgi.process_group"] == ""
    assert e["GATEWAY_INTERFACE"] == "CGI/1.1"
    assert e["REQUEST_SCHEME"] == "http"
    assert e["REMOTE_PORT"].isdigit()
    assert e["wsgi.input_terminated"] is True
    assert "PATH" not in e  # Apache's own PATH is not exported


def test_environ_methods_and_query(env_apache):
    e = env_apache.request("POST", "/sub/q?a=1&b=%20two", body=b"xyz",
                           headers={"Content-Type": "text/x-test"}).json()
    assert e["REQUEST_METHOD"] == "POST"
    assert e["QUERY_STRING"] == "a=1&b=%20two"
    assert e["CONTENT_TYPE"] == "text/x-test"
    assert e["CONTENT_LENGTH"] == "3"
    assert "HTTP_CONTENT_TYPE" not in e and "HTTP_CONTENT_LENGTH" not in e
    e = env_apache.request("PUT", "/sub", body=b"").json()
    assert e["REQUEST_METHOD"] == "PUT"
    e = env_apache.get_json("/sub")
    assert e["QUERY_STRING"] == ""


@pytest.mark.parametrize("url,script_name,path_info", [
    ("/sub", "/sub", ""),
    ("/sub/", "/sub", "/"),
    ("/sub/a/b", "/sub", "/a/b"),
    ("/sub/a%20b/c", "/sub", "/a b/c"),
    ("/subway", "", "/subway"),  # prefix match is per path segment
    ("/", "", "/"),
    ("/foo/bar", "", "/foo/bar"),
])
def test_script_name_path_info(env_apache, url, script_name, path_info):
    e = env_apache.get_json(url)
    assert (e["SCRIPT_NAME"], e["PATH_INFO"]) == (script_name, path_info)


def test_application_group_names(env_apache):
    port = env_apache.port
    # default %{RESOURCE}: "<server>:<port>|<SCRIPT_NAME>"
    assert env_apache.get_json("/sub/x")["mod_wsgi.application_group"] == "127.0.0.1:%d|/sub" % port
    assert env_apache.get_json("/foo")["mod_wsgi.application_group"] == "127.0.0.1:%d|" % port
    # %{GLOBAL} is the main interpreter, named ''
    assert env_apache.get_json("/global/x")["mod_wsgi.application_group"] == ""


def test_header_with_underscore_dropped(env_apache):
    e = env_apache.get_json("/sub", headers={"X_Under": "1", "X-Normal": "2",
                                             "X-Multi-Word-Header": "3"})
    assert e["HTTP_X_NORMAL"] == "2"
    assert e["HTTP_X_MULTI_WORD_HEADER"] == "3"
    assert "HTTP_X_UNDER" not in e
    assert "1" not in [v for k, v in e.items() if k.startswith("HTTP_X")]


def test_authorization_only_with_pass_authorization(env_apache):
    auth = "Basic " + base64.b64encode(b"user:secret").decode()
    e = env_apache.get_json("/noauth", headers={"Authorization": auth})
    assert "HTTP_AUTHORIZATION" not in e
    e = env_apache.get_json("/auth", headers={"Authorization": auth})
    assert e["HTTP_AUTHORIZATION"] == auth
    e = env_apache.get_json("/authopt", headers={"Authorization": auth})
    assert e["HTTP_AUTHORIZATION"] == auth
