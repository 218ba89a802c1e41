import Glibc
import SwsgiABI
import SwsgiPython

/// interrupt-timeout's injections, on a thread of their own (started with the first): raising
/// the exception takes the request's interpreter's GIL, which an extension may hold for good,
/// and the poll loop must go on to restart the process then.
final class Interrupter {
    private let lock = Lock()
    /// Posted once for each pending interruption; at an address of its own that never moves.
    private let posted = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)
    // Guarded by lock:
    private var pending: [(Interruption, ObjectIdentifier)] = []
    private var started = false

    init() {
        sem_init(posted, 0, 0)
    }

    deinit {
        sem_destroy(posted)
        posted.deallocate()
    }

    /// Called with the server's lock held: returns at once.
    func send(_ interruption: Interruption, request: ObjectIdentifier) {
        lock.withLock {
            pending.append((interruption, request))
            if !started {
                started = true
                startThread { self.run() }
            }
        }
        sem_post(posted)
    }

    private func run() -> Never {
        while true {
            while sem_wait(posted) != 0 {}  // EINTR
            let (interruption, request) = lock.withLock { pending.removeFirst() }
            if !interruption.interrupt(request: request) {
                Apache.log(nil, SWSGI_LOG_INFO, "swsgi: the request to interrupt had already ended")
            }
        }
    }
}
