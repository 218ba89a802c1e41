/// What `swsgi doctor` found; `--json` prints it as it is (the field names are the JSON's).
struct DoctorReport: Encodable {
    let config: String
    let module: String
    let module_python: String
    let module_program: String
    let apache_user: String
    let groups: [GroupReport]
    let sockets: SocketReport?
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
    let python_home: String?
    let python_path: [String]
    var python: PythonFacts?
    var problems: [String]

    private enum CodingKeys: String, CodingKey {
        case name, mode, user, python_home, python_path, python, problems
    }

    /// Absent values as null, so that scripts find every key.
    func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(mode, forKey: .mode)
        try container.encode(user, forKey: .user)
        try container.encode(python_home, forKey: .python_home)
        try container.encode(python_path, forKey: .python_path)
        try container.encode(python, forKey: .python)
        try container.encode(problems, forKey: .problems)
    }
}

struct SocketReport: Encodable {
    let prefix: String
    let directory: String
}
