import Synchronization

/// An application group's ASGI event loop as the core sees it (its Python is ASGISource's):
/// the http requests handed to it, and the doorbell (an eventfd the loop watches) that wakes
/// it for them. One ring and one wake-up start every request that arrived meanwhile.
final class ASGILoop {
    private static let loops = Mutex<[String: ASGILoop]>([:])

    static func named(_ group: String) -> ASGILoop {
        loops.withLock { loops in
            if let loop = loops[group] { return loop }
            let loop = ASGILoop()
            loops[group] = loop
            return loop
        }
    }

    private let doorbell = Doorbell()
    private let lock = Lock()
    private var arrivals: [LoopRequest] = []
    /// Set once the loop watches the doorbell.
    private let running = Atomic<Bool>(false)

    var isRunning: Bool { running.load(ordering: .acquiring) }

    /// From the loop as it starts: the descriptor it watches.
    func watched() -> Int32 {
        running.store(true, ordering: .releasing)
        return doorbell.fd
    }

    /// From a worker thread.
    func arrive(_ request: LoopRequest) {
        let first = lock.withLock {
            arrivals.append(request)
            return arrivals.count == 1
        }
        // Otherwise the ring for the first one has not been answered yet.
        if first { doorbell.ring() }
    }

    /// On the loop, GIL held, when the doorbell rang.
    func take() {
        // Answered before the list is taken: a request added after that rings again.
        doorbell.answer()
        let taken = lock.withLock {
            defer { arrivals.removeAll(keepingCapacity: true) }
            return arrivals
        }
        for request in taken { request.begin() }
    }
}
