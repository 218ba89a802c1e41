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
    /// interface=asgi: the script's callable is an ASGI 3 app (default: WSGI).
    public var asgi = false

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
                case "interface":
                    guard ["wsgi", "asgi"].contains(option.value) else { throw Reason("must be wsgi or asgi") }
                    asgi = option.value == "asgi"
                default: throw Reason("is unknown; use process-group=, application-group=, callable-object=, pass-authorization= or interface=")
                }
            }
        }
        // An ASGI app needs an event loop that outlives requests, which only a daemon process has.
        if asgi, processGroup == nil || processGroup == .embedded {
            throw ConfigError("\(Self.directive): interface=asgi needs process-group= naming a WSGIDaemonProcess: ASGI apps run on an event loop in a daemon process group, not in Apache's child processes")
        }
    }

    /// The file-system path for `uri`, or nil when this alias does not cover it. Matching is by
    /// whole segments: "/app" covers "/app" and "/app/x" but not "/apple". Bytes, not text: a
    /// URL path need not be UTF-8, and the rest of it must reach Apache unchanged so that
    /// PATH_INFO and SCRIPT_NAME are its bytes (PEP 3333 decodes them as Latin-1).
    func map(_ uri: [UInt8]) -> [UInt8]? {
        let slash = UInt8(ascii: "/")
        let prefix = urlPath == "/" ? [] : Array(urlPath.utf8)
        guard uri.first == slash, uri.starts(with: prefix) else { return nil }
        let rest = uri[prefix.count...]
        guard rest.isEmpty || rest.first == slash else { return nil }
        // A directory target already ends with the separator the rest begins with.
        let target = Array(self.target.utf8)
        return target.last == slash && rest.first == slash ? target + rest.dropFirst() : target + rest
    }
}
