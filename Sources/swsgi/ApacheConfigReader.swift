import Foundation
import SwsgiConfig

/// Reads an Apache configuration as Apache would, far enough to know where Python runs:
/// Include/IncludeOptional (globs, directories, relative to ServerRoot), Define and ${VAR},
/// <IfModule> by the modules loaded so far, <IfDefine> by -D names and Define, <VirtualHost>
/// and the directory sections as scopes. The WSGI directives themselves go to SwsgiConfig,
/// the module's own parser, with their context, so that doctor judges them as configtest does.
final class ApacheConfigReader {
    struct Loaded {
        let name: String
        let path: String
        let place: String
        /// swsgi, under whichever word (wsgi_module, as Debian's swsgi.load has it, or swsgi_module).
        let isSwsgi: Bool
        /// The words swsgi is loaded under; mod_wsgi has the first.
        static let wsgiWords: Set = ["wsgi_module", "swsgi_module"]
        var hasWsgiWord: Bool { Self.wsgiWords.contains(name) }
    }

    let configuration: Configuration
    private(set) var serverRoot: String
    private(set) var user: String?
    private(set) var group: String?
    private(set) var runtimeDirectory: String?
    private(set) var modules: [Loaded] = []
    /// Directive errors, each "FILE:LINE: sentence".
    private(set) var errors: [String] = []
    /// WSGIDaemonProcess lines the module refuses, by group name: the group does not exist then.
    private(set) var refusedGroups: [(name: String, error: String)] = []
    private var variables: [String: String]
    private var defines: Set<String>
    private let builtIn: Set<String>
    private var depth = 0

    /// Sections whose contents apply to a directory scope, as the shim's cmd->path is set.
    private static let directorySections: Set<String> = [
        "directory", "directorymatch", "location", "locationmatch", "files", "filesmatch", "proxy", "proxymatch",
    ]

    init(configuration: Configuration, serverRoot: String, environment: [String: String], defines: [String], builtIn: Set<String>) {
        self.configuration = configuration
        self.serverRoot = serverRoot
        self.variables = environment
        self.defines = Set(defines)
        self.builtIn = builtIn
    }

    func read(file: String) throws {
        let main = configuration.newScope()
        try read(file: file, scope: main, context: .server)
    }

    private struct Line {
        let words: String
        let place: String
    }

    /// The logical lines of a file: comments dropped, backslash continuations joined.
    private func lines(of file: String) throws -> [Line] {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw Failure("The Apache configuration file '\(file)' cannot be read.")
        }
        var result: [Line] = []
        var pending = ""
        var start = 0
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = raw.trimmingCharacters(in: .whitespaces)
            if pending.isEmpty { start = index + 1 }
            if line.hasSuffix("\\") {
                line.removeLast()
                pending += line + " "
                continue
            }
            line = pending + line
            pending = ""
            if line.isEmpty || line.hasPrefix("#") { continue }
            result.append(Line(words: line, place: "\(file):\(start)"))
        }
        return result
    }

    private func read(file: String, scope: Int32, context: DirectiveContext) throws {
        depth += 1
        defer { depth -= 1 }
        guard depth < 32 else { throw Failure("Include nests more than 32 files deep at '\(file)'.") }
        var index = 0
        let all = try lines(of: file)
        try walk(all, &index, scope: scope, context: context)
    }

    /// Applies lines from index until the section they are in closes.
    private func walk(_ lines: [Line], _ index: inout Int, scope: Int32, context: DirectiveContext) throws {
        while index < lines.count {
            let line = lines[index]
            index += 1
            let text = substituted(line.words)
            if text.hasPrefix("</") {
                return
            }
            if text.hasPrefix("<") {
                let inner = text.dropFirst().prefix { $0 != ">" }
                let name = String(inner.prefix { !$0.isWhitespace })
                let argument = inner.dropFirst(name.count).trimmingCharacters(in: .whitespaces)
                try section(name.lowercased(), argument: argument, lines, &index, scope: scope, context: context, place: line.place)
                continue
            }
            let words = splitWords(text)
            guard let first = words.first else { continue }
            try directive(first, Array(words.dropFirst()), scope: scope, context: context, place: line.place)
        }
    }

    private func section(_ name: String, argument: String, _ lines: [Line], _ index: inout Int,
                         scope: Int32, context: DirectiveContext, place: String) throws {
        switch name {
        case "ifmodule", "ifdefine", "ifversion", "ifdirective", "ifsection", "iffile":
            var condition = argument
            let negated = condition.hasPrefix("!")
            if negated { condition.removeFirst() }
            let holds: Bool
            switch name {
            case "ifmodule": holds = isLoaded(condition)
            case "ifdefine": holds = defines.contains(condition)
            case "iffile": holds = FileManager.default.fileExists(atPath: resolved(unquoted(condition)))
            default: holds = true
            }
            if holds != negated {
                try walk(lines, &index, scope: scope, context: context)
            } else {
                skip(lines, &index)
            }
        case "virtualhost":
            try walk(lines, &index, scope: configuration.newScope(), context: .virtualHost)
        case "wsgiinterpreteroptions":
            record(configuration.apply(scope: scope, context: context, name: "<WSGIInterpreterOptions>", args: splitWords(argument)), place)
            try walk(lines, &index, scope: scope, context: context)
            record(configuration.apply(scope: scope, context: context, name: "</WSGIInterpreterOptions>", args: []), place)
        default:
            let inner = Self.directorySections.contains(name) ? configuration.newScope() : scope
            try walk(lines, &index, scope: inner, context: Self.directorySections.contains(name) ? .directory : context)
        }
    }

    /// Skips a section whose condition does not hold, nested sections included.
    private func skip(_ lines: [Line], _ index: inout Int) {
        var open = 1
        while index < lines.count, open > 0 {
            let text = lines[index].words
            index += 1
            if text.hasPrefix("</") { open -= 1 } else if text.hasPrefix("<") { open += 1 }
        }
    }

    private func directive(_ name: String, _ args: [String], scope: Int32, context: DirectiveContext, place: String) throws {
        switch name.lowercased() {
        case "include", "includeoptional":
            guard let pattern = args.first else { return }
            let files = expand(resolved(pattern))
            for file in files {
                try read(file: file, scope: scope, context: context)
            }
            if name.lowercased() == "include", files.isEmpty, !pattern.contains("*") {
                errors.append("\(place): Include '\(pattern)' names no file.")
            }
        case "serverroot": if let root = args.first { serverRoot = root }
        case "define":
            if let variable = args.first {
                defines.insert(variable)
                if args.count > 1 { variables[variable] = args[1] }
            }
        case "undefine": if let variable = args.first { defines.remove(variable) }
        case "user": if context == .server { user = args.first }
        case "group": if context == .server { group = args.first }
        case "defaultruntimedir": runtimeDirectory = args.first.map(resolved)
        case "loadmodule":
            guard args.count >= 2 else { return }
            let path = resolved(args[1])
            let mayBeSwsgi = Loaded.wsgiWords.contains(args[0])
            modules.append(Loaded(name: args[0], path: path, place: place, isSwsgi: mayBeSwsgi && ModulePython.isSwsgi(path)))
        case let lowered where lowered.hasPrefix("wsgi"):
            var words = args
            // Relative to ServerRoot, as the shim makes it.
            if lowered == "wsgisocketprefix", words.count == 1 { words[0] = resolved(words[0]) }
            let error = configuration.apply(scope: scope, context: context, name: name, args: words)
            record(error, place)
            if let error, lowered == "wsgidaemonprocess", let group = words.first { refusedGroups.append((group, "\(place): \(error)")) }
        default:
            break
        }
    }

    private func record(_ error: String?, _ place: String) {
        if let error { errors.append("\(place): \(error)") }
    }

    /// The LoadModule lines Apache acts on: the first of each word (it skips the others, AH01574).
    var effectiveModules: [Loaded] {
        var seen = Set<String>()
        return modules.filter { seen.insert($0.name).inserted }
    }

    /// Whether a module is loaded, by its word (wsgi_module) or record name (mod_wsgi.c).
    func isLoaded(_ module: String) -> Bool {
        var identifier = module
        if module.hasPrefix("mod_"), module.hasSuffix(".c") { identifier = String(module.dropFirst(4).dropLast(2)) + "_module" }
        let loaded = effectiveModules
        if Loaded.wsgiWords.contains(identifier) {
            // swsgi answers to both words and to mod_wsgi.c (shim/identity.c); mod_wsgi to its own.
            return loaded.contains { $0.hasWsgiWord && ($0.isSwsgi || identifier == "wsgi_module") }
        }
        return loaded.contains { $0.name == identifier } || builtIn.contains(identifier)
    }

    private func resolved(_ path: String) -> String {
        path.hasPrefix("/") ? path : serverRoot + "/" + path
    }

    private func substituted(_ text: String) -> String {
        guard text.contains("${") else { return text }
        var result = ""
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            result += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else { break }
            let name = String(rest[start.upperBound..<end])
            result += variables[name] ?? "${\(name)}"
            rest = rest[rest.index(after: end)...]
        }
        return result + rest
    }

    /// The files an Include names, sorted: a file, a glob, and for a directory every file in
    /// it and below, as Apache reads them.
    private func expand(_ pattern: String) -> [String] {
        var found = glob_t()
        defer { globfree(&found) }
        guard glob(pattern, 0, nil, &found) == 0 else { return [] }
        let matches = (0..<Int(found.gl_pathc)).compactMap { found.gl_pathv[$0].map { String(cString: $0) } }.sorted()
        return matches.flatMap { isDirectory($0) ? filesBelow($0) : [$0] }
    }

    private func filesBelow(_ directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted().flatMap { name in
            let path = directory + "/" + name
            return isDirectory(path) ? filesBelow(path) : [path]
        }
    }
}

/// Apache's words: whitespace-separated, double or single quotes grouping, backslash escaping.
func splitWords(_ text: String) -> [String] {
    var words: [String] = []
    var current = ""
    var quote: Character?
    var inWord = false
    var escaped = false
    for character in text {
        if escaped {
            current.append(character)
            escaped = false
        } else if character == "\\", quote != nil {
            escaped = true
        } else if let open = quote {
            if character == open { quote = nil } else { current.append(character) }
        } else if character == "\"" || character == "'" {
            quote = character
            inWord = true
        } else if character.isWhitespace {
            if inWord { words.append(current) }
            current = ""
            inWord = false
        } else {
            current.append(character)
            inWord = true
        }
    }
    if inWord { words.append(current) }
    return words
}

private func unquoted(_ word: String) -> String {
    splitWords(word).first ?? word
}
