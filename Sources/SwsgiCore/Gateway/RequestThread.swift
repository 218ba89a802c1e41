import Glibc
import Synchronization

/// What a thread that runs requests keeps about itself: mod_wsgi's thread id and request
/// count, and the request it is running, so that sys.stdout and sys.stderr (shared by all
/// threads) log with that request's client, as wsgi.errors does.
final class RequestThread {
    let id: Int
    /// Requests this thread started.
    var requests = 0
    var transport: Transport?

    /// Requests this process finished (mod_wsgi.total_requests).
    static let finished = Atomic<Int>(0)
    private static let nextID = Atomic<Int>(1)
    nonisolated(unsafe) private static let key: pthread_key_t = {
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

    /// The transport of the request this thread is running, if any (an app's own threads
    /// have none).
    static var runningTransport: Transport? {
        pthread_getspecific(key).flatMap { Unmanaged<RequestThread>.fromOpaque($0).takeUnretainedValue().transport }
    }
}
