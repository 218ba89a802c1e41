import Glibc
import SwsgiABI
import SwsgiConfig
import SwsgiPython

/// The Apache child's side of a request: embedded mode here, or on to a daemon process group.
enum ChildRequest {
    static func handle(_ request: UnsafeMutablePointer<swsgi_request>, configuration: Configuration) -> Int32 {
        guard let ctx = request.pointee.ctx else { return 500 }
        let transport = ApacheTransport(ctx)
        let facts = RequestFacts(request)
        var dispatch = Dispatch(request, facts: facts, configuration: configuration)
        if let script = dispatch.dispatchScript {
            startPython(configuration)
            if let failed = DispatchScriptCall.apply(script, to: &dispatch, request: request, facts: facts, transport: transport) { return failed }
        }
        // The metrics count the request for its group (an unknown one with the last).
        request.pointee.group = dispatch.processGroup.isEmpty ? 0 : Int32((DaemonGroups.index(named: dispatch.processGroup) ?? DaemonGroups.groups.count) + 1)
        // Groups are chosen from what Apache saw, as in mod_wsgi; the app sees what trusted
        // proxies say, and nothing of what untrusted peers claim.
        let dir = request.pointee.dir_scope
        if dir >= 0, configuration.needs(scope: dir).contains(.trustedProxies), let proxies = configuration.scope(dir).proxySettings {
            return ProxyRewrite.applying(proxies, to: request) {
                run($0, facts: RequestFacts($0), dispatch: dispatch, transport: transport, configuration: configuration)
            }
        }
        return run(request, facts: facts, dispatch: dispatch, transport: transport, configuration: configuration)
    }

    private static func run(_ request: UnsafePointer<swsgi_request>, facts: RequestFacts, dispatch: Dispatch,
                            transport: ApacheTransport, configuration: Configuration) -> Int32 {
        // As mod_wsgi: a chunked request body only where WSGIChunkedRequest On allows it. ASGI
        // bodies are a stream of messages: no length is needed.
        if facts.chunked, !dispatch.chunkedRequest, !dispatch.asgi {
            transport.log(SWSGI_LOG_INFO, "swsgi: chunked request body refused for \(facts.scriptFilename ?? "the request"); WSGIChunkedRequest On allows it")
            return 411
        }
        if dispatch.asgi, dispatch.processGroup.isEmpty {
            transport.log(SWSGI_LOG_ERR, "swsgi: the ASGI app \(facts.scriptFilename ?? "") resolved to no daemon process group; ASGI apps run only in daemon groups")
            return 500
        }
        if let allowed = dispatch.allowedProcessGroups, !allowed.contains(dispatch.processGroup) {
            let group = dispatch.processGroup.isEmpty ? "%{GLOBAL} (embedded mode)" : "'\(dispatch.processGroup)'"
            transport.log(SWSGI_LOG_ERR, "swsgi: process group \(group) cannot be used for \(facts.scriptFilename ?? "the request"): WSGIRestrictProcess allows only \(allowed.map { $0.isEmpty ? "%{GLOBAL}" : $0 }.joined(separator: ", "))")
            return 500
        }
        if !dispatch.processGroup.isEmpty {
            return DaemonClient.forward(request, facts: facts, dispatch: dispatch, transport: transport)
        }
        if configuration.restrictEmbedded {
            transport.log(SWSGI_LOG_ERR, "swsgi: embedded mode is disabled by WSGIRestrictEmbedded; refusing \(facts.scriptFilename ?? "the request")")
            return 500
        }
        startPython(configuration)
        return Gateway.run(request, facts: facts, dispatch: dispatch, transport: transport)
    }

    /// Python comes up in a child when the first embedded request (or access, authentication
    /// or dispatch script) needs it: children that only pass requests on to daemons never
    /// carry an interpreter.
    static func startPython(_ configuration: Configuration) {
        PythonRuntime.startOnce {
            let global = configuration.global
            PythonRuntime.start(home: global.pythonHome, homeDirective: "WSGIPythonHome", sitePath: global.pythonPath, processGroup: "", settings: global,
                               host: .gateway)
            PythonRuntime.preload(global.importScripts, for: .embedded)
            PythonRuntime.preload(configuration.scriptPreloads(group: .embedded))
        }
    }
}
