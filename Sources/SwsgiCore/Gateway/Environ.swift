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
    let interpreter = exchange.interpreter, names = interpreter.names, template = interpreter.environTemplate
    guard exchange.makeObjects(), let input = exchange.input?.copy(), let errors = exchange.errors?.copy(),
          let scriptStart = PyRef(decimal: settings.scriptStart), let threadID = PyRef(Int64(settings.threadID)),
          let threadRequests = PyRef(Int64(settings.threadRequests)), let totalRequests = PyRef(Int64(settings.totalRequests)) else {
        return nil
    }
    var extras = EnvironExtras()
    if !facts.hasPathInfo { extras.fixed(names.pathInfo, names.empty) }
    extras.fixed(names.wsgiVersion, names.version)
    extras.fixed(names.wsgiUrlScheme, facts.https ? names.https : names.http)
    extras.perRequest(names.wsgiInput, input)
    extras.perRequest(names.wsgiErrors, errors)
    extras.fixed(names.wsgiFileWrapper, interpreter.fileWrapperType)
    extras.fixed(names.wsgiMultithread, settings.multithread)
    extras.fixed(names.wsgiMultiprocess, settings.multiprocess)
    extras.fixed(names.wsgiRunOnce, false)
    extras.fixed(names.wsgiInputTerminated, true)
    if let daemonStart = settings.daemonStart {
        guard let start = PyRef(decimal: daemonStart) else { return nil }
        extras.perRequest(names.daemonStart, start)
    } else {
        for key in ChildKey.allCases {
            guard let text = template.text(key.value(in: settings.dispatch), slot: key.rawValue) else { return nil }
            extras.fixed(names.childKeys[key.rawValue], text)
        }
    }
    extras.fixed(names.modWsgiVersion, names.modWsgiVersionTuple)
    extras.fixed(names.apacheVersion, names.apacheVersionTuple)
    extras.perRequest(names.scriptStart, scriptStart)
    extras.perRequest(names.threadID, threadID)
    extras.perRequest(names.threadRequests, threadRequests)
    extras.perRequest(names.totalRequests, totalRequests)
    if let connection = settings.asgiConnection {
        guard let value = PyRef(Int64(connection)) else { return nil }
        extras.perRequest(names.asgiConnection, value)
    }
    let passAuthorization = settings.dispatch.passAuthorization
    return template.environ(of: request, keyCache: interpreter.environKeys,
                            skipping: { leftOut($0, passAuthorization: passAuthorization) }, extras: extras)
}
