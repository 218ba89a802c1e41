import CPython
import Glibc
import SwsgiABI
import SwsgiHTTP

/// One request's run through a WSGI app: start_response's status and headers checked and sent,
/// the result iterated (or its file sent with sendfile), close() always called. Lives for the
/// request only; the Python objects of the request reach it through a `RequestHandle`, which
/// `finish` expires.
final class Exchange {
    /// Only through `withTransport`.
    private let transport: Transport
    private let transportLock = Lock()
    /// Set once the request has finished; guarded by transportLock.
    private var finished = false
    let interpreter: Interpreter
    let script: String
    var headersSent = false
    private(set) var request: PyPtr?
    private var handle: PyPtr?
    /// wsgi.input and wsgi.errors, which carry the handle too.
    var input: PyPtr?
    var errors: PyPtr?
    /// Content-Length declared by the app (or computed by us), and what was written so far.
    var declaredLength: Int64?
    var written: Int64 = 0
    /// Body bytes that can still be read, when the request said (Content-Length).
    var bodyLeft: Int?

    init(transport: Transport, interpreter: Interpreter, script: String, bodyLength: Int?) {
        self.transport = transport
        self.interpreter = interpreter
        self.script = script
        self.bodyLeft = bodyLength
    }

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

    /// The handle the Python objects of this request carry (`_h`).
    func makeHandle() -> PyPtr? {
        handle = RequestHandle.make(type: interpreter.handleType, target: Unmanaged.passUnretained(self).toOpaque())
        return handle
    }

    func makeRequest() -> PyPtr? {
        guard let handle else { return nil }
        let none: PyPtr = swsgi_py_none()
        request = interpreter.instantiate(interpreter.requestType, [
            interpreter.names.handle: handle, interpreter.names.status: none, interpreter.names.headers: none])
        return request
    }

    // MARK: running the app

    /// Calls the app; 0 when a response went out, an HTTP status when nothing did, -1 when it
    /// broke after the headers.
    func run(application: PyPtr, environ: PyPtr) -> Int32 {
        guard let request, let startResponse = PyRef(PyObject_GetAttr(request, interpreter.names.startResponse)) else {
            return fail("swsgi: cannot prepare the request for WSGI script '\(script)'")
        }
        guard let result = PyRef(call(application, environ, startResponse.ptr)) else {
            return failWithException()
        }
        let status = respond(with: result.ptr)
        close(result.ptr)
        return status
    }

    private func respond(with result: PyPtr) -> Int32 {
        if swsgi_py_type(result) == UnsafeMutableRawPointer(interpreter.fileWrapperType).assumingMemoryBound(to: PyTypeObject.self),
           let status = sendFile(of: result) {
            return status
        }
        if !headersSent, let only = onlyItem(of: result), swsgi_py_bytes_check(only) != 0 {
            declaredLength = Int64(swsgi_py_bytes_size(only))
        }
        // A list or tuple holds every block already: they may be sent together. Any other
        // iterable may take its time to produce the next one.
        let allReady = swsgi_py_list_check(result) != 0 || swsgi_py_tuple_check(result) != 0
        guard let iterator = PyRef(PyObject_GetIter(result)) else { return failWithException() }
        while let item = PyRef(PyIter_Next(iterator.ptr)) {
            guard swsgi_py_bytes_check(item.ptr) != 0 else {
                let type = String(cString: swsgi_py_type(item.ptr).pointee.tp_name)
                return fail("swsgi: WSGI script '\(script)' returned response data of type \(type); it must be bytes")
            }
            let size = swsgi_py_bytes_size(item.ptr)
            if size == 0 { continue }
            if !headersSent, let problem = sendHeaders() { return fail(problem) }
            if !writeBody(swsgi_py_bytes_data(item.ptr), size, nextReady: allReady) { return 0 }
        }
        if PyErr_Occurred() != nil { return failWithException() }
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

    /// A one-element list or tuple's item: its length is the Content-Length.
    private func onlyItem(of result: PyPtr) -> PyPtr? {
        if swsgi_py_list_check(result) != 0, swsgi_py_list_size(result) == 1 { return swsgi_py_list_item(result, 0) }
        if swsgi_py_tuple_check(result) != 0, swsgi_py_tuple_size(result) == 1 { return swsgi_py_tuple_item(result, 0) }
        return nil
    }

    /// wsgi.file_wrapper over a regular file: headers, then sendfile from the file's position.
    /// nil when the file cannot be sent that way (the caller iterates instead).
    private func sendFile(of wrapper: PyPtr) -> Int32? {
        let names = interpreter.names
        guard let file = PyRef(PyObject_GetAttr(wrapper, names.filelike)),
              let fdObject = PyRef(PyObject_CallMethodNoArgs(file.ptr, names.fileno)),
              let position = PyRef(PyObject_CallMethodNoArgs(file.ptr, names.tell)) else {
            PyErr_Clear()
            return nil
        }
        let fd = Int32(truncatingIfNeeded: PyLong_AsLong(fdObject.ptr))
        let offset = Int64(PyLong_AsLongLong(position.ptr))
        var info = stat()
        guard PyErr_Occurred() == nil, fd >= 0, offset >= 0, fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            PyErr_Clear()
            return nil
        }
        if let problem = sendHeaders(fileLength: max(0, Int64(info.st_size) - offset)) { return fail(problem) }
        let length = declaredLength ?? 0
        // A failed send means the client went away: nothing more can be said to it.
        _ = withTransport { $0.sendFile(fd, offset: UInt64(offset), length: UInt64(length)) }
        written = length
        return 0
    }

    private func close(_ result: PyPtr) {
        guard PyObject_HasAttr(result, interpreter.names.close) != 0 else { return }
        if PyRef(PyObject_CallMethodNoArgs(result, interpreter.names.close)) == nil {
            interpreter.logPendingException(handle: handle, log: log, message: "swsgi: exception in close() of the result of WSGI script '\(script)'")
        }
    }

    // MARK: failures

    private func fail(_ message: String) -> Int32 {
        log(SWSGI_LOG_ERR, message)
        return headersSent ? -1 : 500
    }

    private func failWithException() -> Int32 {
        interpreter.logPendingException(handle: handle, log: log, message: "swsgi: exception occurred processing WSGI script '\(script)'")
        return headersSent ? -1 : 500
    }

    /// Ends the request for its Python objects, copies included: they raise from now on. A
    /// thread of the app still using the transport is waited for.
    func finish() {
        let names = interpreter.names
        if let errors, let pending = PyRef(PyObject_GetAttr(errors, names.buffer)), PyObject_IsTrue(pending.ptr) == 1,
           PyRef(PyObject_CallMethodNoArgs(errors, names.flush)) == nil {
            PyErr_Clear()
        }
        if let handle {
            RequestHandle.expire(handle)
            swsgi_py_decref(handle)
        }
        if !transportLock.tryLock() { withoutGIL { transportLock.lock() } }
        finished = true
        transportLock.unlock()
        for object in [request, input, errors] { if let object { swsgi_py_decref(object) } }
        request = nil; input = nil; errors = nil; handle = nil
    }
}
