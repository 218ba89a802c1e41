import Glibc
import SwsgiPython
import Synchronization

/// What a thread that runs requests keeps about itself: mod_wsgi's thread id and request
/// count, and the request it is running, so that sys.stdout and sys.stderr (shared by all
/// threads) log with that request's client, as wsgi.errors does.
final class RequestThread {
    let id: Int
    /// Requests this thread started.
    var requests = 0
    /// Its I/O goes through the exchange, as every use of a request's transport does.
    var exchange: Exchange?
    /// How the daemon's interrupt-timeout reaches the request this thread runs.
    let interruption = Interruption()
    /// mod_wsgi.request_data(): a dict for the running request, made when first asked for.
    private var requestData: PyRef?

    /// Requests this process finished (mod_wsgi.total_requests), and is running.
    static let finished = Atomic<Int>(0)
    static let active = Atomic<Int>(0)
    /// When this process started serving (seconds since the epoch).
    nonisolated(unsafe) static var processStart = 0.0
    /// Threads that ran a request.
    static var threads: Int { nextID.load(ordering: .relaxed) - 1 }
    private static let nextID = Atomic<Int>(1)
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { record in
            if let record { Unmanaged<RequestThread>.fromOpaque(record).release() }
        }
        return key
    }()

    private init(id: Int) { self.id = id }

    /// This thread's record, made on its first request.
    static var current: RequestThread {
        if let record = pthread_getspecific(key) { return Unmanaged<RequestThread>.fromOpaque(record).takeUnretainedValue() }
        let thread = RequestThread(id: nextID.add(1, ordering: .relaxed).oldValue)
        pthread_setspecific(key, Unmanaged.passRetained(thread).toOpaque())
        return thread
    }

    /// The running request's data dict (a new reference); nil outside a request. GIL held.
    func requestDataObject() -> PyRef? {
        guard exchange != nil else { return nil }
        if requestData == nil { requestData = DictBuilder()?.finish() }
        return requestData?.copy()
    }

    /// At the end of a request, with the GIL of its interpreter held.
    func endRequestData() {
        requestData = nil
    }

    /// This thread's record if it ever ran a request (an app's own threads have none).
    static var running: RequestThread? {
        pthread_getspecific(key).map { Unmanaged<RequestThread>.fromOpaque($0).takeUnretainedValue() }
    }
}
