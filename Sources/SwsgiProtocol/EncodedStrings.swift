// String lists (the environ of .request, the status and headers of .start):
// `u32 LE count`, then per string `u32 LE length` and the bytes. Lengths, not NULs, so
// values may hold any byte and may be empty.

public func encodeStrings(_ strings: [[UInt8]]) -> [UInt8] {
    encodeStringList(count: strings.count, length: { strings[$0].count }) { i, destination in
        strings[i].withUnsafeBytes { destination.copyMemory(from: $0) }
    }
}

/// Builds the payload straight from borrowed buffers (say, a C array of key/value strings)
/// with one allocation. `string(i)` is called once per index and must stay valid until this returns.
public func encodeStrings(count: Int, _ string: (Int) -> UnsafeRawBufferPointer) -> [UInt8] {
    let strings = (0..<count).map(string)
    return encodeStringList(count: count, length: { strings[$0].count }) { i, destination in
        destination.copyMemory(from: strings[i])
    }
}

/// copy(i, destination) fills destination, length(i) bytes, with string i. One allocation and
/// memcpy: Array.append(contentsOf:) copies a raw buffer byte by byte (some 12,000
/// instructions for a request's environ).
private func encodeStringList(count: Int, length: (Int) -> Int,
                              copy: (Int, UnsafeMutableRawBufferPointer) -> Void) -> [UInt8] {
    let total = (0..<count).reduce(4) { $0 + 4 + length($1) }
    return [UInt8](unsafeUninitializedCapacity: total) { buffer, initialized in
        let bytes = UnsafeMutableRawBufferPointer(buffer)
        bytes.storeBytes(of: UInt32(count).littleEndian, toByteOffset: 0, as: UInt32.self)
        var offset = 4
        for i in 0..<count {
            let size = length(i)
            bytes.storeBytes(of: UInt32(size).littleEndian, toByteOffset: offset, as: UInt32.self)
            offset += 4
            copy(i, UnsafeMutableRawBufferPointer(rebasing: bytes[offset..<offset + size]))
            offset += size
        }
        initialized = offset
    }
}

/// Strict: the count and every length must fit the payload exactly, with nothing left over.
public func decodeStrings(_ payload: [UInt8]) throws(ProtocolError) -> [[UInt8]] {
    var strings: [[UInt8]] = []
    try forEachString(in: payload) { strings.append(Array($0)) }
    return strings
}

/// Hands each string of the list to body, in order, without copying it; as strict as
/// decodeStrings, but body may have seen the strings before a malformed one throws.
public func forEachString(in payload: [UInt8], _ body: (UnsafeRawBufferPointer) -> Void) throws(ProtocolError) {
    // withUnsafeBufferPointer, not withUnsafeBytes: only the former keeps the typed throw.
    try payload.withUnsafeBufferPointer { (elements) throws(ProtocolError) in
        let bytes = UnsafeRawBufferPointer(elements)
        guard bytes.count >= 4 else { throw .malformed("string list shorter than its count") }
        let count = Int(loadLittleEndian(UInt32.self, bytes, at: 0))
        // Each string needs at least its 4-byte length, so a larger count cannot be honest.
        guard count <= (bytes.count - 4) / 4 else { throw .malformed("string count \(count) exceeds the payload") }
        var offset = 4
        for _ in 0..<count {
            guard bytes.count - offset >= 4 else { throw .malformed("string length past the end of the payload") }
            let length = Int(loadLittleEndian(UInt32.self, bytes, at: offset))
            offset += 4
            guard length <= bytes.count - offset else { throw .malformed("string of \(length) bytes past the end of the payload") }
            body(UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + length]))
            offset += length
        }
        guard offset == bytes.count else { throw .malformed("\(bytes.count - offset) trailing bytes after the strings") }
    }
}
