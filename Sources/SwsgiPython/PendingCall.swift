import CPython

/// A Python callable kept for another thread to call (GIL held there): a plain value, so that
/// a queue can hold it; its reference is given up by exactly one of run and drop.
package struct PendingCall {
    private let callable: PyPtr

    package init(_ callable: consuming PyRef) {
        self.callable = callable.take()
    }

    /// Calls it and lets it go; false with the exception set.
    package func run() -> Bool {
        let result = PyObject_CallNoArgs(callable)
        swsgi_py_decref(callable)
        swsgi_py_xdecref(result)
        return result != nil
    }

    package func drop() {
        swsgi_py_decref(callable)
    }
}
