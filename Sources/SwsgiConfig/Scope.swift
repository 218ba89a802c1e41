/// WSGIMapHEADToGET: whether a HEAD request reaches the app as GET (auto: when an output
/// filter may need the body).
public enum HeadMapping: String, Sendable {
    case off, on, auto
}

/// The settings of one server or directory. nil means "not set here", so merging can tell an
/// explicit Off from an inherited value.
public struct Scope: Sendable {
    public var scriptAliases: [ScriptAlias] = []
    /// WSGIHandlerScript, by lower-cased Apache handler name.
    public var handlerScripts: [String: HandlerScript] = [:]
    public var applicationGroup: ApplicationGroup?
    public var processGroup: ProcessGroup?
    public var callableObject: String?
    public var dispatchScript: DispatchScript?
    public var passAuthorization: Bool?
    public var chunkedRequest: Bool?     // WSGIChunkedRequest
    public var scriptReloading: Bool?    // WSGIScriptReloading
    public var accessScript: AuthScript?
    public var authUserScript: AuthScript?
    public var authGroupScript: AuthScript?
    public var trustedProxyHeaders: [ProxyHeader]?
    public var trustedProxies: [AddressRange]?
    /// WSGIRestrictProcess: the only process groups requests here may run in ("" is
    /// embedded mode, %{GLOBAL}).
    public var restrictProcess: [String]?
    public var errorOverride: Bool?      // WSGIErrorOverride
    public var mapHEADToGET: HeadMapping? // WSGIMapHEADToGET
    public var enableSendfile: Bool?     // WSGIEnableSendfile

    public init() {}

    /// The trusted-proxy settings in force, nil when no WSGITrustedProxyHeaders applies.
    public var proxySettings: TrustedProxies? {
        trustedProxyHeaders.map { TrustedProxies(headers: $0, proxies: trustedProxies) }
    }

    /// This scope's settings where set, else `base`'s. Aliases: these first, as Apache tries a
    /// virtual host's own aliases before the main server's.
    public func merged(over base: Scope) -> Scope {
        var result = Scope()
        result.scriptAliases = scriptAliases + base.scriptAliases
        result.handlerScripts = base.handlerScripts.merging(handlerScripts) { $1 }
        result.applicationGroup = applicationGroup ?? base.applicationGroup
        result.processGroup = processGroup ?? base.processGroup
        result.callableObject = callableObject ?? base.callableObject
        result.dispatchScript = dispatchScript ?? base.dispatchScript
        result.passAuthorization = passAuthorization ?? base.passAuthorization
        result.chunkedRequest = chunkedRequest ?? base.chunkedRequest
        result.scriptReloading = scriptReloading ?? base.scriptReloading
        result.accessScript = accessScript ?? base.accessScript
        result.authUserScript = authUserScript ?? base.authUserScript
        result.authGroupScript = authGroupScript ?? base.authGroupScript
        // As in mod_wsgi, a directory's lists replace the server's instead of adding to them.
        result.trustedProxyHeaders = trustedProxyHeaders ?? base.trustedProxyHeaders
        result.trustedProxies = trustedProxies ?? base.trustedProxies
        result.restrictProcess = restrictProcess ?? base.restrictProcess
        result.errorOverride = errorOverride ?? base.errorOverride
        result.mapHEADToGET = mapHEADToGET ?? base.mapHEADToGET
        result.enableSendfile = enableSendfile ?? base.enableSendfile
        return result
    }
}
