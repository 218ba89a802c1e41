import CPython
import SwsgiABI

/// A dict with str keys being filled, e.g. the WSGI environ. A value that could not be made
/// leaves its key out, with the exception set.
package struct DictBuilder: ~Copyable {
    @usableFromInline let dict: PyRef

    /// Room for capacity items; nil with an exception set.
    package init?(capacity: Int = 0) {
        guard let dict = PyRef(swsgi_py_dict_presized(capacity)) else { return nil }
        self.dict = dict
    }

    /// Apache's CGI variables, each value the Latin-1 decoding of its bytes (PEP 3333), each
    /// key a str from keys, but those skip refuses; false with an exception set. One call for
    /// all: a call into this module per variable costs more than the variable.
    package func setVariables(of request: UnsafePointer<swsgi_request>, keys: KeyCache,
                              skipping skip: (UnsafePointer<CChar>) -> Bool) -> Bool {
        let r = request.pointee
        var position = 0
        for i in 0..<r.count {
            guard let key = r.keys[i], let value = r.values[i], !skip(key) else { continue }
            guard keys.withVariable(at: position, key: key, value: value, { PyDict_SetItem(dict.ptr, $0, $1) }) else { return false }
            position += 1
        }
        return true
    }

    @inlinable @inline(__always) package func set(_ key: PyConstant, _ value: borrowing PyRef) { PyDict_SetItem(dict.ptr, key.ptr, value.ptr) }
    /// Nothing when value is nil.
    @inlinable @inline(__always) package func set(_ key: PyConstant, _ value: borrowing PyRef?) {
        switch value {
        case .some(let object): PyDict_SetItem(dict.ptr, key.ptr, object.ptr)
        case .none: break
        }
    }
    @inlinable @inline(__always) package func set(_ key: PyConstant, _ value: PyConstant) { PyDict_SetItem(dict.ptr, key.ptr, value.ptr) }

    @inlinable @inline(__always) package func set(_ key: PyConstant, _ value: Int) {
        if let number = PyRef(PyLong_FromLong(value)) { set(key, number) }
    }

    /// A Latin-1 text's str.
    package func set(_ key: PyConstant, latin1 text: String) {
        if let str = PyRef(text.withCString { PyUnicode_DecodeLatin1($0, strlen($0), nil) }) { set(key, str) }
    }

    package consuming func finish() -> PyRef { dict.copy() }
}
