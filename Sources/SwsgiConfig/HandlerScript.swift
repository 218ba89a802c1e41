/// WSGIHandlerScript name script [process-group=] [application-group=] [pass-authorization=]:
/// requests whose Apache handler is `name` (AddHandler, SetHandler) run the callable
/// `handle_request` of `script`, with the file the URL maps to as SCRIPT_FILENAME.
public struct HandlerScript: Sendable {
    public var path: String
    public var processGroup: ProcessGroup?
    public var applicationGroup: ApplicationGroup?
    public var passAuthorization: Bool?

    static let directive = "WSGIHandlerScript"
    /// mod_wsgi's fixed entry point of a handler script.
    public static let callable = "handle_request"

    init(words: ArraySlice<String>) throws {
        let script = words.first!
        try explain("\(Self.directive): script '\(script)'") { _ = try absolutePath(script) }
        path = script
        for option in try options(words.dropFirst(), directive: Self.directive) {
            try explain("\(Self.directive): option '\(option.word)'") {
                switch option.key {
                case "process-group": processGroup = try ProcessGroup(parsing: option.value)
                case "application-group": applicationGroup = try ApplicationGroup(parsing: option.value)
                case "pass-authorization": passAuthorization = try onOff(option.value)
                default: throw Reason("is unknown; use process-group=, application-group= or pass-authorization=")
                }
            }
        }
    }
}
