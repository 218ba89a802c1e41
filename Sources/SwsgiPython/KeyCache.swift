import CPython
import Glibc

/// Interned Python str objects for environ keys, looked up by the C string's bytes. Apache
/// sends the same few dozen names on every request; making each a str and interning it costs
/// more than the rest of the environ. Bounded, since clients choose the HTTP_* names: past
/// the bound a key is simply made anew. Only used with the GIL held.
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
