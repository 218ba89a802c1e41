/// Milliseconds on a monotonic clock: the daemon passes its real clock, tests a number.
public typealias Milliseconds = Int

/// The daemon's timing options, in seconds as configured (0: off). Built from the group's
/// WSGIDaemonProcess options, where their defaults live.
public struct Limits: Sendable, Equatable {
    /// Worker threads (at least 1).
    public var threads: Int
    public var maximumRequests: Int
    public var inactivityTimeout: Int
    public var requestTimeout: Int
    /// 0: a request past request-timeout restarts the process. Otherwise it is interrupted
    /// first (mod_wsgi.RequestTimeout raised in its thread) and has this long to unwind.
    public var interruptTimeout: Int
    public var queueTimeout: Int
    public var gracefulTimeout: Int
    /// 0: graceful-timeout.
    public var evictionTimeout: Int
    public var shutdownTimeout: Int
    public var restartInterval: Int
    public var startupTimeout: Int

    public init(threads: Int = 1, maximumRequests: Int = 0, inactivityTimeout: Int = 0, requestTimeout: Int = 0,
                interruptTimeout: Int = 0, queueTimeout: Int = 0, gracefulTimeout: Int = 0, evictionTimeout: Int = 0, shutdownTimeout: Int = 0,
                restartInterval: Int = 0, startupTimeout: Int = 0) {
        self.threads = max(1, threads)
        self.maximumRequests = maximumRequests
        self.inactivityTimeout = inactivityTimeout
        self.requestTimeout = requestTimeout
        self.interruptTimeout = interruptTimeout
        self.queueTimeout = queueTimeout
        self.gracefulTimeout = gracefulTimeout
        self.evictionTimeout = evictionTimeout
        self.shutdownTimeout = shutdownTimeout
        self.restartInterval = restartInterval
        self.startupTimeout = startupTimeout
    }

    /// queue-timeout: whether a request the Apache child started at `requestStart` (its
    /// mod_wsgi.request_start, microseconds since the epoch) waited too long for a worker to
    /// be run at `now` (same clock); it is answered 503 instead.
    public func queueTimeoutPassed(requestStart: Int, now: Int) -> Bool {
        queueTimeout > 0 && now - requestStart > queueTimeout * 1_000_000
    }
}
