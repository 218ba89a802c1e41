import Synchronization

/// Everything the configuration holds, guarded as one value by `Configuration`'s mutex.
struct ConfigState {
    let python: (major: Int, minor: Int)
    /// sys.prefix of the Python the module is built for: the home when none is configured.
    let pythonPrefix: String
    var global = GlobalSettings()
    var scopes: [Scope] = []
    /// merge(base, add) results: Apache merges per request, so the same pair must give the
    /// same id instead of a new scope each time.
    var merges: [MergeKey: Int32] = [:]
    /// The <WSGIInterpreterOptions> section being read: an index into global.interpreterOptions.
    var openOptions: Int?
    /// What configtest tells at notice level: the directives and options given that have no
    /// effect in swsgi, each once.
    var notices: [String] = []
    /// .htaccess directives: Apache reads the files per request, so each (scope, directive)
    /// gives the same scope, or error, every time instead of a new scope per request.
    var htaccess: [HtaccessKey: (scope: Int32, error: String?)] = [:]

    init(python: (major: Int, minor: Int), pythonPrefix: String) {
        self.python = python
        self.pythonPrefix = pythonPrefix
    }

    mutating func notice(_ text: String) {
        if !notices.contains(text) { notices.append(text) }
    }

    mutating func add(_ scope: Scope) -> Int32 {
        scopes.append(scope)
        return Int32(scopes.count - 1)
    }

    func scope(_ id: Int32) -> Scope {
        scopes.indices.contains(Int(id)) ? scopes[Int(id)] : Scope()
    }
}

extension ConfigState {
    /// chroot=: the group's Python and its scripts must be inside the directory.
    func chrootProblem(_ daemon: DaemonProcess) -> String? {
        guard let jail = daemon.chroot else { return nil }
        let scripts = scopes.flatMap(\.scriptAliases).filter { $0.processGroup == .named(daemon.name) }.map { ("WSGIScriptAlias", $0.target) }
            + global.importScripts.filter { $0.processGroup == .named(daemon.name) }.map { ("WSGIImportScript", $0.path) }
        if let (directive, path) = scripts.first(where: { daemon.seenInside($0.1) == nil }) {
            return "\(directive) '\(path)' is for daemon process group '\(daemon.name)', whose chroot is '\(jail)': the script must be inside that directory"
        }
        // A python-home= of its own was checked inside the chroot as it was read.
        guard daemon.pythonHome == nil else { return nil }
        let home = global.pythonHome ?? pythonPrefix
        guard let problem = checkPythonHome(daemon.inside(home), directive: "the Python", expected: python) else { return nil }
        return "WSGIDaemonProcess '\(daemon.name)': its processes run inside chroot '\(jail)', which must hold their Python at '\(home)': \(problem)"
    }
}

struct MergeKey: Hashable {
    let base: Int32
    let add: Int32
}

struct HtaccessKey: Hashable {
    let base: Int32
    let directive: String
    let args: [String]
}

/// The parsed configuration. Directives arrive in the Apache parent; requests read it from
/// many worker threads, so every change goes through one mutex. Once a process is done
/// configuring, `freeze` takes a snapshot that requests then read without the mutex: they
/// would otherwise all queue on it. Only scopes merged after the freeze take the mutex.
public final class Configuration: @unchecked Sendable {
    private let state: Mutex<ConfigState>
    /// Written once, by freeze, before the threads that read it start.
    private nonisolated(unsafe) var frozen: ConfigState?
    private nonisolated(unsafe) var frozenNeeds: [ScopeNeeds] = []

    public init(pythonVersion: (major: Int, minor: Int), pythonPrefix: String) {
        state = Mutex(ConfigState(python: pythonVersion, pythonPrefix: pythonPrefix))
    }

    /// Call once, before the process starts threads that read the configuration.
    public func freeze() {
        frozen = state.withLock { $0 }
        frozenNeeds = frozen?.scopes.map(ScopeNeeds.init) ?? []
    }

    public var global: GlobalSettings { frozen?.global ?? state.withLock { $0.global } }

    public var restrictEmbedded: Bool { frozen?.global.restrictEmbedded ?? state.withLock { $0.global.restrictEmbedded } }

    /// A new, empty scope for a server or a directory.
    public func newScope() -> Int32 {
        state.withLock { $0.add(Scope()) }
    }

    /// A scope with `add`'s settings over `base`'s; the same pair always gives the same id.
    /// The result is a snapshot: Apache finishes a scope's directives before it merges it.
    public func merge(base: Int32, add: Int32) -> Int32 {
        if let known = frozen?.merges[MergeKey(base: base, add: add)] { return known }
        return state.withLock { state in
            let key = MergeKey(base: base, add: add)
            if let known = state.merges[key] { return known }
            let id = state.add(state.scope(add).merged(over: state.scope(base)))
            state.merges[key] = id
            return id
        }
    }

    /// The settings of a scope; an unknown id reads as an empty scope.
    public func scope(_ id: Int32) -> Scope {
        if let frozen, frozen.scopes.indices.contains(Int(id)) { return frozen.scopes[Int(id)] }
        return state.withLock { $0.scope(id) }
    }

    /// What a scope has that every request asks about (an access script, trusted proxies):
    /// from the frozen snapshot a plain array read, so that directories without them pay
    /// next to nothing.
    public func needs(scope id: Int32) -> ScopeNeeds {
        if Int(id) < frozenNeeds.count { return frozenNeeds[Int(id)] }
        return state.withLock { ScopeNeeds($0.scope(id)) }
    }

    /// Applies one directive: nil, or the sentence Apache should print.
    public func apply(scope: Int32, context: DirectiveContext, name: String, args: [String]) -> String? {
        state.withLock { Self.apply(&$0, scope: scope, context: context, name: name, args: args) }
    }

    /// One directive of an .htaccess file over `base` (-1: none yet): a scope with it applied,
    /// the same one whenever the same directive follows the same base, or the error sentence.
    public func applyHtaccess(base: Int32, name: String, args: [String]) -> (scope: Int32, error: String?) {
        state.withLock { state in
            let key = HtaccessKey(base: base, directive: name.lowercased(), args: args)
            if let known = state.htaccess[key] { return known }
            let id = state.add(state.scope(base))
            let result = (id, Self.apply(&state, scope: id, context: .htaccess, name: name, args: args))
            state.htaccess[key] = result
            return result
        }
    }

    private static func apply(_ state: inout ConfigState, scope: Int32, context: DirectiveContext, name: String, args: [String]) -> String? {
        guard let directive = Directive.named(name) else { return "\(name) is not a swsgi directive" }
        do {
            try directive.validate(context: context, args: args)
            guard state.scopes.indices.contains(Int(scope)) else {
                throw ConfigError("\(directive.name): internal error, scope \(scope) was never created")
            }
            if state.openOptions != nil, !InterpreterOptions.allowed.contains(directive.name.lowercased()) {
                throw ConfigError("\(directive.name) cannot be used inside \(InterpreterOptions.directive): only WSGIPerInterpreterGIL can")
            }
            try directive.run(&state, Invocation(directive: directive.name, scope: Int(scope), context: context, words: args))
            if let why = directive.withoutEffect {
                state.notice("swsgi: \(directive.name) is accepted for compatibility with mod_wsgi but has no effect\(why.isEmpty ? "" : ": " + why)")
            }
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// The notices configtest logs (`ConfigState.notices`).
    public var notices: [String] { state.withLock { $0.notices } }

    /// Cross-checks that need the whole configuration. Every scope is examined, so `mainScope`
    /// (the shim's contract) is not needed to find them. apacheUID/GID: Apache's User and Group.
    public func check(mainScope _: Int32, apacheUID: UInt32, apacheGID: UInt32) -> String? {
        problems(apacheUID: apacheUID, apacheGID: apacheGID, all: false).first
    }

    /// Every problem the cross-checks find, each one sentence (what `swsgi doctor` reports).
    public func problems(apacheUID: UInt32, apacheGID: UInt32) -> [String] {
        problems(apacheUID: apacheUID, apacheGID: apacheGID, all: true)
    }

    private func problems(apacheUID: UInt32, apacheGID: UInt32, all: Bool) -> [String] {
        state.withLock { state in
            var found: [String] = []
            let defined = Set(state.global.daemons.map(\.name))
            for scope in state.scopes {
                let uses = [("WSGIProcessGroup", scope.processGroup)] + scope.scriptAliases.map { ("WSGIScriptAlias", $0.processGroupTemplate == nil ? $0.processGroup : nil) }
                    + state.global.importScripts.map { ("WSGIImportScript", $0.processGroup) }
                    + scope.handlerScripts.values.map { ("WSGIHandlerScript", $0.processGroup) }
                for case let (directive, .named(group)?) in uses where !defined.contains(group) {
                    let problem = "\(directive): process group '\(group)' is used but no WSGIDaemonProcess defines it"
                    if !found.contains(problem) { found.append(problem) }
                    if !all { return found }
                }
                for alias in scope.scriptAliases {
                    guard let template = alias.processGroupTemplate, let pattern = alias.pattern else { continue }
                    // Groups a pattern names only per request are checked then, when undecidable now.
                    for group in pattern.names(template) ?? [] where !defined.contains(group) {
                        let problem = "WSGIScriptAliasMatch \(pattern.source): process-group=\(template) can name '\(group)', "
                            + "but no WSGIDaemonProcess defines it"
                        if !found.contains(problem) { found.append(problem) }
                        if !all { return found }
                    }
                }
            }
            for daemon in state.global.daemons {
                if let problem = state.chrootProblem(daemon) {
                    found.append(problem)
                    if !all { return found }
                }
            }
            for group in Set(state.scopes.flatMap { $0.restrictProcess ?? [] }).sorted() where !group.isEmpty && !defined.contains(group) {
                found.append("WSGIRestrictProcess: process group '\(group)' is not defined by any WSGIDaemonProcess")
                if !all { return found }
            }
            for options in state.global.interpreterOptions {
                if let group = options.processGroup, !group.isEmpty, !defined.contains(group) {
                    found.append("\(InterpreterOptions.directive): process group '\(group)' is not defined by any WSGIDaemonProcess")
                    if !all { return found }
                }
            }
            for (reader, paths) in state.neededPaths(apacheUID: apacheUID, apacheGID: apacheGID) {
                found += unreadablePaths(paths, by: reader, all: all)
                if !all, !found.isEmpty { return found }
            }
            return found
        }
    }

    /// The first alias of `scope` that covers `uri`: its index and the file-system path.
    public func translate(scope: Int32, uri: [UInt8]) -> (alias: Int, target: [UInt8])? {
        let aliases = scriptAliases(of: scope)
        for (index, alias) in aliases.enumerated() {
            if let target = alias.map(uri) { return (index, target) }
        }
        return nil
    }

    /// An alias by the index `translate` returned for the same scope.
    public func alias(scope: Int32, index: Int) -> ScriptAlias {
        scriptAliases(of: scope)[index]
    }

    /// A scope's aliases, without a copy of the rest of the scope: read for every request.
    private func scriptAliases(of id: Int32) -> [ScriptAlias] {
        if let frozen, frozen.scopes.indices.contains(Int(id)) { return frozen.scopes[Int(id)].scriptAliases }
        return state.withLock { $0.scope(id).scriptAliases }
    }

    /// The scripts `group`'s processes load as they start (ASGI apps: their lifespan startup).
    public func scriptPreloads(group: ProcessGroup) -> [ScriptPreload] {
        state.withLock { $0.scriptPreloads(group: group) }
    }

    public func daemon(named name: String) -> DaemonProcess? {
        state.withLock { $0.global.daemons.first { $0.name == name } }
    }
}

/// See `Configuration.needs`.
public struct ScopeNeeds: OptionSet, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let accessScript = ScopeNeeds(rawValue: 1)
    public static let authUserScript = ScopeNeeds(rawValue: 2)
    public static let authGroupScript = ScopeNeeds(rawValue: 4)
    public static let trustedProxies = ScopeNeeds(rawValue: 8)
    /// Asked for every request Apache hands a handler other than WSGI's, static files too.
    public static let handlerScripts = ScopeNeeds(rawValue: 16)

    init(_ scope: Scope) {
        self = []
        if scope.accessScript != nil { insert(.accessScript) }
        if scope.authUserScript != nil { insert(.authUserScript) }
        if scope.authGroupScript != nil { insert(.authGroupScript) }
        if scope.trustedProxyHeaders != nil { insert(.trustedProxies) }
        if !scope.handlerScripts.isEmpty { insert(.handlerScripts) }
    }
}
