/// The Python half of WebSockets for ASGI apps in a daemon process, module `_swsgi_asgi_ws`,
/// which `_swsgi_asgi` hands a WebSocket handshake (the gateway runs it as a WSGI app). Until
/// the app accepts, the daemon worker thread that holds the request waits for its answer;
/// on websocket.accept it sends the 101 and takes the client connection itself from the Apache
/// child (`_swsgi.hand_over`), and returns: from then on the connection is the event loop's
/// alone (RFC 6455 framing here), and neither an Apache nor a daemon worker thread is held
/// (over TLS the Apache thread relays between mod_ssl and a socket pair the daemon has).
/// An app may instead answer with an HTTP response (the websocket.http.response extension),
/// which the worker streams to Apache as it would an http request's.
let asgiWebSocketSource = #"""
import asyncio, atexit, base64, binascii, collections, hashlib, queue, socket, struct, sys, threading
from time import monotonic as _monotonic
import _swsgi, _swsgi_support

GUID = b'258EAFA5-E914-47DA-95CA-C5AB0DC85B11'
ASGI = {'version': '3.0', 'spec_version': '2.4'}
# The largest message taken from a client, as uvicorn's default: a larger one closes with 1009.
MAX_MESSAGE = 16 << 20
# Messages received that the app has not taken yet: past this the socket is not read, and the
# client's sends wait in TCP.
MAX_QUEUED = 16
# Unsent bytes past which the app's send waits for the client to take them.
WRITE_LIMIT = 64 << 10
# How long the client has to answer a close frame before the connection is cut, seconds.
CLOSE_TIMEOUT = 5
# Close codes a peer may send (RFC 6455 7.4, and the registered 1012-1014).
VALID_CODES = frozenset(range(1000, 1004)) | frozenset(range(1007, 1015)) | frozenset(range(3000, 5000))

_open = set()  # accepted sessions, closed at exit
_exit_lock = threading.Lock()
_exit_registered = False


class ClientDisconnected(OSError):
    """send() after the client went away (the ASGI spec's OSError)."""


def message_bytes(value, kind, key):
    """The bytes of a message's bytes-like item (for _swsgi_asgi too); TypeError for anything
    else: bytes() of an int would be that many NULs, of a list its items."""
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise TypeError("%s's %r must be bytes, not %s" % (kind, key, type(value).__name__))
    return bytes(value)


def respond(owner, environ, start_response):
    """The WSGI face of a WebSocket handshake whose connection can be handed over (the core
    sends every other request to the event loop as http)."""
    if environ.get('HTTP_SEC_WEBSOCKET_VERSION') != '13':
        start_response('426 Upgrade Required', [('Sec-WebSocket-Version', '13'), ('Content-Type', 'text/plain')])
        return [b'Unsupported WebSocket version\n']
    try:
        valid = len(base64.b64decode(environ.get('HTTP_SEC_WEBSOCKET_KEY', ''), validate=True)) == 16
    except (binascii.Error, ValueError):
        valid = False
    if not valid:
        start_response('400 Bad Request', [('Content-Type', 'text/plain')])
        return [b'Invalid Sec-WebSocket-Key header\n']
    import _swsgi_asgi
    loop = _swsgi_asgi._event_loop()
    global _exit_registered
    with _exit_lock:
        if not _exit_registered:
            # After the event loop's own: atexit runs it first, before the lifespan shutdown.
            atexit.register(_close_all)
            _exit_registered = True
    return Session(owner, environ, start_response, loop).handshake()


def websocket_scope(environ, state):
    # The core made the request's http scope, as for an http request.
    scope = environ['swsgi.asgi_scope']
    del scope['method']
    scope['state'] = dict(state)
    offered = environ.get('HTTP_SEC_WEBSOCKET_PROTOCOL', '')
    scope.update(type='websocket', asgi=ASGI, scheme='wss' if scope['scheme'] == 'https' else 'ws',
                 subprotocols=[p.strip() for p in offered.split(',') if p.strip()],
                 extensions={'websocket.http.response': {}})
    return scope


def _unmask(data, mask):
    n = len(data)
    if not n:
        return b''
    key = bytes(mask) * (n // 4) + bytes(mask[:n % 4])
    return (int.from_bytes(data, 'big') ^ int.from_bytes(key, 'big')).to_bytes(n, 'big')


def _header(opcode, length):
    if length < 126:
        return bytes((0x80 | opcode, length))
    if length < 1 << 16:
        return struct.pack('!BBH', 0x80 | opcode, 126, length)
    return struct.pack('!BBQ', 0x80 | opcode, 127, length)


# What the task asks the worker for, before the handshake's answer and during an HTTP
# response to it.
_ACCEPT, _DENY, _RESPOND, _BODY, _LAST, _RETURNED, _RAISED = range(7)


def _resolve(future):
    if not future.done():
        future.set_result(None)


class Session(asyncio.Protocol):
    """One WebSocket: the handshake through the worker, then the connection on the loop."""

    def __init__(self, owner, environ, start_response, loop):
        self.owner, self.environ, self.start_response, self.loop = owner, environ, start_response, loop
        self.asks = queue.SimpleQueue()
        # handshake → accepting → open → closing (the app or the server sent a close) → closed;
        # or handshake → responding (an HTTP response instead) → answered.
        self.state = 'handshake'
        self.cut = False  # the HTTP response ended before the app's last piece (client gone, 500, 504)
        self.unsent = collections.deque()  # futures of the HTTP response's pieces Apache does not have yet
        self.deadline = 0
        self.connected = False  # websocket.connect given to the app
        self.messages = collections.deque()
        self.waiter = None  # the app's receive, waiting for a message
        self.writable = None  # a future while the transport's buffer is full
        self.transport = None
        self.buffer = bytearray()
        self.message = None  # [opcode, parts, size] of a fragmented message being received
        self.close_timer = None
        self.reading_paused = False
        self.task = None

    # The worker's side: the handshake.

    def handshake(self):
        self.loop.call_soon_threadsafe(self._begin, websocket_scope(self.environ, self.owner.state))
        import _swsgi_asgi
        self.deadline = _swsgi_asgi.REQUEST_TIMEOUT and _monotonic() + _swsgi_asgi.REQUEST_TIMEOUT
        kind, value = self._next_ask('answered')
        if kind is None:
            return [b'Gateway Timeout\n']
        if kind == _ACCEPT:
            self.start_response('101 Switching Protocols', value)
            handed = None
            try:
                handed = _swsgi.hand_over(self.environ['wsgi.input']._h)
            finally:
                self.loop.call_soon_threadsafe(self._opened, handed)
            return []
        if kind == _DENY:
            self.start_response('403 Forbidden', [('Content-Type', 'text/plain')])
            return []
        if kind == _RESPOND:
            return self._response(value)
        if kind == _RETURNED:
            self.environ['wsgi.errors'].write("swsgi: ASGI app '%s' returned without answering the WebSocket "
                                              "handshake\n" % self.environ.get('SCRIPT_FILENAME', ''))
            self.start_response('500 Internal Server Error', [('Content-Type', 'text/plain')])
            return [b'Internal Server Error\n']
        raise value

    def _next_ask(self, before):
        """The task's next ask; (None, None) once request-timeout passed: then the task is
        cancelled and the answer is a 504 (start_response raises it once the response has
        begun: cut short)."""
        try:
            return self.asks.get(timeout=max(0, self.deadline - _monotonic())) if self.deadline else self.asks.get()
        except queue.Empty:
            pass
        import _swsgi_asgi
        self.loop.call_soon_threadsafe(self._cancel)
        self.environ['wsgi.errors'].write("swsgi: request-timeout of %s s reached by ASGI app '%s' before it %s the "
                                          "WebSocket handshake; its task is cancelled\n"
                                          % (_swsgi_asgi.REQUEST_TIMEOUT, self.environ.get('SCRIPT_FILENAME', ''), before))
        try:
            raise TimeoutError('request-timeout of %s s reached' % _swsgi_asgi.REQUEST_TIMEOUT)
        except TimeoutError:
            self.start_response('504 Gateway Timeout', [('Content-Type', 'text/plain')], sys.exc_info())
        return None, None

    def _response(self, head):
        """The app's HTTP response to the handshake (websocket.http.response): checked and
        streamed as an http request's, each piece handed to Apache before the app's send returns."""
        finished = False
        try:
            if isinstance(head, str):
                # One line, a 500 and nothing of the app's on the wire, as for an http response.
                self.environ['wsgi.errors'].write("swsgi: ASGI app '%s': %s\n" % (self.environ.get('SCRIPT_FILENAME', ''), head))
                self.start_response('500 Internal Server Error', [('Content-Type', 'text/plain')])
                yield b'Internal Server Error\n'
                return
            self.start_response(*head)
            while True:
                kind, value = self._next_ask('ended its HTTP response to')
                if kind is None:
                    yield b'Gateway Timeout\n'
                    return
                if kind == _BODY:
                    if value:
                        yield value
                    self.loop.call_soon_threadsafe(self._piece_sent)
                elif kind == _LAST:
                    if value:
                        yield value
                    finished = True
                    return
                elif kind == _RETURNED:
                    raise RuntimeError('ASGI callable returned without completing the response')
                else:
                    raise value
        finally:
            if not finished:
                self.loop.call_soon_threadsafe(self._cut_off)

    # The loop's side: the app.

    def _begin(self, scope):
        self.task = self.loop.create_task(self._call(scope))

    def _cancel(self):
        if self.task is not None:
            self.task.cancel()

    async def _call(self, scope):
        failure = None
        try:
            await self.owner.app(scope, self.receive, self.send)
        except BaseException as e:
            failure = e
        if self.state == 'handshake' or self.state == 'responding' and not self.cut:
            self.asks.put((_RETURNED, None) if failure is None else (_RAISED, failure))
            return
        if isinstance(failure, asyncio.CancelledError):
            self._close(1012, '')  # the server's request-timeout or its exit; once open, if not yet
            raise failure
        if failure is not None:
            _swsgi_support.log_exception(None, "swsgi: exception in ASGI app '%s' in its WebSocket"
                                         % self.environ.get('SCRIPT_FILENAME', ''), type(failure), failure, failure.__traceback__)
        while self.state == 'accepting':
            await self._wait_writable()
        # The app is done: the close handshake, if the connection is still open.
        self._close(1000 if failure is None else 1011, '')

    async def receive(self):
        if not self.connected:
            self.connected = True
            return {'type': 'websocket.connect'}
        while not self.messages:
            self.waiter = self.loop.create_future()
            await self.waiter
        message = self.messages[0]
        if message['type'] == 'websocket.disconnect':
            return message  # kept: every later receive gets it too
        self.messages.popleft()
        if self.reading_paused and len(self.messages) < MAX_QUEUED:
            self.reading_paused = False
            self.transport.resume_reading()
        return message

    async def send(self, message):
        kind = message['type']
        if self.state == 'handshake':
            if kind == 'websocket.accept':
                headers = self._accept_headers(message)
                self.state = 'accepting'
                self.asks.put((_ACCEPT, headers))
                return
            if kind == 'websocket.close':
                self.state = 'closed'
                self.asks.put((_DENY, None))
                self._deliver({'type': 'websocket.disconnect', 'code': 1006, 'reason': ''})
                return
            if kind == 'websocket.http.response.start':
                import _swsgi_asgi
                status = message.get('status')
                if type(status) is int and status < 200:
                    # It must be a final answer: with a 1xx (101 above all) the client would
                    # wait for another, or take the connection for a WebSocket.
                    head = 'the status of a WebSocket denial response must be an int from 200 to 999, not %d' % status
                else:
                    head = _swsgi_asgi._status_headers(status, message.get('headers', ()))
                self.state = 'responding'
                self.asks.put((_RESPOND, head))
                return
            raise RuntimeError("Expected ASGI message 'websocket.accept', 'websocket.close' or "
                               "'websocket.http.response.start', but got %r." % kind)
        if self.state == 'responding':
            return await self._send_piece(message)
        if self.state == 'answered':
            raise RuntimeError('Unexpected ASGI message %r, after the response already completed.' % kind)
        if kind not in ('websocket.send', 'websocket.close'):
            raise RuntimeError("Expected ASGI message 'websocket.send' or 'websocket.close', but got %r." % kind)
        while self.state == 'accepting':
            await self._wait_writable()
        if self.state == 'closing':
            raise RuntimeError('Unexpected ASGI message %r, after sending websocket.close.' % kind)
        if self.state == 'closed':
            raise ClientDisconnected('the WebSocket client went away')
        if kind == 'websocket.close':
            self._close(message.get('code') or 1000, message.get('reason') or '')
            return
        text, data = message.get('text'), message.get('bytes')
        if text is not None:
            self._write(0x1, text.encode('utf-8'))
        elif data is not None:
            self._write(0x2, message_bytes(data, kind, 'bytes'))
        else:
            raise RuntimeError("websocket.send needs 'bytes' or 'text'")
        while self.writable is not None and self.state != 'closed':
            await self._wait_writable()

    async def _send_piece(self, message):
        kind = message['type']
        if kind != 'websocket.http.response.body':
            raise RuntimeError("Expected ASGI message 'websocket.http.response.body', but got %r." % kind)
        body = message_bytes(message.get('body', b''), kind, 'body')
        if self.cut:
            return  # the response ended without it: as for an http response, sends go nowhere
        if message.get('more_body', False):
            sent = self.loop.create_future()
            self.unsent.append(sent)
            self.asks.put((_BODY, body))
            await sent
            return
        self.state = 'answered'
        self.asks.put((_LAST, body))
        self._deliver({'type': 'websocket.disconnect', 'code': 1006, 'reason': ''})

    def _piece_sent(self):
        """The worker handed the oldest piece to Apache (it takes them in order)."""
        _resolve(self.unsent.popleft())

    def _cut_off(self):
        """The worker ended the HTTP response before the app's last piece."""
        if self.state != 'responding':
            return
        self.cut = True
        while self.unsent:
            self._piece_sent()
        self._deliver({'type': 'websocket.disconnect', 'code': 1006, 'reason': ''})

    async def _wait_writable(self):
        if self.writable is None:
            self.writable = self.loop.create_future()
        await asyncio.shield(self.writable)

    def _wake_writers(self):
        writable, self.writable = self.writable, None
        if writable is not None and not writable.done():
            writable.set_result(None)

    def _accept_headers(self, message):
        key = self.environ['HTTP_SEC_WEBSOCKET_KEY'].encode('latin-1')
        headers = [('Upgrade', 'websocket'), ('Connection', 'Upgrade'),
                   ('Sec-WebSocket-Accept', base64.b64encode(hashlib.sha1(key + GUID).digest()).decode('ascii'))]
        subprotocol = message.get('subprotocol')
        if subprotocol is not None:
            headers.append(('Sec-WebSocket-Protocol', str(subprotocol)))
        for name, value in message.get('headers') or ():
            if not isinstance(name, bytes) or not isinstance(value, bytes):
                raise TypeError('websocket.accept header names and values must be bytes, not %s and %s'
                                % (type(name).__name__, type(value).__name__))
            headers.append((name.decode('latin-1'), value.decode('latin-1')))
        return headers

    def _deliver(self, message):
        self.messages.append(message)
        if len(self.messages) >= MAX_QUEUED and not self.reading_paused and self.state != 'closed':
            self.reading_paused = True
            self.transport.pause_reading()
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # The connection, once the Apache child gave it up.

    def _opened(self, handed):
        if handed is None:
            return self._gone(1006)
        fd, pending = handed
        self.buffer += pending
        sock = socket.socket(fileno=fd)
        sock.setblocking(False)
        self.loop.create_task(self._connect(sock))

    async def _connect(self, sock):
        try:
            await self.loop.connect_accepted_socket(lambda: self, sock)
        except OSError:
            sock.close()
            self._gone(1006)

    def connection_made(self, transport):
        self.transport = transport
        transport.set_write_buffer_limits(WRITE_LIMIT)
        self.state = 'open'
        _open.add(self)
        self._wake_writers()
        if self.task.done():
            self._close(1012, '')  # cancelled while the connection was on its way
        self._parse()

    def data_received(self, data):
        self.buffer += data
        self._parse()

    def eof_received(self):
        self._gone(1006)

    def connection_lost(self, exc):
        self._gone(1006)

    def pause_writing(self):
        if self.writable is None:
            self.writable = self.loop.create_future()

    def resume_writing(self):
        self._wake_writers()

    def _parse(self):
        buffer = self.buffer
        while self.state in ('open', 'closing') and len(buffer) >= 2:
            first, second = buffer[0], buffer[1]
            fin, opcode, length, at = first & 0x80, first & 0x0F, second & 0x7F, 2
            if first & 0x70:
                return self._fail(1002)  # no extension was negotiated
            if not second & 0x80:
                return self._fail(1002)  # a client's frames are masked
            if opcode >= 8 and (not fin or length > 125) or opcode not in (0, 1, 2, 8, 9, 10):
                return self._fail(1002)
            if length == 126:
                if len(buffer) < 4:
                    return
                length, at = int.from_bytes(buffer[2:4], 'big'), 4
            elif length == 127:
                if len(buffer) < 10:
                    return
                length, at = int.from_bytes(buffer[2:10], 'big'), 10
            if length + (self.message[2] if self.message and opcode == 0 else 0) > MAX_MESSAGE:
                return self._fail(1009)
            if len(buffer) < at + 4 + length:
                return
            payload = _unmask(buffer[at + 4:at + 4 + length], buffer[at:at + 4])
            del buffer[:at + 4 + length]
            self._frame(fin, opcode, payload)

    def _frame(self, fin, opcode, payload):
        if opcode == 0x9:
            if self.state == 'open':
                self._write(0xA, payload)
            return
        if opcode == 0xA:
            return
        if opcode == 0x8:
            return self._peer_closed(payload)
        if opcode == 0:
            if self.message is None:
                return self._fail(1002)
            self.message[1].append(payload)
            self.message[2] += len(payload)
        elif self.message is not None:
            return self._fail(1002)
        else:
            self.message = [opcode, [payload], len(payload)]
        if not fin:
            return
        opcode, parts, _ = self.message
        self.message = None
        if self.state != 'open':
            return  # after a close frame went out, the app gets no more messages
        data = b''.join(parts)
        if opcode == 0x2:
            return self._deliver({'type': 'websocket.receive', 'bytes': data})
        try:
            self._deliver({'type': 'websocket.receive', 'text': data.decode('utf-8')})
        except UnicodeDecodeError:
            self._fail(1007)

    def _peer_closed(self, payload):
        code, reason = 1005, ''
        if payload:
            code = int.from_bytes(payload[:2], 'big')
            try:
                reason = payload[2:].decode('utf-8')
            except UnicodeDecodeError:
                return self._fail(1007)
            if len(payload) < 2 or code not in VALID_CODES:
                return self._fail(1002)
        if self.state == 'open':
            self._write(0x8, payload[:2])  # the close handshake: its code echoed
        self._gone(code, reason)

    def _write(self, opcode, payload):
        self.transport.write(_header(opcode, len(payload)))
        self.transport.write(payload)

    def _close(self, code, reason):
        """A close frame from the server; the client has CLOSE_TIMEOUT to answer it."""
        if self.state != 'open':
            return
        self._write(0x8, code.to_bytes(2, 'big') + reason.encode('utf-8')[:123])
        self.state = 'closing'
        self.close_timer = self.loop.call_later(CLOSE_TIMEOUT, self.transport.abort)

    def _fail(self, code):
        """The client broke the protocol: a close frame with why, and the connection ends."""
        if self.state == 'open':
            self._write(0x8, code.to_bytes(2, 'big'))
        self._gone(code)

    def _gone(self, code, reason=''):
        if self.state == 'closed':
            return
        self.state = 'closed'
        _open.discard(self)
        if self.close_timer is not None:
            self.close_timer.cancel()
        if self.transport is not None:
            self.transport.close()  # after what is queued (a close frame) went out
        self._wake_writers()
        self._deliver({'type': 'websocket.disconnect', 'code': code, 'reason': reason})


def _close_all():
    """At process exit: each open WebSocket closes with 1012 (service restart), and its app has
    until shutdown-timeout to finish."""
    import _swsgi_asgi
    if not _open:
        return

    async def close_all():
        sessions = list(_open)
        for session in sessions:
            session._close(1012, 'service restart')
        tasks = [session.task for session in sessions if session.task is not None]
        if tasks:
            await asyncio.wait(tasks, timeout=_swsgi_asgi.SHUTDOWN_TIMEOUT)
        for session in sessions:
            if session.transport is not None:
                session.transport.abort()
    try:
        asyncio.run_coroutine_threadsafe(close_all(), _swsgi_asgi._loop).result(_swsgi_asgi.SHUTDOWN_TIMEOUT + 1)
    except Exception:
        pass
"""#
