import SwsgiABI

/// What `_swsgi` calls on a request: the gateway's `Exchange`.
package protocol PythonRequest: AnyObject {
    /// Whether the response headers went out.
    var headersSent: Bool { get }
    /// Up to size body bytes (all when size < 0); partial: what one read gives. nil with an
    /// exception set.
    func readBody(size: Int, partial: Bool) -> PyRef?
    /// The write callable; false with an exception set.
    func writeFromApp(_ data: borrowing PyRef) -> Bool
    /// One line into the request's error log; false once the request has finished.
    func logLine(_ level: Int32, _ text: UnsafePointer<CChar>) -> Bool
    /// For a WebSocket the ASGI app accepted, after start_response with a 101: sends the head
    /// and gives up the client connection.
    func handOver() -> HandOver
    /// An ASGI http request's I/O from its task on the event loop (see `Exchange+Loop`):
    /// a body piece (without mayBlock only what cannot block), a file, a call the worker
    /// thread makes, the end (failure nil: the response is whole). false with an exception set.
    func asgiWrite(_ data: borrowing PyRef, mayBlock: Bool) -> LoopWrite
    func asgiSendFile(_ file: borrowing PyRef) -> Bool
    func asgiPost(_ job: consuming PyRef) -> Bool
    func asgiEnd(_ failure: Int32?) -> Bool
}

/// What became of a body piece an ASGI task wrote.
package enum LoopWrite {
    case sent
    /// Not sent: it could block the loop.
    case wouldWait
    /// The response cannot go on (the client went away, or a problem was logged).
    case failed
    /// With a Python exception set.
    case error
}

/// What became of a connection's hand-over.
package enum HandOver {
    /// Its descriptor (the caller's now) and the bytes read from it already.
    case given(fd: Int32, pending: [UInt8])
    /// The client is gone.
    case gone
    /// With a Python exception set.
    case failed
}

/// What the Python layer needs from the rest of the core, which registers it before Python
/// starts: it cannot import the gateway, which imports it.
package struct PythonHost {
    /// One line into the server's error log.
    package var log: (Int32, UnsafePointer<CChar>) -> Void
    /// The Apache version the shim was compiled for (apache.version).
    package var apacheVersion: [Int]
    /// The request at the address a handle was made for.
    package var request: (UnsafeMutableRawPointer) -> any PythonRequest
    /// The request this thread runs, if any (sys.stdout and sys.stderr log with it).
    package var runningRequest: () -> (any PythonRequest)?
    /// mod_wsgi.request_data(): the running request's dict (a new reference); nil outside one.
    package var requestData: () -> PyRef?
    /// mod_wsgi's process counts: requests finished and running, threads that ran requests,
    /// process start (seconds since the epoch), maximum processes, threads per process.
    package var processCounts: () -> (finished: Int, active: Int, threads: Int, start: Double, processes: Int, threadsPerProcess: Int)
    /// The eventfd that an application group's event loop watches for http requests, and
    /// what it calls then, on the loop (`_swsgi.asgi_doorbell`, `_swsgi.asgi_take`).
    package var asgiDoorbell: (String) -> Int32
    package var asgiTake: (String) -> Void

    package init(log: @escaping (Int32, UnsafePointer<CChar>) -> Void, apacheVersion: [Int],
                 request: @escaping (UnsafeMutableRawPointer) -> any PythonRequest,
                 runningRequest: @escaping () -> (any PythonRequest)?, requestData: @escaping () -> PyRef?,
                 processCounts: @escaping () -> (finished: Int, active: Int, threads: Int, start: Double, processes: Int, threadsPerProcess: Int),
                 asgiDoorbell: @escaping (String) -> Int32, asgiTake: @escaping (String) -> Void) {
        self.log = log
        self.apacheVersion = apacheVersion
        self.request = request
        self.runningRequest = runningRequest
        self.requestData = requestData
        self.processCounts = processCounts
        self.asgiDoorbell = asgiDoorbell
        self.asgiTake = asgiTake
    }
}
