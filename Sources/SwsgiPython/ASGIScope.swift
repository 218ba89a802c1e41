import CPython
import Glibc

/// What an ASGI http scope is made of, as the request's CGI variables have it (C strings
/// valid while the scope is made; nil where the request has none).
package struct ScopeFacts {
    package var method, serverProtocol, requestURI, scriptName, queryString: UnsafePointer<CChar>?
    /// The request's header lines, "Name: value" each, as the client sent them (swsgi.asgi_headers).
    package var headers: UnsafePointer<CChar>?
    package var remoteAddress, remotePort, serverAddress, serverPort, listenerPort: UnsafePointer<CChar>?
    package var https = false
    package init() {}
}

/// What the scopes of an interpreter share, made once: `_swsgi_asgi`'s begin and ASGI (the
/// version dict every scope holds), the scope's keys and constant values.
struct ASGIObjects {
    let begin: PyPtr
    let version: PyConstant
    let type = internedName("type"), asgi = internedName("asgi"), httpVersion = internedName("http_version")
    let method = internedName("method"), scheme = internedName("scheme"), path = internedName("path")
    let rawPath = internedName("raw_path"), rootPath = internedName("root_path"), queryString = internedName("query_string")
    let headers = internedName("headers"), client = internedName("client"), server = internedName("server")
    let extensions = internedName("extensions"), pathsend = internedName("http.response.pathsend")
    let http = internedName("http"), version11 = internedName("1.1"), version10 = internedName("1.0"), version2 = internedName("2")
}

extension Interpreter {
    /// The http scope of a request, but its `state` (the ASGI layer adds a copy of its app's
    /// lifespan state once the startup ended); nil with an exception set.
    package func asgiHTTPScope(_ facts: ScopeFacts) -> PyRef? {
        guard let o = asgiObjects(), let scope = DictBuilder(capacity: 16),
              let extensions = DictBuilder(capacity: 1), let pathsend = DictBuilder() else { return nil }
        scope.set(o.type, o.http)
        scope.set(o.asgi, o.version)
        // SERVER_PROTOCOL after "HTTP/"; mod_http2's HTTP/2.0 is "2".
        let version = facts.serverProtocol.map { strlen($0) > 5 ? $0 + 5 : $0 }
        if let version, version[0] == 0x32 /* 2 */ {
            scope.set(o.httpVersion, o.version2)
        } else if let version, strcmp(version, "1.1") != 0 {
            if strcmp(version, "1.0") == 0 { scope.set(o.httpVersion, o.version10) } else { scope.set(o.httpVersion, latin1(version)) }
        } else {
            scope.set(o.httpVersion, o.version11)
        }
        scope.set(o.method, latin1(facts.method ?? noText))
        scope.set(o.scheme, facts.https ? names.https : names.http)
        let uri = facts.requestURI ?? noText
        let rawLength = strcspn(uri, "?")
        scope.set(o.path, decodedPath(uri, count: rawLength))
        scope.set(o.rawPath, PyRef(PyBytes_FromStringAndSize(uri, rawLength)))
        let root = facts.scriptName ?? noText
        scope.set(o.rootPath, PyRef(PyUnicode_DecodeUTF8(root, strlen(root), "replace")))
        let query = facts.queryString ?? noText
        scope.set(o.queryString, PyRef(PyBytes_FromStringAndSize(query, strlen(query))))
        scope.set(o.headers, headerList(facts.headers ?? noText))
        scope.set(o.client, address(facts.remoteAddress, port: facts.remotePort))
        scope.set(o.server, address(facts.serverAddress, port: facts.listenerPort ?? facts.serverPort))
        extensions.set(o.pathsend, pathsend.finish())
        scope.set(o.extensions, extensions.finish())
        return PyErr_Occurred() == nil ? scope.finish() : nil
    }

    /// For a WebSocket handshake, which the ASGI layer answers as a WSGI app: its http scope as
    /// environ's swsgi.asgi_scope. false with an exception set.
    package func addASGIScope(to environ: borrowing PyRef, _ facts: ScopeFacts) -> Bool {
        guard let scope = asgiHTTPScope(facts) else { return false }
        return PyDict_SetItemString(environ.ptr, "swsgi.asgi_scope", scope.ptr) == 0
    }

    /// `_swsgi_asgi.begin(adapter, scope, request, script, body_left, connection, refusal)` on the
    /// event loop: the request's task starts. The ASGI layer's exchange (for timed_out); nil
    /// with an exception set.
    package func asgiBegin(adapter: borrowing PyRef, scope: borrowing PyRef, request: borrowing PyRef, script: String,
                           bodyLeft: Int?, connection: Int32?, refusal: String?) -> PyRef? {
        let none: PyPtr = swsgi_py_none()
        guard let o = asgiObjects(), let path = PyRef(PyUnicode_DecodeFSDefault(script)),
              let left = bodyLeft == nil ? PyRef(borrowing: none) : PyRef(PyLong_FromLong(bodyLeft!)),
              let fd = connection == nil ? PyRef(borrowing: none) : PyRef(PyLong_FromLong(Int(connection!))),
              let reason = refusal == nil ? PyRef(borrowing: none) : PyRef(PyUnicode_FromString(refusal!)) else { return nil }
        return PyRef(call(o.begin, adapter.ptr, scope.ptr, request.ptr, path.ptr, left.ptr, fd.ptr, reason.ptr))
    }

    private func asgiObjects() -> ASGIObjects? {
        if let asgi { return asgi }
        guard let module = Self.loadedASGIModule(), let begin = PyRef(PyObject_GetAttrString(module.ptr, "begin")),
              let version = PyRef(PyObject_GetAttrString(module.ptr, "ASGI")) else { return nil }
        // Kept for the interpreter's life.
        asgi = ASGIObjects(begin: begin.take(), version: PyConstant(version.take()))
        return asgi
    }

    /// [(name, value)] in bytes, names lowercased, from "Name: value" lines.
    private func headerList(_ lines: UnsafePointer<CChar>) -> PyRef? {
        guard let list = PyRef(PyList_New(0)) else { return nil }
        var line = lines
        while line[0] != 0 {
            let length = strcspn(line, "\n")
            var nameLength = 0
            while nameLength < length, !(line[nameLength] == 0x3A /* : */ && nameLength + 1 < length && line[nameLength + 1] == 0x20) {
                nameLength += 1
            }
            if nameLength > 0 {
                let valueStart = min(length, nameLength + 2)
                guard let name = PyRef(PyBytes_FromStringAndSize(nil, nameLength)),
                      let value = PyRef(PyBytes_FromStringAndSize(line + valueStart, length - valueStart)) else { return nil }
                let bytes = swsgi_py_bytes_data(name.ptr)!
                for i in 0..<nameLength { bytes[i] = CChar(bitPattern: UInt8(tolower(Int32(UInt8(bitPattern: line[i]))))) }
                guard let pair = pair(name, value), PyList_Append(list.ptr, pair.ptr) == 0 else { return nil }
            }
            line += length
            if line[0] != 0 { line += 1 }
        }
        return list
    }

    /// (host, port) from CGI variables; a port that is no number counts as 0.
    private func address(_ host: UnsafePointer<CChar>?, port: UnsafePointer<CChar>?) -> PyRef? {
        guard let host = latin1(host ?? noText), let number = PyRef(PyLong_FromLong(port.map { strtol($0, nil, 10) } ?? 0)) else { return nil }
        return pair(host, number)
    }
}

/// What a CGI variable the request does not have stands for.
private let noText = UnsafePointer(strdup("")!)

private func latin1(_ text: UnsafePointer<CChar>) -> PyRef? {
    PyRef(PyUnicode_DecodeLatin1(text, strlen(text), nil))
}

/// (first, second).
private func pair(_ first: borrowing PyRef, _ second: borrowing PyRef) -> PyRef? {
    guard let tuple = PyRef(PyTuple_New(2)) else { return nil }
    PyTuple_SetItem(tuple.ptr, 0, first.copy().take())
    PyTuple_SetItem(tuple.ptr, 1, second.copy().take())
    return tuple
}

/// The scope's path: the URI's path percent-decoded, as UTF-8 (invalid bytes replaced).
private func decodedPath(_ uri: UnsafePointer<CChar>, count: Int) -> PyRef? {
    let decoded = UnsafeRawPointer(uri).withMemoryRebound(to: UInt8.self, capacity: count) {
        percentDecoded(UnsafeBufferPointer(start: $0, count: count))
    }
    return PyRef(decoded.withUnsafeBytes { bytes -> PyPtr? in
        PyUnicode_DecodeUTF8(bytes.baseAddress?.assumingMemoryBound(to: CChar.self) ?? noText, bytes.count, "replace")
    })
}

/// As urllib.parse.unquote_to_bytes: each %XX of two hex digits is its byte.
private func percentDecoded(_ bytes: UnsafeBufferPointer<UInt8>) -> [UInt8] {
    func hex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x37
        case 0x61...0x66: byte - 0x57
        default: nil
        }
    }
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count + 1)
    var i = 0
    while i < bytes.count {
        if bytes[i] == 0x25 /* % */, i + 2 < bytes.count, let high = hex(bytes[i + 1]), let low = hex(bytes[i + 2]) {
            out.append(high << 4 | low)
            i += 3
        } else {
            out.append(bytes[i])
            i += 1
        }
    }
    return out
}
