import CPython

typealias PyPtr = UnsafeMutablePointer<PyObject>

/// An owned (strong) Python reference that releases itself; non-copyable, so it costs no
/// allocation and cannot be released twice. Only touch it with the GIL held.
struct PyRef: ~Copyable {
    let ptr: PyPtr

    /// Takes over a new reference; nil when the C API call failed (an exception is set).
    init?(_ new: PyPtr?) {
        guard let new else { return nil }
        ptr = new
    }

    /// A new reference to a borrowed object.
    init(borrowing object: PyPtr) {
        swsgi_py_incref(object)
        ptr = object
    }

    /// Gives the reference away, e.g. to a C API call that steals it.
    consuming func take() -> PyPtr {
        let p = ptr
        discard self
        return p
    }

    deinit { swsgi_py_decref(ptr) }
}

/// Calls callable with positional arguments (C variadics do not reach Swift).
func call(_ callable: PyPtr, _ args: PyPtr...) -> PyPtr? {
    args.map(Optional.some).withUnsafeBufferPointer { PyObject_Vectorcall(callable, $0.baseAddress, args.count, nil) }
}

/// The interned Python str, in the current interpreter, for a name that lives as long as the
/// interpreter (attribute names).
func internedName(_ name: String) -> PyPtr {
    PyUnicode_InternFromString(name)
}
