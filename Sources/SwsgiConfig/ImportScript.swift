/// WSGIImportScript path process-group=name application-group=name: a script loaded when the
/// named process group's Python starts, before any request (mod_wsgi's preloading).
public struct ImportScript: Sendable {
    public var path: String
    public var processGroup: ProcessGroup
    public var applicationGroup: ApplicationGroup

    static let directive = "WSGIImportScript"

    init(words: [String]) throws {
        let script = words[0]
        try explain("\(Self.directive): script '\(script)'") { _ = try absolutePath(script) }
        path = script
        var process: ProcessGroup?, application: ApplicationGroup?
        for option in try options(words.dropFirst(), directive: Self.directive) {
            try explain("\(Self.directive): option '\(option.word)'") {
                switch option.key {
                case "process-group": process = try ProcessGroup(parsing: option.value)
                case "application-group": application = try ApplicationGroup(parsing: option.value)
                default: throw Reason("is unknown; use process-group= and application-group=")
                }
            }
        }
        guard let process, let application else {
            throw ConfigError("\(Self.directive): both process-group= and application-group= are required")
        }
        // Nothing is known about a request at start-up: only fixed names can be resolved.
        switch (process, application) {
        case (.env, _), (_, .env), (_, .resource), (_, .server), (_, .host):
            throw ConfigError("\(Self.directive): process-group= and application-group= must be a name or %{GLOBAL}, known before any request")
        default:
            break
        }
        processGroup = process
        applicationGroup = application
    }
}
