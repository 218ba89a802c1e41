import Glibc

/// A plain pthread mutex: Apache's threads are plain threads.
final class Lock {
    private var mutex = pthread_mutex_t()

    init() { pthread_mutex_init(&mutex, nil) }
    deinit { pthread_mutex_destroy(&mutex) }

    func lock() { pthread_mutex_lock(&mutex) }
    func unlock() { pthread_mutex_unlock(&mutex) }
    func tryLock() -> Bool { pthread_mutex_trylock(&mutex) == 0 }
}
