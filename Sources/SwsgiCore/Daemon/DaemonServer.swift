import CLinux
import Glibc
import SwsgiABI
import SwsgiConfig
import SwsgiProtocol

/// The daemon's server. Apache's children keep their connections open between requests, so a
/// thread per connection would soon have every thread parked on an idle one: instead the main
/// thread polls the listener and all idle connections (epoll, one-shot), reads each request
/// frame as it arrives without waiting for the rest, and hands the connection with its whole
/// request to a free worker thread; after the response it goes back to the poll. New
/// connections are accepted only while a worker is free, so that the processes of a group
/// share the load as they share the listening socket. The main thread also keeps
/// the clocks: request-timeout, inactivity-timeout, restart-interval, maximum-requests and
/// the stops that follow them.
final class DaemonServer {
    private enum State { case idle, queued, busy }
    private struct Active { let started: Double; let transport: SocketTransport }

    private let plan: GroupPlan
    private var config: DaemonProcess { plan.config }
    private let epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
    private let work = Condition()
    private let workerFree = Doorbell()
    // Guarded by work:
    private var channels: [Int32: FrameChannel] = [:]
    private var states: [Int32: State] = [:]
    /// Connections whose request has arrived whole, waiting for a worker.
    private var ready: [(fd: Int32, request: Frame)] = []
    private var active: [Int: Active] = [:]
    /// Connections a worker took, from the moment it took them: a request being read is not
    /// in `active` yet, and the process must not exit under it.
    private var inFlight = 0
    private var served = 0
    private var lastActivity = monotonicSeconds()
    private var stopDeadline: Double?
    private var stopReason = ""
    /// Told to stop (SIGTERM): serve on until idle, for the requests of Apache children that
    /// are finishing gracefully, then exit.
    private var drainDeadline: Double?
    /// Accepted connections whose first request has not arrived yet, and when: they will need
    /// a worker. An Apache child sends its request as it connects; a peer that has not after
    /// `freshFor` is no longer counted, so that it cannot keep the listener unwatched.
    private var fresh: [Int32: Double] = [:]
    private static let freshFor = 1.0
    private var listening = true
    /// Until told to stop: the listener is then the next daemons' (a successor's, or the
    /// next generation's, which takes the socket over).
    private var accepting = true
    private let started = monotonicSeconds()

    init(_ plan: GroupPlan) {
        self.plan = plan
        _ = fcntl(plan.listener, F_SETFL, fcntl(plan.listener, F_GETFL) | O_NONBLOCK)
        watch(plan.listener, events: EPOLLIN.rawValue)
        watch(SelfPipe.fd, events: EPOLLIN.rawValue)
        watch(workerFree.fd, events: EPOLLIN.rawValue)
    }

    func run() -> Never {
        for slot in 0..<max(1, config.threads) {
            startThread(stackSize: config.stackSize) { self.worker(slot) }
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
                } else {
                    work.withLock { readRequest(fd) }
                }
            }
            work.withLock { armListener(freeWorkers() > 0) }
            keepTime()
        }
    }

    // MARK: connections

    private func watch(_ fd: Int32, events: UInt32, modify: Bool = false) {
        var event = epoll_event()
        event.events = events
        event.data.fd = fd
        epoll_ctl(epoll, modify ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &event)
    }

    private static let oneShot = EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLONESHOT.rawValue

    /// With work locked: workers not busy, not spoken for by a queued or fresh connection.
    private func freeWorkers() -> Int {
        max(1, config.threads) - active.count - ready.count - fresh.count
    }

    /// With work locked: watches the listener only while a worker is free.
    private func armListener(_ on: Bool) {
        guard on != listening, accepting else { return }
        listening = on
        watch(plan.listener, events: on ? EPOLLIN.rawValue : 0, modify: true)
    }

    private func acceptConnections() {
        while accepting, work.withLock({ freeWorkers() > 0 }) {
            let fd = accept(plan.listener, nil, nil)
            if fd < 0 { return }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            // The socket is 0700 and Apache's user owns it; check the peer all the same.
            guard let peer = peerCredentials(fd), peer.uid == DaemonGroups.apacheUID || peer.uid == 0 else {
                Apache.log(nil, SWSGI_LOG_ERR, "swsgi: daemon group '\(config.name)': refused a connection from a process that is not Apache's")
                close(fd)
                continue
            }
            work.withLock {
                channels[fd] = FrameChannel(fd: fd, timeoutMilliseconds: plan.socketTimeoutMilliseconds)
                states[fd] = .idle
                fresh[fd] = monotonicSeconds()
            }
            watch(fd, events: Self.oneShot)
        }
    }

    /// With work locked: reads what an idle connection has sent, without waiting, and queues
    /// it for a worker once the whole request frame is in. A peer that sends part of a frame
    /// and stops holds no worker and delays nobody.
    private func readRequest(_ fd: Int32) {
        guard states[fd] == .idle, let channel = channels[fd] else { return }
        fresh.removeValue(forKey: fd)
        do {
            guard let request = try channel.receiveIfReady() else { return watch(fd, events: Self.oneShot, modify: true) }
            states[fd] = .queued
            ready.append((fd, request))
            work.signal()
        } catch {
            drop(fd)
        }
    }

    /// With work locked: forgets a connection and closes it. farewell: the close is planned,
    /// so the client is told that a request it may have sent meanwhile was not started.
    private func drop(_ fd: Int32, farewell: Bool = false) {
        epoll_ctl(epoll, EPOLL_CTL_DEL, fd, nil)
        fresh.removeValue(forKey: fd)
        let channel = channels.removeValue(forKey: fd)
        if farewell { try? channel?.send(.rejected, [UInt8]()) }
        channel?.close()
        states.removeValue(forKey: fd)
    }

    // MARK: workers

    private func worker(_ slot: Int) {
        while true {
            let (fd, frame, channel): (Int32, Frame, FrameChannel?) = work.withLock {
                while ready.isEmpty { work.wait() }
                let (fd, request) = ready.removeFirst()
                states[fd] = .busy
                inFlight += 1
                return (fd, request, channels[fd])
            }
            guard let channel, frame.type == .request,
                  let table = try? CStringTable(payload: frame.payload), table.count % 2 == 0 else {
                work.withLock {
                    inFlight -= 1
                    drop(fd)
                }
                continue
            }
            var scriptChanged = false
            let transport = table.withPointers { pointers in
                let (request, client) = describe(pointers)
                let transport = SocketTransport(channel, description: request, client: client)
                work.withLock { active[slot] = Active(started: monotonicSeconds(), transport: transport) }
                let result = serve(pointers, transport: transport)
                scriptChanged = result == Gateway.restartNeeded
                if scriptChanged { transport.reject() } else { transport.end(result) }
                return transport
            }
            work.withLock {
                if scriptChanged { beginStop("its WSGI script changed", within: config.gracefulTimeout) }
                active[slot] = nil
                inFlight -= 1
                served += 1
                lastActivity = monotonicSeconds()
                if transport.broken {
                    drop(fd)
                } else if stopDeadline != nil {
                    drop(fd, farewell: true)
                } else {
                    states[fd] = .idle
                    watch(fd, events: Self.oneShot, modify: true)
                }
                if config.maximumRequests > 0, served >= config.maximumRequests {
                    beginStop("it served its maximum-requests of \(config.maximumRequests)", within: config.gracefulTimeout)
                }
                // The poller may be waiting with the listener unwatched: a worker is free now.
                if !listening { workerFree.ring() }
            }
        }
    }

    private func serve(_ pointers: [UnsafePointer<CChar>?], transport: SocketTransport) -> Int32 {
        do {
            let keys = stride(from: 0, to: pointers.count, by: 2).map { pointers[$0] }
            let values = stride(from: 1, to: pointers.count, by: 2).map { pointers[$0] }
            return keys.withUnsafeBufferPointer { keys in
                values.withUnsafeBufferPointer { values in
                    var request = swsgi_request(ctx: nil, count: keys.count, keys: keys.baseAddress, values: values.baseAddress,
                                                server_scope: -1, dir_scope: -1, alias: -1)
                    return withUnsafePointer(to: &request) { request in
                        let facts = RequestFacts(request)
                        if config.queueTimeout > 0, let start = facts.requestStart,
                           epochMicroseconds() - start > config.queueTimeout * 1_000_000 {
                            Apache.log(nil, SWSGI_LOG_ERR, "swsgi: daemon group '\(config.name)': queue-timeout of \(config.queueTimeout) s passed before a worker was free for \(transport.description)")
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
    private func describe(_ pointers: [UnsafePointer<CChar>?]) -> (request: String, client: String?) {
        var method = "", uri = "", address: String?, port = ""
        for i in stride(from: 0, to: pointers.count - 1, by: 2) {
            guard let key = pointers[i], key[0] == 0x52 /* R */, let value = pointers[i + 1] else { continue }
            if strcmp(key, "REQUEST_METHOD") == 0 { method = String(cString: value) }
            else if strcmp(key, "REQUEST_URI") == 0 { uri = String(cString: value) }
            else if strcmp(key, "REMOTE_ADDR") == 0 { address = String(cString: value) }
            else if strcmp(key, "REMOTE_PORT") == 0 { port = String(cString: value) }
        }
        return ("\(method) \(uri)", address.map { "\($0):\(port)" })
    }

    // MARK: lifecycle

    private func handleSignals(_ seen: Set<Int32>) {
        if !seen.isDisjoint(with: [SIGTERM, SIGINT, SIGHUP]) {
            work.withLock {
                guard drainDeadline == nil else { return }
                drainDeadline = monotonicSeconds() + Double(max(1, config.shutdownTimeout))
                stopAccepting()
                // Nobody kills a daemon of an ended generation that overstays: the kernel will
                // (SIGALRM), should this loop ever be stuck past its deadline.
                alarm(UInt32(max(1, config.shutdownTimeout)) + 1)
            }
        } else if seen.contains(SIGUSR1) {
            work.withLock { beginStop("it was told to restart", within: config.evictionTimeout > 0 ? config.evictionTimeout : config.gracefulTimeout) }
        }
    }

    /// With work locked: no new connections or requests; the busy ones may finish until the
    /// deadline. Idle and queued connections are closed: their clients retry on a new one,
    /// which the restarted process (or a sibling) accepts.
    private func beginStop(_ reason: String, within seconds: Int) {
        guard stopDeadline == nil else { return }
        stopDeadline = monotonicSeconds() + Double(seconds)
        stopReason = reason
        Apache.log(nil, SWSGI_LOG_INFO, "swsgi: daemon process \(getpid()) of group '\(config.name)' is stopping: \(reason)")
        stopAccepting()
        for (fd, state) in states where state != .busy { drop(fd, farewell: true) }
        ready.removeAll()
    }

    /// With work locked: no new connections from here on.
    private func stopAccepting() {
        guard accepting else { return }
        accepting = false
        epoll_ctl(epoll, EPOLL_CTL_DEL, plan.listener, nil)
        close(plan.listener)
    }

    private func keepTime() {
        let now = monotonicSeconds()
        var exitWithin = max(1, config.shutdownTimeout)
        let exit: Bool = work.withLock {
            fresh = fresh.filter { now - $0.value < Self.freshFor }
            if config.requestTimeout > 0 {
                for (slot, request) in active where now - request.started > Double(config.requestTimeout) {
                    Apache.log(nil, SWSGI_LOG_ERR, "swsgi: daemon process \(getpid()) of group '\(config.name)': request-timeout of \(config.requestTimeout) s reached by \(request.transport.description); restarting the process")
                    request.transport.abort(504)
                    active[slot] = Active(started: .infinity, transport: request.transport)
                    beginStop("request-timeout", within: config.gracefulTimeout)
                }
            }
            if config.inactivityTimeout > 0, inFlight == 0, now - lastActivity > Double(config.inactivityTimeout) {
                beginStop("inactivity-timeout of \(config.inactivityTimeout) s", within: 0)
            }
            let failedAt = Double(Gateway.firstLoadFailure.load(ordering: .relaxed)) / 1000
            if config.startupTimeout > 0, failedAt > 0, now - failedAt > Double(config.startupTimeout),
               !Gateway.scriptLoaded.load(ordering: .relaxed) {
                beginStop("startup-timeout of \(config.startupTimeout) s passed before a WSGI script loaded", within: 0)
            }
            if config.restartInterval > 0, now - started > Double(config.restartInterval) {
                beginStop("restart-interval of \(config.restartInterval) s", within: config.gracefulTimeout)
            }
            if let drain = drainDeadline, stopDeadline == nil,
               now >= drain || (inFlight == 0 && ready.isEmpty && now - lastActivity > 0.3) {
                beginStop("it was told to stop", within: 0)
            }
            // Told to stop: the atexit functions share the shutdown-timeout with the drain.
            if let drain = drainDeadline { exitWithin = max(1, Int((drain - now).rounded(.up))) }
            guard let deadline = stopDeadline else { return false }
            let stuck = active.values.filter { !$0.started.isFinite }.count
            return inFlight == stuck || now >= deadline
        }
        if exit {
            PythonRuntime.runExitFunctions(within: exitWithin, reason: work.withLock { stopReason })
            _exit(0)
        }
    }
}
