// What a WSGI app hands to start_response, checked before any byte reaches the wire: a bad
// status or a header with CR/LF would otherwise let the app split or forge the response.
// Plain loops over buffer pointers: these run for every header of every response.

/// Checks a status line such as "200 OK": three digits, a space, a reason phrase of visible
/// characters, spaces and tabs. Returns nil, or why it is not one.
public func statusLineProblem(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
    guard bytes.count >= 4 else { return "status line '\(printable(bytes))' must be a three-digit code, a space and a reason phrase" }
    guard isDigit(bytes[0]), isDigit(bytes[1]), isDigit(bytes[2]), bytes[0] != 0x30 else {
        return "status line '\(printable(bytes))' does not start with a three-digit status code"
    }
    guard bytes[3] == 0x20 else { return "status line '\(printable(bytes))' needs a space after the status code" }
    for i in 4..<bytes.count where !isFieldValueByte(bytes[i]) {
        return "status line contains the control character \(hex(bytes[i]))"
    }
    return nil
}

/// Checks a header name: an RFC 9110 token. Returns nil, or why it is not one.
public func headerNameProblem(_ name: UnsafeBufferPointer<UInt8>) -> String? {
    if name.isEmpty { return "a response header name is empty" }
    for byte in name where !isTokenByte(byte) {
        return "response header name '\(printable(name))' contains the character \(hex(byte))"
    }
    return nil
}

/// Checks a header value: no CR, LF, NUL or other control character but tab. Returns nil,
/// or the offending character ("the control character 0x0D").
public func headerValueProblem(_ value: UnsafeBufferPointer<UInt8>) -> String? {
    for byte in value where !isFieldValueByte(byte) {
        return "the control character \(hex(byte))"
    }
    return nil
}

/// A Content-Length value the app set: digits only, else nil.
public func contentLength(_ value: UnsafeBufferPointer<UInt8>) -> Int64? {
    guard !value.isEmpty, value.count <= 18 else { return nil }
    var length: Int64 = 0
    for byte in value {
        guard isDigit(byte) else { return nil }
        length = length * 10 + Int64(byte - 0x30)
    }
    return length
}

/// Whether name is Content-Length, in any case.
public func isContentLength(_ name: UnsafeBufferPointer<UInt8>) -> Bool {
    let expected: StaticString = "content-length"
    guard name.count == expected.utf8CodeUnitCount else { return false }
    for i in 0..<name.count where name[i] | 0x20 != expected.utf8Start[i] { return false }
    return true
}

@inline(__always) private func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

/// RFC 9110 tchar, as a 128-bit table.
private let tokenBits: (UInt64, UInt64) = {
    var low: UInt64 = 0, high: UInt64 = 0
    for b in Array("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8) {
        if b < 64 { low |= 1 << UInt64(b) } else { high |= 1 << UInt64(b - 64) }
    }
    return (low, high)
}()

@inline(__always) private func isTokenByte(_ b: UInt8) -> Bool {
    b < 64 ? tokenBits.0 & (1 << UInt64(b)) != 0 : b < 128 && tokenBits.1 & (1 << UInt64(b - 64)) != 0
}

@inline(__always) private func isFieldValueByte(_ b: UInt8) -> Bool {
    b == 0x09 || (b >= 0x20 && b != 0x7F)
}

private func printable(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
    String(decoding: bytes.prefix(64).map { $0 < 0x20 || $0 == 0x7F ? UInt8(ascii: "?") : $0 }, as: UTF8.self)
}

private func hex(_ b: UInt8) -> String {
    let digits = Array("0123456789ABCDEF")
    return "0x\(digits[Int(b >> 4)])\(digits[Int(b & 15)])"
}
