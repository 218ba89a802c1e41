import CPython

/// What the core passes to the functions of access and authentication scripts, and reads of
/// what they return (GIL held).
extension PyRef {
    /// A str of a C string's bytes decoded as Latin-1, as environ strings are (PEP 3333); nil
    /// with an exception set.
    package init?(latin1 text: UnsafePointer<CChar>) {
        self.init(PyUnicode_DecodeLatin1(text, strlen(text), nil))
    }

    @inlinable package var isTrueObject: Bool { ptr == swsgi_py_true() }
    @inlinable package var isFalseObject: Bool { ptr == swsgi_py_false() }

    /// self(first, second, third); nil with an exception set.
    package func call(_ first: borrowing PyRef, _ second: borrowing PyRef, _ third: borrowing PyRef) -> PyRef? {
        PyRef(SwsgiPython.call(ptr, first.ptr, second.ptr, third.ptr))
    }

    /// A bytes object's contents, or a str's when it is Latin-1; nil for anything else.
    package var latin1Bytes: [UInt8]? {
        if let bytes { return bytes.map { UInt8(bitPattern: $0) } }
        guard isStr else { return nil }
        var texts = Latin1Texts()
        return texts.text(of: self).map(Array.init)
    }

    /// A str as UTF-8; nil (no exception left) for anything else.
    package var utf8Text: String? {
        guard isStr, let text = PyUnicode_AsUTF8(ptr) else {
            PyErr_Clear()
            return nil
        }
        return String(cString: text)
    }
}
