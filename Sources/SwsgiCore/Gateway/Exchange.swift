import Glibc
import SwsgiABI
import SwsgiHTTP
import SwsgiPython

/// One request's run through a WSGI app: start_response's status and headers checked and sent,
/// the result iterated (or its file handed to Apache), close() always called. Lives for the
/// request only; the Python objects of the request reach it through a `RequestHandle`, which
/// `finish` expires.
final class Exchange: PythonRequest {
    /// Only through `withTransport`.
    private let transport: Transport
    private let transportLock = Lock()
    /// Set once the request has finished; guarded by transportLock.
    private var finished = false
    let interpreter: Interpreter
    let script: String
    var headersSent = false
    /// The status code of the headers sent, for the metrics; 0 before.
    var sentStatus: Int32 = 0
    /// The handle, start_response's object, wsgi.input and wsgi.errors, which carry the
    /// handle too: made by makeObjects, released by finish (with the GIL held, which the
    /// exchange's own release may not be). Only touched with the GIL held, which serialises
    /// every access: unchecked, since borrowing them would otherwise cost a tracked
    /// exclusivity check each time.
    @exclusivity(unchecked) private var handle: PyRef?
    @exclusivity(unchecked) private(set) var request: PyRef?
    @exclusivity(unchecked) private(set) var input: PyRef?
    @exclusivity(unchecked) private(set) var errors: PyRef?
    /// Content-Length declared by the app (or computed by us), and what was written so far.
    var declaredLength: Int64?
    var written: Int64 = 0
    /// The writes with flush: so far.
    var flushes = 0
    /// Body bytes that can still be read, when the request said (Content-Length).
    var bodyLeft: Int?
    /// An ASGI http request's, whose app runs on the event loop.
    var onLoop: LoopRequest?
    /// What an ASGI response that failed on its way out ends with (see run's result).
    var failedWith: Int32?

    init(transport: Transport, interpreter: Interpreter, script: String, bodyLength: Int?) {
        self.transport = transport
        self.interpreter = interpreter
        self.script = script
        self.bodyLeft = bodyLength
    }

    /// The transport's kind says it: read without transportLock.
    var flushesThatCannotWait: Int { transport.flushesThatCannotWait }

    /// Every use of the transport, called with the GIL held: by one thread at a time (an app
    /// may hand wsgi.input or wsgi.errors to its own threads, but neither Apache's request nor
    /// a daemon connection may be used by two at once), and never once the request has
    /// finished (nil then). body runs without the GIL, unless keepingGIL and the transport
    /// is free: for calls that cannot block.
    func withTransport<T>(keepingGIL: Bool = false, _ body: (Transport) -> T) -> T? {
        if keepingGIL, transportLock.tryLock() {
            defer { transportLock.unlock() }
            return finished ? nil : body(transport)
        }
        return withoutGIL {
            transportLock.lock()
            defer { transportLock.unlock() }
            return finished ? nil : body(transport)
        }
    }

    /// One line for this request's error log.
    func log(_ level: swsgi_level, _ message: String) {
        _ = withTransport(keepingGIL: true) { $0.log(level, message) }
    }

    /// `_swsgi`'s way back to this exchange: its handle's address.
    static func of(_ target: UnsafeMutableRawPointer) -> Exchange {
        Unmanaged<Exchange>.fromOpaque(target).takeUnretainedValue()
    }

    func logLine(_ level: Int32, _ text: UnsafePointer<CChar>) -> Bool {
        withTransport { $0.log(level, text) } != nil
    }

    /// The request's Python objects, over a new handle (`_h`); false with an exception set.
    func makeObjects() -> Bool {
        handle = interpreter.makeHandle(target: Unmanaged.passUnretained(self).toOpaque())
        switch handle {
        case .some(let handle):
            request = interpreter.makeRequest(handle: handle)
            guard request != nil else { return false }
            input = interpreter.makeInput(handle: handle)
            guard input != nil else { return false }
            errors = interpreter.makeErrors(handle: handle)
            return errors != nil
        case .none:
            return false
        }
    }

    // MARK: running the app

    /// Calls the app; 0 when a response went out, an HTTP status when nothing did, -1 when it
    /// broke after the headers.
    func run(application: borrowing PyRef, environ: borrowing PyRef) -> Int32 {
        guard let startResponse = request?.attribute(interpreter.names.startResponse) else {
            return fail("swsgi: cannot prepare the request for WSGI script '\(script)'")
        }
        guard let result = application.call(environ, startResponse) else {
            return failWithException()
        }
        let status = respond(with: result)
        close(result)
        return status
    }

    private func respond(with result: borrowing PyRef) -> Int32 {
        if result.hasType(interpreter.fileWrapperType), let status = sendFile(of: result) {
            return status
        }
        if !headersSent, let only = result.onlyItem, let bytes = only.bytes {
            declaredLength = Int64(bytes.count)
        }
        // A list or tuple holds every block already: they may be sent together. Any other
        // iterable may take its time to produce the next one.
        let allReady = result.isListOrTuple
        guard let iterator = result.iterator() else { return failWithException() }
        while let item = iterator.next() {
            guard let bytes = item.bytes else {
                return fail("swsgi: WSGI script '\(script)' returned response data of type \(item.typeName); it must be bytes")
            }
            if bytes.isEmpty { continue }
            if !headersSent, let problem = sendHeaders() { return fail(problem) }
            if !writeBody(bytes.baseAddress!, bytes.count, nextReady: allReady) { return 0 }
        }
        if Python.errorPending { return failWithException() }
        return endOfBody()
    }

    /// After the last block: the headers of an empty body if none went out, and whether the
    /// body was as long as announced.
    func endOfBody() -> Int32 {
        if !headersSent {
            if declaredLength == nil { declaredLength = 0 }
            if let problem = sendHeaders() { return fail(problem) }
        }
        if let declared = declaredLength, written < declared {
            log(SWSGI_LOG_ERR, "swsgi: WSGI script '\(script)' sent \(written) of the \(declared) bytes its Content-Length announced")
            return -1
        }
        return 0
    }

    /// wsgi.file_wrapper over a regular file: headers, then the file from its position.
    /// nil when the file cannot be sent that way (the caller iterates instead).
    private func sendFile(of wrapper: borrowing PyRef) -> Int32? {
        guard let file = wrapper.attribute(interpreter.names.filelike) else {
            Python.clearError()
            return nil
        }
        return sendFile(file)
    }

    /// A file object's file from its position: headers, then the file.
    func sendFile(_ file: borrowing PyRef) -> Int32? {
        let names = interpreter.names
        guard let fdObject = file.callMethod(names.fileno), let fdNumber = fdObject.int else {
            Python.clearError()
            return nil
        }
        // A number past Int32 is no descriptor, not the one its low bits name. The gateway's
        // own descriptor of the file is taken at once: once more of the app's code has run
        // (tell(), another thread while the GIL is let go), the number may name another file.
        guard let number = Int32(exactly: fdNumber), number >= 0 else { return nil }
        let fd = fcntl(number, F_DUPFD_CLOEXEC, 0)
        if fd < 0 { return nil }
        var info = stat()
        guard let position = file.callMethod(names.tell), let offset = position.int, offset >= 0,
              fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            Python.clearError()
            Glibc.close(fd)
            return nil
        }
        if let problem = sendHeaders(fileLength: max(0, Int64(info.st_size) - Int64(offset))) {
            Glibc.close(fd)
            return fail(problem)
        }
        let length = declaredLength ?? 0
        // A failed send means the client went away: nothing more can be said to it.
        if withTransport({ $0.sendFile(fd, offset: UInt64(offset), length: UInt64(length)) }) == nil { Glibc.close(fd) }
        written = length
        return 0
    }

    private func close(_ result: borrowing PyRef) {
        guard result.hasAttribute(interpreter.names.close) else { return }
        // An interruption that arrives in close() has nothing left to unwind.
        if result.callMethod(interpreter.names.close) == nil, !interpreter.takeRequestTimeout() {
            interpreter.logPendingException(handle: handle, log: log, message: "swsgi: exception in close() of the result of WSGI script '\(script)'")
        }
    }

    // MARK: failures

    func fail(_ message: String) -> Int32 {
        log(SWSGI_LOG_ERR, message)
        return headersSent ? -1 : 500
    }

    private func failWithException() -> Int32 {
        if interpreter.takeRequestTimeout() {
            log(SWSGI_LOG_INFO, "swsgi: request-timeout interrupted WSGI script '\(script)' (mod_wsgi.RequestTimeout) and it unwound"
                + (headersSent ? "; its response was cut short" : "; answering 504"))
            return headersSent ? -1 : 504
        }
        interpreter.logPendingException(handle: handle, log: log, message: "swsgi: exception occurred processing WSGI script '\(script)'")
        return headersSent ? -1 : 500
    }

    /// Ends the request for its Python objects, copies included: they raise from now on. A
    /// thread of the app still using the transport is waited for.
    func finish() {
        let names = interpreter.names
        if interpreter.hasPartialLine(errors) { _ = errors?.callMethod(names.flush) }
        Python.clearError()
        switch handle {
        case .some(let handle): RequestHandle.expire(handle)
        case .none: break
        }
        if !transportLock.tryLock() { withoutGIL { transportLock.lock() } }
        finished = true
        transportLock.unlock()
        request = nil; input = nil; errors = nil; handle = nil
    }
}
