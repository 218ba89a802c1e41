import CPython

/// The Latin-1 bytes of str objects, NUL-terminated, valid while this lives (and the str
/// objects do): ASCII text in place, any other encoded into a bytes object kept here.
package struct Latin1Texts: ~Copyable {
    private var owners: [PyPtr] = []

    package init() {}

    /// A str's bytes; nil (no exception left) when it is not Latin-1.
    package mutating func text(of object: borrowing PyRef) -> UnsafeBufferPointer<UInt8>? {
        var size = 0
        if let ascii = swsgi_py_ascii(object.ptr, &size) {
            return UnsafeBufferPointer(start: UnsafeRawPointer(ascii).assumingMemoryBound(to: UInt8.self), count: size)
        }
        guard let encoded = PyUnicode_AsLatin1String(object.ptr) else {
            PyErr_Clear()
            return nil
        }
        owners.append(encoded)
        return UnsafeBufferPointer(start: UnsafeRawPointer(swsgi_py_bytes_data(encoded)).assumingMemoryBound(to: UInt8.self),
                                   count: swsgi_py_bytes_size(encoded))
    }

    /// An ASCII text's bytes, NUL-terminated; nil when memory ran out.
    package mutating func cString(_ text: String) -> UnsafePointer<CChar>? {
        guard let bytes = PyBytes_FromString(text) else { return nil }
        owners.append(bytes)
        return UnsafePointer(swsgi_py_bytes_data(bytes))
    }

    deinit { owners.forEach { swsgi_py_decref($0) } }
}
