// What a WSGI app hands to start_response, checked before any byte reaches the wire: a bad
// status or a header with CR/LF would otherwise let the app split or forge the response.

/// Checks a status line such as "200 OK": three digits, a space, a reason phrase of visible
/// characters, spaces and tabs. Returns nil, or why it is not one.
public func statusLineProblem<C: Collection>(_ status: C) -> String? where C.Element == UInt8 {
    let bytes = Array(status)
    guard bytes.count >= 4 else { return "status line '\(latin1(bytes))' must be a three-digit code, a space and a reason phrase" }
    guard bytes[0...2].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), bytes[0] != 0x30 else {
        return "status line '\(latin1(bytes))' does not start with a three-digit status code"
    }
    guard bytes[3] == 0x20 else { return "status line '\(latin1(bytes))' needs a space after the status code" }
    if let bad = bytes[4...].first(where: { !isFieldValueByte($0) }) {
        return "status line contains the control character \(hex(bad))"
    }
    return nil
}

/// Checks a header name: an RFC 9110 token. Returns nil, or why it is not one.
public func headerNameProblem<C: Collection>(_ name: C) -> String? where C.Element == UInt8 {
    if name.isEmpty { return "a response header name is empty" }
    if let bad = name.first(where: { !isTokenByte($0) }) {
        return "response header name '\(latin1(Array(name)))' contains the character \(hex(bad))"
    }
    return nil
}

/// Checks a header value: no CR, LF, NUL or other control character but tab.
public func headerValueProblem<C: Collection>(_ value: C, name: String) -> String? where C.Element == UInt8 {
    if let bad = value.first(where: { !isFieldValueByte($0) }) {
        return "response header '\(name)' has a value containing the control character \(hex(bad))"
    }
    return nil
}

/// A Content-Length value the app set: digits only, else nil.
public func contentLength<C: Collection>(_ value: C) -> Int64? where C.Element == UInt8 {
    guard !value.isEmpty, value.count <= 18, value.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
    return value.reduce(Int64(0)) { $0 * 10 + Int64($1 - 0x30) }
}

private func isTokenByte(_ b: UInt8) -> Bool {
    switch b {
    case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
    default: return "!#$%&'*+-.^_`|~".utf8.contains(b)
    }
}

private func isFieldValueByte(_ b: UInt8) -> Bool {
    b == 0x09 || (b >= 0x20 && b != 0x7F)
}

private func latin1(_ bytes: [UInt8]) -> String {
    String(decoding: bytes.prefix(64).map { $0 < 0x20 || $0 == 0x7F ? UInt8(ascii: "?") : $0 }, as: UTF8.self)
}

private func hex(_ b: UInt8) -> String {
    let digits = Array("0123456789ABCDEF")
    return "0x\(digits[Int(b >> 4)])\(digits[Int(b & 15)])"
}
