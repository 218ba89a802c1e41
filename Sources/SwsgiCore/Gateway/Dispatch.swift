import Glibc
import SwsgiABI
import SwsgiConfig
import SwsgiHTTP

/// Where a request runs: which process group (""= embedded), which application group, which
/// callable. Resolved in the Apache child from the configuration; a daemon reads it back from
/// the mod_wsgi.* keys the child sends along.
struct Dispatch {
    var processGroup: String
    var applicationGroup: String
    var callable: String
    /// A WSGIHandlerScript's script, run instead of SCRIPT_FILENAME; "" for none.
    var handlerScript: String
    var passAuthorization: Bool
    var chunkedRequest: Bool
    /// WSGIScriptReloading: reload a script whose modification time changed (default On).
    var scriptReloading: Bool
    /// interface=asgi: the callable is an ASGI app (daemon groups only).
    var asgi: Bool
    /// WSGIRestrictProcess: the process groups allowed here (nil: any).
    var allowedProcessGroups: [String]?

    init(_ request: UnsafePointer<swsgi_request>, facts: RequestFacts, configuration: Configuration) {
        let r = request.pointee
        let dir = r.dir_scope >= 0 ? configuration.scope(r.dir_scope) : nil
        let alias = r.alias >= 0 && r.server_scope >= 0 ? configuration.alias(scope: r.server_scope, index: Int(r.alias)) : nil
        let handler = alias == nil ? dir?.handlerScripts[facts.requestHandler.lowercased()] : nil
        handlerScript = handler?.path ?? ""
        // A WSGIScriptAliasMatch substitutes the URI's groups into the group names.
        let uri = alias?.pattern != nil ? r.uri.map { Array(UnsafeRawBufferPointer(start: $0, count: strlen($0))) } ?? [] : []
        switch handler?.processGroup ?? alias?.processGroup(for: uri) ?? dir?.processGroup ?? .embedded {
        case .embedded: processGroup = ""
        case .named(let name): processGroup = name
        case .env(let variable): processGroup = facts.value(of: variable, in: request) ?? ""
        }
        switch handler?.applicationGroup ?? alias?.applicationGroup(for: uri) ?? dir?.applicationGroup ?? .resource {
        case .global: applicationGroup = ""
        case .named(let name): applicationGroup = name
        case .resource: applicationGroup = resourceGroupName(serverName: facts.serverName, port: facts.serverPort, scriptName: facts.scriptName)
        case .server: applicationGroup = serverGroupName(serverName: facts.serverName, port: facts.serverPort)
        case .host: applicationGroup = facts.httpHost ?? facts.serverName
        case .env(let variable): applicationGroup = facts.value(of: variable, in: request) ?? ""
        }
        callable = handler != nil ? HandlerScript.callable : alias?.callableObject ?? dir?.callableObject ?? "application"
        passAuthorization = handler?.passAuthorization ?? alias?.passAuthorization ?? dir?.passAuthorization ?? false
        chunkedRequest = dir?.chunkedRequest ?? false
        scriptReloading = dir?.scriptReloading ?? true
        asgi = alias?.asgi ?? false
        allowedProcessGroups = dir?.restrictProcess
    }

    /// In a daemon: what the Apache child resolved.
    init(daemonRequest facts: RequestFacts, processGroup: String) {
        self.processGroup = processGroup
        applicationGroup = facts.applicationGroup ?? ""
        callable = facts.callableObject ?? "application"
        handlerScript = facts.handlerScript
        passAuthorization = true   // the child already dropped Authorization where not allowed
        chunkedRequest = true
        scriptReloading = facts.scriptReloading
        asgi = facts.asgi
    }
}
