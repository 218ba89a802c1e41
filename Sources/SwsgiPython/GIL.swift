import CPython
import SwsgiABI

/// Runs body with the GIL released: for every call that may block (client and socket I/O).
@inlinable
package func withoutGIL<T>(_ body: () throws -> T) rethrows -> T {
    let state = PyEval_SaveThread()
    defer { takeGIL(state) }
    return try body()
}

/// PyEval_RestoreThread, with the wait for the GIL counted in the request's metrics.
@inlinable
package func takeGIL(_ state: UnsafeMutablePointer<PyThreadState>?) {
    let since = swsgi_metrics_clock()
    PyEval_RestoreThread(state)
    swsgi_metrics_gil_taken(since)
}
