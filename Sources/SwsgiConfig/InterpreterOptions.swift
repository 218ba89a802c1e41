/// `<WSGIInterpreterOptions [process-group=name] [application-group=name]>` (mod_wsgi 6):
/// settings for the interpreters its selectors match, over the server-wide ones. Selectors
/// are matched when an interpreter is created; an absent one matches anything.
public struct InterpreterOptions: Sendable {
    /// A WSGIDaemonProcess name, or "" for embedded mode (%{GLOBAL}).
    public var processGroup: String?
    /// An application group name, or "" for the main interpreter (%{GLOBAL}).
    public var applicationGroup: String?
    public var perInterpreterGIL: Bool?

    static let directive = "<WSGIInterpreterOptions>"
    static let closing = "</WSGIInterpreterOptions>"
    /// What may stand inside the section (the section itself, to be told it cannot nest).
    static let allowed: Set<String> = ["wsgiperinterpretergil", directive.lowercased(), closing.lowercased()]

    init(words: [String]) throws {
        for option in try options(words[...], directive: Self.directive) {
            let value = option.value == "%{GLOBAL}" ? "" : option.value
            switch option.key {
            case "process-group": processGroup = value
            case "application-group": applicationGroup = value
            default: throw ConfigError("\(Self.directive): option '\(option.word)' is unknown; use process-group= and application-group=")
            }
        }
    }

    func matches(processGroup process: String, applicationGroup application: String) -> Bool {
        (processGroup ?? process) == process && (applicationGroup ?? application) == application
    }

    /// A section naming both selectors overrides one naming one, which overrides one naming none.
    var specificity: Int { (processGroup == nil ? 0 : 1) + (applicationGroup == nil ? 0 : 1) }
}

extension GlobalSettings {
    /// Whether the interpreter of `applicationGroup` ("" the main one) in `processGroup`
    /// ("" embedded mode) gets a GIL of its own. The main interpreter never does: it keeps the
    /// process's GIL, as in mod_wsgi, where such a setting is ignored.
    public func ownGIL(processGroup: String, applicationGroup: String) -> Bool {
        guard !applicationGroup.isEmpty else { return false }
        let chosen = interpreterOptions.enumerated()
            .filter { $0.element.perInterpreterGIL != nil && $0.element.matches(processGroup: processGroup, applicationGroup: applicationGroup) }
            .max { ($0.element.specificity, $0.offset) < ($1.element.specificity, $1.offset) }
        return chosen?.element.perInterpreterGIL ?? perInterpreterGIL
    }
}
