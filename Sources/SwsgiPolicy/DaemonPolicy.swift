/// Every timing decision of a daemon process, and the registry of its connections: pure code
/// (no system calls), driven by events and a clock it is given. The daemon server tells it what
/// happened and executes the decisions it returns; it keeps it behind one lock.
///
/// Each deadline is reached at its instant (the first tick at or after `start + timeout`),
/// never before.
public struct DaemonPolicy<Link> {
    public let limits: Limits
    /// How long an accepted connection that sends nothing counts as a coming request.
    public static var freshFor: Milliseconds { 1000 }
    /// A stop that gives no time (inactivity- or startup-timeout, a zero graceful-timeout)
    /// still lets running requests end for this long: the poll loop's interval, which they
    /// have always had.
    public static var stopGrace: Milliseconds { 200 }

    public private(set) var connections: [Int32: Connection<Link>] = [:]
    /// Requests held by a worker (running or overdue), and fresh connections: counts of
    /// `connections` kept as they change, as the poll loop asks for them on every turn.
    public private(set) var inFlight = 0
    private var fresh = 0
    /// The queued connections, oldest first.
    private var queue: [Int32] = []
    /// Running requests that keep request-timeout themselves (ASGI: the task is cancelled
    /// and answered 504, the process goes on serving the others).
    private var timingThemselves: Set<Int32> = []
    public private(set) var served = 0
    /// Requests handed to a worker: maximum-requests counts these, as mod_wsgi does, so that
    /// a process never starts more than its maximum, however many arrive at once.
    private var requestsStarted = 0
    /// The last request's end (or the start): inactivity-timeout counts from here.
    private var lastActivity: Milliseconds
    private let started: Milliseconds
    /// Until stopping: the listener is then the next daemons'.
    public private(set) var accepting = true
    /// Told to stop (SIGTERM): the exit comes by this instant (shutdown-timeout), the atexit
    /// functions included.
    private var shutdownDeadline: Milliseconds?
    /// Stopping: no new requests; the running ones may finish until the deadline.
    public private(set) var stop: (reason: StopReason, deadline: Milliseconds)?

    public init(limits: Limits, now: Milliseconds) {
        self.limits = limits
        started = now
        lastActivity = now
    }

    // MARK: what the server asks

    /// Requests arrived whole that wait for a worker.
    public var queued: Int { queue.count }

    /// Workers not busy and not spoken for by a queued or fresh connection.
    public var freeWorkers: Int { limits.threads - inFlight - queue.count - fresh }

    /// Whether to accept (and watch the listener): new connections are taken only while a
    /// worker is free, so that the processes of a group share the load.
    public var wantsConnections: Bool { accepting && freeWorkers > 0 }

    // MARK: events

    /// A connection was accepted. false: the process stopped accepting meanwhile (a worker
    /// stopped it), so the server turns it away.
    @discardableResult
    public mutating func accepted(_ id: Int32, _ link: Link, at now: Milliseconds) -> Bool {
        defer { checkInvariants() }
        precondition(connections[id] == nil, "connection \(id) accepted twice")
        guard accepting else { return false }
        connections[id] = Connection(phase: .fresh(since: now), link: link)
        count(.fresh(since: now), 1)
        return true
    }

    /// The connection has something to read. Returns its link when it may read a request
    /// (it is fresh or idle); it is no longer fresh.
    public mutating func readable(_ id: Int32) -> Link? {
        defer { checkInvariants() }
        guard let connection = connections[id] else { return nil }
        switch connection.phase {
        case .fresh: move(id, to: .idle)
        case .idle: break
        case .queued, .running, .interrupted, .overdue: return nil
        }
        return connection.link
    }

    /// Its whole request frame arrived: it waits for a worker.
    public mutating func requestArrived(_ id: Int32) {
        defer { checkInvariants() }
        guard connections[id]?.phase == .idle else { return assertionFailure("request on connection \(id) that is not idle") }
        move(id, to: .queued)
        queue.append(id)
    }

    /// A worker is free: the oldest queued connection, now running, and what follows. The
    /// request that reaches maximum-requests begins the stop, which turns away every request
    /// not started yet (their Apache children send them to the next process).
    public mutating func take(at now: Milliseconds) -> (id: Int32, link: Link, decisions: [Decision<Link>])? {
        defer { checkInvariants() }
        guard !queue.isEmpty, let connection = connections[queue[0]] else { return nil }
        let id = queue.removeFirst()
        move(id, to: .running(since: now))
        requestsStarted += 1
        var decisions: [Decision<Link>] = []
        if limits.maximumRequests > 0, requestsStarted >= limits.maximumRequests {
            beginStop(.maximumRequests(limits.maximumRequests), within: limits.gracefulTimeout, at: now, &decisions)
        }
        return (id, connection.link, decisions)
    }

    /// The running request of connection id answers request-timeout itself.
    public mutating func timesItself(_ id: Int32) {
        if connections[id]?.phase.inFlight == true { timingThemselves.insert(id) }
    }

    /// The server closes it (the peer went, or sent what is not a request): forgets it.
    public mutating func closed(_ id: Int32) -> Link? {
        defer { checkInvariants() }
        queue.removeAll { $0 == id }
        return remove(id)?.link
    }

    /// A worker finished the connection's request. reusable: the connection can carry another
    /// one. restartNeeded: the WSGI script changed, so the process restarts.
    public mutating func finished(_ id: Int32, reusable: Bool, restartNeeded: Bool, at now: Milliseconds) -> [Decision<Link>] {
        defer { checkInvariants() }
        guard let connection = connections[id], connection.phase.inFlight else {
            assertionFailure("connection \(id) finished a request it was not running")
            return []
        }
        served += 1
        lastActivity = now
        timingThemselves.remove(id)
        var decisions: [Decision<Link>] = []
        if restartNeeded { beginStop(.scriptChanged, within: limits.gracefulTimeout, at: now, &decisions) }
        if !reusable || connection.phase == .overdue || stop != nil {
            _ = remove(id)
            decisions.append(.close(id, connection.link, farewell: reusable && connection.phase != .overdue))
        } else {
            move(id, to: .idle)
            decisions.append(.resume(id, connection.link))
        }
        return decisions
    }

    /// Signals that arrived together. A stop (SIGTERM) outranks a restart (SIGUSR1), and after
    /// it no signal changes anything. Both drain the process as every stop does (beginStop):
    /// the running requests finish, any other is turned away unstarted, on every connection,
    /// for its Apache child to send to a replacement process (the group's socket outlives this
    /// process, and an ended generation hands it to the next). mod_wsgi's daemons, which take
    /// one request per connection, likewise accept none once told to stop.
    public mutating func received(_ signals: Signals, at now: Milliseconds) -> [Decision<Link>] {
        defer { checkInvariants() }
        guard shutdownDeadline == nil else { return [] }
        var decisions: [Decision<Link>] = []
        if signals.contains(.stop) {
            let within = max(1, limits.shutdownTimeout)
            let deadline = now + within * 1000
            shutdownDeadline = deadline
            beginStop(.shutdown, within: within, at: now, &decisions)
            // Restarting already: the running requests have until the sooner deadline.
            if let begun = stop, begun.deadline > deadline { stop = (begun.reason, deadline) }
            decisions.append(.alarm(seconds: within + 1))
        } else if signals.contains(.restart) {
            let within = limits.evictionTimeout > 0 ? limits.evictionTimeout : limits.gracefulTimeout
            beginStop(.restart, within: within, at: now, &decisions)
        }
        return decisions
    }

    /// The clock reached `now`. loadFailedSince: when loading the WSGI script first failed, if
    /// no script has loaded since (startup-timeout).
    public mutating func tick(at now: Milliseconds, loadFailedSince: Milliseconds? = nil) -> [Decision<Link>] {
        defer { checkInvariants() }
        var decisions: [Decision<Link>] = []
        if fresh > 0 || (limits.requestTimeout > 0 && inFlight > 0) {
            var overdue: [Int32] = [], interrupted: [Int32] = []
            for (id, connection) in connections {
                switch connection.phase {
                case .fresh(let since) where now - since >= Self.freshFor:
                    move(id, to: .idle)
                case .running(let since) where limits.requestTimeout > 0 && now - since >= limits.requestTimeout * 1000
                                                && !timingThemselves.contains(id):
                    if limits.interruptTimeout > 0 { interrupted.append(id) } else { overdue.append(id) }
                case .interrupted(let since) where now - since >= limits.interruptTimeout * 1000:
                    overdue.append(id)
                default:
                    break
                }
            }
            // The process keeps running if the request unwinds in time; only otherwise it stops.
            for id in interrupted.sorted() {
                move(id, to: .interrupted(since: now))
                decisions.append(.interrupt(id, connections[id]!.link))
            }
            for id in overdue.sorted() {
                move(id, to: .overdue)
                decisions.append(.timeOut(id, connections[id]!.link))
                beginStop(.requestTimeout, within: limits.gracefulTimeout, at: now, &decisions)
            }
        }
        if limits.inactivityTimeout > 0, inFlight == 0, now - lastActivity >= limits.inactivityTimeout * 1000 {
            beginStop(.inactivityTimeout(seconds: limits.inactivityTimeout), within: 0, at: now, &decisions)
        }
        if limits.startupTimeout > 0, let failed = loadFailedSince, now - failed >= limits.startupTimeout * 1000 {
            beginStop(.startupTimeout(seconds: limits.startupTimeout), within: 0, at: now, &decisions)
        }
        if limits.restartInterval > 0, now - started >= limits.restartInterval * 1000 {
            beginStop(.restartInterval(seconds: limits.restartInterval), within: limits.gracefulTimeout, at: now, &decisions)
        }
        // Overdue requests hold no exit back: their workers may never come back.
        if let stop, now >= stop.deadline || !connections.values.contains(where: { Self.isRunning($0.phase) }) {
            // Told to stop: the atexit functions share the shutdown-timeout with the requests.
            let within = shutdownDeadline.map { max(1, ($0 - now + 999) / 1000) } ?? max(1, limits.shutdownTimeout)
            decisions.append(.exit(reason: stop.reason, exitFunctionsWithin: within))
        }
        return decisions
    }

    // MARK: stopping

    /// Interrupted requests still hold the exit back: they may yet unwind, until their
    /// interrupt-timeout makes them overdue.
    private static func isRunning(_ phase: Phase) -> Bool {
        switch phase {
        case .running, .interrupted: true
        case .fresh, .idle, .queued, .overdue: false
        }
    }

    /// No new connections or requests; the running ones may finish until the deadline. Idle
    /// and queued connections are closed with a farewell (as is each running request's when
    /// it ends): a request sent on one meanwhile is answered "rejected", and its Apache child
    /// sends it again on a new connection, which the restarted process (or a sibling) accepts.
    private mutating func beginStop(_ reason: StopReason, within seconds: Int, at now: Milliseconds, _ decisions: inout [Decision<Link>]) {
        guard stop == nil else { return }
        stop = (reason, now + max(seconds * 1000, Self.stopGrace))
        decisions.append(.stopping(reason: reason))
        accepting = false
        decisions.append(.stopAccepting)
        // In the order of their ids: decisions are the same for the same events.
        for id in connections.keys.sorted() where connections[id]?.phase.inFlight == false {
            let connection = remove(id)!
            decisions.append(.close(id, connection.link, farewell: true))
        }
        queue.removeAll()
    }

    // MARK: the registry

    private mutating func move(_ id: Int32, to phase: Phase) {
        guard let old = connections[id]?.phase else { return }
        count(old, -1)
        count(phase, 1)
        connections[id]?.phase = phase
    }

    private mutating func remove(_ id: Int32) -> Connection<Link>? {
        guard let connection = connections.removeValue(forKey: id) else { return nil }
        count(connection.phase, -1)
        timingThemselves.remove(id)
        return connection
    }

    private mutating func count(_ phase: Phase, _ change: Int) {
        if phase.inFlight { inFlight += change }
        if case .fresh = phase { fresh += change }
    }

    /// Debug builds: the registry is consistent after every event.
    private func checkInvariants() {
        assert(Set(queue).count == queue.count, "a connection queued twice")
        assert(queue.allSatisfy { connections[$0]?.phase == .queued }, "a queue entry that is not a queued connection")
        assert(connections.values.filter { $0.phase == .queued }.count == queue.count, "a queued connection not in the queue")
        assert(inFlight == connections.values.filter { $0.phase.inFlight }.count, "requests in flight miscounted")
        assert(fresh == connections.values.filter { if case .fresh = $0.phase { true } else { false } }.count, "fresh connections miscounted")
        assert(inFlight <= limits.threads, "more requests in flight than workers")
        assert(stop == nil || connections.values.allSatisfy { $0.phase.inFlight }, "stopping with connections no worker holds")
        assert(shutdownDeadline == nil || stop != nil, "told to stop and not stopping")
        assert(stop == nil || !accepting, "stopping while accepting")
    }
}
