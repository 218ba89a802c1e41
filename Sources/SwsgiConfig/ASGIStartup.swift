/// An ASGI app whose script and interpreter a daemon group knows before any request: a
/// WSGIScriptAlias with interface=asgi that names the group and its application group
/// literally (as mod_wsgi preloads such scripts). Its process loads it and runs its lifespan
/// startup before taking requests; any other ASGI app starts with its first request.
public struct ASGIStartup: Equatable, Sendable {
    public var script: String
    /// "" for %{GLOBAL}.
    public var applicationGroup: String
    public var callable: String
}

extension ConfigState {
    /// The ASGI apps daemon group `group` starts with each process, in configuration order.
    func asgiStartups(group: String) -> [ASGIStartup] {
        var found: [ASGIStartup] = []
        // Merged scopes repeat their bases' aliases.
        for alias in scopes.flatMap(\.scriptAliases) where alias.asgi && alias.processGroup == .named(group) {
            guard alias.processGroupTemplate == nil, let script = alias.fixedTarget, !script.hasSuffix("/") else { continue }
            let applicationGroup: String
            switch alias.applicationGroup {
            case .global?: applicationGroup = ""
            case .named(let name)? where alias.pattern == nil || !AliasPattern.hasSubstitutions(name): applicationGroup = name
            default: continue
            }
            let startup = ASGIStartup(script: script, applicationGroup: applicationGroup, callable: alias.callableObject ?? "application")
            if !found.contains(startup) { found.append(startup) }
        }
        return found
    }
}
