// The payloads of .readBody, .end and .file: fixed-size integers, so anything but the
// exact size is a protocol error rather than something to pad or truncate.

public func encodeEnd(_ result: Int32) -> [UInt8] {
    var bytes: [UInt8] = []
    bytes.appendLittleEndian(result)
    return bytes
}

public func decodeEnd(_ payload: [UInt8]) throws(ProtocolError) -> Int32 {
    guard payload.count == 4 else { throw .malformed("end payload is \(payload.count) bytes, not 4") }
    return payload.withUnsafeBytes { loadLittleEndian(Int32.self, $0, at: 0) }
}

public func encodeReadBody(_ max: UInt32) -> [UInt8] {
    var bytes: [UInt8] = []
    bytes.appendLittleEndian(max)
    return bytes
}

/// Zero is rejected: the client could answer it with neither a non-empty chunk nor the end.
public func decodeReadBody(_ payload: [UInt8]) throws(ProtocolError) -> UInt32 {
    guard payload.count == 4 else { throw .malformed("readBody payload is \(payload.count) bytes, not 4") }
    let max = payload.withUnsafeBytes { loadLittleEndian(UInt32.self, $0, at: 0) }
    guard max > 0 else { throw .malformed("readBody asks for 0 bytes") }
    return max
}

func encodeFile(offset: UInt64, length: UInt64) -> [UInt8] {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(16)
    bytes.appendLittleEndian(offset)
    bytes.appendLittleEndian(length)
    return bytes
}

public func decodeFile(_ payload: [UInt8]) throws(ProtocolError) -> (offset: UInt64, length: UInt64) {
    guard payload.count == 16 else { throw .malformed("file payload is \(payload.count) bytes, not 16") }
    return payload.withUnsafeBytes { (loadLittleEndian(UInt64.self, $0, at: 0), loadLittleEndian(UInt64.self, $0, at: 8)) }
}
