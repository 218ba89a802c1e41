/// WSGIScriptAlias URL-path file-or-dir [options], or WSGIScriptAliasMatch regex target [options].
public struct ScriptAlias: Sendable {
    /// Without trailing slashes, except for "/" itself; the regular expression of a pattern.
    public var urlPath: String
    /// WSGIScriptAliasMatch: the target and the groups may name the pattern's groups ($1).
    public var pattern: AliasPattern?
    /// A script file, or a directory of scripts when it ends with "/".
    public var target: String
    public var processGroup: ProcessGroup?
    public var applicationGroup: ApplicationGroup?
    public var callableObject: String?
    public var passAuthorization: Bool?
    /// interface=asgi: the script's callable is an ASGI 3 app (default: WSGI).
    public var asgi = false

    init(words: [String], matching: Bool) throws {
        let directive = matching ? "WSGIScriptAliasMatch" : "WSGIScriptAlias"
        let (path, target) = (words[0], words[1])
        if matching {
            pattern = try explain("\(directive): '\(path)'") { try AliasPattern(path) }
            urlPath = path
        } else {
            guard path.hasPrefix("/") else { throw ConfigError("\(directive): URL-path '\(path)' must start with '/'") }
            var trimmed = Substring(path)
            while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
            urlPath = String(trimmed)
        }
        try explain("\(directive): target '\(target)'") { _ = try absolutePath(target) }
        self.target = target
        for option in try options(words.dropFirst(2), directive: directive) {
            try explain("\(directive): option '\(option.word)'") {
                switch option.key {
                case "process-group": processGroup = try ProcessGroup(parsing: option.value)
                case "application-group": applicationGroup = try ApplicationGroup(parsing: option.value)
                case "callable-object": callableObject = option.value
                case "pass-authorization": passAuthorization = try onOff(option.value)
                case "interface":
                    guard ["wsgi", "asgi"].contains(option.value) else { throw Reason("must be wsgi or asgi") }
                    asgi = option.value == "asgi"
                default: throw Reason("is unknown; use process-group=, application-group=, callable-object=, pass-authorization= or interface=")
                }
            }
        }
        // An ASGI app needs an event loop that outlives requests, which only a daemon process has.
        if asgi, processGroup == nil || processGroup == .embedded {
            throw ConfigError("\(directive): interface=asgi needs process-group= naming a WSGIDaemonProcess: ASGI apps run on an event loop in a daemon process group, not in Apache's child processes")
        }
    }

    /// The file-system path for `uri`, or nil when this alias does not cover it. Matching is by
    /// whole segments: "/app" covers "/app" and "/app/x" but not "/apple". Bytes, not text: a
    /// URL path need not be UTF-8, and the rest of it must reach Apache unchanged so that
    /// PATH_INFO and SCRIPT_NAME are its bytes (PEP 3333 decodes them as Latin-1).
    func map(_ uri: [UInt8]) -> [UInt8]? {
        if let pattern { return mapMatching(uri, pattern) }
        let slash = UInt8(ascii: "/")
        let prefix = urlPath == "/" ? [] : Array(urlPath.utf8)
        guard uri.first == slash, uri.starts(with: prefix) else { return nil }
        let rest = uri[prefix.count...]
        guard rest.isEmpty || rest.first == slash else { return nil }
        // A directory target already ends with the separator the rest begins with.
        let target = Array(self.target.utf8)
        return target.last == slash && rest.first == slash ? target + rest.dropFirst() : target + rest
    }

    /// As mod_wsgi: the substituted target plus what follows the match; a match of "/" alone
    /// is followed by the whole URI, as with WSGIScriptAlias /.
    private func mapMatching(_ uri: [UInt8], _ pattern: AliasPattern) -> [UInt8]? {
        guard uri.first == UInt8(ascii: "/"), let match = pattern.match(uri), match.end > 0 else { return nil }
        let target = AliasPattern.substitute(self.target, match.groups)
        return target + (match.end == 1 ? uri[...] : uri[match.end...])
    }

    /// The script's path when it is the same for every request (the pattern's groups are not
    /// in it), for the checks at configtest.
    public var fixedTarget: String? {
        pattern != nil && AliasPattern.hasSubstitutions(target) ? nil : target
    }

    /// A process group name in which the pattern's groups are substituted per request.
    public var processGroupTemplate: String? {
        guard case .named(let name)? = processGroup, pattern != nil, AliasPattern.hasSubstitutions(name) else { return nil }
        return name
    }

    /// The process group for this request: a pattern's groups substituted into a name.
    public func processGroup(for uri: [UInt8]) -> ProcessGroup? {
        guard case .named(let name)? = processGroup, let name = substituted(name, in: uri) else { return processGroup }
        return name.isEmpty ? .embedded : .named(name)
    }

    /// The application group for this request, likewise.
    public func applicationGroup(for uri: [UInt8]) -> ApplicationGroup? {
        guard case .named(let name)? = applicationGroup, let name = substituted(name, in: uri) else { return applicationGroup }
        return name.isEmpty ? .global : .named(name)
    }

    private func substituted(_ name: String, in uri: [UInt8]) -> String? {
        guard let pattern, AliasPattern.hasSubstitutions(name) else { return nil }
        return pattern.match(uri).map { String(decoding: AliasPattern.substitute(name, $0.groups), as: UTF8.self) } ?? ""
    }
}
