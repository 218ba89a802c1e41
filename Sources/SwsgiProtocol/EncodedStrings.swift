// String lists (the environ of .request, the status and headers of .start):
// `u32 LE count`, then per string `u32 LE length` and the bytes. Lengths, not NULs, so
// values may hold any byte and may be empty.
import Glibc

public func encodeStrings(_ strings: [[UInt8]]) -> [UInt8] {
    var list = StringListBuilder(capacity: strings.reduce(4) { $0 + 4 + $1.count })
    for string in strings { string.withUnsafeBytes { list.append($0) } }
    return list.finish()
}

/// Builds a string list one string at a time, each copied once (memcpy) into one buffer:
/// no array or C string per string (strdup'ed or Swift temporaries cost a malloc and free
/// each: some 30,000 instructions for a request's environ). A buffer of its own, as an
/// Array would either zero-fill its room first or append a raw buffer byte by byte (some
/// 12,000 instructions for an environ).
public struct StringListBuilder: ~Copyable {
    private var storage: UnsafeMutableRawPointer
    private var capacity: Int
    private var size = 4  // the count first, set by finish()
    private var count: UInt32 = 0

    /// capacity: the bytes expected (it grows past them if need be).
    public init(capacity: Int = 4096) {
        self.capacity = max(capacity, 64)
        storage = malloc(self.capacity)!
    }

    deinit { free(storage) }

    public mutating func append(_ string: UnsafeRawBufferPointer) {
        let end = size + 4 + string.count
        if end > capacity {
            capacity = max(end, 2 * capacity)
            storage = realloc(storage, capacity)!
        }
        storage.storeBytes(of: UInt32(string.count).littleEndian, toByteOffset: size, as: UInt32.self)
        if let source = string.baseAddress { (storage + size + 4).copyMemory(from: source, byteCount: string.count) }
        size = end
        count += 1
    }

    /// A NUL-terminated string, without its NUL.
    public mutating func append(_ string: UnsafePointer<CChar>) {
        append(UnsafeRawBufferPointer(start: string, count: strlen(string)))
    }

    public mutating func append(_ string: String) {
        var string = string
        string.withUTF8 { append(UnsafeRawBufferPointer($0)) }
    }

    /// The encoded list.
    public consuming func finish() -> [UInt8] {
        storage.storeBytes(of: count.littleEndian, toByteOffset: 0, as: UInt32.self)
        return [UInt8](unsafeUninitializedCapacity: size) { bytes, initialized in
            UnsafeMutableRawBufferPointer(bytes).copyMemory(from: UnsafeRawBufferPointer(start: storage, count: size))
            initialized = size
        }
    }
}

/// Strict: the count and every length must fit the payload exactly, with nothing left over.
public func decodeStrings(_ payload: [UInt8]) throws(ProtocolError) -> [[UInt8]] {
    // withUnsafeBufferPointer, not withUnsafeBytes: only the former keeps the typed throw.
    try payload.withUnsafeBufferPointer { (elements) throws(ProtocolError) in
        var reader = try StringListReader(UnsafeRawBufferPointer(elements))
        var strings: [[UInt8]] = []
        while let string = try reader.next() { strings.append(Array(string)) }
        return strings
    }
}

/// Reads a string list's strings in order, without copying them; as strict as decodeStrings,
/// but the caller may have seen strings before a malformed one throws. A loop over next()
/// rather than a closure per string: what the caller gathers stays in plain locals.
public struct StringListReader {
    @usableFromInline let bytes: UnsafeRawBufferPointer
    @usableFromInline var offset = 4
    @usableFromInline var index = 0
    /// The strings the list holds.
    public let count: Int

    @inlinable
    public init(_ bytes: UnsafeRawBufferPointer) throws(ProtocolError) {
        guard bytes.count >= 4 else { throw .malformed("string list shorter than its count") }
        let count = Int(loadLittleEndian(UInt32.self, bytes, at: 0))
        // Each string needs at least its 4-byte length, so a larger count cannot be honest.
        guard count <= (bytes.count - 4) / 4 else { throw .malformed("string count \(count) exceeds the payload") }
        self.bytes = bytes
        self.count = count
    }

    /// The next string, nil after the last. Inlined into the caller's loop: a call per string
    /// would cost more than the string.
    @inlinable @inline(__always)
    public mutating func next() throws(ProtocolError) -> UnsafeRawBufferPointer? {
        guard index < count else {
            guard offset == bytes.count else { throw .malformed("\(bytes.count - offset) trailing bytes after the strings") }
            return nil
        }
        guard bytes.count - offset >= 4 else { throw .malformed("string length past the end of the payload") }
        let length = Int(loadLittleEndian(UInt32.self, bytes, at: offset))
        offset += 4
        guard length <= bytes.count - offset else { throw .malformed("string of \(length) bytes past the end of the payload") }
        defer { offset += length; index += 1 }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + length])
    }
}
