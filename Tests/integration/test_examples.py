"""The example applications under examples/ (used by `make run`)."""
import shutil

from conftest import EXAMPLES


def copy_examples(a):
    shutil.copytree(EXAMPLES, a.path("examples"), ignore=shutil.ignore_patterns("__pycache__"))


def test_example_hello(apache_factory):
    a = apache_factory("WSGIScriptAlias / {root}/examples/hello/hello.wsgi\n"
                       "<Directory {root}/examples>\n    Require all granted\n</Directory>\n",
                       setup=copy_examples)
    r = a.get("/")
    assert r.status == 200, a.error_log()[-3000:]
    assert r.body == b"Hello, World!\n"
    assert r.header("Content-Type").startswith("text/plain")


def test_example_flask(apache_factory, flask_venv):
    a = apache_factory(
        "WSGIPythonHome %s\n"
        "WSGIScriptAlias /flask {root}/examples/flask/app.wsgi\n"
        "<Directory {root}/examples>\n    Require all granted\n</Directory>\n" % flask_venv,
        setup=copy_examples)
    r = a.get("/flask/api?x=1")
    assert r.status == 200, a.error_log()[-3000:]
    assert r.header("Content-Type") == "application/json"
    data = r.json()
    assert data["message"] == "Hello from Flask"
    assert data["prefix"] == flask_venv
    assert data["args"] == {"x": "1"}
    assert data["process_group"] == ""
    assert data["application_group"] == "127.0.0.1:%d|/flask" % a.port
    r = a.get("/flask/")
    assert r.status == 200
    assert r.header("Content-Type").startswith("text/html")
    assert b"<h1>Hello from Flask</h1>" in r.body
    assert b'href="/flask/api"' in r.body
    r = a.get("/flask/no-such-page")
    assert r.status == 404
