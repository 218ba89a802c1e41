import CPython
import Glibc
import SwsgiABI
import SwsgiHTTP

/// One request's run through a WSGI app: start_response's status and headers checked and sent,
/// the result iterated (or its file sent with sendfile), close() always called. Lives for the
/// request only; the Python objects that point at it are cut loose in `finish`.
final class Exchange {
    let transport: Transport
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

    /// The `_h` handle Python objects of this request carry.
    func makeHandle() -> PyPtr? {
        handle = PyLong_FromVoidPtr(Unmanaged.passUnretained(self).toOpaque())
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
            transport.log(SWSGI_LOG_ERR, "swsgi: WSGI script '\(script)' sent \(written) of the \(declared) bytes its Content-Length announced")
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
        _ = withoutGIL { transport.sendFile(fd, offset: UInt64(offset), length: UInt64(length)) }
        written = length
        return 0
    }

    private func close(_ result: PyPtr) {
        guard PyObject_HasAttr(result, interpreter.names.close) != 0 else { return }
        if PyRef(PyObject_CallMethodNoArgs(result, interpreter.names.close)) == nil {
            interpreter.logPendingException(transport, handle: handle, message: "swsgi: exception in close() of the result of WSGI script '\(script)'")
        }
    }

    // MARK: failures

    private func fail(_ message: String) -> Int32 {
        transport.log(SWSGI_LOG_ERR, message)
        return headersSent ? -1 : 500
    }

    private func failWithException() -> Int32 {
        interpreter.logPendingException(transport, handle: handle, message: "swsgi: exception occurred processing WSGI script '\(script)'")
        return headersSent ? -1 : 500
    }

    /// Cuts the Python objects of this request loose from it.
    func finish() {
        let names = interpreter.names
        if let errors, let pending = PyRef(PyObject_GetAttr(errors, names.buffer)), PyObject_IsTrue(pending.ptr) == 1,
           PyRef(PyObject_CallMethodNoArgs(errors, names.flush)) == nil {
            PyErr_Clear()
        }
        for object in [request, input, errors] {
            guard let object else { continue }
            PyObject_SetAttr(object, names.handle, names.zero)
            swsgi_py_decref(object)
        }
        if let handle { swsgi_py_decref(handle) }
        request = nil; input = nil; errors = nil; handle = nil
    }
}
