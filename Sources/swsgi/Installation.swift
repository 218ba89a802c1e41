import ArgumentParser
import Foundation

/// The module and Apache, when not those the tool finds by itself.
struct Binaries: ParsableArguments {
    @Option(help: "The mod_swsgi.so (default: the one beside this tool, else the installed one; doctor: the one the configuration loads).")
    var module: String?

    @Option(help: "The Apache httpd binary (default: /usr/sbin/apache2).")
    var httpd: String?
}

/// Where Apache and the module are: found without options from the build tree (the tool sits
/// in build/, beside build/pyX.Y/mod_swsgi.so) and after `make install` (Apache's module
/// directory, as `apxs -q LIBEXECDIR` names it).
enum Installation {
    static let apacheCandidates = ["/usr/sbin/apache2", "/usr/sbin/httpd"]

    /// Apache's own module directory (mpm_event and the others serve loads), asked once.
    static let moduleDirectory: String = {
        if let apxs = ["/usr/bin/apxs", "/usr/bin/apxs2"].first(where: isExecutable) {
            let answer = execute([apxs, "-q", "LIBEXECDIR"])
            let directory = answer.output.trimmingCharacters(in: .whitespacesAndNewlines)
            if answer.succeeded, !directory.isEmpty { return directory }
        }
        return "/usr/lib/apache2/modules"
    }()

    static func apache(_ given: String?) throws -> String {
        if let given {
            guard isExecutable(given) else { throw Failure("--httpd '\(given)' is not an executable file.") }
            return absolute(given)
        }
        guard let found = apacheCandidates.first(where: isExecutable) else {
            throw Failure("Apache httpd was not found at \(apacheCandidates.joined(separator: " or ")); install it (apt-get install apache2) or give --httpd PATH.")
        }
        return found
    }

    /// The module: given; else, in the build tree, the one built for `python` ("X.Y", when the
    /// home asks for one) or the one built last; else the installed one.
    static func module(_ given: String?, python: String?) throws -> String {
        if let given {
            guard FileManager.default.isReadableFile(atPath: given) else { throw Failure("--module '\(given)' is not a readable file.") }
            return absolute(given)
        }
        let buildTree = (executablePath as NSString).deletingLastPathComponent
        var candidates = [String]()
        if let python { candidates.append("\(buildTree)/py\(python)/mod_swsgi.so") }
        candidates += ["\(buildTree)/mod_swsgi.so", "\(moduleDirectory)/mod_swsgi.so"]
        guard let found = candidates.first(where: FileManager.default.isReadableFile) else {
            throw Failure("mod_swsgi.so was found neither beside this tool nor in \(moduleDirectory); build it with make (or make install), or give --module PATH.")
        }
        return found
    }

    static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}

func isExecutable(_ path: String) -> Bool {
    var isDirectory: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
        && FileManager.default.isExecutableFile(atPath: path)
}

/// One sentence for the user: the tool prints it and exits with status 1.
struct Failure: Error, CustomStringConvertible {
    let description: String
    init(_ sentence: String) { description = sentence }
}
