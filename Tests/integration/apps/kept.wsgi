# Keeps the request objects of one request (and copies of them) and uses them in a later
# one: /keep, then /use reports what each use did. /thread leaves a thread of the app using
# wsgi.input and wsgi.errors after its request; /thread-result says how that thread ended.
# /forge calls swsgi's native module with made-up arguments; /isolated imports it in a
# sub-interpreter with its own GIL (Python 3.12+); /ping answers.
import copy
import json
import pickle
import threading
import time

KEPT = {}
THREAD = {}


def attempt(use):
    """'returned: ...' or 'raised Type: message'."""
    try:
        return "returned: %r" % (use(),)
    except Exception as e:  # noqa: BLE001
        return "raised %s: %s" % (type(e).__name__, e)


def keep(environ, start_response):
    KEPT.clear()
    write = start_response("200 OK", [("Content-Type", "text/plain")])
    makers = {
        "input": lambda: environ["wsgi.input"],
        "input_copy": lambda: copy.copy(environ["wsgi.input"]),
        "errors": lambda: environ["wsgi.errors"],
        "errors_copy": lambda: copy.copy(environ["wsgi.errors"]),
        "environ_deepcopy": lambda: copy.deepcopy(environ),
        "start_response": lambda: start_response,
        "start_response_copy": lambda: copy.copy(start_response),
        "write": lambda: write,
        "write_copy": lambda: copy.copy(write),
    }
    made = {}
    for name, make in makers.items():
        try:
            KEPT[name] = make()
            made[name] = "kept"
        except Exception as e:  # noqa: BLE001
            made[name] = "copy refused: %s" % type(e).__name__
    return [json.dumps(made).encode()]


def use(environ, start_response):
    marker = environ.get("QUERY_STRING", "")
    uses = {}
    for name, obj in KEPT.items():
        if name.startswith("input"):
            uses[name + ".read"] = attempt(lambda: obj.read(1))
            uses[name + ".readline"] = attempt(lambda: obj.readline())
        elif name.startswith("errors"):
            uses[name + ".write"] = attempt(lambda: (obj.write("LATE-WRITE-%s-%s\n" % (name, marker)), obj.flush()))
        elif name == "environ_deepcopy":
            uses[name + ".input"] = attempt(lambda: obj["wsgi.input"].read(1))
            uses[name + ".errors"] = attempt(
                lambda: (obj["wsgi.errors"].write("LATE-WRITE-%s-%s\n" % (name, marker)), obj["wsgi.errors"].flush()))
        elif name.startswith("start_response"):
            uses[name] = attempt(lambda: obj("200 OK", []))
        elif name.startswith("write"):
            uses[name] = attempt(lambda: obj(b"LATE-WRITE"))
    body = json.dumps(uses).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]


def thread(environ, start_response):
    """A thread of the app keeps using the request objects until they refuse."""
    inp, errors = environ["wsgi.input"], environ["wsgi.errors"]
    started = threading.Event()

    def run():
        count = 0
        try:
            while True:
                errors.write("thread line %d\n" % count)
                inp.read(1)
                count += 1
                started.set()
        except Exception as e:  # noqa: BLE001
            THREAD["ended"] = "raised %s: %s" % (type(e).__name__, e)
            THREAD["count"] = count
            started.set()

    THREAD.clear()
    threading.Thread(target=run, daemon=True).start()
    started.wait(5)
    time.sleep(0.05)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"left a thread behind"]


def thread_result(environ, start_response):
    deadline = time.monotonic() + 5
    while "ended" not in THREAD and time.monotonic() < deadline:
        time.sleep(0.01)
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(THREAD).encode()]


class RaisingBool:
    def __bool__(self):
        raise ValueError("no truth here")


def forge(environ, start_response):
    """Every call must raise (or be harmless); none may crash the process."""
    import _swsgi
    h = environ["wsgi.input"]._h
    handle_type = type(h)
    fakes = [0, 1, -1, 12345678, 2 ** 64, 2 ** 200, None, "x", b"x", 1.5, [], object(), handle_type,
             environ["wsgi.input"], _swsgi]
    calls = {}
    for fake in fakes:
        for name, rest in [("read", (1, False)), ("write", (b"x",)), ("sent", ()), ("log", (3, "FORGED-LOG"))]:
            if name == "log" and fake is None:
                continue  # None is the server's log: allowed
            calls["%s(%r)" % (name, fake)] = attempt(lambda: getattr(_swsgi, name)(fake, *rest))
    for name in ("read", "write", "sent", "log"):
        fn = getattr(_swsgi, name)
        calls[name + "()"] = attempt(lambda: fn())
        calls[name + "(h, many)"] = attempt(lambda: fn(h, 1, 2, 3, 4, 5))
        calls[name + "(h=h)"] = attempt(lambda: fn(h=h))
    calls["read(h, 'x', False)"] = attempt(lambda: _swsgi.read(h, "x", False))
    calls["read(h, 2**70, False)"] = attempt(lambda: _swsgi.read(h, 2 ** 70, False))
    calls["read(h, 1, RaisingBool())"] = attempt(lambda: _swsgi.read(h, 1, RaisingBool()))
    calls["write(h, 'str')"] = attempt(lambda: _swsgi.write(h, "str"))
    calls["log(h, 99, 'x')"] = attempt(lambda: _swsgi.log(h, 99, "x"))
    calls["log(h, 'x', 'y')"] = attempt(lambda: _swsgi.log(h, "x", "y"))
    calls["log(h, 3, b'x')"] = attempt(lambda: _swsgi.log(h, 3, b"x"))

    class Slotted:
        __slots__ = ("a",)

    def disguise():
        fake = Slotted()
        fake.a = 12345678
        fake.__class__ = handle_type
        return _swsgi.read(fake, 1, False)

    def subclass():
        class Sub(handle_type):
            pass
        return Sub

    def reclass():
        h.__class__ = Slotted

    handle_calls = {
        "Handle()": lambda: handle_type(),
        "Handle.__new__": lambda: handle_type.__new__(handle_type),
        "object.__new__": lambda: object.__new__(handle_type),
        "pickle": lambda: pickle.dumps(h),
        "pickle input": lambda: pickle.dumps(environ["wsgi.input"]),
        "subclass": subclass,
        "set type attribute": lambda: setattr(handle_type, "x", 1),
        "set attribute": lambda: setattr(h, "x", 1),
        "disguise": disguise,
        "reclass": reclass,
    }
    for name, call in handle_calls.items():
        calls[name] = attempt(call)
    calls["copy is same"] = attempt(lambda: copy.copy(h) is h and copy.deepcopy(h) is h)
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(calls).encode()]


ISOLATED_CODE = """
import sys, _swsgi
assert '_swsgi' in sys.builtin_module_names
_swsgi.log(None, 6, 'swsgi-isolated-log')
try:
    _swsgi.read(12345678, 1, False)
    raise AssertionError('a made-up handle was accepted')
except TypeError:
    pass
"""


def isolated(environ, start_response):
    """swsgi's native module in a sub-interpreter with its own GIL (CPython's private module:
    _xxsubinterpreters in 3.12, _interpreters from 3.13, where run_string returns the error)."""
    try:
        import _interpreters as interpreters
    except ImportError:
        import _xxsubinterpreters as interpreters
    interp = interpreters.create()
    try:
        error = interpreters.run_string(interp, ISOLATED_CODE)
        result = "ok" if error is None else "raised %s" % (error,)
    except Exception as e:  # noqa: BLE001
        result = "raised %s: %s" % (type(e).__name__, e)
    finally:
        interpreters.destroy(interp)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [result.encode()]


def ping(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"pong"]


ROUTES = {"/ping": ping, "/keep": keep, "/use": use, "/thread": thread, "/thread-result": thread_result, "/forge": forge,
          "/isolated": isolated}


def application(environ, start_response):
    return ROUTES[environ["PATH_INFO"]](environ, start_response)
