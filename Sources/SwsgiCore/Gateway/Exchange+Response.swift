import CPython
import SwsgiABI
import SwsgiHTTP

/// Status and headers out, body bytes out, body bytes in.
extension Exchange {
    static let writeWithGIL: Int64 = 32 << 10
    private static let contentLengthName = UnsafePointer(strdup("Content-Length")!)

    /// Checks what the app gave start_response and hands it to Apache; nil, or the problem
    /// (then nothing was sent). fileLength: the bytes a file response can send.
    func sendHeaders(fileLength: Int64? = nil) -> String? {
        guard let request else { return "swsgi: no request" }
        let names = interpreter.names
        guard let status = PyRef(PyObject_GetAttr(request, names.status)),
              let headers = PyRef(PyObject_GetAttr(request, names.headers)) else {
            PyErr_Clear()
            return "swsgi: WSGI script '\(script)': cannot read the response status"
        }
        if status.ptr == swsgi_py_none() {
            return "swsgi: WSGI script '\(script)' returned a response without calling start_response()"
        }
        // Encoded copies of the non-ASCII texts, released when the headers are out.
        var owners: [PyPtr] = []
        defer { owners.forEach { swsgi_py_decref($0) } }
        guard swsgi_py_unicode_check(status.ptr) != 0, let statusText = latin1(status.ptr, keeping: &owners) else {
            return "swsgi: WSGI script '\(script)': the response status must be a str of Latin-1 characters"
        }
        if let problem = statusLineProblem(statusText) {
            return "swsgi: WSGI script '\(script)': \(problem)"
        }
        guard swsgi_py_list_check(headers.ptr) != 0 || swsgi_py_tuple_check(headers.ptr) != 0,
              let sequence = PyRef(PySequence_Fast(headers.ptr, "headers")) else {
            PyErr_Clear()
            return "swsgi: WSGI script '\(script)': the response headers must be a list of (name, value) tuples"
        }
        let count = PySequence_Size(sequence.ptr)
        var namePointers: [UnsafePointer<CChar>?] = [], valuePointers: [UnsafePointer<CChar>?] = []
        namePointers.reserveCapacity(count + 1)
        valuePointers.reserveCapacity(count + 1)
        var appLength: Int64?
        for i in 0..<count {
            let pair = PySequence_GetItem(sequence.ptr, i)!
            defer { swsgi_py_decref(pair) }
            guard swsgi_py_tuple_check(pair) != 0, swsgi_py_tuple_size(pair) == 2 else {
                return "swsgi: WSGI script '\(script)': response header \(i + 1) is not a (name, value) tuple"
            }
            let name = swsgi_py_tuple_item(pair, 0)!, value = swsgi_py_tuple_item(pair, 1)!
            guard swsgi_py_unicode_check(name) != 0, swsgi_py_unicode_check(value) != 0 else {
                return "swsgi: WSGI script '\(script)': response header names and values must be str, not \(typeName(name)) and \(typeName(value))"
            }
            guard let nameText = latin1(name, keeping: &owners) else {
                return "swsgi: WSGI script '\(script)': a response header name is not Latin-1"
            }
            if let problem = headerNameProblem(nameText) { return "swsgi: WSGI script '\(script)': \(problem)" }
            guard let valueText = latin1(value, keeping: &owners) else {
                return "swsgi: WSGI script '\(script)': the value of response header '\(text(nameText))' is not Latin-1"
            }
            if let problem = headerValueProblem(valueText) {
                return "swsgi: WSGI script '\(script)': response header '\(text(nameText))' has a value containing \(problem)"
            }
            if isContentLength(nameText) {
                guard let length = contentLength(valueText) else {
                    return "swsgi: WSGI script '\(script)': Content-Length '\(text(valueText))' is not a number"
                }
                appLength = length
            }
            namePointers.append(cString(nameText))
            valuePointers.append(cString(valueText))
        }
        if let fileLength { declaredLength = min(appLength ?? fileLength, fileLength) }
        if let appLength, fileLength == nil { declaredLength = appLength }
        if appLength == nil, let length = declaredLength, let value = PyBytes_FromString(String(length)) {
            owners.append(value)
            namePointers.append(Self.contentLengthName)
            valuePointers.append(UnsafePointer(swsgi_py_bytes_data(value)))
        }
        headersSent = true
        _ = withTransport(keepingGIL: true) { $0.start(status: cString(statusText), names: namePointers, values: valuePointers) }
        return nil
    }

    /// Writes body bytes without the GIL; false when the client is gone. Never more than the
    /// announced Content-Length: extra bytes would be read as the next response. nextReady:
    /// the app has its next block ready, so this one may wait in a buffer for it; otherwise
    /// it goes to the client now (PEP 3333: no block is held back; even the last one, as the
    /// app may take its time to end the iteration).
    func writeBody(_ data: UnsafePointer<CChar>, _ size: Int, nextReady: Bool) -> Bool {
        var size = Int64(size)
        if let declared = declaredLength, written + size > declared {
            log(SWSGI_LOG_ERR, "swsgi: WSGI script '\(script)' sent more than the \(declared) bytes its Content-Length announced; the rest is dropped")
            size = declared - written
            if size <= 0 { return false }
        }
        written += size
        let count = Int(size)
        // Apache's core output filter only blocks once 64 KiB wait unsent; below that a
        // write that does not flush cannot block, and keeping the GIL spares a hand-over to
        // another thread.
        return withTransport(keepingGIL: nextReady && written <= Self.writeWithGIL) {
            $0.write(data, count: count, flush: !nextReady)
        } ?? false
    }

    /// The write callable: sends the headers first if needed. false with a Python exception.
    func writeFromApp(_ data: PyPtr) -> Bool {
        guard swsgi_py_bytes_check(data) != 0 else {
            PyErr_SetString(PyExc_TypeError, "write() argument must be bytes, not \(typeName(data))")
            return false
        }
        if !headersSent, let problem = sendHeaders() {
            PyErr_SetString(PyExc_RuntimeError, problem)
            return false
        }
        if swsgi_py_bytes_size(data) > 0, !writeBody(swsgi_py_bytes_data(data), swsgi_py_bytes_size(data), nextReady: false) {
            PyErr_SetString(PyExc_OSError, "swsgi: failed to write response data: the client connection is gone")
            return false
        }
        return true
    }

    /// Body bytes for wsgi.input: up to size (all when size < 0); partial stops after one read.
    /// Read straight into the bytes object that is returned, without the GIL: the object is
    /// not shared until then. _PyBytes_Resize, which the C API reference documents for exactly
    /// this, grows or trims it in place, with no copy.
    func readBody(size: Int, partial: Bool) -> PyPtr? {
        var capacity = size >= 0 ? size : (bodyLeft ?? 65536)
        if let left = bodyLeft { capacity = min(capacity, left) }
        var object = PyBytes_FromStringAndSize(nil, capacity)
        var filled = 0, failed = false
        while let current = object {
            if filled == capacity {
                // Only a body of unknown length, read whole, outgrows its first guess.
                guard size < 0, bodyLeft == nil, capacity > 0 else { break }
                capacity *= 2
                guard _PyBytes_Resize(&object, capacity) == 0 else { return nil }
                continue
            }
            let data = swsgi_py_bytes_data(current)! + filled, room = capacity - filled
            guard let got = withTransport({ $0.read(into: data, count: room) }) else {
                swsgi_py_xdecref(object)
                return NativeModule.expired()
            }
            if got < 0 { failed = true }
            if got <= 0 { break }
            filled += got
            if partial { break }
        }
        if let left = bodyLeft { bodyLeft = left - filled }
        if failed {
            swsgi_py_xdecref(object)
            PyErr_SetString(PyExc_OSError, "swsgi: reading the request body failed: the client timed out or went away")
            return nil
        }
        if object != nil, filled != capacity, _PyBytes_Resize(&object, filled) != 0 { return nil }
        return object
    }
}

private func bytes(_ object: PyPtr) -> UnsafeBufferPointer<UInt8> {
    UnsafeBufferPointer(start: UnsafeRawPointer(swsgi_py_bytes_data(object)).assumingMemoryBound(to: UInt8.self),
                        count: swsgi_py_bytes_size(object))
}

/// A str's Latin-1 bytes, NUL-terminated: ASCII text in place, any other encoded into a new
/// bytes object kept in owners. nil (no exception left) when it is not Latin-1.
private func latin1(_ object: PyPtr, keeping owners: inout [PyPtr]) -> UnsafeBufferPointer<UInt8>? {
    var size = 0
    if let ascii = swsgi_py_ascii(object, &size) {
        return UnsafeBufferPointer(start: UnsafeRawPointer(ascii).assumingMemoryBound(to: UInt8.self), count: size)
    }
    guard let encoded = PyUnicode_AsLatin1String(object) else {
        PyErr_Clear()
        return nil
    }
    owners.append(encoded)
    return bytes(encoded)
}

private func cString(_ text: UnsafeBufferPointer<UInt8>) -> UnsafePointer<CChar> {
    UnsafeRawPointer(text.baseAddress!).assumingMemoryBound(to: CChar.self)
}

private func text(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
    String(decoding: bytes, as: UTF8.self)
}

func typeName(_ object: PyPtr) -> String {
    String(cString: swsgi_py_type(object).pointee.tp_name)
}
