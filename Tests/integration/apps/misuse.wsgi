# What an app may do wrong with the objects it is given, beyond keeping them (kept.wsgi): each
# route a misuse that must end in a Python exception or an error response, never a crash.
# /case/NAME runs one case and answers what it did ("returned: ..." or "raised Type: ...");
# /keep then /use keep the newer objects (file_wrapper, mod_wsgi's functions, the request's
# slots) past their request; /headers-freed lets another thread free the response headers
# while the gateway waits to send them (POST it a 1-byte body, sent once <data>/headers-freed
# exists); /descriptors answers the process's open descriptors (pid and their numbers).
import copy
import io
import json
import os
import pickle
import sys
import threading
import time

import mod_wsgi

DATA = os.path.join(os.path.dirname(__file__), "..", "data")
KEPT = {}


def attempt(use):
    try:
        return "returned: %r" % (use(),)
    except Exception as e:  # noqa: BLE001
        return "raised %s: %s" % (type(e).__name__, e)


def in_thread(use):
    """attempt(use) in a thread of the app's own, which no request runs in."""
    out = []
    t = threading.Thread(target=lambda: out.append(attempt(use)))
    t.start()
    t.join(30)
    return out[0] if out else "thread did not finish"


class RaisingBool:
    def __bool__(self):
        raise ValueError("no truth here")


class RaisingStr(str):
    def __str__(self):
        raise ValueError("no text here")


class Filelike:
    """A file for wsgi.file_wrapper whose fileno() and tell() say what they are given."""

    def __init__(self, fileno, tell, data=b"file body", keep=None):
        self._fileno, self._tell, self.body, self.kept = fileno, tell, io.BytesIO(data), keep

    def fileno(self):
        if isinstance(self._fileno, Exception):
            raise self._fileno
        return self._fileno

    def tell(self):
        if isinstance(self._tell, Exception):
            raise self._tell
        return self._tell

    def read(self, size=-1):
        return self.body.read(size)


def served_file():
    path = os.path.join(DATA, "misuse-file")
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.write(b"0123456789" * 1000)
    return open(path, "rb")


# Cases: each gets (environ, start_response) and returns the response body (an iterable), or
# None to answer its outcome. A case that sets the response itself answers what it makes.

def wrapper_case(filelike, blksize=8192):
    def run(environ, start_response):
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return environ["wsgi.file_wrapper"](filelike(), blksize)
    return run


def closed_file():
    f = served_file()
    f.close()
    return f


class ReusedNumber:
    """The served file, whose number names another file once the gateway has asked for it: its
    tell() (app code, which runs after fileno()) puts another file under that number, as a
    thread of the app that closed the file while another was opened would."""

    def __init__(self):
        self.file = served_file()

    def fileno(self):
        return self.file.fileno()

    def tell(self):
        other = os.open(__file__, os.O_RDONLY)
        os.dup2(other, self.file.fileno())
        os.close(other)
        return 0

    def read(self, size=-1):
        return self.file.read(size)

    def close(self):
        self.file.close()


def file_at(offset):
    def make():
        f = served_file()
        fd = os.dup(f.fileno())
        f.close()
        return Filelike(fd, offset)
    return make


WRAPPERS = {
    "wrapper-file": served_file,
    "wrapper-fileno-reused": ReusedNumber,
    "wrapper-fileno-raises": lambda: Filelike(OSError("no descriptor"), 0),
    "wrapper-fileno-negative": lambda: Filelike(-1, 0),
    "wrapper-fileno-huge": lambda: Filelike(2 ** 40, 0),
    "wrapper-fileno-wraps-to-stdin": lambda: Filelike(2 ** 32, 0),
    "wrapper-fileno-str": lambda: Filelike("3", 0),
    "wrapper-fileno-wraps-to-open-file": lambda: (lambda f: Filelike(2 ** 32 + f.fileno(), 0, keep=f))(served_file()),
    "wrapper-fileno-closed": lambda: Filelike(10 ** 6, 0),
    "wrapper-fileno-directory": lambda: Filelike(os.open(DATA, os.O_RDONLY), 0),
    "wrapper-fileno-pipe": lambda: Filelike(os.pipe()[0], 0),
    "wrapper-tell-negative": file_at(-5),
    "wrapper-tell-huge": file_at(2 ** 62),
    "wrapper-tell-past-end": file_at(10 ** 6),
    "wrapper-tell-raises": file_at(OSError("no position")),
    "wrapper-tell-float": file_at(1.5),
    "wrapper-closed-file": closed_file,
    "wrapper-read-gives-str": lambda: type("Texts", (), {"read": lambda self, n: "text"})(),
    "wrapper-no-read": lambda: object(),
}
WRAPPER_BLOCKS = {"wrapper-blksize-zero": 0, "wrapper-blksize-negative": -1, "wrapper-blksize-str": "x",
                  "wrapper-blksize-huge": 2 ** 62}


def set_slot(get, name, value, then):
    """Sets slot name of the object get(environ, start_response) gives, then runs then."""
    def run(environ, start_response):
        setattr(get(environ, start_response), name, value)
        return then(environ, start_response)
    return run


def del_slot(get, name, then):
    def run(environ, start_response):
        delattr(get(environ, start_response), name)
        return then(environ, start_response)
    return run


def request_of(environ, start_response):
    return start_response.__self__


def input_of(environ, start_response):
    return environ["wsgi.input"]


def errors_of(environ, start_response):
    return environ["wsgi.errors"]


def respond(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"answered"]


def started_then(change):
    """start_response first, then change(request object), then a body."""
    def run(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        change(start_response.__self__)
        return [b"answered"]
    return run


def read_input(environ, start_response):
    environ["wsgi.input"].read()
    return respond(environ, start_response)


def write_errors(environ, start_response):
    environ["wsgi.errors"].write("a line\n")
    return respond(environ, start_response)


def partial_line(value):
    """wsgi.errors left with a partial line the gateway flushes at the end, made value."""
    def run(environ, start_response):
        environ["wsgi.errors"].write("partial")
        environ["wsgi.errors"]._buf = value
        return respond(environ, start_response)
    return run


class Slotted:
    __slots__ = ("_h", "_buf")


class SlottedRequest:
    __slots__ = ("_h", "status", "headers")


def reclass(get, cls, then):
    def run(environ, start_response):
        get(environ, start_response).__class__ = cls
        return then(environ, start_response)
    return run


def headers_swapped_for_status(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    r = start_response.__self__
    r.status, r.headers = r.headers, r.status
    return [b"answered"]


def native(name, *args):
    import _swsgi
    return lambda: getattr(_swsgi, name)(*args)


def hand_over(environ, start_response):
    """An ordinary request asks for its client connection, as an accepted WebSocket does."""
    import _swsgi
    start_response("101 Switching Protocols", [("Upgrade", "websocket"), ("Connection", "Upgrade")])
    given = attempt(lambda: _swsgi.hand_over(environ["wsgi.input"]._h))
    environ["wsgi.errors"].write("hand_over gave %s\n" % given)
    return [b""]


def hand_over_after_start(environ, start_response):
    import _swsgi
    start_response("200 OK", [("Content-Type", "text/plain")])
    given = attempt(lambda: _swsgi.hand_over(environ["wsgi.input"]._h))
    return [("hand_over: " + given).encode()]


def events_raise(environ, start_response):
    def callback(name, **event):
        if name == "request_finished":
            mod_wsgi.event_callbacks.remove(callback)
        raise RuntimeError("callback fails for %s" % name)
    mod_wsgi.subscribe_events(callback)
    return respond(environ, start_response)


def outcome_cases():
    """Cases answered with the outcome of a call (the request itself goes well)."""
    return {
        "request-data-in-thread": lambda e, s: in_thread(mod_wsgi.request_data),
        "request-data-args": lambda e, s: attempt(lambda: mod_wsgi.request_data(1, 2)),
        "request-data-keyword": lambda e, s: attempt(lambda: mod_wsgi.request_data(x=1)),
        "process-metrics-args": lambda e, s: attempt(lambda: mod_wsgi.process_metrics(1)),
        "server-metrics-args": lambda e, s: attempt(lambda: mod_wsgi.server_metrics(1)),
        "request-metrics-args": lambda e, s: attempt(lambda: mod_wsgi.request_metrics(None)),
        "subscribe-events-none": lambda e, s: attempt(lambda: mod_wsgi.subscribe_events()),
        "subscribe-events-two": lambda e, s: attempt(lambda: mod_wsgi.subscribe_events(print, print)),
        "subscribe-events-keyword": lambda e, s: attempt(lambda: mod_wsgi.subscribe_events(callback=print)),
        "subscribe-shutdown-none": lambda e, s: attempt(lambda: mod_wsgi.subscribe_shutdown()),
        "subscribe-shutdown-two": lambda e, s: attempt(lambda: mod_wsgi.subscribe_shutdown(print, print)),
        "file-wrapper-none": lambda e, s: attempt(lambda: mod_wsgi.FileWrapper()),
        "file-wrapper-three": lambda e, s: attempt(lambda: mod_wsgi.FileWrapper(io.BytesIO(), 1, 2)),
        "file-wrapper-keyword": lambda e, s: attempt(lambda: mod_wsgi.FileWrapper(io.BytesIO(), size=1)),
        "environ-file-wrapper-none": lambda e, s: attempt(lambda: e["wsgi.file_wrapper"]()),
        "metrics-in-thread": lambda e, s: in_thread(lambda: (sorted(mod_wsgi.process_metrics()),
                                                             mod_wsgi.server_metrics() is None or "ok",
                                                             mod_wsgi.request_metrics() is None or "ok")),
        "native-counts-args": lambda e, s: attempt(native("process_counts", 1, 2, 3)),
        "native-metrics-args": lambda e, s: attempt(native("metrics", "x")),
        "native-usage-args": lambda e, s: attempt(native("process_usage", None)),
        "native-hand-over-fake": lambda e, s: attempt(native("hand_over", 12345678)),
        "native-hand-over-none": lambda e, s: attempt(native("hand_over", None)),
        "native-hand-over-args": lambda e, s: attempt(native("hand_over")),
        "native-request-data-args": lambda e, s: attempt(native("request_data", 1)),
        "native-functions-args": lambda e, s: attempt(native("mod_wsgi_functions")),
        # Functions over an object that is not the support module: they raise when called.
        "native-functions-not-module": lambda e, s: attempt(native("mod_wsgi_functions", 1)()["process_metrics"]),
        "native-read-args": lambda e, s: attempt(native("read", e["wsgi.input"]._h, 1, False, 4)),
        "native-log-keyword": lambda e, s: attempt(lambda: __import__("_swsgi").log(None, 6, text="x")),
        "native-read-huge": lambda e, s: attempt(native("read", e["wsgi.input"]._h, 2 ** 62, False)),
        "native-log-nul": lambda e, s: attempt(native("log", e["wsgi.errors"]._h, 6, "before\x00after")),
        "native-log-surrogate": lambda e, s: attempt(native("log", e["wsgi.errors"]._h, 6, "\udcff")),
        "input-read-in-thread": lambda e, s: in_thread(lambda: e["wsgi.input"].read()),
        "pickle-start-response": lambda e, s: attempt(lambda: pickle.dumps(s)),
        "pickle-errors": lambda e, s: attempt(lambda: pickle.dumps(e["wsgi.errors"])),
        "pickle-environ": lambda e, s: attempt(lambda: pickle.dumps(e)),
        "pickle-file-wrapper": lambda e, s: attempt(lambda: len(pickle.dumps(e["wsgi.file_wrapper"](io.BytesIO(b"x"))))),
        "copy-request-object": lambda e, s: attempt(lambda: copy.copy(s.__self__)._h is s.__self__._h),
        "deepcopy-start-response": lambda e, s: attempt(lambda: copy.deepcopy(s).__self__._h is s.__self__._h),
        "handle-weakref": lambda e, s: attempt(lambda: __import__("weakref").ref(e["wsgi.input"]._h)),
        "handle-repr": lambda e, s: attempt(lambda: repr(e["wsgi.input"]._h)[:8]),
        "handle-compare": lambda e, s: attempt(lambda: (e["wsgi.input"]._h == e["wsgi.errors"]._h, hash(e["wsgi.input"]._h) != 0)),
        "handle-type-call": lambda e, s: attempt(lambda: type(e["wsgi.input"]._h)()),
        "handle-gc-referrers": lambda e, s: attempt(lambda: len(__import__("gc").get_referents(e["wsgi.input"]._h)) >= 0),
        "input-class-new": lambda e, s: attempt(lambda: type(e["wsgi.input"])().read(1)),
        "errors-class-new": lambda e, s: attempt(lambda: type(e["wsgi.errors"]).__new__(type(e["wsgi.errors"])).write("x\n")),
        "request-class-new": lambda e, s: attempt(lambda: type(s.__self__).__new__(type(s.__self__)).start_response("200 OK", [])),
    }


def response_cases():
    cases = {name: wrapper_case(make) for name, make in WRAPPERS.items()}
    cases.update({name: wrapper_case(served_file, size) for name, size in WRAPPER_BLOCKS.items()})
    cases.update({
        "status-int": lambda e, s: (s(200, []), [b"x"])[1],
        "status-str-subclass": lambda e, s: (s(RaisingStr("200 OK"), []), [b"answered"])[1],
        "headers-dict": lambda e, s: (s("200 OK", {"X-A": "1"}), [b"x"])[1],
        "headers-generator": lambda e, s: (s("200 OK", (h for h in [("X-A", "1")])), [b"x"])[1],
        "header-triple": lambda e, s: (s("200 OK", [("X-A", "1", "2")]), [b"x"])[1],
        "header-list-pair": lambda e, s: (s("200 OK", [["X-A", "1"]]), [b"x"])[1],
        "header-str-subclass": lambda e, s: (s("200 OK", [(RaisingStr("X-A"), RaisingStr("1"))]), [b"answered"])[1],
        "exc-info-not-tuple": lambda e, s: (s("200 OK", [], 1), [b"x"])[1],
        "exc-info-nones": lambda e, s: (s("200 OK", [], (None, None, None)), [b"answered"])[1],
        "exc-info-after-sent": lambda e, s: (s("200 OK", [])(b"sent"), s("500 Oops", [], (None, 5, None)), [b"x"])[2],
        "slot-status-deleted": started_then(lambda r: delattr(r, "status")),
        "slot-headers-deleted": started_then(lambda r: delattr(r, "headers")),
        "slot-headers-int": started_then(lambda r: setattr(r, "headers", 5)),
        "slot-status-bytes": started_then(lambda r: setattr(r, "status", b"200 OK")),
        "slot-swapped": headers_swapped_for_status,
        "slot-status-preset": set_slot(request_of, "status", "200 OK", respond),
        "slot-handle-none": set_slot(request_of, "_h", None, respond),
        "slot-handle-deleted": del_slot(request_of, "_h", respond),
        "slot-handle-int": set_slot(request_of, "_h", 12345678, respond),
        "slot-input-handle-int": set_slot(input_of, "_h", 12345678, read_input),
        "slot-input-handle-deleted": del_slot(input_of, "_h", read_input),
        "slot-input-buf-str": set_slot(input_of, "_buf", "text", read_input),
        "slot-input-buf-deleted": del_slot(input_of, "_buf", read_input),
        "slot-errors-handle-other": set_slot(errors_of, "_h", "not a handle", write_errors),
        "slot-errors-level": set_slot(errors_of, "_level", 99, write_errors),
        "slot-errors-lock": set_slot(errors_of, "_lock", None, write_errors),
        "slot-errors-buf-deleted": del_slot(errors_of, "_buf", write_errors),
        "errors-partial-raising-bool": partial_line(RaisingBool()),
        "errors-partial-int": partial_line(5),
        "errors-partial-deleted": lambda e, s: (e["wsgi.errors"].write("partial"), delattr(e["wsgi.errors"], "_buf"),
                                                respond(e, s))[2],
        "reclass-input": reclass(input_of, Slotted, read_input),
        "reclass-request": reclass(request_of, SlottedRequest, respond),
        "hand-over": hand_over,
        "hand-over-after-start": hand_over_after_start,
        "events-callback-raises": events_raise,
        "environ-emptied": lambda e, s: (e.clear(), e.update({"PATH_INFO": 5, "wsgi.input": None, 7: b"x"}),
                                         respond(e, s))[2],
        "write-in-thread": lambda e, s: (in_thread(lambda: s("200 OK", [])(b"from a thread")), [b"answered"])[1],
        "read-huge": lambda e, s: (s("200 OK", []), [str(len(e["wsgi.input"].read(2 ** 62))).encode()])[1],
    })
    return cases


CASES = response_cases()
OUTCOMES = outcome_cases()


def case(environ, start_response):
    name = environ["PATH_INFO"][len("/case/"):]
    if name in OUTCOMES:
        outcome = OUTCOMES[name](environ, start_response)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [outcome.encode("utf-8", "backslashreplace")]
    return CASES[name](environ, start_response)


# Kept past their request, used in a later one.

def keep(environ, start_response):
    KEPT.clear()
    KEPT.update(
        wrapper=environ["wsgi.file_wrapper"](served_file(), 16),
        wrapper_class=environ["wsgi.file_wrapper"],
        request=start_response.__self__,
        request_copy=copy.copy(start_response.__self__),
        handle=environ["wsgi.input"]._h,
        environ=environ,
    )
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"kept"]


def use(environ, start_response):
    import _swsgi
    request, handle = KEPT["request"], KEPT["handle"]
    uses = {
        "wrapper next": attempt(lambda: next(KEPT["wrapper"])),
        "wrapper close": attempt(lambda: KEPT["wrapper"].close()),
        "wrapper class": attempt(lambda: len(list(KEPT["wrapper_class"](io.BytesIO(b"abc"), 1)))),
        "request start_response": attempt(lambda: request.start_response("200 OK", [])),
        "request write": attempt(lambda: request.write(b"LATE")),
        "request copy write": attempt(lambda: KEPT["request_copy"].write(b"LATE")),
        "status slot": attempt(lambda: request.status),
        "handle read": attempt(native("read", handle, 1, False)),
        "handle sent": attempt(native("sent", handle)),
        "handle hand_over": attempt(native("hand_over", handle)),
        "handle log": attempt(native("log", handle, 6, "LATE-LOG")),
        "handle in this request's input": attempt(lambda: (setattr(environ["wsgi.input"], "_h", handle),
                                                           environ["wsgi.input"].read(1))),
        "environ input": attempt(lambda: KEPT["environ"]["wsgi.input"].read(1)),
        "environ errors": attempt(lambda: (KEPT["environ"]["wsgi.errors"].write("LATE-LOG\n"),
                                           KEPT["environ"]["wsgi.errors"].flush())),
        "request_data": in_thread(mod_wsgi.request_data),
    }
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(uses).encode()]


def sleeping(tid):
    """The thread's state and voluntary context switches (/proc: its system call is not readable
    in a process that changed its user)."""
    with open("/proc/self/task/%d/status" % tid) as f:
        fields = dict(line.split(":", 1) for line in f)
    return fields["State"].split()[0] == "S", fields["voluntary_ctxt_switches"].strip()


def waits_in_read(ident, tid):
    """Whether thread ident (native tid) waits inside wsgi.input's native read: its frame is
    the support module's Input.read, and it sleeps without waking while this thread sleeps
    (leaving the GIL free: a thread waiting for the GIL would take it, or wake to ask for it)."""
    frame = sys._current_frames().get(ident)
    if frame is None or (frame.f_code.co_filename, frame.f_code.co_name) != ("<swsgi>", "read"):
        return False
    first = sleeping(tid)
    for _ in range(3):
        time.sleep(0.02)
        if not first[0] or sleeping(tid) != first:
            return False
    return True


def wait(condition, seconds=20):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        time.sleep(0.005)


def headers_freed(environ, start_response):
    """A thread of the app reads wsgi.input and waits for the client there, holding the request's
    transport; the app returns; the gateway waits for the transport to send the headers, and
    meanwhile another thread empties the headers list and reuses the memory of its strs."""
    inp, reader = environ["wsgi.input"], {}
    main = threading.get_ident()

    def read():
        reader["tid"] = threading.get_native_id()
        reader["got"] = inp.read(1)

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    wait(lambda: "tid" in reader and waits_in_read(thread.ident, reader["tid"]))
    headers = [("X-Kept-%d" % i, "value-%d-%s" % (i, "v" * 40)) for i in range(8)]
    start_response("200 OK", headers)
    junk = []

    def free():
        # The gateway's thread leaves Python only once it waits for the transport.
        wait(lambda: main not in sys._current_frames())
        headers.clear()
        junk.extend(("Z-Kept-%d" % i, "Z" * len("value-%d-%s" % (i, "v" * 40))) for i in range(64))
        open(os.path.join(DATA, "headers-freed"), "w").close()

    threading.Thread(target=free, daemon=True).start()

    def body():
        yield b"answered"
    return body()


def descriptors(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps([os.getpid(), sorted(int(n) for n in os.listdir("/proc/self/fd"))]).encode()]


ROUTES = {"/keep": keep, "/use": use, "/headers-freed": headers_freed, "/descriptors": descriptors}


def application(environ, start_response):
    path = environ["PATH_INFO"]
    if path.startswith("/case/"):
        return case(environ, start_response)
    return ROUTES[path](environ, start_response)
