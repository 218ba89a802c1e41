import CPython
import Glibc
import SwsgiABI

/// The WSGI environ: Apache's CGI variables as Latin-1 str (PEP 3333), then the wsgi.* and
/// mod_wsgi.* keys. HTTPS becomes wsgi.url_scheme; PATH is Apache's, not the app's business;
/// Authorization only where WSGIPassAuthorization allows it.
///
/// mod_wsgi's keys come from three places, each the one place for its kind, so that both
/// modes get all of them: what Apache knows of the request (request_id, request_start,
/// listener_host, ...) the shim adds to the CGI variables; what the Apache child resolved from
/// the configuration is `ChildKey`, put in the environ here in embedded mode and sent with the
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
}

/// mod_wsgi's keys for what the Apache child resolved about the request from the configuration.
enum ChildKey: Int, CaseIterable {
    case processGroup, applicationGroup, callableObject, scriptReloading, handlerScript, enableSendfile, ignoreActivity

    var name: String {
        switch self {
        case .processGroup: "mod_wsgi.process_group"
        case .applicationGroup: "mod_wsgi.application_group"
        case .callableObject: "mod_wsgi.callable_object"
        case .scriptReloading: "mod_wsgi.script_reloading"
        case .handlerScript: "mod_wsgi.handler_script"
        case .enableSendfile: "mod_wsgi.enable_sendfile"
        case .ignoreActivity: "mod_wsgi.ignore_activity"
        }
    }

    func value(in dispatch: Dispatch) -> String {
        switch self {
        case .processGroup: dispatch.processGroup
        case .applicationGroup: dispatch.applicationGroup
        case .callableObject: dispatch.callable
        case .scriptReloading: dispatch.scriptReloading ? "1" : "0"
        case .handlerScript: ""                 // WSGIHandlerScript is not available
        case .enableSendfile: "1"               // wsgi.file_wrapper always becomes sendfile
        case .ignoreActivity: "0"               // every request counts as activity
        }
    }
}

func buildEnviron(_ request: UnsafePointer<swsgi_request>, facts: RequestFacts, settings: EnvironSettings,
                  exchange: Exchange) -> PyPtr? {
    let interpreter = exchange.interpreter, names = interpreter.names
    let r = request.pointee
    // Sized for the CGI variables and the keys added below, so that it never grows.
    guard let environ = swsgi_py_dict_presized(r.count + 32) else { return nil }
    for i in 0..<r.count {
        guard let key = r.keys[i], let value = r.values[i] else { continue }
        if key[0] == 0x50 /* P */, strcmp(key, "PATH") == 0 { continue }
        if key[0] == 0x48 /* H */ {
            if strcmp(key, "HTTPS") == 0 { continue }
            if !settings.dispatch.passAuthorization, strcmp(key, "HTTP_AUTHORIZATION") == 0 { continue }
        }
        guard let k = interpreter.environKeys.object(for: key) else { swsgi_py_decref(environ); return nil }
        defer { if k.owned { swsgi_py_decref(k.object) } }
        guard let v = PyUnicode_DecodeLatin1(value, strlen(value), nil) else { swsgi_py_decref(environ); return nil }
        PyDict_SetItem(environ, k.object, v)
        swsgi_py_decref(v)
    }
    guard let handle = exchange.makeHandle(),
          let input = interpreter.instantiate(interpreter.inputType, [names.handle: handle, names.buffer: names.emptyBytes]),
          let errors = interpreter.instantiate(interpreter.logType, [
              names.handle: handle, names.level: names.errorLevel, names.name: names.errorsName,
              names.buffer: names.empty, names.lock: interpreter.noLock]) else {
        swsgi_py_decref(environ); return nil
    }
    exchange.input = input
    exchange.errors = errors
    func set(_ key: PyPtr, _ value: PyPtr?) {
        guard let value else { return }
        PyDict_SetItem(environ, key, value)
        swsgi_py_decref(value)
    }
    func set(_ key: PyPtr, borrowed value: PyPtr) { PyDict_SetItem(environ, key, value) }
    if !facts.hasPathInfo { set(names.pathInfo, borrowed: names.empty) }
    set(names.wsgiVersion, borrowed: names.version)
    set(names.wsgiUrlScheme, borrowed: facts.https ? names.https : names.http)
    set(names.wsgiInput, borrowed: input)
    set(names.wsgiErrors, borrowed: errors)
    set(names.wsgiFileWrapper, borrowed: interpreter.fileWrapperType)
    set(names.wsgiMultithread, borrowed: settings.multithread ? swsgi_py_true() : swsgi_py_false())
    set(names.wsgiMultiprocess, borrowed: settings.multiprocess ? swsgi_py_true() : swsgi_py_false())
    set(names.wsgiRunOnce, borrowed: swsgi_py_false())
    set(names.wsgiInputTerminated, borrowed: swsgi_py_true())
    if let daemonStart = settings.daemonStart {
        set(names.daemonStart, decimalText(daemonStart))
    } else {
        for key in ChildKey.allCases {
            set(names.childKeys[key.rawValue], key.value(in: settings.dispatch).withCString { PyUnicode_DecodeLatin1($0, strlen($0), nil) })
        }
    }
    set(names.modWsgiVersion, borrowed: names.modWsgiVersionTuple)
    set(names.apacheVersion, borrowed: names.apacheVersionTuple)
    set(names.scriptStart, decimalText(settings.scriptStart))
    set(names.threadID, PyLong_FromLong(settings.threadID))
    set(names.threadRequests, PyLong_FromLong(settings.threadRequests))
    set(names.totalRequests, PyLong_FromLong(settings.totalRequests))
    return environ
}

/// A number as mod_wsgi puts timings in the environ: a str of decimal digits.
private func decimalText(_ value: Int) -> PyPtr? {
    withUnsafeTemporaryAllocation(of: CChar.self, capacity: 24) { buffer in
        var digits = 0, rest = value.magnitude
        repeat {
            buffer[23 - digits] = CChar(48 + rest % 10)
            rest /= 10
            digits += 1
        } while rest > 0
        if value < 0 { digits += 1; buffer[24 - digits] = 45 /* - */ }
        return PyUnicode_DecodeLatin1(buffer.baseAddress! + 24 - digits, digits, nil)
    }
}
