/// What `swsgi doctor` found; `--json` prints it as it is (the field names are the JSON's).
struct DoctorReport: Encodable {
    let config: String
    /// What limits the report (not run as root).
    let notes: [String]
    let module: String
    let module_python: String
    let module_program: String
    let apache_user: String
    let groups: [GroupReport]
    @Null var sockets: SocketReport?
    /// Every problem, each one sentence with its fix: the groups' own ones included.
    let problems: [String]

    var text: String {
        var lines = ["Configuration \(config), Apache's User \(apache_user)",
                     "Module \(module), built for Python \(module_python) (\(module_program))", ""]
        if groups.isEmpty { lines += ["No Python runs: embedded mode is restricted and no WSGIDaemonProcess is defined.", ""] }
        for group in groups {
            lines.append(group.mode == "embedded" ? "Embedded mode (Apache's children, as \(group.user))"
                                                  : "WSGIDaemonProcess \(group.name)" + (group.user.isEmpty ? " (refused)" : " (as \(group.user))"))
            lines.append("  python-home      \(group.python_home ?? "(none: the module's own Python)")")
            if !group.python_path.isEmpty { lines.append("  python-path      \(group.python_path.joined(separator: ":"))") }
            if let python = group.python {
                lines += ["  Python           \(python.version) \(python.executable)",
                          "  sys.prefix       \(python.prefix)",
                          "  sys.base_prefix  \(python.base_prefix)",
                          "  sys.path"] + python.path.map { "    \($0)" }
            } else {
                lines.append("  Python           does not start (see below)")
            }
            lines.append("")
        }
        if let sockets { lines += ["Daemon sockets   \(sockets.prefix).<pid>.<generation>.<n>.sock", ""] }
        lines += notes + (notes.isEmpty ? [] : [""])
        if problems.isEmpty {
            lines.append("No problems found.")
        } else {
            lines.append("Problems:")
            lines += problems.map { "- \($0)" }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

struct GroupReport: Encodable {
    let name: String
    let mode: String
    let user: String
    @Null var python_home: String?
    let python_path: [String]
    @Null var python: PythonFacts?
    var problems: [String]
}

struct SocketReport: Encodable {
    let prefix: String
    let directory: String
}

/// An absent value encoded as null rather than left out, so that scripts find every key.
@propertyWrapper
struct Null<Value: Encodable>: Encodable {
    var wrappedValue: Value?

    init(wrappedValue: Value?) {
        self.wrappedValue = wrappedValue
    }

    func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(wrappedValue)
    }
}
