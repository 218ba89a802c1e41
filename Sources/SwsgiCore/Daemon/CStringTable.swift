import SwsgiProtocol

/// The strings of a frame's string list as NUL-terminated C strings in one buffer, for the
/// C-shaped APIs (swsgi_request, the transport's start).
struct CStringTable {
    private var storage: [CChar] = []
    private var offsets: [Int] = []

    init(payload: [UInt8]) throws(ProtocolError) {
        var failure: ProtocolError?
        // Each string has 4 length bytes in the payload and needs 1 NUL here: the payload's
        // size is room enough. memcpy, as Array.append(contentsOf:) copies byte by byte.
        storage = [CChar](unsafeUninitializedCapacity: payload.count) { buffer, initialized in
            let bytes = UnsafeMutableRawBufferPointer(buffer)
            do throws(ProtocolError) {
                try forEachString(in: payload) { string in
                    offsets.append(initialized)
                    if let source = string.baseAddress {
                        (bytes.baseAddress! + initialized).copyMemory(from: source, byteCount: string.count)
                    }
                    initialized += string.count
                    buffer[initialized] = 0
                    initialized += 1
                }
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
    }

    var count: Int { offsets.count }

    func withPointers<T>(_ body: ([UnsafePointer<CChar>?]) -> T) -> T {
        storage.withUnsafeBufferPointer { base in
            body(offsets.map { UnsafePointer(base.baseAddress! + $0) })
        }
    }
}
