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
        guard let interpreter = PythonRuntime.enter(group: dispatch.applicationGroup) else { return 500 }
        defer { PythonRuntime.leave() }
        outcome.applicationGroup = interpreter.metricsEntry
        thread.interruption.begin(interpreter, request: ObjectIdentifier(transport))
        defer { thread.interruption.end() }
        if !dispatch.processGroup.isEmpty, interpreter.loadedAnother(script: script, mtime: mtime, callable: dispatch.callable) {
            transport.log(SWSGI_LOG_INFO, "swsgi: restarting daemon process \(getpid()) of group '\(dispatch.processGroup)' because WSGI script '\(script)' changed")
            return restartNeeded
        }
        defer { thread.endRequestData() }
        let exchange = Exchange(transport: transport, interpreter: interpreter, script: script, bodyLength: facts.contentLength)
        thread.exchange = exchange
        defer {
            outcome.sentStatus = exchange.sentStatus
            exchange.finish()
        }
        var missing = false
        guard let loaded = interpreter.application(script: script, mtime: mtime, callable: dispatch.callable, missing: &missing) else {
            _ = firstLoadFailure.compareExchange(expected: 0, desired: Int(monotonicSeconds() * 1000), ordering: .relaxed)
            if missing {
                transport.log(SWSGI_LOG_ERR, "swsgi: target WSGI script '\(script)' does not contain WSGI application '\(dispatch.callable)'")
            } else {
                interpreter.logPendingException(handle: nil, log: exchange.log, message: "swsgi: failed to exec Python script file '\(script)'")
            }
            return 500
        }
        if !scriptLoaded.load(ordering: .relaxed) { scriptLoaded.store(true, ordering: .relaxed) }
        // An ASGI app runs behind a WSGI callable of the ASGI layer (ASGISource).
        guard let application = dispatch.asgi
                ? interpreter.asgiAdapter(for: loaded, requestTimeout: asgiTimeouts.request, shutdownTimeout: asgiTimeouts.shutdown)
                : Optional(consume loaded) else {
            interpreter.logPendingException(handle: nil, log: exchange.log, message: "swsgi: cannot run '\(script)' as an ASGI app")
            return 500
        }
        let settings = EnvironSettings(multithread: multithread, multiprocess: multiprocess, dispatch: dispatch,
                                       daemonStart: transport is ApacheTransport ? nil : handlingStart,
                                       scriptStart: epochMicroseconds(), threadID: thread.id, threadRequests: threadRequests,
                                       totalRequests: RequestThread.finished.load(ordering: .relaxed),
                                       asgiConnection: dispatch.asgi ? (transport as? SocketTransport)?.channel.fd : nil)
        guard let environ = buildEnviron(request, facts: facts, settings: settings, exchange: exchange) else {
            interpreter.logPendingException(handle: nil, log: exchange.log, message: "swsgi: cannot build the WSGI environ for '\(script)'")
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
