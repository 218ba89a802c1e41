import CLinux
import Glibc
import SwsgiABI
import SwsgiConfig
import SwsgiPolicy
import SwsgiProtocol
import SwsgiPython

/// The daemon's server. Apache's children keep their connections open between requests, so a
/// thread per connection would soon have every thread parked on an idle one: instead the free
/// worker threads poll all idle connections (one epoll set, one-shot: each event goes to one
/// of them), read each request frame as it arrives without waiting for the rest, and run the
/// whole request on the thread that read it, with no hand-over to another; after the response
/// the connection goes back to the poll. The main thread polls the listener, signals and the
/// clock. Which
/// connections exist and where each is, and every timing decision (accept only while a worker
/// is free, request-timeout, inactivity-timeout, restart-interval, maximum-requests, the
/// drain and the stops that follow them) are the policy's (SwsgiPolicy): this class tells it
/// what happened, on the monotonic clock, and executes what it decides.
final class DaemonServer {
    /// What the server holds for one connection; its phase is in the policy's record.
    final class Link {
        let channel: FrameChannel
        /// The request frame, from its arrival until a worker takes it.
        var request: Frame?
        /// When the request frame was complete (epoch microseconds), for the metrics.
        var arrived = 0
        /// The running request's, for request-timeout to abort.
        var transport: SocketTransport?
        /// The worker's, for interrupt-timeout to interrupt the request.
        var interruption: Interruption?
        init(_ channel: FrameChannel) { self.channel = channel }
    }

    private let plan: GroupPlan
    private var config: DaemonProcess { plan.config }
    private let limits: Limits
    /// The main thread's: the listener, the signal pipe, the doorbell.
    private let epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
    /// The free workers': every connection not running a request.
    private let idle = epoll_create1(Int32(EPOLL_CLOEXEC))
    private let work = Lock()
    private let workerFree = Doorbell()
    private let interrupter = Interrupter()
    // Guarded by work:
    private var policy: DaemonPolicy<Link>
    /// Whether the listener is in the poll set: the executed side of wantsConnections.
    private var listening = true
    /// False while the process starts its ASGI apps (their lifespan), which comes before any request.
    private var started = true

    /// With work locked.
    private var wantsConnections: Bool { started && policy.wantsConnections }

    init(_ plan: GroupPlan) {
        self.plan = plan
        let config = plan.config
        limits = Limits(threads: config.threads, maximumRequests: config.maximumRequests,
                        inactivityTimeout: config.inactivityTimeout, requestTimeout: config.requestTimeout,
                        interruptTimeout: config.interruptTimeout,
                        queueTimeout: config.queueTimeout, gracefulTimeout: config.gracefulTimeout,
                        evictionTimeout: config.evictionTimeout, shutdownTimeout: config.shutdownTimeout,
                        restartInterval: config.restartInterval, startupTimeout: config.startupTimeout)
        policy = DaemonPolicy(limits: limits, now: monotonicMilliseconds())
        _ = fcntl(plan.listener, F_SETFL, fcntl(plan.listener, F_GETFL) | O_NONBLOCK)
        watch(plan.listener, events: EPOLLIN.rawValue, in: epoll)
        watch(SelfPipe.fd, events: EPOLLIN.rawValue, in: epoll)
        watch(workerFree.fd, events: EPOLLIN.rawValue, in: epoll)
    }

    /// Serves; with `startup`, only once it returned, which it does on a thread of its own
    /// while this one keeps to signals and the clock.
    func run(startingWith startup: (() -> Void)?) -> Never {
        for _ in 0..<limits.threads {
            startThread(stackSize: config.stackSize) { self.worker() }
        }
        if let startup {
            work.withLock { started = false; armListener() }
            startThread(stackSize: config.stackSize) {
                startup()
                self.work.withLock { self.started = true }
                self.workerFree.ring()
            }
        }
        var events = [epoll_event](repeating: epoll_event(), count: 64)
        while true {
            let count = epoll_wait(epoll, &events, Int32(events.count), 200)
            for event in events.prefix(Int(max(0, count))) {
                let fd = event.data.fd
                if fd == plan.listener {
                    acceptConnections()
                } else if fd == SelfPipe.fd {
                    handleSignals(SelfPipe.drain())
                } else if fd == workerFree.fd {
                    workerFree.answer()
                }
            }
            work.withLock { armListener() }
            keepTime()
        }
    }

    // MARK: connections

    /// Adds fd to (or changes it in) a poll set, by default the workers'.
    private func watch(_ fd: Int32, events: UInt32, modify: Bool = false, in set: Int32? = nil) {
        var event = epoll_event()
        event.events = events
        event.data.fd = fd
        epoll_ctl(set ?? idle, modify ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &event)
    }

    private static let oneShot = EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLONESHOT.rawValue

    /// With work locked: watches the listener only while the policy wants connections.
    private func armListener() {
        let on = wantsConnections
        guard on != listening, policy.accepting else { return }
        listening = on
        watch(plan.listener, events: on ? EPOLLIN.rawValue : 0, modify: true, in: epoll)
    }

    private func acceptConnections() {
        while true {
            // With work locked: a worker may stop the process, and close the listener, any time.
            let fd = work.withLock { wantsConnections ? accept(plan.listener, nil, nil) : -1 }
            if fd < 0 { return }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            // The socket is 0700 and its owner is Apache's user (or socket-user=); check the
            // peer all the same.
            guard let peer = peerCredentials(fd), peer.uid == plan.socketOwner || peer.uid == 0 else {
                Apache.log(nil, SWSGI_LOG_ERR, "swsgi: daemon group '\(config.name)': refused a connection from a process that is not Apache's")
                close(fd)
                continue
            }
            let link = Link(FrameChannel(fd: fd, timeoutMilliseconds: plan.socketTimeoutMilliseconds))
            work.withLock {
                if policy.accepted(fd, link, at: monotonicMilliseconds()) {
                    watch(fd, events: Self.oneShot)
                } else {
                    drop(fd, link, farewell: true)
                }
            }
        }
    }

    /// With work locked: reads what an idle connection has sent, without waiting, and queues
    /// it once the whole request frame is in. A peer that sends part of a frame and stops
    /// holds no worker and delays nobody.
    private func readRequest(_ fd: Int32) {
        guard let link = policy.readable(fd) else { return }
        do {
            guard let request = try link.channel.receiveIfReady() else { return watch(fd, events: Self.oneShot, modify: true) }
            link.request = request
            link.arrived = epochMicroseconds()
            policy.requestArrived(fd)
            publishQueue()
        } catch {
            if let link = policy.closed(fd) { drop(fd, link) }
        }
    }

    /// With work locked: the metrics' gauges of the requests here that no Apache child sees.
    private func publishQueue() {
        swsgi_metrics_daemon_queue(Int32(policy.queued), Int32(policy.inFlight))
    }

    /// With work locked: closes a connection the policy no longer has.
    private func drop(_ fd: Int32, _ link: Link, farewell: Bool = false) {
        epoll_ctl(idle, EPOLL_CTL_DEL, fd, nil)
        if farewell { try? link.channel.send(.rejected, [UInt8]()) }
        link.channel.close()
    }

    /// With work locked: carries out the policy's decisions; an exit is returned, for the
    /// caller to make without the lock.
    @discardableResult
    private func execute(_ decisions: [Decision<Link>]) -> (reason: StopReason, within: Int)? {
        var exit: (reason: StopReason, within: Int)?
        for decision in decisions {
            switch decision {
            case .stopAccepting:
                epoll_ctl(epoll, EPOLL_CTL_DEL, plan.listener, nil)
                close(plan.listener)
            case .alarm(let seconds):
                alarm(UInt32(seconds))
            case .stopping(let reason):
                Apache.log(nil, SWSGI_LOG_INFO, "swsgi: daemon process \(getpid()) of group '\(config.name)' is stopping: \(reason)")
                swsgi_metrics_daemon_stopping(Int32(reason.exitReason.rawValue))
            case .close(let fd, let link, let farewell):
                drop(fd, link, farewell: farewell)
            case .resume(let fd, _):
                watch(fd, events: Self.oneShot, modify: true)
            case .interrupt(_, let link):
                let request = link.transport?.description ?? "a request"
                Apache.log(nil, SWSGI_LOG_WARNING, "swsgi: daemon process \(getpid()) of group '\(config.name)': request-timeout of \(config.requestTimeout) s reached by \(request); interrupting it (mod_wsgi.RequestTimeout), it has interrupt-timeout of \(config.interruptTimeout) s to unwind")
                if let transport = link.transport, let interruption = link.interruption {
                    interrupter.send(interruption, request: ObjectIdentifier(transport))
                }
            case .timeOut(let fd, let link):
                let request = link.transport?.description ?? "a request"
                let what = config.interruptTimeout > 0
                    ? "\(request) did not unwind within interrupt-timeout of \(config.interruptTimeout) s after request-timeout of \(config.requestTimeout) s"
                    : "request-timeout of \(config.requestTimeout) s reached by \(request)"
                Apache.log(nil, SWSGI_LOG_ERR, "swsgi: daemon process \(getpid()) of group '\(config.name)': \(what); restarting the process")
                if let transport = link.transport { transport.abort(504) } else { shutdown(fd, Int32(SHUT_RDWR)) }
            case .exit(let reason, let within):
                exit = (reason, within)
            }
        }
        return exit
    }

    // MARK: workers

    private func worker() {
        var event = epoll_event()
        while true {
            let next: (Int32, Link, Frame?)? = work.withLock {
                guard let next = policy.take(at: monotonicMilliseconds()) else { return nil }
                defer { next.link.request = nil }
                execute(next.decisions)
                publishQueue()
                return (next.id, next.link, next.link.request)
            }
            guard let (fd, link, frame) = next else {
                // Nothing queued: wait for a request, and run it on this thread.
                if epoll_wait(idle, &event, 1, -1) == 1 { work.withLock { readRequest(event.data.fd) } }
                continue
            }
            guard let frame, frame.type == .request, let table = try? CStringTable(payload: frame.payload) else {
                work.withLock { if let link = policy.closed(fd) { drop(fd, link) } }
                continue
            }
            let (request, client) = describe(table)
            let transport = SocketTransport(link.channel, description: request, client: client)
            work.withLock { (link.transport, link.interruption) = (transport, RequestThread.current.interruption) }
            let thread = Int32(RequestThread.current.id)
            swsgi_metrics_worker_begin(thread, request)
            let result = serve(table, fd: fd, transport: transport, arrived: link.arrived)
            let scriptChanged = result == Gateway.restartNeeded
            if scriptChanged { transport.reject() } else { transport.end(result) }
            swsgi_metrics_worker_end(thread)
            work.withLock {
                (link.transport, link.interruption) = (nil, nil)
                execute(policy.finished(fd, reusable: !transport.broken, restartNeeded: scriptChanged, at: monotonicMilliseconds()))
                publishQueue()
                // The poller may be waiting with the listener unwatched: a worker is free now.
                if !listening { workerFree.ring() }
            }
        }
    }

    private func serve(_ table: CStringTable, fd: Int32, transport: SocketTransport, arrived: Int) -> Int32 {
        do {
            return table.names.withUnsafeBufferPointer { keys in
                table.values.withUnsafeBufferPointer { values in
                    var request = swsgi_request(ctx: nil, count: keys.count, keys: keys.baseAddress, values: values.baseAddress,
                                                server_scope: -1, dir_scope: -1, alias: -1, group: Int32(plan.index + 1), uri: nil)
                    return withUnsafePointer(to: &request) { request in
                        let facts = RequestFacts(request)
                        // An ASGI request's task is cancelled at request-timeout, by the ASGI layer.
                        if facts.asgi { work.withLock { policy.timesItself(fd) } }
                        let now = epochMicroseconds()
                        let group = request.pointee.group
                        swsgi_metrics_time(group, Int32(SWSGI_PHASE_QUEUE.rawValue), UInt64(max(0, now - arrived)))
                        if let handedOver = facts.queueStart {
                            swsgi_metrics_time(group, Int32(SWSGI_PHASE_HANDOFF.rawValue), UInt64(max(0, arrived - handedOver)))
                        }
                        if let start = facts.requestStart, limits.queueTimeoutPassed(requestStart: start, now: now) {
                            Apache.log(nil, SWSGI_LOG_ERR, "swsgi: daemon group '\(config.name)': queue-timeout of \(config.queueTimeout) s passed before a worker was free for \(transport.description)")
                            swsgi_metrics_daemon_error(group, Int32(SWSGI_ERROR_QUEUE_TIMEOUT.rawValue))
                            return 503
                        }
                        let dispatch = Dispatch(daemonRequest: facts, processGroup: config.name)
                        return Gateway.run(request, facts: facts, dispatch: dispatch, transport: transport)
                    }
                }
            }
        }
    }

    /// "GET /uri", for log lines about the request, and the client's "address:port".
    private func describe(_ table: CStringTable) -> (request: String, client: String?) {
        var method = "", uri = "", address: String?, port = ""
        for (key, value) in zip(table.names, table.values) {
            guard let key, key[0] == 0x52 /* R */, let value else { continue }
            if strcmp(key, "REQUEST_METHOD") == 0 { method = String(cString: value) }
            else if strcmp(key, "REQUEST_URI") == 0 { uri = String(cString: value) }
            else if strcmp(key, "REMOTE_ADDR") == 0 { address = String(cString: value) }
            else if strcmp(key, "REMOTE_PORT") == 0 { port = String(cString: value) }
        }
        return ("\(method) \(uri)", address.map { "\($0):\(port)" })
    }

    // MARK: lifecycle

    private func handleSignals(_ seen: Set<Int32>) {
        var signals: Signals = []
        if !seen.isDisjoint(with: [SIGTERM, SIGINT, SIGHUP]) { signals.insert(.stop) }
        if seen.contains(SIGUSR1) { signals.insert(.restart) }
        _ = work.withLock { execute(policy.received(signals, at: monotonicMilliseconds())) }
    }

    private func keepTime() {
        let failedAt = Gateway.firstLoadFailure.load(ordering: .relaxed)
        let loadFailedSince = failedAt > 0 && !Gateway.scriptLoaded.load(ordering: .relaxed) ? failedAt : nil
        let exit = work.withLock {
            defer { publishQueue() }
            return execute(policy.tick(at: monotonicMilliseconds(), loadFailedSince: loadFailedSince))
        }
        if let exit {
            PythonRuntime.runExitFunctions(within: exit.within, reason: exit.reason.description)
            _exit(0)
        }
    }
}
