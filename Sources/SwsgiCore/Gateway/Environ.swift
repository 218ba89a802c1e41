import CPython
import Glibc
import SwsgiABI

/// The WSGI environ: Apache's CGI variables as Latin-1 str (PEP 3333), then the wsgi.* and
/// mod_wsgi.* keys. HTTPS becomes wsgi.url_scheme; PATH is Apache's, not the app's business;
/// Authorization only where WSGIPassAuthorization allows it.
struct EnvironSettings {
    var multithread: Bool
    var multiprocess: Bool
    var dispatch: Dispatch
}

func buildEnviron(_ request: UnsafePointer<swsgi_request>, facts: RequestFacts, settings: EnvironSettings,
                  exchange: Exchange) -> PyPtr? {
    let interpreter = exchange.interpreter, names = interpreter.names
    let r = request.pointee
    guard let environ = PyDict_New() else { return nil }
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
    func set(_ key: PyPtr, _ value: PyPtr) { PyDict_SetItem(environ, key, value) }
    func set(_ key: PyPtr, text: String) {
        if let value = PyUnicode_FromString(text) { set(key, value); swsgi_py_decref(value) }
    }
    if !facts.hasPathInfo { set(names.pathInfo, names.empty) }
    set(names.wsgiVersion, names.version)
    set(names.wsgiUrlScheme, facts.https ? names.https : names.http)
    set(names.wsgiInput, input)
    set(names.wsgiErrors, errors)
    set(names.wsgiFileWrapper, interpreter.fileWrapperType)
    set(names.wsgiMultithread, settings.multithread ? swsgi_py_true() : swsgi_py_false())
    set(names.wsgiMultiprocess, settings.multiprocess ? swsgi_py_true() : swsgi_py_false())
    set(names.wsgiRunOnce, swsgi_py_false())
    set(names.wsgiInputTerminated, swsgi_py_true())
    set(names.processGroup, text: settings.dispatch.processGroup)
    set(names.applicationGroup, text: settings.dispatch.applicationGroup)
    set(names.callableObject, text: settings.dispatch.callable)
    set(names.scriptReloading, settings.dispatch.scriptReloading ? names.one : names.zeroText)
    return environ
}
