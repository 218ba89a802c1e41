import SwsgiProtocol

/// The strings of a frame's string list as NUL-terminated C strings in one buffer, for the
/// C-shaped APIs (swsgi_request, the transport's start).
struct CStringTable {
    private var storage: [CChar] = []
    private var offsets: [Int] = []

    init(payload: [UInt8]) throws(ProtocolError) {
        storage.reserveCapacity(payload.count)
        try forEachString(in: payload) { string in
            offsets.append(storage.count)
            storage.append(contentsOf: string.bindMemory(to: CChar.self))
            storage.append(0)
        }
    }

    var count: Int { offsets.count }

    func withPointers<T>(_ body: ([UnsafePointer<CChar>?]) -> T) -> T {
        storage.withUnsafeBufferPointer { base in
            body(offsets.map { UnsafePointer(base.baseAddress! + $0) })
        }
    }
}
