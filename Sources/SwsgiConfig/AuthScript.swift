/// WSGIAccessScript, WSGIAuthUserScript, WSGIAuthGroupScript: a script whose functions Apache
/// asks about a request before it runs (allow_access, check_password and get_realm_hash,
/// groups_for_user). As in mod_wsgi they always run in the Apache child, never in a daemon:
/// the only option is the application group, %{GLOBAL} unless given.
public struct AuthScript: Equatable, Sendable {
    public var path: String
    public var applicationGroup: ApplicationGroup

    init(words: [String], directive: String) throws {
        path = try explain("\(directive): script '\(words[0])'") { try absolutePath(words[0]) }
        applicationGroup = .global
        for option in try options(words.dropFirst(), directive: directive) {
            try explain("\(directive): option '\(option.word)'") {
                switch option.key {
                case "application-group":
                    applicationGroup = try ApplicationGroup(parsing: option.value)
                    switch applicationGroup {
                    case .resource, .env:
                        throw Reason("is not supported here; use %{GLOBAL}, %{SERVER}, %{HOST} or a name")
                    default:
                        break
                    }
                case "process-group":
                    throw Reason("is not supported: the script always runs in the Apache child (embedded mode), as in mod_wsgi")
                default:
                    throw Reason("is unknown; the only option is application-group=")
                }
            }
        }
    }
}
