/// WSGIApplicationGroup: which interpreter of a process runs the application.
public enum ApplicationGroup: Equatable, Sendable {
    case global              // %{GLOBAL}: the main interpreter
    case resource            // %{RESOURCE}: server name, port and SCRIPT_NAME (the default)
    case server              // %{SERVER}
    case host                // %{HOST}: the Host header
    case env(String)         // %{ENV:variable}
    case named(String)

    public init(parsing text: String) throws {
        switch text {
        // mod_wsgi names the main interpreter "", so an empty group is %{GLOBAL} too.
        case "%{GLOBAL}", "": self = .global
        case "%{RESOURCE}": self = .resource
        case "%{SERVER}": self = .server
        case "%{HOST}": self = .host
        default:
            if let variable = try environmentVariable(text) {
                self = .env(variable)
            } else {
                guard !text.hasPrefix("%{") else {
                    throw Reason("is not supported; use %{GLOBAL}, %{RESOURCE}, %{SERVER}, %{HOST}, %{ENV:variable} or a name")
                }
                self = .named(text)
            }
        }
    }
}

/// WSGIProcessGroup: where requests run.
public enum ProcessGroup: Equatable, Sendable {
    case embedded            // %{GLOBAL}: in the Apache child itself
    case env(String)         // %{ENV:variable}, resolved per request
    case named(String)       // a WSGIDaemonProcess

    public init(parsing text: String) throws {
        if text == "%{GLOBAL}" {
            self = .embedded
        } else if let variable = try environmentVariable(text) {
            self = .env(variable)
        } else {
            guard !text.isEmpty, !text.hasPrefix("%{") else {
                throw Reason("is not supported; use %{GLOBAL}, %{ENV:variable} or the name of a WSGIDaemonProcess")
            }
            self = .named(text)
        }
    }
}

/// WSGIPythonHashSeed.
public enum HashSeed: Equatable, Sendable {
    case random
    case value(UInt32)

    public init(parsing text: String) throws {
        if text.lowercased() == "random" {
            self = .random
        } else if let seed = try? Limit.within(0...Int(UInt32.max)).parse(text) {
            self = .value(UInt32(seed))
        } else {
            throw Reason("must be 'random' or a whole number from 0 to 4294967295")
        }
    }
}

/// The variable of a `%{ENV:variable}` reference, or nil when `text` is not one.
private func environmentVariable(_ text: String) throws -> String? {
    guard text.hasPrefix("%{ENV:"), text.hasSuffix("}") else { return nil }
    let variable = text.dropFirst(6).dropLast()
    guard !variable.isEmpty else { throw Reason("names no environment variable") }
    return String(variable)
}
