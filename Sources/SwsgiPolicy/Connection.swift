/// Where one daemon connection is, from accept to close.
public enum Phase: Equatable, Sendable {
    /// Accepted, nothing received yet: an Apache child sends its request as it connects, so
    /// this counts as a coming request (it will need a worker) until `freshFor` has passed.
    case fresh(since: Milliseconds)
    /// Between requests, or part of a request received: the poll loop watches it.
    case idle
    /// Its request arrived whole; waiting for a worker.
    case queued
    /// A worker runs its request.
    case running(since: Milliseconds)
    /// Past request-timeout with interrupt-timeout set: told to unwind, which it may still do.
    case interrupted(since: Milliseconds)
    /// Past request-timeout: answered and cut, but its worker is still stuck in the app.
    case overdue

    /// Whether a worker holds it: the process must not exit under it.
    var inFlight: Bool {
        switch self {
        case .running, .interrupted, .overdue: true
        case .fresh, .idle, .queued: false
        }
    }
}

/// One connection's record: its phase, and what the server holds for it (`Link`: its socket
/// and request), which the policy never looks into.
public struct Connection<Link> {
    public internal(set) var phase: Phase
    public let link: Link
}

/// The signals a daemon acts on, as they arrived together (a set: the poll loop reads them
/// in batches, and one of a kind is as good as many).
public struct Signals: OptionSet, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// SIGTERM, SIGINT, SIGHUP: drain and exit within shutdown-timeout.
    public static let stop = Signals(rawValue: 1)
    /// SIGUSR1: restart within eviction-timeout.
    public static let restart = Signals(rawValue: 2)
}

/// What the daemon server is to do; it executes these in order.
public enum Decision<Link> {
    /// Close the listening socket: it is the next daemons' from here on.
    case stopAccepting
    /// The kernel's backstop (SIGALRM) should the loop ever be stuck past its deadline.
    case alarm(seconds: Int)
    /// The process is stopping (to be restarted, or for good); log the reason.
    case stopping(reason: StopReason)
    /// Close a connection, already out of the registry. farewell: the close is planned, so
    /// the client is told that a request it may have sent meanwhile was not started.
    case close(Int32, Link, farewell: Bool)
    /// Watch an idle connection again for its next request.
    case resume(Int32, Link)
    /// request-timeout passed with interrupt-timeout set: raise mod_wsgi.RequestTimeout in
    /// the thread that runs the request, so that it unwinds (and is answered 504).
    case interrupt(Int32, Link)
    /// request-timeout passed (and interrupt-timeout after it, if set): answer the request 504
    /// and cut its connection.
    case timeOut(Int32, Link)
    /// Run the atexit functions within that many seconds, then exit.
    case exit(reason: StopReason, exitFunctionsWithin: Int)
}

extension Decision: Equatable where Link: Equatable {}
