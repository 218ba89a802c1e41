import Glibc

/// A user or group as named in the configuration, resolved against the system's databases.
struct Account {
    let name: String
    let id: UInt32
}

/// Resolves `name` or `#id` like Apache's ap_uname2id, but an unknown name is an error rather
/// than the uid -1 a daemon would only trip over at fork time.
func systemUser(_ text: String) throws -> Account {
    let found: Account?
    if let id = numericID(text) {
        found = lookUp { getpwuid_r(id, $0, $1, $2, $3) } read: { Account(name: String(cString: $0.pw_name), id: $0.pw_uid) }
    } else {
        found = lookUp { getpwnam_r(text, $0, $1, $2, $3) } read: { Account(name: String(cString: $0.pw_name), id: $0.pw_uid) }
    }
    guard let found else { throw Reason("is not a known user") }
    return found
}

func systemGroup(_ text: String) throws -> Account {
    let found: Account?
    if let id = numericID(text) {
        found = lookUp { getgrgid_r(id, $0, $1, $2, $3) } read: { Account(name: String(cString: $0.gr_name), id: $0.gr_gid) }
    } else {
        found = lookUp { getgrnam_r(text, $0, $1, $2, $3) } read: { Account(name: String(cString: $0.gr_name), id: $0.gr_gid) }
    }
    guard let found else { throw Reason("is not a known group") }
    return found
}

/// The id of an Apache-style `#123`.
private func numericID(_ text: String) -> UInt32? {
    guard text.hasPrefix("#") else { return nil }
    return UInt32(text.dropFirst())
}

/// Calls a reentrant get*_r function, growing its buffer while it reports ERANGE.
private func lookUp<Entry, Result>(
    _ call: (UnsafeMutablePointer<Entry>, UnsafeMutablePointer<CChar>, Int, UnsafeMutablePointer<UnsafeMutablePointer<Entry>?>) -> Int32,
    read: (Entry) -> Result
) -> Result? {
    var size = 4096
    while size <= 1 << 20 {
        let entry = UnsafeMutablePointer<Entry>.allocate(capacity: 1)
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: size)
        defer { entry.deallocate(); buffer.deallocate() }
        var found: UnsafeMutablePointer<Entry>?
        let status = call(entry, buffer, size, &found)
        if status == ERANGE {
            size *= 2
            continue
        }
        return found.map { read($0.pointee) }
    }
    return nil
}
