import CPython
import Glibc

/// The Python str objects of the CGI variables: keys interned and looked up by the C string's
/// bytes, and the previous request's key and value at each position reused when the bytes are
/// the same. Apache sends the same few dozen names, most with the same values and in the same
/// order, on every request; making each a str (and interning the key) costs more than the rest
/// of the environ. Bounded, since clients choose the HTTP_* names and values: past the bounds
/// a str is simply made anew. Only used with the GIL held.
package final class KeyCache {
    private struct Entry {
        var hash: UInt64 = 0
        var bytes: UnsafeMutablePointer<CChar>?
        var object: PyPtr?
    }

    private static let slots = 1024
    private static let maximum = 512
    private var entries = [Entry](repeating: Entry(), count: KeyCache.slots)
    private var count = 0

    /// The previous request's variables by position (strong references; nil: none kept).
    private static let positions = 128
    /// Longer values are not kept: they would hold memory for little gain.
    private static let longestKept = 1024
    /// Plain memory, not arrays: the bounds and exclusivity checks cost as much as the rest.
    private let lastKeys = UnsafeMutablePointer<PyPtr?>.allocate(capacity: KeyCache.positions)
    private let lastValues = UnsafeMutablePointer<PyPtr?>.allocate(capacity: KeyCache.positions)

    init() {
        lastKeys.initialize(repeating: nil, count: Self.positions)
        lastValues.initialize(repeating: nil, count: Self.positions)
    }

    /// Calls body with the str objects for the variable at position (borrowed for the call);
    /// false with an exception set.
    @inline(__always)
    func withVariable(at position: Int, key: UnsafePointer<CChar>, value: UnsafePointer<CChar>,
                      _ body: (PyPtr, PyPtr) -> Void) -> Bool {
        guard position < Self.positions else {
            guard let v = PyRef(PyUnicode_DecodeLatin1(value, strlen(value), nil)) else { return false }
            return withObject(for: key) { body($0, v.ptr) }
        }
        // Keys are interned, hence kept anyway; only an ASCII one is compared by its bytes
        // (the str of other bytes is their UTF-8 decoding).
        let keyObject: PyPtr
        var size = 0
        if let last = lastKeys[position], let chars = swsgi_py_ascii(last, &size), strcmp(chars, key) == 0 {
            keyObject = last
        } else {
            var found: PyPtr?
            guard withObject(for: key, { found = $0 }), let found else { return false }
            swsgi_py_incref(found)
            if let old = lastKeys[position] { swsgi_py_decref(old) }
            lastKeys[position] = found
            keyObject = found
        }
        if let last = lastValues[position], let chars = swsgi_py_latin1(last), strcmp(chars, value) == 0 {
            body(keyObject, last)
            return true
        }
        let length = strlen(value)
        guard let v = PyRef(PyUnicode_DecodeLatin1(value, length, nil)) else { return false }
        if let old = lastValues[position] { swsgi_py_decref(old) }
        lastValues[position] = length <= Self.longestKept ? v.copy().take() : nil
        body(keyObject, v.ptr)
        return true
    }

    /// Calls body with the str for key, borrowed for the call; false with an exception set.
    @inline(__always)
    func withObject(for key: UnsafePointer<CChar>, _ body: (PyPtr) -> Void) -> Bool {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        var length = 0
        while key[length] != 0 {
            hash = (hash ^ UInt64(UInt8(bitPattern: key[length]))) &* 0x100_0000_01b3
            length += 1
        }
        var slot = Int(hash & UInt64(Self.slots - 1))
        while let bytes = entries[slot].bytes {
            if entries[slot].hash == hash, strcmp(bytes, key) == 0 {
                body(entries[slot].object!)
                return true
            }
            slot = (slot + 1) & (Self.slots - 1)
        }
        guard let object = PyRef(PyUnicode_InternFromString(key)) else { return false }
        if count < Self.maximum {
            entries[slot] = Entry(hash: hash, bytes: strdup(key), object: object.copy().take())
            count += 1
        }
        body(object.ptr)
        return true
    }
}
