import Glibc
import SwsgiABI
import SwsgiPython

/// An ASGI http request whose Python all runs on its application group's event loop
/// (ASGISource): the worker thread that read it hands it to the loop (its request table lasts
/// while the thread waits) and waits here without the GIL until the loop ends it. What the
/// request's task posts because it may block (reading the body, large pieces, files) the worker
/// runs, with the GIL. A request that only sends small pieces so takes the GIL on the loop
/// alone: no hand-over of the GIL between threads, which costs more than a small app.
final class LoopRequest {
    private enum Job {
        case call(PendingCall)
        /// The end, after the jobs before it (asgiResult's failure).
        case end(Int32?)
    }

    private enum State {
        /// Until the loop takes it; preparing: while it makes the request's Python objects.
        case queued, preparing, running
        /// The loop is ending it: its result follows.
        case ending
        case ended(Int32)
        /// request-timeout ended it on the worker: whatever the loop asks later is dropped.
        case abandoned
    }

    private let start: Gateway.RequestStart
    private let lock = Lock(), condition = Condition()
    // Guarded by lock:
    private var state = State.queued
    private var jobs: [Job] = []
    private var endQueued = false
    /// A job is running on the worker.
    private var busy = false
    private var outcome = Gateway.Outcome()
    // Set on the loop while preparing, then used by the thread that ends the request (GIL held).
    private var exchange: Exchange?
    /// The ASGI layer's exchange, for timed_out.
    private var layer: PyRef?

    init(_ start: Gateway.RequestStart) {
        self.start = start
    }

    // MARK: the worker's side

    /// Hands the request to its loop and waits (no GIL held); the request's result.
    func run(outcome: inout Gateway.Outcome) -> Int32 {
        let group = start.dispatch.applicationGroup
        let loop = ASGILoop.named(group)
        if !loop.isRunning {
            // No ASGI app of this group started at process start: the first request makes the loop.
            guard let interpreter = PythonRuntime.enter(group: group) else { return 500 }
            let started = interpreter.startASGILoop()
            if !started {
                interpreter.logPendingException(handle: nil, log: start.transport.log, message: "swsgi: cannot start the ASGI event loop for '\(start.script)'")
            }
            PythonRuntime.leave()
            guard started else { return 500 }
        }
        loop.arrive(self)
        let timeout = Gateway.asgiTimeouts.request
        let deadline = timeout > 0 ? monotonicSeconds() + Double(timeout) : nil
        lock.lock()
        defer {
            outcome = self.outcome
            lock.unlock()
        }
        while true {
            switch state {
            case .ended(let status):
                return status
            case .abandoned, .ending, .preparing:
                break
            case .queued, .running:
                if !jobs.isEmpty {
                    let job = jobs.removeFirst()
                    busy = true
                    lock.unlock()
                    let ended = perform(job)
                    lock.lock()
                    busy = false
                    if let ended { state = .ended(ended) }
                    continue
                }
                if let deadline, monotonicSeconds() >= deadline {
                    let queued = if case .queued = state { true } else { false }
                    state = .abandoned
                    let dropped = jobs
                    jobs = []
                    lock.unlock()
                    let status = timedOut(queued: queued, dropping: dropped)
                    lock.lock()
                    return status
                }
            }
            let waitsForLoop = if case .running = state { false } else if case .queued = state { false } else { true }
            condition.wait(lock, until: waitsForLoop ? nil : deadline)
        }
    }

    /// Runs a job with the GIL; the request's result when the job ended it.
    private func perform(_ job: Job) -> Int32? {
        guard let interpreter = PythonRuntime.enter(group: start.dispatch.applicationGroup) else { return nil }
        defer { PythonRuntime.leave() }
        switch job {
        case .call(let callable):
            if !callable.run() {
                interpreter.logPendingException(handle: nil, log: start.transport.log,
                                                message: "swsgi: exception in the ASGI layer for '\(start.script)'")
            }
            return nil
        case .end(let failure):
            return finish(failure)
        }
    }

    /// request-timeout passed before the loop ended the request.
    private func timedOut(queued: Bool, dropping dropped: [Job]) -> Int32 {
        guard let interpreter = PythonRuntime.enter(group: start.dispatch.applicationGroup) else { return 504 }
        defer { PythonRuntime.leave() }
        drop(dropped)
        guard !queued, let exchange, layer != nil else {
            start.transport.log(SWSGI_LOG_ERR, "swsgi: request-timeout of \(Gateway.asgiTimeouts.request) s reached by ASGI app '\(start.script)' before its event loop took the request")
            return 504
        }
        var raised = false
        var failure: Int32?
        switch layer {
        case .some(let layer): failure = interpreter.asgiTimedOut(layer, raised: &raised)
        case .none: break
        }
        if raised {
            interpreter.logPendingException(handle: nil, log: exchange.log, message: "swsgi: request-timeout of ASGI app '\(start.script)'")
            failure = 504
        }
        return finish(failure)
    }

    // MARK: the loop's side (GIL held)

    /// When the loop took it.
    func begin() {
        guard lock.withLock({ () -> Bool in
            guard case .queued = state else { return false }
            state = .preparing
            return true
        }) else { return }
        // The loop's thread holds the GIL already.
        let interpreter = PythonRuntime.interpreter(group: start.dispatch.applicationGroup)
        var result: Int32 = 500
        var outcome = Gateway.Outcome()
        if let interpreter {
            // Entered again on the loop's own thread, which holds the GIL: only the lookup.
            result = Gateway.prepare(start, in: interpreter, thread: nil, outcome: &outcome) { exchange, adapter in
                exchange.onLoop = self
                self.exchange = exchange
                if exchange.makeObjects(), let scope = interpreter.asgiHTTPScope(scopeFacts(of: start)) {
                    let facts = start.facts
                    let refusal = Gateway.webSocketHandover(start.request, facts: facts)
                    switch exchange.request {
                    case .some(let request):
                        layer = interpreter.asgiBegin(adapter: adapter, scope: scope, request: request, script: start.script,
                                                      bodyLeft: facts.contentLength ?? (facts.chunked ? nil : 0),
                                                      connection: (start.transport as? SocketTransport)?.channel.fd,
                                                      refusal: refusal?.isEmpty == false ? refusal : nil)
                    case .none: break
                    }
                }
                guard layer != nil else {
                    interpreter.logPendingException(handle: nil, log: exchange.log, message: "swsgi: cannot start ASGI app '\(start.script)'")
                    exchange.onLoop = nil
                    self.exchange = nil
                    return 500
                }
                return Gateway.handedOn
            }
        }
        lock.withLock {
            self.outcome.applicationGroup = outcome.applicationGroup
            if result != Gateway.handedOn {
                self.outcome.sentStatus = outcome.sentStatus
                state = .ended(result)
            } else if case .preparing = state {
                state = .running
            }
            condition.signal()
        }
    }

    func post(_ job: consuming PyRef) {
        let callable = PendingCall(job)
        let accepted = lock.withLock { () -> Bool in
            guard isLive, !endQueued else { return false }
            jobs.append(.call(callable))
            condition.signal()
            return true
        }
        if !accepted { callable.drop() }
    }

    func end(_ failure: Int32?) {
        let here = lock.withLock { () -> Bool in
            guard isLive, !endQueued else { return false }
            if jobs.isEmpty, !busy {
                state = .ending
                return true
            }
            jobs.append(.end(failure))
            endQueued = true
            condition.signal()
            return false
        }
        guard here else { return }
        let result = finish(failure)
        lock.withLock {
            state = .ended(result)
            condition.signal()
        }
    }

    /// With lock held: the request still takes what the loop asks.
    private var isLive: Bool {
        switch state {
        case .preparing, .running: true
        default: false
        }
    }

    // MARK: either side, GIL held

    /// The request's result; its Python objects expire.
    private func finish(_ failure: Int32?) -> Int32 {
        guard let exchange else { return failure ?? 500 }
        let result = exchange.asgiResult(failure)
        let sent = exchange.sentStatus
        exchange.finish()
        exchange.onLoop = nil
        self.exchange = nil
        layer = nil
        lock.withLock { outcome.sentStatus = sent }
        return result
    }

    private func drop(_ dropped: [Job]) {
        for case .call(let callable) in dropped { callable.drop() }
    }
}

/// The CGI variables an ASGI scope is made of, from a request's table.
func scopeFacts(of start: Gateway.RequestStart) -> ScopeFacts {
    var facts = ScopeFacts()
    facts.https = start.facts.https
    let r = start.request.pointee
    for i in 0..<r.count {
        guard let key = r.keys[i], let value = r.values[i] else { continue }
        switch key[0] {
        case 0x52 /* R */:
            if strcmp(key, "REQUEST_METHOD") == 0 { facts.method = value }
            else if strcmp(key, "REQUEST_URI") == 0 { facts.requestURI = value }
            else if strcmp(key, "REMOTE_ADDR") == 0 { facts.remoteAddress = value }
            else if strcmp(key, "REMOTE_PORT") == 0 { facts.remotePort = value }
        case 0x53 /* S */:
            if strcmp(key, "SERVER_PROTOCOL") == 0 { facts.serverProtocol = value }
            else if strcmp(key, "SCRIPT_NAME") == 0 { facts.scriptName = value }
            else if strcmp(key, "SERVER_ADDR") == 0 { facts.serverAddress = value }
            else if strcmp(key, "SERVER_PORT") == 0, value[0] != 0 { facts.serverPort = value }
        case 0x51 /* Q */:
            if strcmp(key, "QUERY_STRING") == 0 { facts.queryString = value }
        case 0x73 /* s */:
            if strcmp(key, asgiHeadersKey) == 0 { facts.headers = value }
        case 0x6D /* m */:
            if strcmp(key, "mod_wsgi.listener_port") == 0, value[0] != 0 { facts.listenerPort = value }
        default:
            break
        }
    }
    return facts
}
