import Glibc

/// Starts a plain detached thread (stackSize 0: the system default).
func startThread(stackSize: Int = 0, _ body: @escaping () -> Void) {
    final class Box { let body: () -> Void; init(_ body: @escaping () -> Void) { self.body = body } }
    var attributes = pthread_attr_t()
    pthread_attr_init(&attributes)
    defer { pthread_attr_destroy(&attributes) }
    pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
    if stackSize > 0 { pthread_attr_setstacksize(&attributes, stackSize) }
    var thread = pthread_t()
    let box = Unmanaged.passRetained(Box(body)).toOpaque()
    let rc = pthread_create(&thread, &attributes, { raw in
        let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
        box.body()
        return nil
    }, box)
    precondition(rc == 0, "pthread_create failed: \(rc)")
}

/// Seconds on the monotonic clock.
func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

/// Milliseconds on the monotonic clock: the daemon policy's.
func monotonicMilliseconds() -> Int { Int(monotonicSeconds() * 1000) }

/// Microseconds since the epoch, as mod_wsgi's request_start.
func epochMicroseconds() -> Int {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return now.tv_sec * 1_000_000 + now.tv_nsec / 1000
}

/// How a process ended, as words: "exited with status 1", "was killed by signal 9 (Killed)";
/// status is waitpid's, or -1 when it is unknown.
func describeWaitStatus(_ status: Int32) -> String {
    if status < 0 { return "ended (how is unknown: Apache reaped it before swsgi could see)" }
    let signal = status & 0x7f
    if signal == 0 { return "exited with status \((status >> 8) & 0xff)" }
    let name = strsignal(signal).map { String(cString: $0) } ?? "unknown"
    return "was killed by signal \(signal) (\(name))" + ((status & 0x80) != 0 ? ", core dumped" : "")
}
