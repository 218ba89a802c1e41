/// Where a directive appeared, numbered as the shim's `enum swsgi_where`.
public enum DirectiveContext: Int32, Sendable {
    case server = 0, virtualHost = 1, directory = 2, htaccess = 3

    /// How error sentences name the place: "cannot be used <phrase>".
    var phrase: String {
        switch self {
        case .server: return "in the main server configuration"
        case .virtualHost: return "inside <VirtualHost>"
        case .directory: return "inside <Directory>, <Location> or <Files>"
        case .htaccess: return "in .htaccess files"
        }
    }
}

/// A whole error sentence, as Apache prints it next to the file and line.
public struct ConfigError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
    public init(_ message: String) { self.message = message }
}

/// The "why" half of a sentence. Value parsers throw it without knowing which directive or
/// option they parse; `explain` puts the subject in front, so every parser serves every caller.
struct Reason: Error, CustomStringConvertible {
    let text: String
    init(_ text: String) { self.text = text }
    var description: String { text }
}

/// Runs `body`, turning a `Reason` into the sentence "<subject> <reason>".
func explain<T>(_ subject: @autoclosure () -> String, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let reason as Reason {
        throw ConfigError("\(subject()) \(reason.text)")
    }
}
