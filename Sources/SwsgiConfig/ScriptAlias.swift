/// WSGIScriptAlias URL-path file-or-dir [options].
public struct ScriptAlias: Sendable {
    /// Without trailing slashes, except for "/" itself.
    public var urlPath: String
    /// A script file, or a directory of scripts when it ends with "/".
    public var target: String
    public var processGroup: ProcessGroup?
    public var applicationGroup: ApplicationGroup?
    public var callableObject: String?
    public var passAuthorization: Bool?

    static let directive = "WSGIScriptAlias"

    init(words: [String]) throws {
        let (path, target) = (words[0], words[1])
        guard path.hasPrefix("/") else { throw ConfigError("\(Self.directive): URL-path '\(path)' must start with '/'") }
        try explain("\(Self.directive): target '\(target)'") { _ = try absolutePath(target) }
        var trimmed = Substring(path)
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        urlPath = String(trimmed)
        self.target = target
        for option in try options(words.dropFirst(2), directive: Self.directive) {
            try explain("\(Self.directive): option '\(option.word)'") {
                switch option.key {
                case "process-group": processGroup = try ProcessGroup(parsing: option.value)
                case "application-group": applicationGroup = try ApplicationGroup(parsing: option.value)
                case "callable-object": callableObject = option.value
                case "pass-authorization": passAuthorization = try onOff(option.value)
                default: throw Reason("is unknown; use process-group=, application-group=, callable-object= or pass-authorization=")
                }
            }
        }
    }

    /// The file-system path for `uri`, or nil when this alias does not cover it. Matching is by
    /// whole segments: "/app" covers "/app" and "/app/x" but not "/apple".
    func map(_ uri: String) -> String? {
        let rest: Substring
        if urlPath == "/" {
            guard uri.hasPrefix("/") else { return nil }
            rest = Substring(uri)
        } else {
            guard uri.utf8.starts(with: urlPath.utf8) else { return nil }
            rest = Substring(uri.utf8.dropFirst(urlPath.utf8.count))
            guard rest.isEmpty || rest.hasPrefix("/") else { return nil }
        }
        // A directory target already ends with the separator the rest begins with.
        return target.hasSuffix("/") && rest.hasPrefix("/") ? target + rest.dropFirst() : target + rest
    }
}
