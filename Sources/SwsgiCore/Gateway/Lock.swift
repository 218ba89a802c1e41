import Glibc

/// A plain pthread mutex (Apache's threads are plain threads), at an address of its own that
/// never moves: a pthread object must not be moved or copied once initialised.
final class Lock {
    fileprivate let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

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

/// A pthread condition variable on the monotonic clock, waited for with a Lock held.
final class Condition {
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init() {
        condition.initialize(to: pthread_cond_t())
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        checkPthread(pthread_cond_init(condition, &attributes), "pthread_cond_init")
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        checkPthread(pthread_cond_destroy(condition), "pthread_cond_destroy")
        condition.deallocate()
    }

    /// Waits, lock held, until signalled (or spuriously) or the deadline (monotonic seconds) passed.
    func wait(_ lock: Lock, until deadline: Double?) {
        guard let deadline else { return checkPthread(pthread_cond_wait(condition, lock.mutex), "pthread_cond_wait") }
        var time = timespec(tv_sec: Int(deadline), tv_nsec: Int((deadline - deadline.rounded(.down)) * 1e9))
        let result = pthread_cond_timedwait(condition, lock.mutex, &time)
        if result != ETIMEDOUT { checkPthread(result, "pthread_cond_timedwait") }
    }

    func signal() { checkPthread(pthread_cond_signal(condition), "pthread_cond_signal") }
}

/// A pthread call that can only fail through a bug (a lock used after it was destroyed, or
/// unlocked by a thread that does not hold it): stop there rather than run on unlocked.
func checkPthread(_ result: Int32, _ call: StaticString) {
    if result != 0 { fatalError("swsgi: \(call) failed: \(String(cString: strerror(result)))") }
}
