import SwsgiConfig

/// The Python half of the gateway, executed as module `_swsgi_support` in every interpreter:
/// the objects apps touch (start_response, wsgi.input, wsgi.errors, wsgi.file_wrapper) are
/// plain Python classes over a few native calls into the core (module `_swsgi`). Request
/// objects carry the core's request handle `_h` (`RequestHandle`), which expires when the
/// request ends: an app that keeps them, or copies of them, gets a RuntimeError instead of
/// touching a finished request. None as the handle is the server's log. The per-request objects
/// have __slots__ and are made by the core without calling __init__ (it sets the slots
/// itself): that is most of what a request costs in Python.
let supportSource = #"""
# Only what every process needs is imported here: hashlib would map OpenSSL into every
# process, traceback is imported when an exception is first logged.
import sys, _thread, _md5
import _swsgi

_log, _read, _write, _sent = _swsgi.log, _swsgi.read, _swsgi.write, _swsgi.sent
ERR, INFO = 3, 6


class _NoLock:
    """wsgi.errors belongs to one request; only sys.stdout and sys.stderr are shared by threads."""

    __slots__ = ()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


NO_LOCK = _NoLock()


class Log:
    """sys.stdout, sys.stderr and wsgi.errors: whole lines into Apache's error log."""

    __slots__ = ('_h', '_level', 'name', '_buf', '_lock')
    encoding = 'utf-8'
    errors = 'backslashreplace'
    closed = False

    def __init__(self, h, level, name, lock):
        self._h, self._level, self.name, self._buf, self._lock = h, level, name, '', lock

    def write(self, s):
        if not isinstance(s, str):
            raise TypeError('write() argument must be str, not %s' % type(s).__name__)
        with self._lock:
            *lines, self._buf = (self._buf + s).split('\n')
        for line in lines:
            _log(self._h, self._level, line)
        return len(s)

    def writelines(self, lines):
        for s in lines:
            self.write(s)

    def flush(self):
        with self._lock:
            rest, self._buf = self._buf, ''
        if rest:
            _log(self._h, self._level, rest)

    close = flush

    def isatty(self):
        return False

    def writable(self):
        return True

    def readable(self):
        return False

    def seekable(self):
        return False


class Input:
    """wsgi.input: the request body, already de-chunked by Apache."""

    __slots__ = ('_h', '_buf')

    def read(self, size=-1):
        buf = self._buf
        if size is None or size < 0:
            self._buf = b''
            return buf + _read(self._h, -1, False)
        if size <= len(buf):
            self._buf = buf[size:]
            return buf[:size]
        self._buf = b''
        return buf + _read(self._h, size - len(buf), False)

    def readline(self, size=-1):
        if size is None:
            size = -1
        while True:
            buf = self._buf
            end = buf.find(b'\n') + 1
            if end and (size < 0 or end <= size):
                self._buf = buf[end:]
                return buf[:end]
            if 0 <= size <= len(buf):
                self._buf = buf[size:]
                return buf[:size]
            chunk = _read(self._h, 8192, True)
            if not chunk:
                self._buf = b''
                return buf
            self._buf = buf + chunk

    def readlines(self, hint=-1):
        lines, total = [], 0
        for line in self:
            lines.append(line)
            total += len(line)
            if hint is not None and 0 < hint <= total:
                break
        return lines

    def __iter__(self):
        return self

    def __next__(self):
        line = self.readline()
        if not line:
            raise StopIteration
        return line


class FileWrapper:
    """wsgi.file_wrapper; the core hands a wrapped regular file to Apache whole."""

    def __init__(self, filelike, blksize=8192):
        self.filelike, self.blksize = filelike, blksize

    def __iter__(self):
        return self

    def __next__(self):
        data = self.filelike.read(self.blksize)
        if data:
            return data
        raise StopIteration

    def close(self):
        close = getattr(self.filelike, 'close', None)
        if close is not None:
            close()


class Request:
    """Holds what the app gave start_response; the core reads status and headers."""

    __slots__ = ('_h', 'status', 'headers')

    def start_response(self, status, headers, exc_info=None):
        sent = _sent(self._h)  # raises once the request has finished
        if exc_info is not None:
            try:
                if sent:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif self.status is not None:
            raise RuntimeError('start_response() called a second time without exc_info')
        self.status, self.headers = status, headers
        if _mod_wsgi.event_callbacks:
            _publish('response_started', {'request_id': getattr(_events, 'request_id', None),
                                          'response_status': status, 'response_headers': headers,
                                          'exception_info': exc_info})
        return self.write

    def write(self, data):
        _write(self._h, data)


_load_lock = _thread.RLock()
# This process's daemon group ("" in an Apache child), set when the interpreter is made.
PROCESS_GROUP = ''


def load_script(path, mtime):
    """Loads (or reloads, when mtime changed) a WSGI script as module _mod_wsgi_<md5>."""
    name = '_mod_wsgi_' + _md5.md5(path.encode('utf-8', 'surrogateescape')).hexdigest()
    with _load_lock:
        module = sys.modules.get(name)
        # mtime 0: reloading is off, whatever loaded the script first (WSGIImportScript) stands.
        if module is not None and (mtime == 0 or getattr(module, '__mtime__', None) == mtime):
            return module
        _log(None, INFO, "swsgi: %s WSGI script '%s' in process group '%s', application group '%s'"
             % ('reloading' if module is not None else 'loading', path, PROCESS_GROUP, APPLICATION_GROUP))
        with open(path, 'rb') as f:
            code = compile(f.read(), path, 'exec', dont_inherit=True)
        module = type(sys)(name)
        module.__file__, module.__mtime__ = path, mtime
        sys.modules[name] = module
        try:
            exec(code, module.__dict__)
        except BaseException:
            del sys.modules[name]
            raise
        return module


def dispatch(path, mtime, environ):
    """WSGIDispatchScript: what its process_group, application_group and callable_object
    functions say for this request, each a str or None (keep the configured value)."""
    module = load_script(path, mtime)
    answers = []
    for name in ('process_group', 'application_group', 'callable_object'):
        function = getattr(module, name, None)
        answer = None if function is None else function(environ)
        if answer is not None and not isinstance(answer, str):
            raise TypeError("%s() of WSGIDispatchScript '%s' returned %s, not a str or None"
                            % (name, path, type(answer).__name__))
        answers.append(answer)
    return tuple(answers)


def log_exception(h, message, etype, value, tb):
    import traceback
    if h and _mod_wsgi.event_callbacks:
        _publish('request_exception', {'request_id': getattr(_events, 'request_id', None),
                                       'exception_info': (etype, value, tb)})
    _log(h, ERR, message)
    for chunk in traceback.format_exception(etype, value, tb):
        for line in chunk.rstrip('\n').split('\n'):
            _log(h, ERR, line)
    hint = _isolation_hint(value)
    if hint:
        _log(h, ERR, hint)


# This interpreter's application group ("" the main one), set when the interpreter is made.
APPLICATION_GROUP = ''


def _isolation_hint(value):
    """The one line that explains an extension refused by an interpreter with its own GIL."""
    while value is not None:
        text = str(value)
        if isinstance(value, ImportError) and ' does not support loading in subinterpreters' in text:
            # CPython's words: "module NAME does not support loading in subinterpreters".
            name = value.name or text.split(' does not support')[0].split()[-1]
            return ("swsgi: extension module '%s' cannot be loaded in application group '%s', whose "
                    "interpreter has its own GIL (WSGIPerInterpreterGIL On): the module does not support "
                    "several interpreters; run the application with WSGIPerInterpreterGIL Off for that "
                    "group, or in application group %%{GLOBAL}" % (name, APPLICATION_GROUP))
        value = value.__cause__ or value.__context__
    return None


def _note_site_dir(d):
    _log(None, INFO, "swsgi: adding '%s' to path." % d)


\#(sitePathSource)


# `import mod_wsgi`: what mod_wsgi 4.9 offers apps, as far as swsgi can tell it truthfully.
_mod_wsgi = type(sys)('mod_wsgi')


def _subscribe_events(callback):
    _mod_wsgi.event_callbacks.append(callback)


def _subscribe_shutdown(callback):
    _mod_wsgi.shutdown_callbacks.append(callback)


def _process_metrics():
    import os, time, resource
    finished, active, threads, start, _, _ = _swsgi.process_counts()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    with open('/proc/self/status') as f:
        kib = {k: int(v.split()[0]) for k, _, v in (line.partition(':') for line in f) if k in ('VmRSS', 'VmHWM')}
    now = time.time()
    return {'pid': os.getpid(), 'request_count': finished, 'active_requests': active,
            'request_threads': threads, 'memory_rss': kib['VmRSS'] * 1024, 'memory_max_rss': kib['VmHWM'] * 1024,
            'cpu_user_time': usage.ru_utime, 'cpu_system_time': usage.ru_stime,
            'restart_time': start, 'current_time': now, 'running_time': int(now - start)}


def _server_metrics():
    """The server's metrics, the numbers the swsgi-metrics endpoint gives: 'metrics' maps
    each sample name to its [(labels, value)]; 'processes' lists the daemon processes and the
    Apache children (process_group '(embedded)'). None outside Apache's processes."""
    import re, time
    text = _swsgi.metrics()
    if text is None:
        return None
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith('#'):
            continue
        head, _, value = line.rpartition(' ')
        name, _, labels = head.partition('{')
        labels = {k: re.sub(r'\\(.)', lambda m: '\n' if m.group(1) == 'n' else m.group(1), v)
                  for k, v in re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', labels)}
        samples.setdefault(name, []).append((labels, float(value)))
    processes = {}
    for name, key in (('swsgi_process_requests_total', 'request_count'), ('swsgi_process_busy_threads', 'active_requests'),
                      ('swsgi_process_threads', 'request_threads'), ('swsgi_process_start_time_seconds', 'restart_time'),
                      ('swsgi_process_cpu_seconds_total', 'cpu_time'), ('swsgi_process_resident_memory_bytes', 'memory_rss')):
        for labels, value in samples.get(name, []):
            entry = processes.setdefault((labels['group'], labels['process']),
                                         {'process_group': labels['group'], 'process_num': int(labels['process'])})
            entry[key] = value
    return {'current_time': time.time(), 'metrics': samples, 'processes': list(processes.values())}


_recording = None


def _usage_now():
    import time
    usage = _swsgi.process_usage()
    return None if usage is None else (time.time(),) + usage


def _start_recording_metrics():
    global _recording
    _recording = _usage_now()


def _request_metrics():
    """This process's requests since the previous call (or start_recording_metrics()): their
    count and rate, mean time in the app, and the share of the worker threads' time busy."""
    global _recording
    now = _usage_now()
    if now is None:
        return None
    before = _recording or (_swsgi.process_counts()[3], 0, 0, 0, now[4])
    _recording = now
    period = max(now[0] - before[0], 1e-6)
    count, busy = now[1] - before[1], (now[2] - before[2]) / 1e6
    return {'start_time': before[0], 'stop_time': now[0], 'sample_period': period,
            'request_count': count, 'request_rate': count / period,
            'application_time': busy / count if count else 0.0,
            # Busy time is counted as requests end: one begun before the period can push a
            # short period's share past 1.
            'capacity_utilization': min(busy / (period * max(now[4], 1)), 1.0),
            'request_threads': now[3], 'request_threads_maximum': now[4]}


class RequestTimeout(BaseException):
    """Raised in the thread of a request that ran past request-timeout, when interrupt-timeout
    is set: not an Exception, so that `except Exception` lets it unwind the request."""


RequestTimeout.__module__ = 'mod_wsgi'


def _log_handler_type():
    import logging

    class LogHandler(logging.Handler):
        """logging records into Apache's error log, each at the Apache level of its Python
        level (other levels round down: 35 is a warning), one line per line of the text."""

        def emit(self, record):
            try:
                text = self.format(record)
            except Exception:
                self.handleError(record)
                return
            n = record.levelno
            level = 2 if n >= 50 else 3 if n >= 40 else 4 if n >= 30 else 6 if n >= 20 else 7
            for line in text.split('\n'):
                _log(None, level, line)

    LogHandler.__module__ = 'mod_wsgi'
    return LogHandler


def _mod_wsgi_attribute(name):
    # LogHandler is made when first asked for: logging is not imported into every process.
    if name == 'LogHandler':
        _mod_wsgi.LogHandler = _log_handler_type()
        return _mod_wsgi.LogHandler
    raise AttributeError("module 'mod_wsgi' has no attribute %r" % name)


def setup_mod_wsgi(version, process_group, application_group):
    m = _mod_wsgi
    _, _, _, _, m.maximum_processes, m.threads_per_process = _swsgi.process_counts()
    m.version, m.process_group, m.application_group = version, process_group, application_group
    m.FileWrapper = FileWrapper
    m.event_callbacks, m.shutdown_callbacks = [], []
    # request_data, subscribe_events, ...: built-in functions, as mod_wsgi's are, most of
    # them calling this module's function of the name with a leading underscore.
    vars(m).update(_swsgi.mod_wsgi_functions(sys.modules[__name__]))
    m.RequestTimeout = RequestTimeout
    m.__getattr__ = _mod_wsgi_attribute
    sys.modules['mod_wsgi'] = m
    return m.event_callbacks


def _publish(name, event):
    """Calls each subscriber as mod_wsgi does: callback(name, **event); a dict it returns
    updates the event. An exception is logged and does not stop the others."""
    callbacks = list(_mod_wsgi.event_callbacks)
    if name == 'process_stopping':
        callbacks += _mod_wsgi.shutdown_callbacks
    try:
        event['request_data'] = _swsgi.request_data()
    except RuntimeError:
        pass
    for callback in callbacks:
        try:
            result = callback(name, **event)
        except BaseException:
            log_exception(None, 'swsgi: exception in a mod_wsgi event callback', *sys.exc_info())
            continue
        if isinstance(result, dict):
            event.update(result)
    return event


def _microseconds(environ, key):
    value = environ.get(key)
    return int(value) / 1e6 if value else 0.0


# The request whose events this thread is publishing.
_events = _thread._local()


def request_started(environ, application):
    _events.request_id = environ.get('mod_wsgi.request_id')
    event = _publish('request_started', {
        'request_id': environ.get('mod_wsgi.request_id'), 'thread_id': environ.get('mod_wsgi.thread_id'),
        'request_start': _microseconds(environ, 'mod_wsgi.request_start'),
        'queue_start': _microseconds(environ, 'mod_wsgi.queue_start'),
        'daemon_start': _microseconds(environ, 'mod_wsgi.daemon_start'),
        'application_object': application, 'request_environ': environ,
        'application_start': _microseconds(environ, 'mod_wsgi.script_start')})
    return event['application_object']


def request_finished(environ, output_length):
    import time
    start, finish = _microseconds(environ, 'mod_wsgi.script_start'), time.time()
    _events.request_id = None
    _publish('request_finished', {
        'request_id': environ.get('mod_wsgi.request_id'), 'output_length': output_length,
        'application_finish': finish, 'application_time': finish - start})


def process_stopping(reason):
    if _mod_wsgi.event_callbacks or _mod_wsgi.shutdown_callbacks:
        _publish('process_stopping', {'shutdown_reason': reason})


sys.stdout = Log(None, ERR, '<stdout>', _thread.allocate_lock())
sys.stderr = Log(None, ERR, '<stderr>', _thread.allocate_lock())
sys.argv = ['mod_wsgi']
"""#
