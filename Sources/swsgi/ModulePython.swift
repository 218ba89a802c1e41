import Foundation

/// The Python a mod_swsgi.so is built for, read from the file itself so that it cannot
/// disagree with it: the libpython it needs (its dynamic section names `libpythonX.Y.so`) and
/// the program it embeds as the landmark CPython finds its prefix by (`<prefix>/bin/pythonX.Y`).
struct ModulePython {
    let version: (major: Int, minor: Int)
    let program: String
    /// The libpython it needs, e.g. libpython3.12.so.1.0.
    let library: String
    var versionText: String { "\(version.major).\(version.minor)" }
    /// <prefix> of <prefix>/bin/pythonX.Y: sys.prefix without a home.
    var prefix: String { ((program as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent }

    init(module: String) throws {
        guard let bytes = FileManager.default.contents(atPath: module) else { throw Failure("The module '\(module)' cannot be read.") }
        var linked: (Int, Int)?
        var soname = ""
        var programs: [String] = []
        // The C strings of the file that could be either.
        for piece in bytes.split(separator: 0) where piece.count >= 8 && piece.count < 4096 {
            guard let text = String(bytes: piece, encoding: .utf8) else { continue }
            if linked == nil, text.hasPrefix("libpython"), let version = Self.version(text.dropFirst(9)) {
                linked = version
                soname = text
            } else if text.hasPrefix("/"), text.contains("/bin/python"), !text.contains(" ") {
                programs.append(text)
            }
        }
        guard let linked else { throw Failure("The file '\(module)' does not look like mod_swsgi.so: it names no libpython.") }
        let suffix = "/bin/python\(linked.0).\(linked.1)"
        guard let program = programs.first(where: { $0.hasSuffix(suffix) }) else {
            throw Failure("The file '\(module)' does not look like mod_swsgi.so: it names no Python program.")
        }
        version = linked
        self.program = program
        self.library = soname
    }

    /// <prefix>/lib when libpython is there: the module finds it through its rpath, but the
    /// program itself may not (a Python built with --enable-shared but without an rpath).
    var libraryDirectory: String? {
        let directory = prefix + "/lib"
        return FileManager.default.fileExists(atPath: directory + "/" + library) ? directory : nil
    }

    /// (X, Y) from text beginning with "X.Y".
    static func version(_ text: Substring) -> (major: Int, minor: Int)? {
        let parts = text.split(separator: ".", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, let major = Int(parts[0]), let minor = Int(parts[1].prefix { $0.isNumber }), !parts[1].isEmpty else { return nil }
        return (major, minor)
    }

    /// Whether the file at path is swsgi (it defines swsgi_module) rather than mod_wsgi.
    static func isSwsgi(_ path: String) -> Bool {
        guard let bytes = FileManager.default.contents(atPath: path) else { return false }
        return bytes.range(of: Data("swsgi_module".utf8)) != nil
    }
}
