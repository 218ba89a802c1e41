"""Tells whether two application groups run Python at the same time, without timing them.
?wait=FILE spins in pure Python, never handing its GIL over (a 30 s switch interval), until
a request of another group sets the byte FILE maps (?signal=FILE), for at most 3 s: the
signal can only come through while the spinning one holds its GIL if the other interpreter
has a GIL of its own. ?import=name imports a module."""
import importlib
import json
import mmap
import sys
import time
import urllib.parse


def shared_byte(path):
    with open(path, "r+b") as f:
        return mmap.mmap(f.fileno(), 1)


def application(environ, start_response):
    query = dict(urllib.parse.parse_qsl(environ.get("QUERY_STRING", "")))
    result = {"group": environ["mod_wsgi.application_group"]}
    if "import" in query:
        importlib.import_module(query["import"])
    if "signal" in query:
        shared_byte(query["signal"])[0] = 1
    if "wait" in query:
        byte = shared_byte(query["wait"])
        interval = sys.getswitchinterval()
        sys.setswitchinterval(30)
        deadline, result["met"] = time.monotonic() + 3, False
        while time.monotonic() < deadline and not result["met"]:  # neither call lets go of the GIL
            result["met"] = byte[0] == 1
        sys.setswitchinterval(interval)
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(result).encode()]
