import CPython

/// Runs body with the GIL released: for every call that may block (client and socket I/O).
@inlinable
package func withoutGIL<T>(_ body: () throws -> T) rethrows -> T {
    let state = PyEval_SaveThread()
    defer { PyEval_RestoreThread(state) }
    return try body()
}
