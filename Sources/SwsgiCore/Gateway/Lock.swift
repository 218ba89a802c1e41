import Glibc

/// A plain pthread mutex (Apache's threads are plain threads), at an address of its own that
/// never moves: a pthread object must not be moved or copied once initialised.
final class Lock {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    init() {
        mutex.initialize(to: pthread_mutex_t())
        checkPthread(pthread_mutex_init(mutex, nil), "pthread_mutex_init")
    }

    deinit {
        checkPthread(pthread_mutex_destroy(mutex), "pthread_mutex_destroy")
        mutex.deallocate()
    }

    func lock() { checkPthread(pthread_mutex_lock(mutex), "pthread_mutex_lock") }
    func unlock() { checkPthread(pthread_mutex_unlock(mutex), "pthread_mutex_unlock") }

    func withLock<T>(_ body: () -> T) -> T {
        lock()
        defer { unlock() }
        return body()
    }

    func tryLock() -> Bool {
        let result = pthread_mutex_trylock(mutex)
        if result == EBUSY { return false }
        checkPthread(result, "pthread_mutex_trylock")
        return true
    }
}

/// A pthread call that can only fail through a bug (a lock used after it was destroyed, or
/// unlocked by a thread that does not hold it): stop there rather than run on unlocked.
func checkPthread(_ result: Int32, _ call: StaticString) {
    if result != 0 { fatalError("swsgi: \(call) failed: \(String(cString: strerror(result)))") }
}
