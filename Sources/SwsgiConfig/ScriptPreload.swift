/// A script whose interpreter a process knows before any request: a WSGIScriptAlias (or a
/// WSGIScriptAliasMatch that substitutes nothing) naming one script, its process group and
/// its application group literally. mod_wsgi preloads such scripts as the process starts;
/// so does swsgi, and an ASGI app's lifespan startup runs then too (a daemon process takes
/// requests only after it). Any other script is loaded with its first request.
public struct ScriptPreload: Equatable, Sendable {
    public var script: String
    /// "" for %{GLOBAL}.
    public var applicationGroup: String
    public var callable: String
    public var asgi: Bool
}

extension ConfigState {
    /// The scripts the processes of `group` load as they start, in configuration order.
    func scriptPreloads(group: ProcessGroup) -> [ScriptPreload] {
        var found: [ScriptPreload] = []
        // Merged scopes repeat their bases' aliases.
        for alias in scopes.flatMap(\.scriptAliases) where alias.processGroup == group {
            guard alias.processGroupTemplate == nil, let script = alias.fixedTarget, !script.hasSuffix("/") else { continue }
            let applicationGroup: String
            switch alias.applicationGroup {
            case .global?: applicationGroup = ""
            case .named(let name)? where alias.pattern == nil || !AliasPattern.hasSubstitutions(name): applicationGroup = name
            default: continue
            }
            let preload = ScriptPreload(script: script, applicationGroup: applicationGroup, callable: alias.callableObject ?? "application",
                                        asgi: alias.asgi)
            if !found.contains(preload) { found.append(preload) }
        }
        return found
    }
}
