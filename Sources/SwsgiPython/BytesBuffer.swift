import CPython

/// A bytes object filled in place before anyone else sees it: read into without the GIL,
/// grown or trimmed by _PyBytes_Resize, which the C API reference documents for exactly
/// this (in place, no copy). Released unless finished.
package struct BytesBuffer: ~Copyable {
    private var object: PyPtr?

    /// nil with an exception set.
    package init?(capacity: Int) {
        guard let object = PyBytes_FromStringAndSize(nil, capacity) else { return nil }
        self.object = object
    }

    /// Where its bytes start.
    package var data: UnsafeMutablePointer<CChar> { swsgi_py_bytes_data(object!) }

    /// false with an exception set (the buffer is gone then).
    package mutating func resize(to size: Int) -> Bool {
        _PyBytes_Resize(&object, size) == 0
    }

    /// The bytes object, of length size; nil with an exception set.
    package consuming func finish(length: Int) -> PyRef? {
        var object = self.object
        discard self
        guard let current = object else { return nil }
        if swsgi_py_bytes_size(current) != length, _PyBytes_Resize(&object, length) != 0 { return nil }
        return PyRef(object)
    }

    deinit { swsgi_py_xdecref(object) }
}
