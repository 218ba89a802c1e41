import Glibc
import SwsgiABI
import SwsgiConfig
import SwsgiHTTP
import SwsgiPython

/// WSGIDispatchScript: the script, run in the Apache child as in mod_wsgi, chooses where this
/// request runs. Its answers are read as the directives' values would be (%{GLOBAL},
/// %{ENV:var}, a name), and a group it names is checked like any other: an undefined one is
/// a 500 with a log line naming it.
enum DispatchScriptCall {
    /// Applies the script's answers to dispatch: nil, or the HTTP status (logged) of a failure.
    static func apply(_ script: DispatchScript, to dispatch: inout Dispatch, request: UnsafePointer<swsgi_request>,
                      facts: RequestFacts, transport: ApacheTransport) -> Int32? {
        guard case .ready = PythonRuntime.state else {
            transport.log(SWSGI_LOG_ERR, "swsgi: WSGIDispatchScript '\(script.path)' cannot run: Python is not available in this process")
            return 500
        }
        var mtime = 0
        if dispatch.scriptReloading {
            guard let time = scriptModificationTime(script.path) else {
                transport.log(SWSGI_LOG_ERR, "swsgi: WSGIDispatchScript '\(script.path)' not found or unable to stat")
                return 500
            }
            mtime = time
        }
        guard let interpreter = PythonRuntime.enter(group: Dispatch.name(of: script.applicationGroup, request, facts)) else { return 500 }
        defer { PythonRuntime.leave() }
        guard let environ = environ(request, dispatch: dispatch, interpreter: interpreter),
              let answers = interpreter.dispatch(script: script.path, mtime: mtime, environ: environ) else {
            interpreter.logPendingException(handle: nil, log: { transport.log($0, $1) }, message: "swsgi: WSGIDispatchScript '\(script.path)' failed")
            return 500
        }
        let (process, application, callable) = (answers[0], answers[1], answers[2])
        do {
            if let process { dispatch.processGroup = Dispatch.name(of: try ProcessGroup(parsing: process), request, facts) }
            if let application { dispatch.applicationGroup = Dispatch.name(of: try ApplicationGroup(parsing: application), request, facts) }
        } catch {
            transport.log(SWSGI_LOG_ERR, "swsgi: WSGIDispatchScript '\(script.path)' named the group '\(process ?? application ?? "")', which \(error)")
            return 500
        }
        if let callable {
            guard !callable.isEmpty else {
                transport.log(SWSGI_LOG_ERR, "swsgi: WSGIDispatchScript '\(script.path)': callable_object() returned an empty name")
                return 500
            }
            dispatch.callable = callable
        }
        return nil
    }

    /// What the script's functions get: the request's CGI variables and the mod_wsgi.* keys
    /// as the configuration resolved them (no wsgi.input: the body is the app's).
    private static func environ(_ request: UnsafePointer<swsgi_request>, dispatch: Dispatch, interpreter: Interpreter) -> PyRef? {
        let names = interpreter.names
        guard let environ = DictBuilder(capacity: request.pointee.count + 8),
              environ.setVariables(of: request, keys: interpreter.environKeys,
                                   skipping: { leftOut($0, passAuthorization: dispatch.passAuthorization) }) else { return nil }
        for key in ChildKey.allCases {
            environ.set(names.childKeys[key.rawValue], latin1: key.value(in: dispatch))
        }
        environ.set(names.modWsgiVersion, names.modWsgiVersionTuple)
        environ.set(names.apacheVersion, names.apacheVersionTuple)
        return environ.finish()
    }
}
