import CPython
import Glibc
import SwsgiABI
import SwsgiConfig
import SwsgiHTTP

/// Embedded mode: runs one request's WSGI app in this Apache child.
enum Gateway {
    /// Set in child_init from the MPM.
    nonisolated(unsafe) static var multithread = true
    nonisolated(unsafe) static var multiprocess = true

    static func handle(_ request: UnsafePointer<swsgi_request>, configuration: Configuration) -> Int32 {
        let r = request.pointee
        guard let ctx = r.ctx else { return 500 }
        let facts = RequestFacts(request)
        let dir = r.dir_scope >= 0 ? configuration.scope(r.dir_scope) : nil
        let alias = r.alias >= 0 && r.server_scope >= 0 ? configuration.alias(scope: r.server_scope, index: Int(r.alias)) : nil

        let processGroup = resolve(alias?.processGroup ?? dir?.processGroup ?? .embedded, request: request, facts: facts)
        guard processGroup.isEmpty else {
            Apache.log(ctx, SWSGI_LOG_ERR, "swsgi: daemon process group '\(processGroup)' was requested, but daemon mode is not available in this build")
            return 503
        }
        if configuration.global.restrictEmbedded {
            Apache.log(ctx, SWSGI_LOG_ERR, "swsgi: embedded mode is disabled by WSGIRestrictEmbedded; refusing \(facts.scriptFilename ?? "the request")")
            return 500
        }
        guard case .ready = PythonRuntime.state else {
            if case .failed(let reason) = PythonRuntime.state {
                Apache.log(ctx, SWSGI_LOG_ERR, "swsgi: Python is not available in this process: \(reason)")
            }
            return 500
        }
        guard let script = facts.scriptFilename else { return 500 }
        var info = stat()
        guard stat(script, &info) == 0 else {
            Apache.log(ctx, SWSGI_LOG_ERR, "swsgi: target WSGI script not found or unable to stat: \(script)")
            return 404
        }
        let mtime = info.st_mtim.tv_sec * 1_000_000_000 + info.st_mtim.tv_nsec
        let group = applicationGroupName(alias?.applicationGroup ?? dir?.applicationGroup ?? .resource, request: request, facts: facts)
        let callable = alias?.callableObject ?? dir?.callableObject ?? "application"
        let settings = EnvironSettings(
            multithread: multithread, multiprocess: multiprocess, processGroup: "", applicationGroup: group,
            callableObject: callable, passAuthorization: alias?.passAuthorization ?? dir?.passAuthorization ?? false)

        guard let interpreter = PythonRuntime.enter(group: group) else { return 500 }
        defer { PythonRuntime.leave() }
        let exchange = Exchange(ctx: ctx, interpreter: interpreter, script: script, bodyLength: facts.contentLength)
        defer { exchange.finish() }
        var missing = false
        guard let application = interpreter.application(script: script, mtime: Int(mtime), callable: callable, missing: &missing) else {
            if missing {
                Apache.log(ctx, SWSGI_LOG_ERR, "swsgi: target WSGI script '\(script)' does not contain WSGI application '\(callable)'")
            } else {
                interpreter.logPendingException(ctx, handle: nil, message: "swsgi: failed to exec Python script file '\(script)'")
            }
            return 500
        }
        guard let environ = PyRef(buildEnviron(request, facts: facts, settings: settings, exchange: exchange)),
              exchange.makeRequest() != nil else {
            interpreter.logPendingException(ctx, handle: nil, message: "swsgi: cannot build the WSGI environ for '\(script)'")
            return 500
        }
        return exchange.run(application: application, environ: environ.ptr)
    }

    /// WSGIProcessGroup's value for this request: "" is embedded mode.
    private static func resolve(_ group: ProcessGroup, request: UnsafePointer<swsgi_request>, facts: RequestFacts) -> String {
        switch group {
        case .embedded: return ""
        case .named(let name): return name
        case .env(let variable): return facts.value(of: variable, in: request) ?? ""
        }
    }

    static func applicationGroupName(_ group: ApplicationGroup, request: UnsafePointer<swsgi_request>, facts: RequestFacts) -> String {
        switch group {
        case .global: return ""
        case .named(let name): return name
        case .resource: return resourceGroupName(serverName: facts.serverName, port: facts.serverPort, scriptName: facts.scriptName)
        case .server: return serverGroupName(serverName: facts.serverName, port: facts.serverPort)
        case .host: return facts.httpHost ?? facts.serverName
        case .env(let variable): return facts.value(of: variable, in: request) ?? ""
        }
    }
}
