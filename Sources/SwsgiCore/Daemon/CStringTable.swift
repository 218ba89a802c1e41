import SwsgiProtocol

/// The strings of a frame's string list as NUL-terminated C strings in one buffer, for the
/// C-shaped APIs (swsgi_request, the transport's start): `leading` strings, then name and
/// value pairs. A class, so that its pointers stay valid as long as it lives.
final class CStringTable {
    private let storage: UnsafeMutablePointer<CChar>
    /// The strings before the pairs (the status line of a .start frame).
    let leading: [UnsafePointer<CChar>]
    let names: [UnsafePointer<CChar>?]
    let values: [UnsafePointer<CChar>?]

    /// Throws when the list is malformed or its strings after the first `leading` are not pairs.
    init(payload: [UInt8], leading leadingCount: Int = 0) throws(ProtocolError) {
        // Each string has 4 length bytes in the payload and needs 1 NUL here: the payload's
        // size is room enough.
        let storage = UnsafeMutablePointer<CChar>.allocate(capacity: max(payload.count, 1))
        self.storage = storage
        var leading: [UnsafePointer<CChar>] = [], names: [UnsafePointer<CChar>?] = [], values: [UnsafePointer<CChar>?] = []
        do throws(ProtocolError) {
            try payload.withUnsafeBufferPointer { (elements) throws(ProtocolError) in
                var reader = try StringListReader(UnsafeRawBufferPointer(elements))
                let pairs = max(0, reader.count - leadingCount) / 2
                names.reserveCapacity(pairs)
                values.reserveCapacity(pairs)
                var used = 0, index = 0
                while let string = try reader.next() {
                    let text = storage + used
                    if let source = string.baseAddress {
                        UnsafeMutableRawPointer(text).copyMemory(from: source, byteCount: string.count)
                    }
                    used += string.count
                    storage[used] = 0
                    used += 1
                    if index < leadingCount { leading.append(text) }
                    else if (index - leadingCount) % 2 == 0 { names.append(text) }
                    else { values.append(text) }
                    index += 1
                }
                guard index >= leadingCount, names.count == values.count else {
                    throw .malformed("the strings are not name and value pairs")
                }
            }
        } catch {
            storage.deallocate()
            throw error
        }
        (self.leading, self.names, self.values) = (leading, names, values)
    }

    deinit { storage.deallocate() }
}
