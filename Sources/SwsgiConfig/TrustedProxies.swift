import Glibc

/// The request headers a proxy uses to tell the server behind it about the original request,
/// in families: one header of a family is trusted (WSGITrustedProxyHeaders), and every other
/// spelling of the same family is removed from the environ, so that an app or a framework
/// that looks at them cannot be fooled by a client (mod_wsgi's CVE-2022-2255, X-Client-IP).
public enum ProxyFamily: String, CaseIterable, Sendable {
    case client = "the client's address"
    case scheme = "the scheme"
    case host = "the host"
    case server = "the server name"
    case port = "the port"
    case scriptName = "the mount point"
}

/// One header of a family, and what the server variable it rewrites becomes.
public enum ProxyHeader: String, CaseIterable, Sendable {
    case forwardedFor = "X-Forwarded-For", clientIP = "X-Client-IP", realIP = "X-Real-IP"
    case forwardedProto = "X-Forwarded-Proto", forwardedScheme = "X-Forwarded-Scheme", scheme = "X-Scheme"
    case forwardedHTTPS = "X-Forwarded-HTTPS", forwardedSSL = "X-Forwarded-SSL", https = "X-HTTPS"
    case forwardedHost = "X-Forwarded-Host", host = "X-Host"
    case forwardedServer = "X-Forwarded-Server"
    case forwardedPort = "X-Forwarded-Port"
    case scriptName = "X-Script-Name", forwardedScriptName = "X-Forwarded-Script-Name"

    public var family: ProxyFamily {
        switch self {
        case .forwardedFor, .clientIP, .realIP: .client
        case .forwardedProto, .forwardedScheme, .scheme, .forwardedHTTPS, .forwardedSSL, .https: .scheme
        case .forwardedHost, .host: .host
        case .forwardedServer: .server
        case .forwardedPort: .port
        case .scriptName, .forwardedScriptName: .scriptName
        }
    }

    /// The CGI variable Apache makes of the header.
    public var variable: String {
        "HTTP_" + String(rawValue.uppercased().map { $0 == "-" ? "_" : $0 })
    }

    init(parsing word: String) throws {
        if let header = Self.allCases.first(where: { $0.rawValue.lowercased() == word.lowercased() }) {
            self = header
            return
        }
        if word.contains("_"), let header = try? Self(parsing: String(word.map { $0 == "_" ? "-" : $0 })) {
            throw Reason("is not a header name: Apache drops request headers whose names contain '_'; write \(header.rawValue)")
        }
        throw Reason("is not a proxy header swsgi knows; use one of \(Self.allCases.map(\.rawValue).joined(separator: ", "))")
    }
}

/// An address or a range of them (WSGITrustedProxies): IPv4 or IPv6, with a prefix length or
/// an IPv4 netmask, or a partial IPv4 address such as 10.1 (10.1.0.0/16), as Apache's
/// `Require ip` and mod_wsgi (through APR) take them.
public struct AddressRange: Equatable, Sendable {
    /// 16 bytes: IPv4 as an IPv4-mapped IPv6 address, so that one comparison serves both.
    let network: [UInt8]
    let prefix: Int

    init(parsing word: String) throws {
        let parts = word.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        let address = String(parts[0])
        var bytes: [UInt8]
        var length: Int
        if let full = parseAddress(address) {
            (bytes, length) = (full, 128)
        } else if let (partial, octets) = partialIPv4(address) {
            guard parts.count == 1 else { throw Reason("has a partial address and a mask; write the whole address, such as 10.1.0.0/16") }
            (bytes, length) = (partial, 96 + 8 * octets)
        } else {
            throw Reason("is not an IP address, an address/prefix-length or an IPv4 address/netmask")
        }
        let ipv4 = bytes.starts(with: mappedPrefix)
        if parts.count == 2 {
            let mask = String(parts[1])
            if let bits = Int(mask), mask.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) {
                guard bits <= (ipv4 ? 32 : 128) else { throw Reason("has a prefix length over \(ipv4 ? 32 : 128)") }
                length = (ipv4 ? 96 : 0) + bits
            } else if ipv4, let netmask = parseAddress(mask), netmask.starts(with: mappedPrefix),
                      let bits = contiguousBits(netmask.suffix(4)) {
                length = 96 + bits
            } else {
                throw Reason("has a mask that is neither a prefix length nor an IPv4 netmask")
            }
        }
        for i in 0..<16 {
            let kept = max(0, min(8, length - 8 * i))
            bytes[i] &= kept == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - kept))
        }
        (network, prefix) = (bytes, length)
    }

    /// Whether the 16-byte address lies in the range.
    public func contains(_ address: [UInt8]) -> Bool {
        for i in 0..<16 {
            let kept = max(0, min(8, prefix - 8 * i))
            if kept == 0 { return true }
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - kept))
            if address[i] & mask != network[i] { return false }
        }
        return true
    }
}

private let mappedPrefix: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF]

/// A whole IPv4 or IPv6 address as 16 bytes (IPv4 mapped), or nil.
public func parseAddress(_ text: String) -> [UInt8]? {
    var v4 = in_addr(), v6 = in6_addr()
    if inet_pton(AF_INET, text, &v4) == 1 {
        return mappedPrefix + withUnsafeBytes(of: &v4) { Array($0) }
    }
    guard !text.contains("%"), inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
    return withUnsafeBytes(of: &v6) { Array($0) }
}

/// "10", "10.1", "10.1.2": the network's bytes and how many octets were given.
private func partialIPv4(_ text: String) -> ([UInt8], Int)? {
    let octets = text.split(separator: ".", omittingEmptySubsequences: false)
    guard (1...3).contains(octets.count) else { return nil }
    var bytes = mappedPrefix + [0, 0, 0, 0]
    for (i, octet) in octets.enumerated() {
        guard !octet.isEmpty, octet.count <= 3, octet.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
              let value = UInt8(octet) else { return nil }
        bytes[12 + i] = value
    }
    return (bytes, octets.count)
}

/// The prefix length of a netmask such as 255.255.240.0, nil when its ones are not contiguous.
private func contiguousBits(_ mask: ArraySlice<UInt8>) -> Int? {
    let value = mask.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    let ones = value.leadingZeroBitCount == 0 ? (~value).leadingZeroBitCount : 0
    return ones == 32 || value << ones == 0 ? ones : nil
}

/// WSGITrustedProxyHeaders and WSGITrustedProxies of a directory, as merged for a request.
public struct TrustedProxies: Sendable {
    public var headers: [ProxyHeader]
    /// nil: every peer is trusted (mod_wsgi's rule when only the headers are configured).
    public var proxies: [AddressRange]?

    /// One change to the CGI environment: value nil removes the key.
    public struct Edit: Equatable, Sendable {
        public let key: String
        public let value: String?
    }

    /// What the trusted headers change in an environment read through `lookup`: the peer
    /// (REMOTE_ADDR) is trusted when no WSGITrustedProxies is configured or it is in one of
    /// them; then each trusted header present rewrites its server variable. Whoever the peer
    /// is, every other header of a trusted family is removed.
    public func rewrite(_ lookup: (String) -> String?) -> [Edit] {
        var edits: [Edit] = []
        let trusted = proxies.map { ranges in
            lookup("REMOTE_ADDR").flatMap(parseAddress).map { peer in ranges.contains { $0.contains(peer) } } ?? false
        } ?? true
        var kept: Set<ProxyHeader> = []
        if trusted {
            for header in headers {
                guard let value = lookup(header.variable) else { continue }
                kept.insert(header)
                edits += apply(header, value)
            }
        }
        let families = Set(headers.map(\.family))
        for header in ProxyHeader.allCases where families.contains(header.family) && !kept.contains(header) && lookup(header.variable) != nil {
            edits.append(Edit(key: header.variable, value: nil))
        }
        return edits
    }

    private func apply(_ header: ProxyHeader, _ value: String) -> [Edit] {
        switch header {
        case .forwardedFor:
            return forwardedFor(value)
        case .clientIP, .realIP:
            return [Edit(key: "REMOTE_ADDR", value: value.trimmed)]
        case .forwardedHost, .host:
            return [Edit(key: "HTTP_HOST", value: value)]
        case .forwardedServer:
            return [Edit(key: "SERVER_NAME", value: value)]
        case .forwardedPort:
            return [Edit(key: "SERVER_PORT", value: value)]
        case .scriptName, .forwardedScriptName:
            return [Edit(key: "mod_wsgi.mount_point", value: value), Edit(key: "SCRIPT_NAME", value: value)]
        case .forwardedProto, .forwardedScheme, .scheme:
            // Only ever up to https: a TLS connection of Apache's own stays https.
            return value.lowercased() == "https" ? [Edit(key: "HTTPS", value: "1")] : []
        case .forwardedHTTPS, .forwardedSSL, .https:
            return ["on", "true", "1"].contains(value.lowercased()) ? [Edit(key: "HTTPS", value: "1")] : []
        }
    }

    /// X-Forwarded-For "client, proxy1, proxy2": with WSGITrustedProxies, walked from the right
    /// over the trusted hops; REMOTE_ADDR is the address before them, and the header keeps that
    /// address and the hops after it. Without, the first address is the client. Empty
    /// elements are skipped (RFC 9110 5.6.1).
    private func forwardedFor(_ value: String) -> [Edit] {
        let items = value.split(separator: ",").map { String($0).trimmed }.filter { !$0.isEmpty }
        guard !items.isEmpty else { return [] }
        guard let proxies else { return [Edit(key: "REMOTE_ADDR", value: items[0])] }
        var first = items.count
        while first > 0, let address = parseAddress(items[first - 1]), proxies.contains(where: { $0.contains(address) }) {
            first -= 1
        }
        // Every hop trusted: the leftmost is the client.
        let client = first == 0 ? 0 : first - 1
        return [Edit(key: "REMOTE_ADDR", value: items[client]),
                Edit(key: "HTTP_X_FORWARDED_FOR", value: items[client...].joined(separator: ", "))]
    }
}

extension String {
    var trimmed: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        return String(drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }
}
