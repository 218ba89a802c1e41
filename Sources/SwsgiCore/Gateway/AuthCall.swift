import Glibc
import SwsgiABI
import SwsgiConfig
import SwsgiHTTP
import SwsgiPython

/// The functions of WSGIAccessScript, WSGIAuthUserScript and WSGIAuthGroupScript, which the
/// shim's hook and providers call before the handler. In the Apache child, as in mod_wsgi,
/// even when the application itself runs in a daemon. The password (or realm, or host) is an
/// argument of the function and appears in no log line.
enum AuthCall {
    /// What a scope must have for a kind of call.
    static func need(_ kind: Int32) -> ScopeNeeds? {
        switch swsgi_auth_kind(rawValue: UInt32(bitPattern: kind)) {
        case SWSGI_ALLOW_ACCESS: .accessScript
        case SWSGI_CHECK_PASSWORD, SWSGI_GET_REALM_HASH: .authUserScript
        case SWSGI_GROUPS_FOR_USER: .authGroupScript
        default: nil
        }
    }

    /// The script a kind of call needs in a scope, and the function it calls there.
    private static func lookup(_ kind: Int32, in scope: Scope) -> (script: AuthScript, function: String, directive: String)? {
        switch swsgi_auth_kind(rawValue: UInt32(bitPattern: kind)) {
        case SWSGI_ALLOW_ACCESS: scope.accessScript.map { ($0, "allow_access", "WSGIAccessScript") }
        case SWSGI_CHECK_PASSWORD: scope.authUserScript.map { ($0, "check_password", "WSGIAuthUserScript") }
        case SWSGI_GET_REALM_HASH: scope.authUserScript.map { ($0, "get_realm_hash", "WSGIAuthUserScript") }
        case SWSGI_GROUPS_FOR_USER: scope.authGroupScript.map { ($0, "groups_for_user", "WSGIAuthGroupScript") }
        default: nil
        }
    }

    /// An enum swsgi_auth_answer; *answer is set for a user name or a hash.
    static func run(_ call: UnsafePointer<swsgi_auth_call>, configuration: Configuration,
                    answer: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> swsgi_auth_answer {
        let c = call.pointee
        guard let ctx = c.ctx, c.dir_scope >= 0 else { return SWSGI_AUTH_ERROR }
        let scope = configuration.scope(c.dir_scope)
        guard let found = lookup(c.kind, in: scope) else { return SWSGI_AUTH_ERROR }
        let (script, function, directive) = found
        let transport = ApacheTransport(ctx)
        ChildRequest.startPython(configuration)
        guard case .ready = PythonRuntime.state else {
            transport.log(SWSGI_LOG_ERR, "swsgi: \(directive) '\(script.path)' cannot run: Python is not available in this process")
            return SWSGI_AUTH_ERROR
        }
        var mtime = 0
        if scope.scriptReloading ?? true {
            guard let time = scriptModificationTime(script.path) else {
                transport.log(SWSGI_LOG_ERR, "swsgi: \(directive) '\(script.path)' not found or unable to stat")
                return SWSGI_AUTH_ERROR
            }
            mtime = time
        }
        var request = swsgi_request(ctx: ctx, count: c.count, keys: c.keys, values: c.values, server_scope: -1,
                                    dir_scope: c.dir_scope, alias: -1, group: 0, uri: nil)
        let run = { (request: UnsafePointer<swsgi_request>) -> swsgi_auth_answer in
            let facts = RequestFacts(request)
            let group: String = switch script.applicationGroup {
            case .named(let name): name
            case .server: serverGroupName(serverName: facts.serverName, port: facts.serverPort)
            case .host: facts.httpHost ?? facts.serverName
            default: ""   // %{GLOBAL}; the configuration allows nothing else
            }
            guard let interpreter = PythonRuntime.enter(group: group) else { return SWSGI_AUTH_ERROR }
            defer { PythonRuntime.leave() }
            let exchange = Exchange(transport: transport, interpreter: interpreter, script: script.path, bodyLength: 0)
            let thread = RequestThread.current
            thread.exchange = exchange
            defer {
                exchange.finish()
                thread.exchange = nil
            }
            var missing = false
            guard let callable = interpreter.application(script: script.path, mtime: mtime, callable: function, missing: &missing) else {
                if missing {
                    transport.log(SWSGI_LOG_ERR, "swsgi: \(directive) '\(script.path)' does not define \(function)()")
                } else {
                    interpreter.logPendingException(handle: nil, log: exchange.log, message: "swsgi: failed to exec \(directive) '\(script.path)'")
                }
                return SWSGI_AUTH_ERROR
            }
            let failed = "swsgi: exception in \(function)() of \(directive) '\(script.path)'"
            guard exchange.makeObjects(),
                  let environ = scriptEnviron(request, exchange: exchange, group: group, reloading: mtime != 0) else {
                interpreter.logPendingException(handle: nil, log: exchange.log, message: failed)
                return SWSGI_AUTH_ERROR
            }
            let result: PyRef?
            switch function {
            case "allow_access":
                guard let host = PyRef(latin1: c.word ?? noText) else { return SWSGI_AUTH_ERROR }
                result = callable.call(environ, host)
            default:
                guard let user = PyRef(latin1: c.user ?? noText), let word = PyRef(latin1: c.word ?? noText) else { return SWSGI_AUTH_ERROR }
                result = function == "groups_for_user" ? callable.call(environ, user) : callable.call(environ, user, word)
            }
            guard let result else {
                interpreter.logPendingException(handle: nil, log: exchange.log, message: failed)
                return SWSGI_AUTH_ERROR
            }
            let verdict = interpret(result, of: function, call: c, answer: answer)
            if let problem = verdict.problem {
                if Python.errorPending {
                    interpreter.logPendingException(handle: nil, log: exchange.log, message: "swsgi: \(function)() of \(directive) '\(script.path)' \(problem)")
                } else {
                    transport.log(SWSGI_LOG_ERR, "swsgi: \(function)() of \(directive) '\(script.path)' \(problem)")
                }
            }
            return verdict.answer
        }
        // The script sees what the application would: trusted proxies' headers applied,
        // untrusted ones removed.
        return withUnsafePointer(to: &request) { request in
            if let proxies = scope.proxySettings { return ProxyRewrite.applying(proxies, to: request, run) }
            return run(request)
        }
    }

    /// mod_wsgi's environ for these scripts: the shim's variables and the mod_wsgi keys that
    /// say where the script runs; wsgi.errors, but no wsgi.input (the body is the handler's).
    private static func scriptEnviron(_ request: UnsafePointer<swsgi_request>, exchange: Exchange, group: String,
                                      reloading: Bool) -> PyRef? {
        let interpreter = exchange.interpreter, names = interpreter.names
        guard let environ = DictBuilder(capacity: request.pointee.count + 8),
              environ.setVariables(of: request, keys: interpreter.environKeys, skipping: { _ in false }) else { return nil }
        environ.set(names.modWsgiVersion, names.modWsgiVersionTuple)
        environ.set(names.apacheVersion, names.apacheVersionTuple)
        environ.set(names.childKeys[ChildKey.processGroup.rawValue], latin1: "")
        environ.set(names.childKeys[ChildKey.applicationGroup.rawValue], latin1: group)
        environ.set(names.childKeys[ChildKey.scriptReloading.rawValue], reloading ? 1 : 0)
        environ.set(names.wsgiErrors, exchange.errors)
        return environ.finish()
    }

    /// The answer a function's result gives, or a problem (logged by the caller).
    private static func interpret(_ result: borrowing PyRef, of function: String, call: swsgi_auth_call,
                                  answer: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> (answer: swsgi_auth_answer, problem: String?) {
        switch function {
        case "allow_access":
            if result.isNone { return (SWSGI_AUTH_UNKNOWN, nil) }
            if result.isTrueObject { return (SWSGI_AUTH_YES, nil) }
            if result.isFalseObject { return (SWSGI_AUTH_NO, nil) }
            return (SWSGI_AUTH_ERROR, "returned \(result.typeName); it must return True, False or None")
        case "check_password":
            if result.isNone { return (SWSGI_AUTH_UNKNOWN, nil) }
            if result.isTrueObject { return (SWSGI_AUTH_YES, nil) }
            if result.isFalseObject { return (SWSGI_AUTH_NO, nil) }
            if let name = result.utf8Text, !name.isEmpty {
                answer.pointee = mallocCString(Array(name.utf8))
                return (SWSGI_AUTH_YES, nil)
            }
            return (SWSGI_AUTH_ERROR, "returned \(result.typeName); it must return True, False, None or the user's name as a str")
        case "get_realm_hash":
            if result.isNone { return (SWSGI_AUTH_UNKNOWN, nil) }
            if let hash = result.latin1Bytes, !hash.isEmpty, !hash.contains(0) {
                answer.pointee = mallocCString(hash)
                return (SWSGI_AUTH_YES, nil)
            }
            return (SWSGI_AUTH_ERROR, "returned \(result.typeName); it must return None or the hash as a Latin-1 str or bytes")
        default:
            guard let iterator = result.iterator() else {
                return (SWSGI_AUTH_ERROR, "returned \(result.typeName); it must return an iterable of group names")
            }
            var groups: Set<[UInt8]> = []
            while let item = iterator.next() {
                guard let name = item.latin1Bytes else {
                    return (SWSGI_AUTH_ERROR, "returned a group name of type \(item.typeName); each must be a Latin-1 str or bytes")
                }
                groups.insert(name)
            }
            if Python.errorPending { return (SWSGI_AUTH_ERROR, "failed while its groups were read") }
            for i in 0..<call.group_count {
                guard let required = call.groups?[i] else { continue }
                if groups.contains(Array(UnsafeRawBufferPointer(start: required, count: strlen(required)))) { return (SWSGI_AUTH_YES, nil) }
            }
            return (SWSGI_AUTH_NO, nil)
        }
    }
}

private let noText = UnsafePointer(strdup("")!)
