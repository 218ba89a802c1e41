import Glibc
import SwsgiABI
import SwsgiConfig
import SwsgiHTTP
import SwsgiProtocol

/// The Apache child's side of daemon mode: sends the request's environ to the group over a
/// pooled connection, answers the daemon's requests for body bytes, and relays the response
/// to Apache as it comes.
enum DaemonClient {
    private static let pool = ConnectionPool()

    static func forward(_ request: UnsafePointer<swsgi_request>, facts: RequestFacts, dispatch: Dispatch, transport: ApacheTransport) -> Int32 {
        guard let index = DaemonGroups.index(named: dispatch.processGroup) else {
            transport.log(SWSGI_LOG_ERR, "swsgi: no WSGI daemon process called '\(dispatch.processGroup)' has been configured")
            return 500
        }
        return forward(request, facts: facts, dispatch: dispatch, transport: transport, plan: DaemonGroups.groups[index])
    }

    private static func forward(_ request: UnsafePointer<swsgi_request>, facts: RequestFacts, dispatch: Dispatch,
                                transport: ApacheTransport, plan: borrowing GroupPlan) -> Int32 {
        if plan.config.scriptUser != nil || plan.config.scriptGroup != nil, let script = facts.scriptFilename,
           let problem = scriptOwnershipProblem(script, for: plan.config) {
            transport.log(SWSGI_LOG_ERR, "swsgi: daemon process group '\(plan.config.name)' refuses to run it: \(problem)")
            return 403
        }
        if let jail = plan.config.chroot, let script = facts.scriptFilename, plan.config.seenInside(script) == nil {
            transport.log(SWSGI_LOG_ERR, "swsgi: WSGI script '\(script)' is not inside chroot '\(jail)' of daemon process group '\(plan.config.name)'")
            return 500
        }
        let body = BodyReadAhead(client: transport, group: plan.index)
        if facts.chunked || (facts.contentLength ?? 0) > 0, !body.fill(upTo: plan.config.requestBufferSize) {
            transport.log(SWSGI_LOG_ERR, bodyReadFailed)
            return 400
        }
        // Queued from here: the time spent reading ahead is the client's, not the group's.
        let handover = dispatch.asgi && facts.upgrade ? transport.handoverRefusal() ?? "" : nil
        let payload = environPayload(request, dispatch: dispatch, group: plan.config, asgiHeaders: dispatch.asgi ? transport.headers() : nil,
                                     handover: handover)
        swsgi_metrics_handed(Int32(plan.index + 1), 1)
        defer { swsgi_metrics_handed(Int32(plan.index + 1), -1) }
        // A daemon that stops says so on its connections (.rejected), and one that is gone
        // makes the send fail: in both cases the request was not started, so it is sent
        // again on a new connection (the pool may hold more of the stopping process's). Anything
        // else is never retried: the app may have run.
        for attempt in 0..<(2 * plan.config.processes + 4) {
            guard let channel = (attempt == 0 ? pool.take(plan.index) : nil) ?? ConnectionPool.connect(plan) else {
                transport.log(SWSGI_LOG_ERR, "swsgi: unable to connect to WSGI daemon process '\(plan.config.name)' on '\(plan.socketPath)': \(String(cString: strerror(errno)))")
                countError(SWSGI_ERROR_CONNECT, plan)
                return 503
            }
            switch exchange(channel, payload: payload, body: body, transport: transport, plan: plan, asgi: dispatch.asgi,
                            mayHandOver: handover == "") {
            case .done(let result):
                pool.give(channel, to: plan.index)
                return result
            case .failed(let result):
                channel.close()
                return result
            case .notStarted:
                channel.close()
            }
        }
        transport.log(SWSGI_LOG_ERR, "swsgi: daemon process group '\(plan.config.name)' kept turning the request away while restarting")
        countError(SWSGI_ERROR_RESTARTING, plan)
        return 503
    }

    private enum Outcome { case done(Int32), failed(Int32), notStarted }

    private static func countError(_ cause: swsgi_daemon_error, _ plan: GroupPlan) {
        swsgi_metrics_daemon_error(Int32(plan.index + 1), Int32(cause.rawValue))
    }

    private static let bodyReadFailed = "swsgi: reading the request body from the client failed"

    /// mayHandOver: the request is an upgrade whose connection the daemon may take.
    private static func exchange(_ channel: FrameChannel, payload: [UInt8], body: BodyReadAhead, transport: ApacheTransport,
                                 plan: GroupPlan, asgi: Bool, mayHandOver: Bool) -> Outcome {
        var started = false
        // An ASGI app learns that its client left (http.disconnect) even while it sends
        // nothing: when the client closes, so does this connection to the daemon.
        let client = asgi ? transport.clientSocket() : -1
        func broken(_ error: ProtocolError) -> Outcome {
            let what = error == .timedOut ? "timed out waiting for" : "lost the connection to"
            transport.log(SWSGI_LOG_ERR, "swsgi: \(what) daemon process '\(plan.config.name)' while serving the request")
            countError(error == .timedOut ? SWSGI_ERROR_TIMEOUT : SWSGI_ERROR_LOST, plan)
            return .failed(started ? -1 : (error == .timedOut ? 504 : 502))
        }
        do {
            do { try channel.send(.request, payload) } catch { return .notStarted }
            // The request body passes through here on its way to the daemon.
            var buffer = UnsafeMutableBufferPointer<CChar>(start: nil, count: 0)
            defer { buffer.deallocate() }
            var first = true
            // Small blocks that came together, for one pass down Apache's filters: each pass
            // costs Apache as much as 2 KiB of copying, and a generator's blocks are often
            // that small. Held only while the daemon has more to say at once (see .flush).
            var held = HeldBlocks()
            while true {
                if client >= 0, try channel.waitForInput(unlessClosed: client) {
                    transport.log(SWSGI_LOG_INFO, "swsgi: the client closed the connection while daemon process group '\(plan.config.name)' ran the ASGI app")
                    return .failed(started ? -1 : 400)
                }
                let frame = try channel.receive()
                if first, frame.type == .rejected { return .notStarted }
                first = false
                if frame.type != .body, frame.type != .flush, !held.pass(to: transport, flush: false) { return .failed(-1) }
                switch frame.type {
                case .readBody:
                    let want = Int(try decodeReadBody(frame.payload))
                    if let (fd, length) = body.handOverFile() {
                        try channel.sendFile(fd, offset: 0, length: UInt64(length))
                        continue
                    }
                    if buffer.count < min(want, 1 << 20) {
                        buffer.deallocate()
                        buffer = .allocate(capacity: min(want, 1 << 20))
                    }
                    let got = fill(buffer, upTo: min(want, buffer.count), from: body)
                    if got < 0 {
                        transport.log(SWSGI_LOG_ERR, bodyReadFailed)
                        return .failed(started ? -1 : 400)
                    }
                    if got == 0 { try channel.send(.bodyEnd, [UInt8]()) } else {
                        try channel.send(.body, UnsafeRawBufferPointer(start: buffer.baseAddress, count: got))
                    }
                case .start:
                    let table = try CStringTable(payload: frame.payload, leading: 1)
                    started = true
                    if !transport.start(status: table.leading[0], names: table.names, values: table.values) { return .failed(-1) }
                case .body:
                    if held.take(frame.payload) { continue }
                    guard held.pass(to: transport, flush: false),
                          frame.payload.withUnsafeBytes({ transport.write($0.bindMemory(to: CChar.self).baseAddress!, count: $0.count, flush: false) })
                    else { return .failed(-1) }
                case .file:
                    let (offset, length) = try decodeFile(frame.payload)
                    guard let fd = frame.fd else { throw ProtocolError.malformed("file frame without a descriptor") }
                    if !transport.sendFile(fd, offset: offset, length: length) { return .failed(-1) }
                case .flush:
                    // The daemon flushes when its app may not have the next block soon; when
                    // that block is here already, it may join this one.
                    if !channel.hasPendingInput, !held.pass(to: transport, flush: true) { return .failed(-1) }
                case .upgrade where mayHandOver:
                    // The daemon owns the connection from here: Apache only closes its descriptor
                    // (over TLS, the handler relays the socket pair it made, after the request).
                    guard let (fd, pending) = transport.giveUpConnection() else { return .failed(-1) }
                    try channel.sendSocket(fd, pending: pending)
                case .end:
                    let result = try decodeEnd(frame.payload)
                    body.released()
                    return .done(result)
                default:
                    throw ProtocolError.malformed("unexpected \(frame.type) frame from the daemon")
                }
            }
        } catch let error as ProtocolError {
            return broken(error)
        } catch {
            return broken(.malformed("\(error)"))
        }
    }

    /// The CGI environ plus the child's mod_wsgi.* keys (group names, callable, ...) and when the
    /// request was queued for the daemon.
    /// For a group with a chroot, the paths the daemon opens (SCRIPT_FILENAME, DOCUMENT_ROOT)
    /// are sent as seen inside it, as mod_wsgi does (a DOCUMENT_ROOT outside it is left out).
    /// handover: for an ASGI request with an Upgrade header, "" when the client connection can
    /// be handed to the daemon (a WebSocket), or why not.
    private static func environPayload(_ request: UnsafePointer<swsgi_request>, dispatch: Dispatch, group: DaemonProcess,
                                       asgiHeaders: UnsafePointer<CChar>?, handover: String?) -> [UInt8] {
        let r = request.pointee
        var payload = StringListBuilder()
        for i in 0..<r.count {
            guard let key = r.keys[i], let value = r.values[i] else { continue }
            if !dispatch.passAuthorization, strcmp(key, "HTTP_AUTHORIZATION") == 0 { continue }
            if group.chroot != nil, strcmp(key, "SCRIPT_FILENAME") == 0 || strcmp(key, "DOCUMENT_ROOT") == 0 {
                guard let path = group.seenInside(String(cString: value)) else { continue }
                payload.append(key)
                payload.append(path)
                continue
            }
            payload.append(key)
            payload.append(value)
        }
        for key in ChildKey.allCases {
            payload.append(key.name)
            payload.append(key.value(in: dispatch))
        }
        payload.append("mod_wsgi.queue_start")
        payload.append(String(epochMicroseconds()))
        // The headers' bytes as they are: they need not be UTF-8.
        if dispatch.asgi {
            payload.append(asgiHeadersKey)
            if let asgiHeaders { payload.append(asgiHeaders) } else { payload.append("") }
        }
        if let handover {
            payload.append(handoverKey)
            payload.append(handover)
        }
        return payload.finish()
    }
}

/// Body frames held back from Apache's filters until the next frame that is not a small block.
private struct HeldBlocks {
    /// Larger blocks go down on their own: copying them would cost more than a pass.
    static let blockLimit = 8 << 10
    static let limit = 64 << 10
    private var bytes: [UInt8] = []

    /// Whether the block is held (else it must be written after what is held).
    mutating func take(_ block: [UInt8]) -> Bool {
        guard block.count < Self.blockLimit, bytes.count + block.count <= Self.limit else { return false }
        // A response's only block (most are) is held as it came, uncopied; the buffer is made
        // when a second one joins it, and kept for the request, never moved as it grows.
        if bytes.isEmpty, bytes.capacity < Self.limit {
            bytes = block
            return true
        }
        if bytes.capacity < Self.limit { bytes.reserveCapacity(Self.limit) }
        bytes.append(contentsOf: block)
        return true
    }

    /// Writes what is held (with flush: and all before it, to the client now); false when
    /// the client is gone.
    mutating func pass(to transport: ApacheTransport, flush: Bool) -> Bool {
        if bytes.isEmpty { return flush ? transport.flush() : true }
        defer { bytes.removeAll(keepingCapacity: true) }
        return bytes.withUnsafeBytes { transport.write($0.bindMemory(to: CChar.self).baseAddress!, count: $0.count, flush: flush) }
    }
}

/// Reads the body (what was read ahead, then the client) until count bytes or its end: one
/// frame answers the daemon's request instead of one per network read. The count, or -1 on error.
private func fill(_ buffer: UnsafeMutableBufferPointer<CChar>, upTo count: Int, from body: BodyReadAhead) -> Int {
    var filled = 0
    while filled < count {
        let got = body.read(into: buffer.baseAddress! + filled, count: count - filled)
        if got < 0 { return filled > 0 ? filled : -1 }
        if got == 0 { break }
        filled += got
    }
    return filled
}
