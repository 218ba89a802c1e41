import Glibc

/// A mutex with a condition variable: the daemon's worker threads wait on it for work. Both
/// at addresses of their own that never move (pthread objects must not be moved or copied),
/// every call checked.
final class Condition {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init() {
        mutex.initialize(to: pthread_mutex_t())
        condition.initialize(to: pthread_cond_t())
        checkPthread(pthread_mutex_init(mutex, nil), "pthread_mutex_init")
        checkPthread(pthread_cond_init(condition, nil), "pthread_cond_init")
    }

    deinit {
        checkPthread(pthread_cond_destroy(condition), "pthread_cond_destroy")
        checkPthread(pthread_mutex_destroy(mutex), "pthread_mutex_destroy")
        condition.deallocate()
        mutex.deallocate()
    }

    func withLock<T>(_ body: () -> T) -> T {
        checkPthread(pthread_mutex_lock(mutex), "pthread_mutex_lock")
        defer { checkPthread(pthread_mutex_unlock(mutex), "pthread_mutex_unlock") }
        return body()
    }

    /// With the lock held: waits until signalled.
    func wait() { checkPthread(pthread_cond_wait(condition, mutex), "pthread_cond_wait") }
    func signal() { checkPthread(pthread_cond_signal(condition), "pthread_cond_signal") }
}
