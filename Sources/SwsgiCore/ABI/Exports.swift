import Glibc
import SwsgiABI
import SwsgiConfig
import SwsgiPython

/// The functions declared in shim/swsgi.h, exported with C names.

/// The configuration being read (parent) or in force (child, inherited through fork).
nonisolated(unsafe) private var configuration = Configuration(pythonVersion: PythonHome.builtVersion, pythonPrefix: PythonHome.builtPrefix)

private func cString(_ message: String?) -> UnsafeMutablePointer<CChar>? {
    message.flatMap { strdup($0) }
}

@_cdecl("swsgi_register_io")
public func swsgiRegisterIO(_ io: UnsafePointer<swsgi_io>?) {
    if let io { Apache.io = io.pointee }
}

@_cdecl("swsgi_register_apache_version")
public func swsgiRegisterApacheVersion(_ major: Int32, _ minor: Int32, _ patch: Int32) {
    Apache.version = [Int(major), Int(minor), Int(patch)]
}

@_cdecl("swsgi_config_begin")
public func swsgiConfigBegin() {
    configuration = Configuration(pythonVersion: PythonHome.builtVersion, pythonPrefix: PythonHome.builtPrefix)
}

@_cdecl("swsgi_scope_new")
public func swsgiScopeNew() -> Int32 {
    configuration.newScope()
}

@_cdecl("swsgi_scope_merge")
public func swsgiScopeMerge(_ base: Int32, _ add: Int32) -> Int32 {
    configuration.merge(base: base, add: add)
}

@_cdecl("swsgi_directive")
public func swsgiDirective(_ scope: Int32, _ where: Int32, _ name: UnsafePointer<CChar>?, _ argc: Int32,
                           _ argv: UnsafePointer<UnsafePointer<CChar>?>?) -> UnsafeMutablePointer<CChar>? {
    guard let name, let context = DirectiveContext(rawValue: `where`) else { return strdup("swsgi: bad directive call") }
    let args = (0..<Int(argc)).map { String(cString: argv![$0]!) }
    return cString(configuration.apply(scope: scope, context: context, name: String(cString: name), args: args))
}

@_cdecl("swsgi_htaccess_directive")
public func swsgiHtaccessDirective(_ scope: Int32, _ name: UnsafePointer<CChar>?, _ argc: Int32,
                                   _ argv: UnsafePointer<UnsafePointer<CChar>?>?,
                                   _ error: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    guard let name else { return -1 }
    let args = (0..<Int(argc)).map { String(cString: argv![$0]!) }
    let result = configuration.applyHtaccess(base: scope, name: String(cString: name), args: args)
    error?.pointee = cString(result.error)
    return result.scope
}

@_cdecl("swsgi_python_version")
public func swsgiPythonVersion() -> UnsafePointer<CChar>? {
    UnsafePointer(pythonVersionText)
}

private let pythonVersionText = strdup("\(PythonHome.builtVersion.major).\(PythonHome.builtVersion.minor)")!

@_cdecl("swsgi_config_check")
public func swsgiConfigCheck(_ mainScope: Int32, _ uid: UInt32, _ gid: UInt32) -> UnsafeMutablePointer<CChar>? {
    for notice in configuration.notices { Apache.log(nil, SWSGI_LOG_NOTICE, notice) }
    return cString(configuration.check(mainScope: mainScope, apacheUID: uid, apacheGID: gid))
}

@_cdecl("swsgi_translate")
public func swsgiTranslate(_ scope: Int32, _ uri: UnsafePointer<CChar>?,
                           _ target: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    guard let uri, let target,
          let match = configuration.translate(scope: scope, uri: Array(UnsafeRawBufferPointer(start: uri, count: strlen(uri)))) else { return -1 }
    target.pointee = match.target.withUnsafeBufferPointer { bytes in
        let copy = malloc(bytes.count + 1)!.assumingMemoryBound(to: CChar.self)
        memcpy(copy, bytes.baseAddress!, bytes.count)
        copy[bytes.count] = 0
        return copy
    }
    return Int32(match.alias)
}

@_cdecl("swsgi_handler_script")
public func swsgiHandlerScript(_ dirScope: Int32, _ handler: UnsafePointer<CChar>?) -> Int32 {
    guard dirScope >= 0, let handler, configuration.needs(scope: dirScope).contains(.handlerScripts) else { return 0 }
    return configuration.scope(dirScope).handlerScripts[String(cString: handler).lowercased()] != nil ? 1 : 0
}

@_cdecl("swsgi_request_options")
public func swsgiRequestOptions(_ dirScope: Int32) -> Int32 {
    let scope = dirScope >= 0 ? configuration.scope(dirScope) : Scope()
    var options: Int32 = scope.errorOverride == true ? Int32(SWSGI_ERROR_OVERRIDE) : 0
    if scope.enableSendfile == true { options |= Int32(SWSGI_SENDFILE) }
    switch scope.mapHEADToGET ?? .auto {
    case .on: options |= Int32(SWSGI_HEAD_TO_GET)
    case .auto: options |= Int32(SWSGI_HEAD_TO_GET_AUTO)
    case .off: break
    }
    return options
}

@_cdecl("swsgi_child_init")
public func swsgiChildInit(_ mainScope: Int32, _ threads: Int32, _ processes: Int32) {
    Gateway.threads = max(1, Int(threads))
    Gateway.processes = max(1, Int(processes))
    Gateway.multithread = threads > 1
    Gateway.multiprocess = processes > 1
    RequestThread.processStart = Double(epochMicroseconds()) / 1e6
    DaemonSpawner.closeListeners()
    configuration.freeze()
}

@_cdecl("swsgi_child_exit")
public func swsgiChildExit() {
    PythonRuntime.runExitFunctions(within: 5, reason: "the Apache child is exiting")
}

@_cdecl("swsgi_handle")
public func swsgiHandle(_ request: UnsafeMutablePointer<swsgi_request>?) -> Int32 {
    guard let request else { return 500 }
    return ChildRequest.handle(request, configuration: configuration)
}

@_cdecl("swsgi_auth_configured")
public func swsgiAuthConfigured(_ scope: Int32, _ kind: Int32) -> Int32 {
    guard scope >= 0, let need = AuthCall.need(kind) else { return 0 }
    return configuration.needs(scope: scope).contains(need) ? 1 : 0
}

@_cdecl("swsgi_auth")
public func swsgiAuth(_ call: UnsafePointer<swsgi_auth_call>?, _ answer: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    guard let call, let answer else { return Int32(SWSGI_AUTH_ERROR.rawValue) }
    answer.pointee = nil
    return Int32(AuthCall.run(call, configuration: configuration, answer: answer).rawValue)
}

@_cdecl("swsgi_daemons_start")
public func swsgiDaemonsStart(_ prefix: UnsafePointer<CChar>?, _ uid: UInt32, _ gid: UInt32, _ timeout: UInt32,
                              _ spawned: (@convention(c) (Int32) -> Void)?) -> Int32 {
    DaemonGroups.plan(configuration, defaultPrefix: prefix.map { String(cString: $0) } ?? "/var/run/apache2/wsgi",
                      uid: uid, gid: gid, apacheTimeout: Int(timeout))
    return DaemonSpawner.start(configuration, spawned: spawned)
}

@_cdecl("swsgi_daemon_died")
public func swsgiDaemonDied(_ pid: Int32, _ status: Int32) {
    DaemonSpawner.died(pid, status: status)
}

@_cdecl("swsgi_daemons_stop")
public func swsgiDaemonsStop(_ exiting: Int32) {
    DaemonSpawner.stop(waiting: exiting != 0)
}
