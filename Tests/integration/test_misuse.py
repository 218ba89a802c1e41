"""An app misusing the objects it is given (apps/misuse.wsgi): wrong types for start_response and
wsgi.file_wrapper, the request objects' slots changed or deleted, swsgi's native module called
with what it does not expect, objects pickled, copied, used from threads and after their
request, response headers freed by another thread while the gateway waits to send them. Each
gives a Python exception or an error response, never a crashed process, in both modes."""
import os
import socket

import pytest

from conftest import TARGET, read_until_closed, wait_until

MODES = ("embedded", "daemon")
PREFIX = {"embedded": "/e", "daemon": "/d"}
CRASHES = ("Segmentation fault", "exit signal", "Bus error", "killed by signal", "Fatal Python error", "AddressSanitizer")
FILE = b"0123456789" * 1000  # misuse.wsgi's served file
FILELIKE = b"file body"  # what its Filelike reads

# Response cases: the status and body (None: any) swsgi answers. "cut": the response is cut
# short after its headers went out.
RESPONSES = {
    "wrapper-file": (200, FILE),
    # The file the app wrapped, not the one its number names by the time it is sent
    # (mod_wsgi 4.9.4 sends that other file).
    "wrapper-fileno-reused": (200, FILE),
    "wrapper-fileno-raises": (200, FILELIKE),
    "wrapper-fileno-negative": (200, FILELIKE),
    "wrapper-fileno-huge": (200, FILELIKE),
    "wrapper-fileno-wraps-to-stdin": (200, FILELIKE),
    "wrapper-fileno-str": (200, FILELIKE),
    "wrapper-fileno-closed": (200, FILELIKE),
    "wrapper-fileno-directory": (200, FILELIKE),
    "wrapper-fileno-pipe": (200, FILELIKE),
    "wrapper-tell-negative": (200, FILELIKE),
    "wrapper-tell-huge": (200, b""),
    "wrapper-tell-past-end": (200, b""),
    "wrapper-tell-raises": (200, FILELIKE),
    "wrapper-tell-float": (200, FILELIKE),
    "wrapper-closed-file": (500, None),
    "wrapper-read-gives-str": (500, None),
    "wrapper-no-read": (500, None),
    "wrapper-blksize-zero": (200, FILE),
    "wrapper-blksize-negative": (200, FILE),
    "wrapper-blksize-str": (200, FILE),
    "wrapper-blksize-huge": (200, FILE),
    "status-int": (500, None),
    "status-str-subclass": (200, b"answered"),
    "headers-dict": (500, None),
    "headers-generator": (500, None),
    "header-triple": (500, None),
    "header-list-pair": (500, None),
    "header-str-subclass": (200, b"answered"),
    "exc-info-not-tuple": (200, b"x"),
    "exc-info-nones": (200, b"answered"),
    "write-in-thread": (200, b"from a threadanswered"),
    # The next requests' environs are whole (each is a copy of swsgi's template).
    "environ-emptied": (200, b"answered"),
    "events-callback-raises": (200, b"answered"),
}
# Cases of swsgi's own objects (the request's slots, its native module): swsgi only.
SWSGI_RESPONSES = {
    # mod_wsgi 4.9.4 crashes here (signal 11), in both modes.
    "exc-info-after-sent": (200, "cut"),
    "slot-status-deleted": (500, None),
    "slot-headers-deleted": (500, None),
    "slot-headers-int": (500, None),
    "slot-status-bytes": (500, None),
    "slot-swapped": (500, None),
    "slot-status-preset": (500, None),
    "slot-handle-none": (500, None),
    "slot-handle-deleted": (500, None),
    "slot-handle-int": (500, None),
    "slot-input-handle-int": (500, None),
    "slot-input-handle-deleted": (500, None),
    "slot-input-buf-str": (500, None),
    "slot-input-buf-deleted": (500, None),
    "slot-errors-handle-other": (500, None),
    "slot-errors-level": (500, None),
    "slot-errors-lock": (500, None),
    "slot-errors-buf-deleted": (500, None),
    "errors-partial-raising-bool": (200, b"answered"),
    "errors-partial-int": (200, b"answered"),
    "errors-partial-deleted": (200, b"answered"),
    "reclass-input": (500, None),
    "reclass-request": (500, None),  # its start_response returns self.write, which the class lacks
    # A connection only an accepted WebSocket of an ASGI app may take: None ("the client is
    # gone") for any other request, whose response may then be cut.
    "hand-over": (None, None),
    "hand-over-after-start": (None, None),
}
# Outcome cases: what the call gave ("returned" or "raised <Type>"), swsgi's and mod_wsgi's.
OUTCOMES = {
    "request-data-in-thread": "raised RuntimeError",
    "metrics-in-thread": "returned",
    "input-read-in-thread": "returned",
    "pickle-start-response": "raised TypeError",
    "pickle-errors": "raised TypeError",
    "pickle-environ": "raised TypeError",
    # mod_wsgi's functions are built-in ones: CPython's words for the wrong arguments.
    "request-data-args": "raised TypeError: request_data() takes no arguments (2 given)",
    "request-data-keyword": "raised TypeError: request_data() takes no keyword arguments",
    "process-metrics-args": "raised TypeError: process_metrics() takes no arguments (1 given)",
    "server-metrics-args": "raised TypeError: server_metrics() takes no arguments (1 given)",
    "request-metrics-args": "raised TypeError: request_metrics() takes no arguments (1 given)",
    "subscribe-events-none": "raised TypeError: function takes exactly 1 argument (0 given)",
    "subscribe-events-two": "raised TypeError: function takes exactly 1 argument (2 given)",
    "subscribe-events-keyword": "raised TypeError: subscribe_events() takes no keyword arguments",
    "subscribe-shutdown-none": "raised TypeError: function takes exactly 1 argument (0 given)",
    "subscribe-shutdown-two": "raised TypeError: function takes exactly 1 argument (2 given)",
    # swsgi's FileWrapper is a Python class (it pickles): Python's words.
    "file-wrapper-none": "raised TypeError",
    "file-wrapper-three": "raised TypeError",
    "file-wrapper-keyword": "raised TypeError",
    "environ-file-wrapper-none": "raised TypeError",
}
SWSGI_OUTCOMES = {
    "pickle-file-wrapper": "returned",  # a Python class; mod_wsgi's C one refuses
    "native-counts-args": "raised TypeError: _swsgi.process_counts() takes no arguments (3 given)",
    "native-metrics-args": "raised TypeError: _swsgi.metrics() takes no arguments (1 given)",
    "native-usage-args": "raised TypeError: _swsgi.process_usage() takes no arguments (1 given)",
    "native-request-data-args": "raised TypeError: _swsgi.request_data() takes no arguments (1 given)",
    "native-functions-args": "raised TypeError: _swsgi.mod_wsgi_functions() takes exactly one argument (0 given)",
    "native-functions-not-module": "raised AttributeError",
    "native-hand-over-fake": "raised TypeError",
    "native-hand-over-none": "raised TypeError",
    "native-hand-over-args": "raised TypeError: _swsgi.hand_over() takes exactly 1 argument (0 given)",
    "native-read-args": "raised TypeError: _swsgi.read() takes exactly 3 arguments (4 given)",
    "native-log-keyword": "raised TypeError: _swsgi.log() takes no keyword arguments",
    "native-read-huge": "returned",
    "native-log-nul": None,  # "before" logged, or ValueError (Python 3.13 refuses the NUL)
    "native-log-surrogate": "raised UnicodeEncodeError",
    "copy-request-object": "returned: True",
    "deepcopy-start-response": "returned: True",
    "handle-weakref": "raised TypeError",
    "handle-repr": "returned",
    "handle-compare": "returned",
    "handle-type-call": "raised TypeError",
    "handle-gc-referrers": "returned",
    "input-class-new": "raised AttributeError",
    "errors-class-new": "raised AttributeError",
    "request-class-new": "raised AttributeError",
}


@pytest.fixture(scope="module")
def misuse_apache(module_apache_factory):
    return module_apache_factory(
        "WSGISocketPrefix {root}/run/w\nWSGIDaemonProcess m threads=8\n"
        "WSGIScriptAlias /e {apps}/misuse.wsgi\n"
        "WSGIScriptAlias /d {apps}/misuse.wsgi process-group=m application-group=%{GLOBAL}\n"
        "WSGIChunkedRequest On\n"
        # A group whose app reads the body from the client, not from what the child read ahead.
        + ("WSGIDaemonProcess unbuffered threads=4 request-buffer-size=0\n"
           "WSGIScriptAlias /u {apps}/misuse.wsgi process-group=unbuffered application-group=%{GLOBAL}\n"
           if TARGET == "swsgi" else ""))


def no_crash(a, mark):
    log = a.log_since(mark)
    for needle in CRASHES:
        assert needle not in log, log


def get(a, path, **kw):
    """The response, or None when it was cut short (its headers went out, then it failed)."""
    try:
        return a.request("GET", path, **kw)
    except (ConnectionError, OSError, __import__("http.client").client.HTTPException):
        return None


def check_response(a, mode, name, expected):
    mark = a.log_mark()
    r = get(a, "%s/case/%s" % (PREFIX[mode], name))
    # Every process still answers.
    assert a.get(PREFIX[mode] + "/case/input-read-in-thread").status == 200, a.log_since(mark)
    no_crash(a, mark)
    status, body = expected
    if TARGET != "swsgi":
        assert r is None or r.status in (200, 500), (name, r)
        return
    if body == "cut":
        assert r is None or r.status == status, (name, r)
        return
    if status is not None:
        assert r is not None and r.status == status, (name, r, a.log_since(mark))
    if body is not None:
        assert r.body == body, (name, r)
    if r is not None and r.status == 500:
        assert b"Traceback" not in r.body  # nothing of the app's failure reaches the client


@pytest.mark.parametrize("name", sorted(RESPONSES))
@pytest.mark.parametrize("mode", MODES)
def test_misused_response_objects_give_errors_not_crashes(misuse_apache, mode, name):
    check_response(misuse_apache, mode, name, RESPONSES[name])


@pytest.mark.swsgi_only
@pytest.mark.parametrize("name", sorted(SWSGI_RESPONSES))
@pytest.mark.parametrize("mode", MODES)
def test_tampered_request_objects_give_errors_not_crashes(misuse_apache, mode, name):
    check_response(misuse_apache, mode, name, SWSGI_RESPONSES[name])


def check_outcome(a, mode, name, expected):
    mark = a.log_mark()
    r = a.get("%s/case/%s" % (PREFIX[mode], name))
    no_crash(a, mark)
    assert r.status == 200, (r, a.log_since(mark))
    if expected is not None:
        assert r.text.startswith(expected), (name, r.text)


@pytest.mark.parametrize("name", sorted(OUTCOMES))
@pytest.mark.parametrize("mode", MODES)
def test_misused_objects_raise(misuse_apache, mode, name):
    check_outcome(misuse_apache, mode, name, OUTCOMES[name])


@pytest.mark.swsgi_only
@pytest.mark.parametrize("name", sorted(SWSGI_OUTCOMES))
@pytest.mark.parametrize("mode", MODES)
def test_native_objects_misused_raise(misuse_apache, mode, name):
    check_outcome(misuse_apache, mode, name, SWSGI_OUTCOMES[name])


@pytest.mark.swsgi_only
@pytest.mark.parametrize("mode", MODES)
def test_newer_objects_kept_past_their_request_raise(misuse_apache, mode):
    a = misuse_apache
    mark = a.log_mark()
    assert a.get(PREFIX[mode] + "/keep").body == b"kept"
    uses = a.get_json(PREFIX[mode] + "/use")
    no_crash(a, mark)
    assert "LATE" not in a.log_since(mark)
    # The app's own Python objects go on working; whatever reaches the finished request raises.
    for name in ("wrapper next", "wrapper close", "wrapper class", "status slot"):
        assert uses.pop(name).startswith("returned"), name
    assert uses.pop("request_data").startswith("raised RuntimeError"), uses
    for name, outcome in uses.items():
        assert outcome.startswith("raised RuntimeError: ") and "expired" in outcome, (name, outcome)


@pytest.mark.parametrize("mode", MODES)
def test_wrapped_files_leave_no_descriptor_open(misuse_apache, mode):
    """The gateway's own descriptor of a wrapped file is closed once the file has gone out,
    in the process that runs the app (and, in daemon mode, the Apache child that sends it)."""
    a = misuse_apache

    def open_descriptors(prefix):
        pid, numbers = a.get_json(prefix + "/descriptors")
        return pid, len(numbers)

    before = {prefix: open_descriptors(prefix) for prefix in ("/e", PREFIX[mode])}
    # mod_wsgi 4.9.4 sends another file for wrapper-fileno-reused.
    for name in (["wrapper-file", "wrapper-fileno-reused"] if TARGET == "swsgi" else ["wrapper-file"]) * 10:
        r = a.get("%s/case/%s" % (PREFIX[mode], name))
        assert (r.status, r.body) == (200, FILE), (name, r)
    # The Apache child closes its descriptor with the request, just after the response (and a
    # connection of before may close meanwhile): at most as many as before, soon.
    for prefix, (pid, count) in before.items():
        assert wait_until(lambda: open_descriptors(prefix)[1] <= count, 10), (prefix, count, a.get_json(prefix + "/descriptors"))
        assert open_descriptors(prefix)[0] == pid


def test_wrapper_fileno_out_of_range_is_not_another_descriptor(misuse_apache):
    """fileno() of 2**32 + the number of an open regular file is no descriptor: the wrapper is
    iterated, not that file sent."""
    for mode in MODES:
        r = misuse_apache.get(PREFIX[mode] + "/case/wrapper-fileno-wraps-to-open-file")
        assert (r.status, r.body) == (200, FILELIKE), (mode, r)


# mod_wsgi 4.9.4 asks for the memory first: MemoryError.
@pytest.mark.swsgi_only
@pytest.mark.parametrize("mode", MODES)
def test_huge_read_of_a_chunked_body_reads_it(misuse_apache, mode):
    """read(2**62) of a body of unknown length reads it all, without asking for 2**62 bytes of
    memory first."""
    a = misuse_apache
    body = os.urandom(300000)
    r = a.request("POST", PREFIX[mode] + "/case/read-huge", body=iter([body[:1000], body[1000:]]),
                  encode_chunked=True, headers={"Transfer-Encoding": "chunked"})
    assert (r.status, r.body) == (200, str(len(body)).encode()), (r, a.error_log()[-3000:])


@pytest.mark.swsgi_only
@pytest.mark.parametrize("mode", MODES)
def test_headers_freed_while_the_gateway_waits_to_send_them(misuse_apache, mode):
    """The headers list an app gave start_response, emptied by another thread (and the memory of
    its strs reused) while the gateway waits for a thread of the app that reads wsgi.input:
    the headers as given go out."""
    a = misuse_apache
    marker = os.path.join(a.data, "headers-freed")
    if os.path.exists(marker):
        os.unlink(marker)
    mark = a.log_mark()
    with socket.create_connection(("127.0.0.1", a.port), timeout=30) as s:
        s.sendall(("POST %s/headers-freed HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1\r\n"
                   "Connection: close\r\n\r\n" % {"embedded": "/e", "daemon": "/u"}[mode]).encode())
        assert wait_until(lambda: os.path.exists(marker), 30), a.log_since(mark)
        s.sendall(b"x")
        data = read_until_closed(s)
    no_crash(a, mark)
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    assert head.startswith("HTTP/1.1 200"), (head, a.log_since(mark))
    for i in range(8):
        assert "X-Kept-%d: value-%d-%s\r\n" % (i, i, "v" * 40) in head + "\r\n", head
