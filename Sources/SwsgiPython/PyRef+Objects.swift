import CPython

/// What the gateway asks of the objects an app gives it (GIL held). @inlinable: they are
/// on every request's path, and calls into another module are otherwise not inlined.
extension PyRef {
    @inlinable package func attribute(_ name: PyConstant) -> PyRef? { PyRef(PyObject_GetAttr(ptr, name.ptr)) }

    @inlinable package func hasAttribute(_ name: PyConstant) -> Bool { PyObject_HasAttr(ptr, name.ptr) != 0 }

    /// The result of a method without arguments; nil with an exception set.
    @inlinable package func callMethod(_ name: PyConstant) -> PyRef? { PyRef(PyObject_CallMethodNoArgs(ptr, name.ptr)) }

    /// self(first, second), without an array; nil with an exception set.
    @inlinable package func call(_ first: borrowing PyRef, _ second: borrowing PyRef) -> PyRef? {
        let callable = ptr, arguments = (Optional(first.ptr), Optional(second.ptr))
        return withUnsafePointer(to: arguments) {
            $0.withMemoryRebound(to: PyPtr?.self, capacity: 2) { PyRef(PyObject_Vectorcall(callable, $0, 2, nil)) }
        }
    }

    /// A new reference to the same object.
    @inlinable package func copy() -> PyRef { PyRef(borrowing: ptr) }

    /// bool(self); nil with an exception set.
    @inlinable package func isTrue() -> Bool? {
        let truth = PyObject_IsTrue(ptr)
        return truth < 0 ? nil : truth == 1
    }

    @inlinable package var isNone: Bool { ptr == swsgi_py_none() }
    @inlinable package var isStr: Bool { swsgi_py_unicode_check(ptr) != 0 }
    @inlinable package var isListOrTuple: Bool { swsgi_py_list_check(ptr) != 0 || swsgi_py_tuple_check(ptr) != 0 }

    /// Whether its type is exactly type (not a subclass).
    @inlinable package func hasType(_ type: PyConstant) -> Bool {
        UnsafeMutableRawPointer(swsgi_py_type(ptr)) == UnsafeMutableRawPointer(type.ptr)
    }

    package var typeName: String { SwsgiPython.typeName(ptr) }

    /// A bytes object's contents, in place; nil for any other object.
    @inlinable package var bytes: UnsafeBufferPointer<CChar>? {
        guard swsgi_py_bytes_check(ptr) != 0 else { return nil }
        return UnsafeBufferPointer(start: swsgi_py_bytes_data(ptr), count: swsgi_py_bytes_size(ptr))
    }

    /// A one-element list's or tuple's item.
    @inlinable package var onlyItem: PyRef? {
        if swsgi_py_list_check(ptr) != 0, swsgi_py_list_size(ptr) == 1 { return PyRef(borrowing: swsgi_py_list_item(ptr, 0)) }
        if swsgi_py_tuple_check(ptr) != 0, swsgi_py_tuple_size(ptr) == 1 { return PyRef(borrowing: swsgi_py_tuple_item(ptr, 0)) }
        return nil
    }

    /// iter(self); nil with an exception set.
    @inlinable package func iterator() -> PyRef? { PyRef(PyObject_GetIter(ptr)) }

    /// The iterator's next item; nil at the end or with an exception set (see `Python.errorPending`).
    @inlinable package func next() -> PyRef? { PyRef(PyIter_Next(ptr)) }

    /// tuple(self): itself when it is a tuple; nil with an exception set.
    @inlinable package func tuple() -> PyRef? { PyRef(PySequence_Tuple(ptr)) }

    /// A tuple's size, nil when it is no tuple; and its items.
    @inlinable package var tupleCount: Int? { swsgi_py_tuple_check(ptr) != 0 ? swsgi_py_tuple_size(ptr) : nil }
    @inlinable package func tupleItem(_ index: Int) -> PyRef { PyRef(borrowing: swsgi_py_tuple_item(ptr, index)!) }

    /// An int's value; nil with an exception set.
    @inlinable package var int: Int? {
        let value = PyLong_AsLong(ptr)
        return value == -1 && PyErr_Occurred() != nil ? nil : value
    }

    @inlinable package init?(_ value: Int64) { self.init(PyLong_FromLongLong(value)) }
}

func typeName(_ object: PyPtr) -> String {
    String(cString: swsgi_py_type(object).pointee.tp_name)
}

/// The pending exception (GIL held).
package enum Python {
    package enum Exception { case type, runtime, os, value }

    /// Sets the pending exception.
    package static func raise(_ exception: Exception, _ message: String) {
        let type: PyPtr = switch exception {
        case .type: PyExc_TypeError
        case .runtime: PyExc_RuntimeError
        case .os: PyExc_OSError
        case .value: PyExc_ValueError
        }
        PyErr_SetString(type, message)
    }

    @inlinable package static var errorPending: Bool { PyErr_Occurred() != nil }

    @inlinable package static func clearError() { PyErr_Clear() }

    /// The RuntimeError of a request object used after its request.
    package static func expired<T: ~Copyable>() -> T? {
        raise(.runtime, "swsgi: request object has expired: its request has finished")
        return nil
    }
}

extension PyRef {
    /// A number as mod_wsgi puts timings in the environ: a str of decimal digits.
    package init?(decimal value: Int) {
        let str = withUnsafeTemporaryAllocation(of: CChar.self, capacity: 24) { buffer in
            var digits = 0, rest = value.magnitude
            repeat {
                buffer[23 - digits] = CChar(48 + rest % 10)
                rest /= 10
                digits += 1
            } while rest > 0
            if value < 0 { digits += 1; buffer[24 - digits] = 45 /* - */ }
            return PyUnicode_DecodeLatin1(buffer.baseAddress! + 24 - digits, digits, nil)
        }
        self.init(str)
    }
}
