import Glibc
import SwsgiABI
import SwsgiConfig
import SwsgiPython
import Synchronization

/// Runs one request's WSGI app in this process: an Apache child (embedded mode) or a daemon.
enum Gateway {
    /// wsgi.multithread and wsgi.multiprocess of this process.
    nonisolated(unsafe) static var multithread = true
    nonisolated(unsafe) static var multiprocess = true
    /// mod_wsgi.threads_per_process and mod_wsgi.maximum_processes of this process.
    nonisolated(unsafe) static var threads = 1
    nonisolated(unsafe) static var processes = 1
    /// A daemon's request-timeout and shutdown-timeout (seconds), which its ASGI apps keep.
    nonisolated(unsafe) static var asgiTimeouts = (request: 0, shutdown: 5)
    /// A daemon's startup-timeout runs from the first failed load of a WSGI script (monotonic
    /// milliseconds, 0: none) until a script loads.
    static let firstLoadFailure = Atomic<Int>(0)
    static let scriptLoaded = Atomic<Bool>(false)
    /// run's answer in a daemon whose WSGI script changed since it loaded it: nothing was
    /// sent, the process must restart (as mod_wsgi's daemons do) so that every module the
    /// app imported loads afresh, and the request go to its successor.
    static let restartNeeded: Int32 = -2

    /// 0 when a response went out, an HTTP status when nothing did, -1 when it broke after
    /// the headers, restartNeeded.
    static func run(_ request: UnsafePointer<swsgi_request>, facts: RequestFacts, dispatch: Dispatch,
                    transport: Transport) -> Int32 {
        guard case .ready = PythonRuntime.state else {
            // The reason was logged once, when initialisation failed.
            if case .failed(let reason) = PythonRuntime.state {
                transport.log(SWSGI_LOG_INFO, "swsgi: Python is not available in this process: \(reason)")
            }
            return 500
        }
        guard let script = dispatch.handlerScript.isEmpty ? facts.scriptFilename : dispatch.handlerScript else { return 500 }
        let handlingStart = epochMicroseconds()
        let thread = RequestThread.current
        RequestThread.active.add(1, ordering: .relaxed)
        swsgi_metrics_gateway_begin()
        var outcome = Outcome()
        let status = serve(request, script: script, facts: facts, dispatch: dispatch, transport: transport,
                           thread: thread, handlingStart: handlingStart, outcome: &outcome)
        thread.exchange = nil
        RequestThread.active.subtract(1, ordering: .relaxed)
        RequestThread.finished.add(1, ordering: .relaxed)
        swsgi_metrics_gateway_end(outcome.applicationGroup, status > 0 ? status : outcome.sentStatus,
                                  UInt64(max(0, epochMicroseconds() - handlingStart)))
        return status
    }

    /// For the metrics: the application group's entry, and the status that went out.
    struct Outcome {
        var applicationGroup: Int32 = 0
        var sentStatus: Int32 = 0
    }

    private static func serve(_ request: UnsafePointer<swsgi_request>, script: String, facts: RequestFacts, dispatch: Dispatch,
                              transport: Transport, thread: RequestThread, handlingStart: Int, outcome: inout Outcome) -> Int32 {
        let threadRequests = thread.requests
        thread.requests += 1
        // Without reloading the script is loaded once, as if it never changed (mtime 0).
        var mtime = 0
        if dispatch.scriptReloading {
            guard let time = transport.modificationTime(of: script) else {
                transport.log(SWSGI_LOG_ERR, "swsgi: target WSGI script not found or unable to stat: \(script)")
                return 404
            }
            mtime = time
        }
        let start = RequestStart(request: request, script: script, mtime: mtime, facts: facts, dispatch: dispatch,
                                 transport: transport, threadID: thread.id, threadRequests: threadRequests, handlingStart: handlingStart)
        // An ASGI request other than a WebSocket handshake is http, run on the event loop.
        if dispatch.asgi, webSocketHandover(request, facts: facts) != "" {
            return LoopRequest(start).run(outcome: &outcome)
        }
        guard let interpreter = PythonRuntime.enter(group: dispatch.applicationGroup) else { return 500 }
        defer { PythonRuntime.leave() }
        thread.interruption.begin(interpreter, request: ObjectIdentifier(transport))
        defer { thread.interruption.end() }
        defer { thread.endRequestData() }
        return prepare(start, in: interpreter, thread: thread, outcome: &outcome) { exchange, application in
            guard let environ = environ(start, exchange: exchange) else { return 500 }
            // A WebSocket handshake to an ASGI app: its scope is made as an http request's.
            if dispatch.asgi, !interpreter.addASGIScope(to: environ, scopeFacts(of: start)) {
                interpreter.logPendingException(handle: nil, log: exchange.log, message: "swsgi: cannot make the ASGI scope for '\(script)'")
                return 500
            }
            // mod_wsgi's events, only when an app subscribed to them.
            guard interpreter.hasEventSubscribers else { return exchange.run(application: application, environ: environ) }
            let status: Int32
            if let started = interpreter.requestStarted(environ: environ, application: application) {
                status = exchange.run(application: started, environ: environ)
            } else {
                interpreter.logPendingException(handle: nil, log: exchange.log, message: "swsgi: the request_started event failed")
                status = exchange.run(application: application, environ: environ)
            }
            if !interpreter.requestFinished(environ: environ, written: exchange.written) {
                interpreter.logPendingException(handle: nil, log: exchange.log, message: "swsgi: the request_finished event failed")
            }
            return status
        }
    }

    /// What a request brings to the steps that need Python (its table lasts while it runs).
    struct RequestStart {
        let request: UnsafePointer<swsgi_request>
        let script: String
        let mtime: Int
        let facts: RequestFacts
        let dispatch: Dispatch
        let transport: Transport
        let threadID: Int
        let threadRequests: Int
        let handlingStart: Int
    }

    /// body's answer when the request goes on without it (on the event loop): its exchange is
    /// not finished then.
    static let handedOn: Int32 = -3

    /// The steps of a request in its interpreter (GIL held): the script (re)loaded, the app found
    /// (for an ASGI app its adapter), and body run with them, its result the request's; a
    /// failure is logged, and its status is the result instead. thread: the one
    /// that runs the request, whose lines (sys.stdout, loading the script) then name its client.
    static func prepare(_ start: RequestStart, in interpreter: Interpreter, thread: RequestThread?, outcome: inout Outcome,
                        body: (Exchange, borrowing PyRef) -> Int32) -> Int32 {
        let (script, dispatch, transport) = (start.script, start.dispatch, start.transport)
        outcome.applicationGroup = interpreter.metricsEntry
        if !dispatch.processGroup.isEmpty, interpreter.loadedAnother(script: script, mtime: start.mtime, callable: dispatch.callable) {
            transport.log(SWSGI_LOG_INFO, "swsgi: restarting daemon process \(getpid()) of group '\(dispatch.processGroup)' because WSGI script '\(script)' changed")
            return restartNeeded
        }
        let exchange = Exchange(transport: transport, interpreter: interpreter, script: script, bodyLength: start.facts.contentLength)
        thread?.exchange = exchange
        var status: Int32 = 500
        defer {
            if status != handedOn {
                outcome.sentStatus = exchange.sentStatus
                exchange.finish()
            }
        }
        var missing = false
        guard let loaded = interpreter.application(script: script, mtime: start.mtime, callable: dispatch.callable, missing: &missing) else {
            _ = firstLoadFailure.compareExchange(expected: 0, desired: Int(monotonicSeconds() * 1000), ordering: .relaxed)
            if missing {
                transport.log(SWSGI_LOG_ERR, "swsgi: target WSGI script '\(script)' does not contain WSGI application '\(dispatch.callable)'")
            } else {
                interpreter.logPendingException(handle: nil, log: exchange.log, message: "swsgi: failed to exec Python script file '\(script)'")
            }
            return status
        }
        if !scriptLoaded.load(ordering: .relaxed) { scriptLoaded.store(true, ordering: .relaxed) }
        // An ASGI app runs behind a WSGI callable of the ASGI layer (ASGISource).
        guard let application = dispatch.asgi
                ? interpreter.asgiAdapter(for: loaded, requestTimeout: asgiTimeouts.request, shutdownTimeout: asgiTimeouts.shutdown)
                : Optional(consume loaded) else {
            interpreter.logPendingException(handle: nil, log: exchange.log, message: "swsgi: cannot run '\(script)' as an ASGI app")
            return status
        }
        status = body(exchange, application)
        return status
    }

    /// The request's environ (and its exchange's Python objects); nil when that failed (logged).
    private static func environ(_ start: RequestStart, exchange: Exchange) -> PyRef? {
        let transport = start.transport
        let settings = EnvironSettings(multithread: multithread, multiprocess: multiprocess, dispatch: start.dispatch,
                                       daemonStart: transport is ApacheTransport ? nil : start.handlingStart,
                                       scriptStart: epochMicroseconds(), threadID: start.threadID, threadRequests: start.threadRequests,
                                       totalRequests: RequestThread.finished.load(ordering: .relaxed),
                                       asgiConnection: start.dispatch.asgi ? (transport as? SocketTransport)?.channel.fd : nil)
        let environ = buildEnviron(start.request, facts: start.facts, settings: settings, exchange: exchange)
        if environ == nil {
            exchange.interpreter.logPendingException(handle: nil, log: exchange.log, message: "swsgi: cannot build the WSGI environ for '\(start.script)'")
        }
        return environ
    }

    /// For a WebSocket handshake to an ASGI app, swsgi.handover: "" when its connection can be
    /// handed over (the ASGI layer's WebSocket half then answers it as a WSGI app would), else
    /// why not (it is answered as http); nil for any other request.
    static func webSocketHandover(_ request: UnsafePointer<swsgi_request>, facts: RequestFacts) -> String? {
        guard facts.upgrade, let handover = facts.value(of: handoverKey, in: request),
              facts.value(of: "REQUEST_METHOD", in: request) == "GET" else { return nil }
        func tokens(_ name: String) -> [Substring] {
            (facts.value(of: name, in: request) ?? "").lowercased().split(separator: ",").map { token in
                let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
                return token.drop(while: blank).reversed().drop(while: blank).reversed().reduce(into: "") { $0.append($1) }
            }
        }
        return tokens("HTTP_UPGRADE").contains("websocket") && tokens("HTTP_CONNECTION").contains("upgrade") ? handover : nil
    }
}
