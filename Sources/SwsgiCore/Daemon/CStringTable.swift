/// Strings from a frame as NUL-terminated C strings in one buffer, for the C-shaped APIs
/// (swsgi_request, the transport's start).
struct CStringTable {
    private var storage: [CChar] = []
    private var offsets: [Int] = []

    init(_ strings: [[UInt8]]) {
        storage.reserveCapacity(strings.reduce(0) { $0 + $1.count + 1 })
        for string in strings {
            offsets.append(storage.count)
            storage.append(contentsOf: string.map { CChar(bitPattern: $0) })
            storage.append(0)
        }
    }

    func withPointers<T>(_ body: ([UnsafePointer<CChar>?]) -> T) -> T {
        storage.withUnsafeBufferPointer { base in
            body(offsets.map { UnsafePointer(base.baseAddress! + $0) })
        }
    }
}
