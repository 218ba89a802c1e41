import Glibc

/// Checks that `path` can serve as the Python home of a module linked against Python
/// `expected`: libpython is linked in, so a home of another X.Y cannot work and would only
/// fail later, inside Python's initialisation, as "No module named 'encodings'".
/// Returns nil, or one sentence naming `directive`, the path and the versions involved.
public func checkPythonHome(_ path: String, directive: String, expected: (major: Int, minor: Int)) -> String? {
    let subject = "\(directive) '\(path)'"
    let wanted = "\(expected.major).\(expected.minor)"
    let hint = "\(directive) must be sys.prefix of a Python \(wanted) installation or virtual environment (not the bin/python file, not site-packages)"
    switch fileKind(path) {
    case .missing: return "\(subject) does not exist; \(hint)"
    case .unreadable(let why): return "\(subject) cannot be examined: \(why)"
    case .regular, .other: return "\(subject) is not a directory; \(hint)"
    case .directory: break
    }
    guard access(path, X_OK) == 0 else { return "\(subject) is not accessible: \(String(cString: strerror(errno)))" }

    // A virtual environment: CPython itself finds the base installation through pyvenv.cfg.
    if let cfg = readText(join(path, "pyvenv.cfg")) {
        guard let version = venvVersion(cfg), version != wanted else { return nil }
        return "\(subject) is a virtual environment of Python \(version), but this module is built for Python \(wanted); recreate it with python\(wanted) -m venv"
    }

    // Otherwise a prefix: its standard library must be there.
    let lib = join(path, "lib")
    if fileKind(join(join(lib, "python\(wanted)"), "os.py")) == .regular { return nil }
    let others = directoryEntries(lib).compactMap(libraryVersion).filter { $0 != wanted }.sorted()
    if !others.isEmpty {
        return "\(subject) is a Python \(others.joined(separator: " and ")) installation, but this module is built for Python \(wanted); \(hint)"
    }
    return "\(subject) has no Python \(wanted) standard library at '\(join(lib, "python\(wanted)"))'; \(hint)"
}

/// "X.Y" from pyvenv.cfg's `version = X.Y.Z` (venv) or `version_info = X.Y.Z.final.0` (virtualenv).
func venvVersion(_ cfg: String) -> String? {
    for line in cfg.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
        guard let equals = line.firstIndex(of: "=") else { continue }
        let key = trimmed(line[..<equals]).lowercased()
        guard key == "version" || key == "version_info" else { continue }
        let parts = trimmed(line[line.index(after: equals)...]).split(separator: ".")
        guard parts.count >= 2, let major = Int(parts[0]), let minor = Int(parts[1]) else { return nil }
        return "\(major).\(minor)"
    }
    return nil
}

/// "X.Y" from a standard library directory name "pythonX.Y".
private func libraryVersion(_ name: String) -> String? {
    guard name.hasPrefix("python") else { return nil }
    let parts = name.dropFirst(6).split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count == 2, let major = Int(parts[0]), let minor = Int(parts[1]) else { return nil }
    return "\(major).\(minor)"
}

func trimmed(_ text: Substring) -> Substring {
    guard let first = text.firstIndex(where: { !$0.isWhitespace }),
          let last = text.lastIndex(where: { !$0.isWhitespace }) else { return "" }
    return text[first...last]
}

/// "X.Y" of the virtual environment at home (its pyvenv.cfg), nil for anything else.
public func virtualEnvironmentVersion(home: String) -> String? {
    readText(join(home, "pyvenv.cfg")).flatMap(venvVersion)
}
