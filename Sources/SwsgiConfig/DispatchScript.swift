/// WSGIDispatchScript script [application-group=name]: per request, in the Apache child, the
/// script's process_group(environ), application_group(environ) and callable_object(environ)
/// (each optional; None keeps the configured value) choose where the request runs.
public struct DispatchScript: Sendable {
    public var path: String
    /// The interpreter the script runs in: %{GLOBAL} unless application-group= says otherwise.
    public var applicationGroup: ApplicationGroup = .global

    static let directive = "WSGIDispatchScript"

    init(words: [String]) throws {
        let script = words[0]
        try explain("\(Self.directive): script '\(script)'") { _ = try absolutePath(script) }
        path = script
        for option in try options(words.dropFirst(), directive: Self.directive) {
            try explain("\(Self.directive): option '\(option.word)'") {
                guard option.key == "application-group" else { throw Reason("is unknown; use application-group=") }
                applicationGroup = try ApplicationGroup(parsing: option.value)
            }
        }
    }
}
