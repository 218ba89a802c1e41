/// The Python half of ASGI in a daemon process, executed as module `_swsgi_asgi` in an
/// interpreter when it first starts an ASGI app (at process start or with a request). One asyncio
/// event loop per interpreter runs in a thread of its own and runs every ASGI request's task. An
/// http request comes to the loop from the core (the daemon worker thread that read it rings the
/// loop's doorbell, `_swsgi.asgi_take`), with the request's Python objects of the gateway; what
/// cannot wait (the start of the response, small body pieces, the end) goes to Apache from the
/// loop at once, and what may (reading the body, large pieces, files) is posted to the worker
/// thread, which holds the connection and waits without the GIL, while the task awaits its
/// answer. So a small request takes the GIL on the loop only. A WebSocket handshake goes the
/// way of a WSGI app instead (`App.__call__`, `_swsgi_asgi_ws`).
let asgiSource = #"""
import asyncio, atexit, concurrent.futures, http, sys, threading
from time import monotonic as _monotonic
from urllib.parse import unquote_to_bytes
import _swsgi, _swsgi_support, _swsgi_asgi_ws

ERR, INFO = 3, 6
ASGI = {'version': '3.0', 'spec_version': '2.3'}
# Body pieces read for one http.request message.
CHUNK = 64 << 10
# Set by the core: request-timeout (0: none) and shutdown-timeout of this daemon group, seconds.
REQUEST_TIMEOUT = 0
SHUTDOWN_TIMEOUT = 5

_loop = None
_loop_lock = threading.Lock()
_adapters = {}


def _new_loop():
    """As uvicorn's --loop auto: uvloop's loop where it is installed, asyncio's otherwise. Only
    in the main interpreter (%{GLOBAL}): uvloop is not made for sub-interpreters."""
    if _swsgi_support.APPLICATION_GROUP == '':
        try:
            import uvloop
        except ImportError:
            pass
        else:
            return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def _event_loop():
    global _loop
    with _loop_lock:
        if _loop is None:
            loop = _new_loop()
            # The core rings it when http requests for this interpreter arrived.
            loop.add_reader(_swsgi.asgi_doorbell(_swsgi_support.APPLICATION_GROUP), _take_arrivals)
            threading.Thread(target=loop.run_forever, name='swsgi-asgi', daemon=True).start()
            _loop = loop
            atexit.register(_shutdown_all)
    return _loop


def adapt(app, request_timeout, shutdown_timeout):
    """The WSGI-callable face of an ASGI app, one per app object (its lifespan runs once)."""
    global REQUEST_TIMEOUT, SHUTDOWN_TIMEOUT
    REQUEST_TIMEOUT, SHUTDOWN_TIMEOUT = request_timeout, shutdown_timeout
    with _loop_lock:
        adapter = _adapters.get(id(app))
        if adapter is None or adapter.app is not app:
            adapter = _adapters[id(app)] = App(app)
    return adapter


def _take_arrivals():
    # Each arrival calls begin() below.
    _swsgi.asgi_take(_swsgi_support.APPLICATION_GROUP)


def begin(owner, scope, request, script, body_left, connection, refusal):
    """An http request that arrived on the loop: its task starts. The core keeps the exchange
    for its worker thread's timed_out."""
    return Exchange(owner, scope, request, script, body_left, connection, refusal)


def _log(message, level=ERR):
    for line in message.split('\n'):
        _swsgi.log(None, level, line)


def _resolve(future, value):
    if not future.done():
        future.set_result(value)


class App:
    """An ASGI app: its lifespan, then its requests."""

    def __init__(self, app):
        self.app = app
        self.state = {}
        self.lifespan = None
        self.failure = None  # why startup failed: the app then answers 503
        self.lock = threading.Lock()
        self.ready = False
        self.starting = None  # the startup's future, once begun

    def start(self):
        """At process start, before it takes requests: the lifespan startup, waited for."""
        self._startup(None)

    def __call__(self, environ, start_response):
        """A WebSocket handshake, on the worker thread, which the WSGI gateway runs as a WSGI app."""
        if not self.ready and not self._startup(REQUEST_TIMEOUT or None):
            return _startup_timeout(start_response, environ.get('SCRIPT_FILENAME', ''))
        if self.failure is not None:
            return _startup_failed(self, start_response, environ.get('SCRIPT_FILENAME', ''))
        return _swsgi_asgi_ws.respond(self, environ, start_response)

    def _startup(self, timeout):
        """Runs the lifespan startup, or waits for it; False when timeout (s) passed first."""
        deadline = timeout and _monotonic() + timeout
        if not self.lock.acquire(timeout=-1 if timeout is None else timeout):
            return False
        try:
            if self.ready:
                return True
            if self.starting is None:
                self.lifespan = Lifespan(self)
                self.starting = asyncio.run_coroutine_threadsafe(self.lifespan.startup(), _event_loop())
            try:
                outcome, detail = self.starting.result(deadline and max(0, deadline - _monotonic()))
            except concurrent.futures.TimeoutError:
                return False
            if outcome == 'unsupported':
                _log("swsgi: ASGI 'lifespan' protocol appears unsupported by %r (%s)" % (self.app, detail), INFO)
            elif outcome == 'failed':
                # The per-request lines name its last line (Starlette's message is a traceback).
                self.failure = (detail or 'no message').strip().split('\n')[-1]
                _log('swsgi: ASGI app %r: lifespan startup failed: %s' % (self.app, detail))
            if outcome != 'ready':
                self.lifespan = None  # nothing to shut down
            self.ready = True
            return True
        finally:
            self.lock.release()


def _startup_timeout(start_response, script):
    # The request's request-timeout passed while the startup ran (it goes on).
    _swsgi.log(start_response.__self__._h, ERR, "swsgi: ASGI app %s: request-timeout of %s s passed while its lifespan "
               "startup ran" % (script, REQUEST_TIMEOUT))
    return _answer(start_response, '504 Gateway Timeout', b'Gateway Timeout\n')


def _startup_failed(owner, start_response, script):
    _swsgi.log(start_response.__self__._h, ERR, 'swsgi: ASGI app %s: answering 503 as its lifespan startup failed: %s'
               % (script, owner.failure))
    return _answer(start_response, '503 Service Unavailable', b'Service Unavailable\n')


def _answer(start_response, status, body, exc_info=None):
    """A plain-text response of swsgi's own, as a WSGI body."""
    start_response(status, [('Content-Type', 'text/plain'), ('Content-Length', str(len(body)))], exc_info)
    return [body]


class Lifespan:
    """The lifespan scope's task: startup before the app's first request, shutdown at exit."""

    def __init__(self, owner):
        self.owner = owner

    async def startup(self):
        loop = asyncio.get_running_loop()
        self.messages = asyncio.Queue()
        self.messages.put_nowait({'type': 'lifespan.startup'})
        self.started, self.stopped = loop.create_future(), loop.create_future()
        self.task = loop.create_task(self._run())
        return await self.started

    async def _run(self):
        scope = {'type': 'lifespan', 'asgi': ASGI, 'state': self.owner.state}
        try:
            await self.owner.app(scope, self.messages.get, self._send)
        except BaseException as e:
            # As uvicorn's lifespan "auto": raising before answering startup means no lifespan.
            _resolve(self.started, ('unsupported', '%s: %s' % (type(e).__name__, e)))
            if not self.stopped.done():
                import traceback
                _resolve(self.stopped, ('failed', ''.join(traceback.format_exception(type(e), e, e.__traceback__))))
        finally:
            _resolve(self.started, ('unsupported', 'it returned without answering lifespan.startup'))
            _resolve(self.stopped, ('done', None))

    async def _send(self, message):
        kind = message['type']
        if kind == 'lifespan.startup.complete':
            _resolve(self.started, ('ready', None))
        elif kind == 'lifespan.startup.failed':
            _resolve(self.started, ('failed', message.get('message', '')))
        elif kind == 'lifespan.shutdown.complete':
            _resolve(self.stopped, ('done', None))
        elif kind == 'lifespan.shutdown.failed':
            _resolve(self.stopped, ('failed', message.get('message', '')))
        else:
            raise RuntimeError('unexpected ASGI message %r in the lifespan scope' % kind)

    async def shutdown(self):
        self.messages.put_nowait({'type': 'lifespan.shutdown'})
        return await self.stopped


def _shutdown_all():
    """At process exit: each started app's lifespan.shutdown, within shutdown-timeout."""
    for adapter in list(_adapters.values()):
        if not adapter.ready or adapter.lifespan is None:
            continue
        try:
            outcome, detail = asyncio.run_coroutine_threadsafe(adapter.lifespan.shutdown(), _loop).result(SHUTDOWN_TIMEOUT)
        except Exception as e:
            outcome, detail = 'failed', 'not finished within shutdown-timeout of %s s' % SHUTDOWN_TIMEOUT \
                if isinstance(e, concurrent.futures.TimeoutError) else repr(e)
        if outcome == 'failed':
            _log('swsgi: ASGI app %r: lifespan shutdown failed: %s' % (adapter.app, detail))


def _status_headers(status, headers):
    """WSGI's status line and (str, str) headers for an http.response.start; or the problem."""
    if type(status) is not int or not 100 <= status <= 999:
        return 'the response status must be an int from 100 to 999, not %r' % (status,)
    pairs = []
    try:
        for name, value in headers:
            if not isinstance(name, bytes) or not isinstance(value, bytes):
                return 'response header names and values must be bytes, not %s and %s' % (
                    type(name).__name__, type(value).__name__)
            pairs.append((name.decode('latin-1'), value.decode('latin-1')))
    except (TypeError, ValueError):
        return 'the response headers must be an iterable of [name, value] pairs'
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        phrase = ''
    return '%d %s' % (status, phrase), pairs


class Exchange:
    """One http request on the loop; `request` is the gateway's start_response object."""

    __slots__ = ('owner', 'scope', 'request', 'script', 'body_left', 'connection', 'refusal', 'h', 'loop', 'task',
                 'started', 'complete', 'gone', 'body_done', 'yielded', 'pending', 'watching')

    def __init__(self, owner, scope, request, script, body_left, connection, refusal):
        self.owner, self.scope, self.request, self.script = owner, scope, request, script
        # Body bytes to come (None: until the chunked body ends), the connection to the Apache
        # child, why a WebSocket handshake is answered as http.
        self.body_left, self.connection, self.refusal = body_left, connection, refusal
        self.h = request._h
        self.loop = _loop
        # started: http.response.start came; complete: the response ended (or was ended for
        # the app); gone: nothing the app sends goes anywhere any more.
        self.started = self.complete = self.gone = self.body_done = self.yielded = False
        self.pending = set()
        # The connection is watched while the app waits for http.disconnect: the child closes it
        # when its client left. Never watched once the request ends.
        self.watching = False
        self.task = self.loop.create_task(self._call())

    def _call(self):
        if self.owner.ready and self.owner.failure is None:
            return self._run()
        return self._start_first()

    async def _start_first(self):
        """The app's lifespan startup has not finished (or failed): waited for off the loop."""
        if not self.owner.ready and not await self.loop.run_in_executor(None, self.owner._startup, REQUEST_TIMEOUT or None):
            return self._respond(_startup_timeout(self.request.start_response, self.script))
        if self.owner.failure is not None:
            return self._respond(_startup_failed(self.owner, self.request.start_response, self.script))
        await self._run()

    def _respond(self, body):
        """A response of swsgi's own (_answer's), which cannot wait."""
        self.started = True
        _swsgi.asgi_write(self.h, body[0], False)
        self._end(None)

    async def _run(self):
        script = self.script
        if self.refusal:
            _swsgi.log(self.h, ERR, 'swsgi: WebSocket request to ASGI app %s answered as HTTP: %s' % (script, self.refusal))
        try:
            self.scope['state'] = dict(self.owner.state)
            await self.owner.app(self.scope, self.receive, self.send)
            if not self.complete:
                if self.gone and not self.started:
                    # The client went while its body was read, and the app took it well: a 400
                    # for the access log, as when that happens before the app runs.
                    self.request.start_response('400 Bad Request', [('Content-Type', 'text/plain')])
                    return self._end(None)
                raise RuntimeError('ASGI callable returned without %s response' % ('completing' if self.started else 'starting'))
        except asyncio.CancelledError:
            raise
        except BaseException as e:
            if self.complete:
                _swsgi_support.log_exception(None, "swsgi: exception in ASGI app '%s' after its response" % script,
                                             type(e), e, e.__traceback__)
            else:
                _swsgi_support.log_exception(self.h, "swsgi: exception occurred processing WSGI script '%s'" % script,
                                             type(e), e, e.__traceback__)
                self._end(500)

    def _end(self, status):
        """Ends the response for the core: status None when it is whole, else what it failed with."""
        self.complete = True
        self._wake()
        self._unwatch()
        try:
            _swsgi.asgi_end(self.h, status)
        except RuntimeError:
            pass  # request-timeout ended it already

    def _lost(self):
        """A write failed: the client went away, or the response was refused (logged)."""
        self.gone = True
        self._end(None)

    def _wake(self):
        for future in self.pending:
            _resolve(future, None)
        self.pending.clear()

    def _watch(self):
        if not self.watching and self.connection is not None:
            self.watching = True
            self.loop.add_reader(self.connection, self._left)

    def _unwatch(self):
        if self.watching:
            self.watching = False
            self.loop.remove_reader(self.connection)

    def _left(self):
        """The Apache child closed the connection: the client went away."""
        self._unwatch()
        self.gone = True
        self._wake()

    def _ask(self, job, *args):
        """Runs job(answer, *args) on the worker thread; the future it answers."""
        answer = self.loop.create_future()
        self.pending.add(answer)
        answer.add_done_callback(self.pending.discard)
        _swsgi.asgi_post(self.h, lambda: job(answer, *args))
        return answer

    # Jobs, on the worker thread: each answers on the loop.

    def _read(self, answer):
        try:
            data = _swsgi.read(self.h, CHUNK, False)
        except OSError:
            data = None
        self.loop.call_soon_threadsafe(_resolve, answer, data)

    def _write(self, answer, body):
        sent = _swsgi.asgi_write(self.h, body, True)
        self.loop.call_soon_threadsafe(self._written, answer, sent)

    def _written(self, answer, sent):
        if not sent and not self.complete:
            self._lost()
        _resolve(answer, None)

    def _send_path(self, answer, path):
        status = None
        try:
            with open(path, 'rb') as file:
                # After body pieces the file can only follow them as more pieces.
                if self.yielded or not _swsgi.asgi_send_file(self.h, file):
                    for piece in iter(lambda: file.read(CHUNK), b''):
                        if not _swsgi.asgi_write(self.h, piece, True):
                            break
        except Exception as e:
            _swsgi_support.log_exception(self.h, "swsgi: exception occurred processing WSGI script '%s'" % self.script,
                                         type(e), e, e.__traceback__)
            status = 500
        self.loop.call_soon_threadsafe(self._path_sent, answer, status)

    def _path_sent(self, answer, status):
        self._end(status)
        _resolve(answer, None)

    def timed_out(self):
        """request-timeout passed: on the worker thread, which then ends the request with what
        this returns. The task is cancelled; a 504 unless the response went out already."""
        detached = threading.Event()
        self.loop.call_soon_threadsafe(self._abandon, detached)
        detached.wait()
        if not self.owner.ready:
            body = _startup_timeout(self.request.start_response, self.script)
        else:
            _swsgi.log(self.h, ERR, "swsgi: request-timeout of %s s reached by ASGI app '%s'; its task is cancelled"
                       % (REQUEST_TIMEOUT, self.script))
            if _swsgi.sent(self.h):
                return 504
            try:
                raise TimeoutError('request-timeout of %s s reached' % REQUEST_TIMEOUT)
            except TimeoutError:
                body = _answer(self.request.start_response, '504 Gateway Timeout', b'Gateway Timeout\n', sys.exc_info())
        _swsgi.asgi_write(self.h, body[0], True)
        return None

    def _abandon(self, detached):
        self.complete = self.gone = True
        self._wake()
        self._unwatch()
        self.task.cancel()
        detached.set()

    # The app's side.

    async def receive(self):
        if not self.body_done and not self.complete:
            if self.body_left == 0:
                self.body_done = True
                return {'type': 'http.request', 'body': b'', 'more_body': False}
            data = await self._ask(self._read)
            if data is None:
                # The client went away: the app learns it now, its sends go nowhere.
                self.gone = True
                return {'type': 'http.disconnect'}
            if self.body_left is not None:
                self.body_left -= len(data)
            self.body_done = not data or self.body_left == 0
            return {'type': 'http.request', 'body': data, 'more_body': not self.body_done}
        # After the body: http.disconnect once the response ended or the client went away.
        if not self.complete and not self.gone:
            self._watch()
        while not self.complete and not self.gone:
            waiter = self.loop.create_future()
            self.pending.add(waiter)
            waiter.add_done_callback(self.pending.discard)
            await waiter
        return {'type': 'http.disconnect'}

    async def send(self, message):
        kind = message['type']
        if self.gone:
            return
        if not self.started:
            if kind != 'http.response.start':
                raise RuntimeError("Expected ASGI message 'http.response.start', but got %r." % kind)
            self.started = True
            head = _status_headers(message.get('status'), message.get('headers', ()))
            if isinstance(head, str):
                # One line, a 500 and nothing of the app's on the wire, as for a WSGI app.
                _swsgi.log(self.h, ERR, "swsgi: ASGI app '%s': %s" % (self.script, head))
                self.gone = True
                return self._respond(_answer(self.request.start_response, '500 Internal Server Error', b'Internal Server Error\n'))
            self.request.start_response(*head)
        elif not self.complete:
            if kind == 'http.response.pathsend':
                path = message['path']
                if not isinstance(path, str):
                    # open() of an int would take one of this process's descriptors, and close it.
                    raise TypeError("http.response.pathsend's 'path' must be a str, not %s" % type(path).__name__)
                self.complete = True
                self._wake()
                self._unwatch()
                await self._ask(self._send_path, path)
                return
            if kind != 'http.response.body':
                raise RuntimeError("Expected ASGI message 'http.response.body', but got %r." % kind)
            body = _swsgi_asgi_ws.message_bytes(message.get('body', b''), kind, 'body')
            more = message.get('more_body', False)
            sent = True
            if body:
                self.yielded = True
                sent = _swsgi.asgi_write(self.h, body, False)
                if sent is None and more:
                    # Too large to go without waiting: the worker sends it, the task waits.
                    await self._ask(self._write, body)
                    return
            if not more:
                if sent is None:
                    _swsgi.asgi_post(self.h, lambda: _swsgi.asgi_write(self.h, body, True))
                self._end(None)
            elif not sent:
                self._lost()
        else:
            raise RuntimeError('Unexpected ASGI message %r sent, after response already completed.' % kind)


READY = True
"""#
