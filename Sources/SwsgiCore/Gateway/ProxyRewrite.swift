import Glibc
import SwsgiABI
import SwsgiConfig

/// WSGITrustedProxyHeaders applied to a request's CGI variables: a copy of the request whose
/// variables have the rewrites of trusted headers and lack the untrusted ones, for as long as
/// body runs. Values are handled as Latin-1, byte for byte. In the Apache child, so that
/// embedded and daemon mode (which gets the variables from it) see the same.
enum ProxyRewrite {
    static func applying<T>(_ settings: TrustedProxies, to request: UnsafePointer<swsgi_request>,
                            _ body: (UnsafePointer<swsgi_request>) -> T) -> T {
        let r = request.pointee
        func index(of key: String) -> Int? {
            key.withCString { name in (0..<r.count).first { i in r.keys[i].map { strcmp($0, name) == 0 } ?? false } }
        }
        let edits = settings.rewrite { key in
            index(of: key).flatMap { r.values[$0] }.map(latin1String)
        }
        if edits.isEmpty { return body(request) }
        var keys = (0..<r.count).map { r.keys[$0] }, values = (0..<r.count).map { r.values[$0] }
        var made: [UnsafeMutablePointer<CChar>] = []
        defer { made.forEach { free($0) } }
        func owned(_ text: String) -> UnsafePointer<CChar> {
            let copy = latin1CString(text)
            made.append(copy)
            return UnsafePointer(copy)
        }
        for edit in edits {
            let at = keys.indices.first { i in keys[i].map { String(cString: $0) == edit.key } ?? false }
            switch (at, edit.value) {
            case (let i?, let value?): values[i] = owned(value)
            case (let i?, nil): keys.remove(at: i); values.remove(at: i)
            case (nil, let value?): keys.append(owned(edit.key)); values.append(owned(value))
            case (nil, nil): break
            }
        }
        return keys.withUnsafeBufferPointer { k in
            values.withUnsafeBufferPointer { v in
                var copy = r
                copy.count = k.count
                copy.keys = k.baseAddress
                copy.values = v.baseAddress
                return withUnsafePointer(to: &copy) { body($0) }
            }
        }
    }
}

/// Each byte one character, as PEP 3333 decodes environ values.
private func latin1String(_ text: UnsafePointer<CChar>) -> String {
    String(String.UnicodeScalarView(UnsafeRawBufferPointer(start: text, count: strlen(text)).map { Unicode.Scalar($0) }))
}

/// The inverse of latin1String, malloc'd; a character beyond Latin-1 (none is made here) as '?'.
private func latin1CString(_ text: String) -> UnsafeMutablePointer<CChar> {
    mallocCString(text.unicodeScalars.map { $0.value < 256 ? UInt8($0.value) : UInt8(ascii: "?") })
}

/// bytes as a NUL-terminated string, malloc'd (free it).
func mallocCString(_ bytes: [UInt8]) -> UnsafeMutablePointer<CChar> {
    let copy = malloc(bytes.count + 1)!.assumingMemoryBound(to: UInt8.self)
    copy.initialize(from: bytes, count: bytes.count)
    copy[bytes.count] = 0
    return UnsafeMutableRawPointer(copy).assumingMemoryBound(to: CChar.self)
}
