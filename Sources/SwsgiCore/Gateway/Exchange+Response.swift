import Glibc
import SwsgiABI
import SwsgiHTTP
import SwsgiPython

/// Status and headers out, body bytes out, body bytes in.
extension Exchange {
    static let writeWithGIL: Int64 = 32 << 10
    private static let contentLengthName = UnsafePointer(strdup("Content-Length")!)

    /// Checks what the app gave start_response and hands it to Apache; nil, or the problem
    /// (then nothing was sent). fileLength: the bytes a file response can send.
    func sendHeaders(fileLength: Int64? = nil) -> String? {
        guard let status = interpreter.responseStatus(of: request), let headers = interpreter.responseHeaders(of: request) else {
            return "swsgi: WSGI script '\(script)': cannot read the response status"
        }
        if status.isNone {
            return "swsgi: WSGI script '\(script)' returned a response without calling start_response()"
        }
        // The texts sent, valid until the headers are out.
        var texts = Latin1Texts()
        guard status.isStr, let statusText = texts.text(of: status) else {
            return "swsgi: WSGI script '\(script)': the response status must be a str of Latin-1 characters"
        }
        if let problem = statusLineProblem(statusText) {
            return "swsgi: WSGI script '\(script)': \(problem)"
        }
        // The pairs are held in a tuple of their own until the headers are out: the texts point
        // into their strs, and once the GIL is let go (to wait for a thread of the app that
        // holds the transport) another thread may empty the app's list and free them.
        guard headers.isListOrTuple, let pairs = headers.tuple(), let count = pairs.tupleCount else {
            Python.clearError()
            return "swsgi: WSGI script '\(script)': the response headers must be a list of (name, value) tuples"
        }
        var namePointers: [UnsafePointer<CChar>?] = [], valuePointers: [UnsafePointer<CChar>?] = []
        namePointers.reserveCapacity(count + 1)
        valuePointers.reserveCapacity(count + 1)
        var appLength: Int64?
        for i in 0..<count {
            let pair = pairs.tupleItem(i)
            guard pair.tupleCount == 2 else {
                return "swsgi: WSGI script '\(script)': response header \(i + 1) is not a (name, value) tuple"
            }
            let name = pair.tupleItem(0), value = pair.tupleItem(1)
            guard name.isStr, value.isStr else {
                return "swsgi: WSGI script '\(script)': response header names and values must be str, not \(name.typeName) and \(value.typeName)"
            }
            guard let nameText = texts.text(of: name) else {
                return "swsgi: WSGI script '\(script)': a response header name is not Latin-1"
            }
            if let problem = headerNameProblem(nameText) { return "swsgi: WSGI script '\(script)': \(problem)" }
            guard let valueText = texts.text(of: value) else {
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
        if appLength == nil, let length = declaredLength, let value = texts.cString(String(length)) {
            namePointers.append(Self.contentLengthName)
            valuePointers.append(value)
        }
        headersSent = true
        // Three digits, checked above.
        sentStatus = statusText.prefix(3).reduce(0) { $0 * 10 + Int32($1 - 0x30) }
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
        // another thread. Nor can the first flushes of a daemon's response (see SocketTransport).
        let cannotWait = nextReady || flushes < flushesThatCannotWait
        if !nextReady { flushes += 1 }
        return withTransport(keepingGIL: cannotWait && written <= Self.writeWithGIL) {
            $0.write(data, count: count, flush: !nextReady)
        } ?? false
    }

    /// The write callable: sends the headers first if needed. false with a Python exception.
    func writeFromApp(_ data: borrowing PyRef) -> Bool {
        guard let bytes = data.bytes else {
            Python.raise(.type, "write() argument must be bytes, not \(data.typeName)")
            return false
        }
        if !headersSent, let problem = sendHeaders() {
            Python.raise(.runtime, problem)
            return false
        }
        if !bytes.isEmpty, !writeBody(bytes.baseAddress!, bytes.count, nextReady: false) {
            Python.raise(.os, "swsgi: failed to write response data: the client connection is gone")
            return false
        }
        return true
    }

    /// Body bytes for wsgi.input: up to size (all when size < 0); partial stops after one read.
    /// Read straight into the bytes object that is returned, without the GIL: the object is
    /// not shared until then.
    func readBody(size: Int, partial: Bool) -> PyRef? {
        // A body of unknown length starts in 64 KiB that grow as it comes: a large size
        // (read(2**40)) must not ask for that much memory before the body brings it.
        var capacity = min(size >= 0 ? size : Int.max, bodyLeft ?? 65536)
        guard var buffer = BytesBuffer(capacity: capacity) else { return nil }
        var filled = 0, failed = false
        while true {
            if filled == capacity {
                guard bodyLeft == nil, capacity > 0, size < 0 || capacity < size else { break }
                capacity = size < 0 ? capacity * 2 : min(capacity * 2, size)
                guard buffer.resize(to: capacity) else { return nil }
                continue
            }
            let data = buffer.data + filled, room = capacity - filled
            guard let got = withTransport({ $0.read(into: data, count: room) }) else { return Python.expired() }
            if got < 0 { failed = true }
            if got <= 0 { break }
            filled += got
            if partial { break }
        }
        if let left = bodyLeft { bodyLeft = left - filled }
        if failed {
            Python.raise(.os, "swsgi: reading the request body failed: the client timed out or went away")
            return nil
        }
        return buffer.finish(length: filled)
    }
}

private func cString(_ text: UnsafeBufferPointer<UInt8>) -> UnsafePointer<CChar> {
    UnsafeRawPointer(text.baseAddress!).assumingMemoryBound(to: CChar.self)
}

private func text(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
    String(decoding: bytes, as: UTF8.self)
}
