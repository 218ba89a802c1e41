import SwsgiPython

/// The I/O of an ASGI http request, asked for by its task on the event loop (or by what the
/// task posted to the worker thread): `_swsgi.asgi_write`, `asgi_send_file`, `asgi_post`, `asgi_end`.
extension Exchange {
    func asgiWrite(_ data: borrowing PyRef, mayBlock: Bool) -> LoopWrite {
        guard let bytes = data.bytes else {
            Python.raise(.type, "swsgi: asgi_write() takes bytes, not \(data.typeName)")
            return .error
        }
        if failedWith != nil { return .failed }
        if !headersSent, let problem = sendHeaders() {
            failedWith = fail(problem)
            return .failed
        }
        if bytes.isEmpty { return .sent }
        // What writeBody sends keeping the GIL cannot block: anything more waits for the worker.
        if !mayBlock, flushes >= flushesThatCannotWait || written + Int64(bytes.count) > Self.writeWithGIL { return .wouldWait }
        guard writeBody(bytes.baseAddress!, bytes.count, nextReady: false) else {
            // The client went away.
            failedWith = 0
            return .failed
        }
        return .sent
    }

    /// false when file is not a regular file, which the caller then sends as body pieces.
    func asgiSendFile(_ file: borrowing PyRef) -> Bool {
        guard let status = sendFile(file) else { return false }
        if status != 0 { failedWith = status }
        return true
    }

    func asgiPost(_ job: consuming PyRef) -> Bool {
        guard let onLoop else { Python.raise(.runtime, notOnLoop); return false }
        onLoop.post(job)
        return true
    }

    func asgiEnd(_ failure: Int32?) -> Bool {
        guard let onLoop else { Python.raise(.runtime, notOnLoop); return false }
        onLoop.end(failure)
        return true
    }

    /// The result of the request once its app ended it: failure nil when it sent its response
    /// whole, else the status it failed with (an exception was logged, nothing more is sent).
    func asgiResult(_ failure: Int32?) -> Int32 {
        if let failedWith { return failedWith }
        if let failure { return headersSent ? -1 : failure }
        return endOfBody()
    }
}

private let notOnLoop = "swsgi: not an ASGI request on the event loop"
