"""The ASGI scenarios of bench.py: swsgi's daemon group with interface=asgi against uvicorn
and granian (--interface asgi) serving the same app from the same venv, one process each.
mod_wsgi and the floor have no part in them; uvicorn none in the WSGI ones."""
import ast
import json
import os

import proxied

HERE = os.path.dirname(os.path.abspath(__file__))


def constant(script, name):
    """A literal the app script assigns, read without running it (the harness's Python
    need not have the app's packages)."""
    with open(os.path.join(HERE, "apps", script)) as f:
        tree = ast.parse(f.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == [name]:
            return ast.literal_eval(node.value)
    raise LookupError("%s assigns no %s" % (script, name))


SCENARIOS = {
    "asgi-hello": dict(url="/asgi-hello", script="asgi_hello.py", modes=["daemon"], asgi=True, venv=True,
                       body=lambda: constant("asgi_hello.py", "BODY")),
    "asgi-starlette": dict(url="/asgi-starlette/api", alias="/asgi-starlette", script="asgi_starlette.py",
                           modes=["daemon"], asgi=True, venv=True,
                           # As Starlette's JSONResponse renders it.
                           body=lambda: json.dumps(constant("asgi_starlette.py", "PAYLOAD"), separators=(",", ":"),
                                                   ensure_ascii=False).encode()),
}
# Targets only for the ASGI scenarios, and the ones that serve them.
ASGI_ONLY = ("uvicorn",)
ASGI_TARGETS = ("swsgi", "uvicorn", "granian")
# uvicorn as its docs install it: with uvloop and httptools, which it then uses.
PACKAGES = ("starlette", "uvicorn[standard]")
IMPORTS = ("starlette", "uvicorn", "uvloop", "httptools")
# swsgi's goal in these scenarios: at least this much of uvicorn's throughput.
UVICORN_GOAL = 1.0


def serves(target, scenario):
    """Whether target takes part in scenario (a SCENARIOS entry of bench.py); a proxied peer
    where its bare peer does."""
    target = proxied.peer(target)
    return target in ASGI_TARGETS if scenario.get("asgi") else target not in ASGI_ONLY


def alias_options(scenario):
    """The WSGIScriptAlias options of an ASGI scenario: the group, and the application group
    named so that the process runs the lifespan as it starts, as the peers do."""
    return " process-group=bench application-group=%{GLOBAL} interface=asgi" if scenario.get("asgi") else ""


def peer_command(target, venv_bin, listen):
    """uvicorn or granian serving asgi_peer:application (environment as for peer_app),
    listening where listen (their options for it) says."""
    if target == "uvicorn":
        return [os.path.join(venv_bin, "uvicorn")] + listen + ["--workers", "1",
                "--log-level", "warning", "--no-access-log", "asgi_peer:application"]
    return [os.path.join(venv_bin, "granian"), "--interface", "asgi"] + listen + [
            "--workers", "1", "--no-ws", "--log-level", "warning", "asgi_peer:application"]
