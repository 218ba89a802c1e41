/// Why a daemon process stops, decided where the policy begins the stop: the metrics count
/// each kind, the log and mod_wsgi's process_stopping event give its sentence.
public enum StopReason: Equatable, Sendable, CustomStringConvertible {
    case maximumRequests(Int)
    case requestTimeout
    case inactivityTimeout(seconds: Int)
    case scriptChanged
    case restartInterval(seconds: Int)
    case startupTimeout(seconds: Int)
    /// SIGUSR1: told to restart (Apache's graceful restart, or an operator).
    case restart
    /// SIGTERM, SIGINT, SIGHUP: told to stop, and drained.
    case shutdown

    public var description: String {
        switch self {
        case .maximumRequests(let count): "it reached its maximum-requests of \(count)"
        case .requestTimeout: "request-timeout"
        case .inactivityTimeout(let seconds): "inactivity-timeout of \(seconds) s"
        case .scriptChanged: "its WSGI script changed"
        case .restartInterval(let seconds): "restart-interval of \(seconds) s"
        case .startupTimeout(let seconds): "startup-timeout of \(seconds) s passed before a WSGI script loaded"
        case .restart: "it was told to restart"
        case .shutdown: "it was told to stop"
        }
    }
}
