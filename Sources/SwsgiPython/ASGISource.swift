/// The Python half of ASGI in a daemon process, executed as module `_swsgi_asgi` in an
/// interpreter when it first starts an ASGI app (at process start or with a request). One asyncio event loop per interpreter runs in a
/// thread of its own and runs every ASGI request's task; the daemon worker thread that holds
/// the request's connection to Apache does its I/O: the gateway calls `adapt(app)(environ,
/// start_response)` as a WSGI app, and the generator it returns carries out what the task asks
/// for (read a body piece, start the response, send a body piece), so that the gateway's
/// response validation, streaming and error handling are those of WSGI apps. The worker waits
/// without the GIL; each send waits for its piece to be handed to Apache (backpressure).
let asgiSource = #"""
import asyncio, atexit, collections, concurrent.futures, http, queue, sys, threading
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


# Requests handed to the loop, and whether a wake-up for them is on its way: under load one
# self-pipe write and loop iteration then start several.
_arrivals = collections.deque()
_waking = False


def _hand_over(loop, exchange, scope):
    global _waking
    _arrivals.append((exchange, scope))
    if not _waking:
        _waking = True
        loop.call_soon_threadsafe(_take_arrivals)


def _take_arrivals():
    global _waking
    # Before the deque is emptied: a request added meanwhile either is taken below or wakes
    # the loop again.
    _waking = False
    while _arrivals:
        exchange, scope = _arrivals.popleft()
        exchange.task = exchange.loop.create_task(exchange._call(scope))


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
        if not self.ready and not self._startup(REQUEST_TIMEOUT or None):
            # The request's request-timeout passed while the startup ran (it goes on).
            environ['wsgi.errors'].write("swsgi: ASGI app %s: request-timeout of %s s passed while its lifespan "
                                         "startup ran\n" % (environ.get('SCRIPT_FILENAME', ''), REQUEST_TIMEOUT))
            start_response('504 Gateway Timeout', [('Content-Type', 'text/plain')])
            return [b'Gateway Timeout\n']
        if self.failure is not None:
            environ['wsgi.errors'].write('swsgi: ASGI app %s: answering 503 as its lifespan startup failed: %s\n'
                                         % (environ.get('SCRIPT_FILENAME', ''), self.failure))
            start_response('503 Service Unavailable', [('Content-Type', 'text/plain')])
            return [b'Service Unavailable\n']
        if 'swsgi.handover' in environ:
            response = _swsgi_asgi_ws.respond(self, environ, start_response)
            if response is not None:
                return response
        body = Exchange(self, environ, start_response).run()
        # Driven to its first piece: a whole file (pathsend) goes out as wsgi.file_wrapper,
        # which the gateway hands to Apache whole.
        first = next(body, None)
        if first is None:
            return []
        if isinstance(first, SentFile):
            first.body = body
            return environ['wsgi.file_wrapper'](first, CHUNK)
        return _rest(first, body)

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


def _rest(first, body):
    """The response body from its first piece on; closing it closes the exchange."""
    try:
        yield first
        yield from body
    finally:
        body.close()


class SentFile:
    """The file of an http.response.pathsend; closing it lets the exchange end."""

    def __init__(self, file):
        self.file, self.body = file, None

    def fileno(self):
        return self.file.fileno()

    def tell(self):
        return self.file.tell()

    def read(self, size=-1):
        return self.file.read(size)

    def close(self):
        self.file.close()
        next(self.body, None)


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


def http_scope(environ, state):
    """The http scope from the CGI variables and the headers the Apache child sent as they were."""
    raw_path = environ.get('REQUEST_URI', '').split('?', 1)[0].encode('latin-1')
    lines = environ.get('swsgi.asgi_headers', '').encode('latin-1').split(b'\n')
    headers = [(name.lower(), value) for name, _, value in (line.partition(b': ') for line in lines) if name]
    protocol = environ.get('SERVER_PROTOCOL', 'HTTP/1.1')[5:]
    return {
        'type': 'http',
        'asgi': ASGI,
        'http_version': '2' if protocol.startswith('2') else protocol,
        'method': environ['REQUEST_METHOD'],
        'scheme': environ['wsgi.url_scheme'],
        'path': (unquote_to_bytes(raw_path) if b'%' in raw_path else raw_path).decode('utf-8', 'replace'),
        'raw_path': raw_path,
        'root_path': environ.get('SCRIPT_NAME', '').encode('latin-1').decode('utf-8', 'replace'),
        'query_string': environ.get('QUERY_STRING', '').encode('latin-1'),
        'headers': headers,
        'client': (environ.get('REMOTE_ADDR', ''), int(environ.get('REMOTE_PORT') or 0)),
        'server': (environ.get('SERVER_ADDR', ''), int(environ.get('mod_wsgi.listener_port') or environ.get('SERVER_PORT') or 0)),
        'state': dict(state),
        'extensions': {'http.response.pathsend': {}},
    }


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


# What the task asks the worker for; each item carries the future the worker answers, or
# None when the task does not wait (the start of the response, its last piece: each hop
# between the threads costs as much as a small app).
_READ, _START, _BODY, _LAST, _FILE, _RETURNED, _RAISED = range(7)


class Exchange:
    """One http request: the task on the loop, its I/O by the worker thread."""

    def __init__(self, owner, environ, start_response):
        self.owner, self.environ, self.start_response = owner, environ, start_response
        self.asks = queue.SimpleQueue()
        self.loop = _event_loop()
        self.task = None
        self.started = self.complete = self.gone = self.body_done = False
        self.pending = set()
        # The connection to the Apache child, watched by the loop while the app waits for
        # http.disconnect: the child closes it when its client left. The worker must not give
        # the connection back while the loop still watches it (closing and watching, locked).
        self.connection = environ.get('swsgi.asgi_connection')
        self.watch_lock = threading.Lock()
        self.closing = self.watching = False
        length = environ.get('CONTENT_LENGTH')
        self.body_left = int(length) if length else (None if 'HTTP_TRANSFER_ENCODING' in environ else 0)

    # The worker's side.

    def run(self):
        script = self.environ.get('SCRIPT_FILENAME', '')
        _hand_over(self.loop, self, http_scope(self.environ, self.owner.state))
        deadline = REQUEST_TIMEOUT and _monotonic() + REQUEST_TIMEOUT
        # finished: the app ended the response, and the loop's side knows it already.
        ended = yielded = finished = False
        try:
            while True:
                try:
                    kind, value, answer = self.asks.get(timeout=max(0, deadline - _monotonic())) if deadline else self.asks.get()
                except queue.Empty:
                    ended = True
                    self.loop.call_soon_threadsafe(self._cancel)
                    self.environ['wsgi.errors'].write(
                        "swsgi: request-timeout of %s s reached by ASGI app '%s'; its task is cancelled\n" % (REQUEST_TIMEOUT, script))
                    # A 504 unless the headers went out already: then start_response raises
                    # this, and the response is cut short.
                    try:
                        raise TimeoutError('request-timeout of %s s reached' % REQUEST_TIMEOUT)
                    except TimeoutError:
                        self.start_response('504 Gateway Timeout', [('Content-Type', 'text/plain')], sys.exc_info())
                    yield b'Gateway Timeout\n'
                    return
                if kind == _READ:
                    try:
                        data = self.environ['wsgi.input'].read(CHUNK)
                    except OSError:
                        data = None
                    self.loop.call_soon_threadsafe(_resolve, answer, data)
                elif kind == _START:
                    if isinstance(value, str):
                        # One line, a 500 and nothing of the app's on the wire, as for a WSGI app.
                        self.environ['wsgi.errors'].write("swsgi: ASGI app '%s': %s\n" % (script, value))
                        self.start_response('500 Internal Server Error', [('Content-Type', 'text/plain')])
                        yield b'Internal Server Error\n'
                        return
                    self.start_response(*value)
                elif kind == _BODY:
                    if value:
                        yielded = True
                        yield value
                    self.loop.call_soon_threadsafe(_resolve, answer, True)
                elif kind == _LAST:
                    ended = True
                    if value:
                        yield value
                    finished = True
                    return
                elif kind == _FILE:
                    ended = True
                    with open(value, 'rb') as file:
                        if yielded:
                            # After body pieces the file can only follow them as more pieces.
                            for piece in iter(lambda: file.read(CHUNK), b''):
                                yield piece
                        else:
                            yield SentFile(file)
                    self.loop.call_soon_threadsafe(_resolve, answer, True)
                    return
                elif kind == _RETURNED:
                    ended = True
                    if value and not self.started:
                        # The client went while its body was read, and the app took it well:
                        # a 400 for the access log, as when that happens before the app runs.
                        self.start_response('400 Bad Request', [('Content-Type', 'text/plain')])
                        return
                    raise RuntimeError('ASGI callable returned without %s response'
                                       % ('completing' if self.started else 'starting'))
                else:
                    ended = True
                    raise value
        finally:
            # The response ended, or the gateway stopped it (client gone, invalid headers).
            with self.watch_lock:
                self.closing = True
                watched = self.watching
            if watched or not finished:
                unwatched = threading.Event() if watched else None
                self.loop.call_soon_threadsafe(self._end, ended, unwatched)
                if unwatched is not None:
                    unwatched.wait()

    # The loop's side.

    def _cancel(self):
        if self.task is not None:
            self.task.cancel()

    def _end(self, ended, unwatched):
        self.complete = True
        self.gone = self.gone or not ended
        self._wake()
        if unwatched is not None:
            self.loop.remove_reader(self.connection)
            unwatched.set()

    def _wake(self):
        for future in self.pending:
            _resolve(future, None)
        self.pending.clear()

    def _watch(self):
        with self.watch_lock:
            if self.watching or self.closing or self.connection is None:
                return
            self.watching = True
        self.loop.add_reader(self.connection, self._left)

    def _left(self):
        """The Apache child closed the connection: the client went away."""
        self.loop.remove_reader(self.connection)
        self.gone = True
        self._wake()

    async def _call(self, scope):
        try:
            await self.owner.app(scope, self.receive, self.send)
        except asyncio.CancelledError:
            raise
        except BaseException as e:
            if self.complete:
                _swsgi_support.log_exception(None, "swsgi: exception in ASGI app '%s' after its response"
                                             % self.environ.get('SCRIPT_FILENAME', ''), type(e), e, e.__traceback__)
            else:
                self.asks.put((_RAISED, e, None))
        else:
            if not self.complete:
                self.asks.put((_RETURNED, self.gone, None))

    def _ask(self, kind, value):
        answer = self.loop.create_future()
        self.pending.add(answer)
        answer.add_done_callback(self.pending.discard)
        self.asks.put((kind, value, answer))
        return answer

    async def receive(self):
        if not self.body_done and not self.complete:
            if self.body_left == 0:
                self.body_done = True
                return {'type': 'http.request', 'body': b'', 'more_body': False}
            data = await self._ask(_READ, None)
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
            self.asks.put((_START, _status_headers(message.get('status'), message.get('headers', ())), None))
        elif not self.complete:
            if kind == 'http.response.pathsend':
                path = message['path']
                if not isinstance(path, str):
                    # open() of an int would take one of this process's descriptors, and close it.
                    raise TypeError("http.response.pathsend's 'path' must be a str, not %s" % type(path).__name__)
                self.complete = True
                await self._ask(_FILE, path)
                return
            if kind != 'http.response.body':
                raise RuntimeError("Expected ASGI message 'http.response.body', but got %r." % kind)
            body = _swsgi_asgi_ws.message_bytes(message.get('body', b''), kind, 'body')
            if message.get('more_body', False):
                await self._ask(_BODY, body)
            else:
                self.complete = True
                self._wake()
                self.asks.put((_LAST, body, None))
        else:
            raise RuntimeError('Unexpected ASGI message %r sent, after response already completed.' % kind)


READY = True
"""#
