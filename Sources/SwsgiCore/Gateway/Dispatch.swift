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
    /// WSGIEnableSendfile: the Apache child may send wsgi.file_wrapper files with sendfile
    /// (default Off, as mod_wsgi).
    var enableSendfile: Bool
    /// interface=asgi: the callable is an ASGI app (daemon groups only).
    var asgi: Bool
    /// WSGIRestrictProcess: the process groups allowed here (nil: any).
    var allowedProcessGroups: [String]?
    /// WSGIDispatchScript, to be asked before the request runs (Apache child only).
    var dispatchScript: DispatchScript?

    /// The process group a setting names for this request ("": embedded).
    static func name(of group: ProcessGroup, _ request: UnsafePointer<swsgi_request>, _ facts: RequestFacts) -> String {
        switch group {
        case .embedded: ""
        case .named(let name): name
        case .env(let variable): facts.value(of: variable, in: request) ?? ""
        }
    }

    /// The application group a setting names for this request ("": the main interpreter).
    static func name(of group: ApplicationGroup, _ request: UnsafePointer<swsgi_request>, _ facts: RequestFacts) -> String {
        switch group {
        case .global: ""
        case .named(let name): name
        case .resource: resourceGroupName(serverName: facts.serverName, port: facts.serverPort, scriptName: facts.scriptName)
        case .server: serverGroupName(serverName: facts.serverName, port: facts.serverPort)
        case .host: facts.httpHost ?? facts.serverName
        case .env(let variable): facts.value(of: variable, in: request) ?? ""
        }
    }

    init(_ request: UnsafePointer<swsgi_request>, facts: RequestFacts, configuration: Configuration) {
        let r = request.pointee
        let dir = r.dir_scope >= 0 ? configuration.scope(r.dir_scope) : nil
        let alias = r.alias >= 0 && r.server_scope >= 0 ? configuration.alias(scope: r.server_scope, index: Int(r.alias)) : nil
        let handler = alias == nil ? dir?.handlerScripts[facts.requestHandler.lowercased()] : nil
        handlerScript = handler?.path ?? ""
        // A WSGIScriptAliasMatch substitutes the URI's groups into the group names.
        let uri = alias?.pattern != nil ? r.uri.map { Array(UnsafeRawBufferPointer(start: $0, count: strlen($0))) } ?? [] : []
        processGroup = Self.name(of: handler?.processGroup ?? alias?.processGroup(for: uri) ?? dir?.processGroup ?? .embedded,
                                 request, facts)
        applicationGroup = Self.name(of: handler?.applicationGroup ?? alias?.applicationGroup(for: uri) ?? dir?.applicationGroup ?? .resource,
                                     request, facts)
        dispatchScript = dir?.dispatchScript
        callable = handler != nil ? HandlerScript.callable : alias?.callableObject ?? dir?.callableObject ?? "application"
        passAuthorization = handler?.passAuthorization ?? alias?.passAuthorization ?? dir?.passAuthorization ?? false
        chunkedRequest = dir?.chunkedRequest ?? false
        scriptReloading = dir?.scriptReloading ?? true
        enableSendfile = dir?.enableSendfile ?? false
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
        enableSendfile = false     // the Apache child sends the file, and sent the key along
        asgi = facts.asgi
    }
}
