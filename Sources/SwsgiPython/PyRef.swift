import CPython

@usableFromInline typealias PyPtr = UnsafeMutablePointer<PyObject>

/// An owned (strong) Python reference that releases itself; non-copyable, so it costs no
/// allocation and cannot be released twice. The only way code outside this layer holds a
/// Python object. Only touch it with the GIL held.
package struct PyRef: ~Copyable {
    @usableFromInline let ptr: PyPtr

    /// Takes over a new reference; nil when the C API call failed (an exception is set).
    @inlinable init?(_ new: PyPtr?) {
        guard let new else { return nil }
        ptr = new
    }

    /// A new reference to a borrowed object.
    @inlinable init(borrowing object: PyPtr) {
        swsgi_py_incref(object)
        ptr = object
    }

    /// Gives the reference away, e.g. to a C API call that steals it.
    @inlinable consuming func take() -> PyPtr {
        let p = ptr
        discard self
        return p
    }

    @inlinable deinit { swsgi_py_decref(ptr) }
}

/// A borrowed reference to an object its interpreter keeps for its whole life: interned
/// names, the support module's types and functions, constants. Copyable, never released.
package struct PyConstant {
    @usableFromInline let ptr: PyPtr

    @inlinable init(_ ptr: PyPtr) { self.ptr = ptr }
}

/// The interned Python str, in the current interpreter, for a name that lives as long as the
/// interpreter (attribute names).
func internedName(_ name: String) -> PyConstant {
    PyConstant(PyUnicode_InternFromString(name))
}

/// Calls callable with positional arguments (C variadics do not reach Swift).
func call(_ callable: PyPtr, _ args: PyPtr...) -> PyPtr? {
    args.map(Optional.some).withUnsafeBufferPointer { PyObject_Vectorcall(callable, $0.baseAddress, args.count, nil) }
}

