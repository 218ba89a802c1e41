import Glibc
import SwsgiABI
import SwsgiHTTP
import SwsgiPython

/// The WSGI environ: Apache's CGI variables as Latin-1 str (PEP 3333), then the wsgi.* and
/// mod_wsgi.* keys. HTTPS becomes wsgi.url_scheme; PATH is Apache's, not the app's business;
/// Authorization only where WSGIPassAuthorization allows it.
///
/// mod_wsgi's keys come from three places, each the one place for its kind, so that both
/// modes get all of them: what Apache knows of the request (request_id, request_start,
/// listener_host, ...) the shim adds to the CGI variables; what the Apache child resolved from
/// the configuration is `ChildKey` (SwsgiHTTP), put in the environ here in embedded mode and sent with the
/// CGI variables to a daemon; what the process running the app knows (versions, thread and
/// request counts, timings) is added here in both modes.
struct EnvironSettings {
    var multithread: Bool
    var multiprocess: Bool
    var dispatch: Dispatch
    /// When a daemon began handling the request (µs since the epoch); nil in embedded mode.
    var daemonStart: Int?
    /// When the app was about to be called (µs since the epoch).
    var scriptStart: Int
    var threadID: Int
    var threadRequests: Int
    var totalRequests: Int
    /// An ASGI request's connection to the Apache child, which its ASGI layer watches.
    var asgiConnection: Int32?
}

extension ChildKey {
    func value(in dispatch: Dispatch) -> String {
        switch self {
        case .processGroup: dispatch.processGroup
        case .applicationGroup: dispatch.applicationGroup
        case .callableObject: dispatch.callable
        case .scriptReloading: dispatch.scriptReloading ? "1" : "0"
        case .handlerScript: dispatch.handlerScript
        case .enableSendfile: dispatch.enableSendfile ? "1" : "0"
        case .ignoreActivity: "0"               // every request counts as activity
        }
    }
}

/// The environ; nil with an exception set. Makes the exchange's Python objects too.
/// The CGI variables an environ leaves out: PATH, HTTPS (it is wsgi.url_scheme) and, unless
/// passed on, Authorization.
func leftOut(_ key: UnsafePointer<CChar>, passAuthorization: Bool) -> Bool {
    if key[0] == 0x50 /* P */ { return strcmp(key, "PATH") == 0 }
    if key[0] == 0x48 /* H */ {
        return strcmp(key, "HTTPS") == 0 || (!passAuthorization && strcmp(key, "HTTP_AUTHORIZATION") == 0)
    }
    return false
}

func buildEnviron(_ request: UnsafePointer<swsgi_request>, facts: RequestFacts, settings: EnvironSettings,
                  exchange: Exchange) -> PyRef? {
    let interpreter = exchange.interpreter, names = interpreter.names
    let r = request.pointee
    // Sized for the CGI variables and the keys added below, so that it never grows.
    guard let environ = DictBuilder(capacity: r.count + 32) else { return nil }
    let passAuthorization = settings.dispatch.passAuthorization
    guard environ.setVariables(of: request, keys: interpreter.environKeys, skipping: { leftOut($0, passAuthorization: passAuthorization) }) else {
        return nil
    }
    guard exchange.makeObjects() else { return nil }
    if !facts.hasPathInfo { environ.set(names.pathInfo, names.empty) }
    environ.set(names.wsgiVersion, names.version)
    environ.set(names.wsgiUrlScheme, facts.https ? names.https : names.http)
    environ.set(names.wsgiInput, exchange.input)
    environ.set(names.wsgiErrors, exchange.errors)
    environ.set(names.wsgiFileWrapper, interpreter.fileWrapperType)
    environ.set(names.wsgiMultithread, settings.multithread)
    environ.set(names.wsgiMultiprocess, settings.multiprocess)
    environ.set(names.wsgiRunOnce, false)
    environ.set(names.wsgiInputTerminated, true)
    if let daemonStart = settings.daemonStart {
        environ.set(names.daemonStart, decimal: daemonStart)
    } else {
        for key in ChildKey.allCases {
            environ.set(names.childKeys[key.rawValue], latin1: key.value(in: settings.dispatch))
        }
    }
    environ.set(names.modWsgiVersion, names.modWsgiVersionTuple)
    environ.set(names.apacheVersion, names.apacheVersionTuple)
    environ.set(names.scriptStart, decimal: settings.scriptStart)
    environ.set(names.threadID, settings.threadID)
    environ.set(names.threadRequests, settings.threadRequests)
    environ.set(names.totalRequests, settings.totalRequests)
    if let connection = settings.asgiConnection { environ.set(names.asgiConnection, Int(connection)) }
    return environ.finish()
}
