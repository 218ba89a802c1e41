import ArgumentParser
import Foundation
import SwsgiConfig

/// `swsgi doctor`: for every place an Apache configuration runs Python, which Python that is
/// and the sys.path it will have, and every problem with it, before anything is started.
struct Doctor: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Say which Python each WSGI process group of an Apache configuration runs, and what is wrong with it.",
        discussion: """
        Reads the configuration as Apache does (Include, IncludeOptional, <IfModule>, <IfDefine>, \
        <VirtualHost>) with Debian's envvars, checks the WSGI directives with the module's own \
        parser, and asks each group's Python, as that group's user and set up as the module sets \
        it up, for its version, sys.prefix and sys.path. Exits with 1 when it finds a problem.
        """
    )

    @Option(name: .customShort("f"), help: ArgumentHelp("The Apache configuration file.", valueName: "file"))
    var config = "/etc/apache2/apache2.conf"

    @Option(name: .customShort("D"), help: ArgumentHelp("A name defined for <IfDefine>, as apache2 -D; repeatable.", valueName: "name"))
    var define: [String] = []

    @Flag(help: "Print the report as JSON.")
    var json = false

    @OptionGroup var binaries: Binaries

    @Option(help: "The file of environment variables Apache is started with (Debian's apache2ctl reads it).")
    var envvars = "/etc/apache2/envvars"

    func run() throws {
        let report = try diagnose()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(report.text, terminator: "")
        }
        if !report.problems.isEmpty { throw ExitCode(1) }
    }

    private func diagnose() throws -> DoctorReport {
        let file = absolute(config)
        guard FileManager.default.isReadableFile(atPath: file) else { throw Failure("The Apache configuration '\(config)' is not a readable file; give it with -f.") }
        let apache = try Installation.apache(binaries.httpd)
        let environment = apacheEnvironment()
        // The LoadModule lines first, read with any Python: they say which module judges the rest.
        let (modulePath, moduleProblems) = try module(of: try read(file, python: nil, apache: apache, environment: environment))
        var problems = moduleProblems
        let built = try ModulePython(module: modulePath)
        let reader = try read(file, python: built, apache: apache, environment: environment)
        if !isExecutable(built.program) {
            problems.append("The module '\(modulePath)' is built for Python \(built.versionText) at '\(built.program)', which is not there any more; rebuild swsgi for a Python this machine has (make PYTHON=... install).")
        }
        problems += reader.errors
        let apacheUser = try account(reader.user ?? "www-data", group: reader.group)
        // A group whose definition is refused is reported once, not again wherever it is used.
        let refused = Set(reader.refusedGroups.map(\.name))
        problems += reader.configuration.problems(apacheUID: apacheUser.uid, apacheGID: apacheUser.gid).filter { problem in
            !refused.contains { problem.hasSuffix("process group '\($0)' is used but no WSGIDaemonProcess defines it") }
        }

        let global = reader.configuration.global
        var groups: [GroupReport] = []
        if !global.restrictEmbedded {
            groups.append(group(name: nil, home: global.pythonHome, homeDirective: "WSGIPythonHome", sitePath: global.pythonPath,
                                identity: apacheUser, directory: "/", built: built, environment: environment))
        }
        for daemon in global.daemons {
            let user = daemon.uid.map { uid in account(uid: uid, gid: daemon.gid, groups: daemon.supplementaryGroups) }
                ?? Identity(uid: apacheUser.uid, gid: daemon.gid ?? apacheUser.gid, groups: daemon.supplementaryGroups, name: apacheUser.name)
            let directory = daemon.home ?? user.name.flatMap { homeDirectory(of: $0) } ?? "/"
            // The daemon's locale settings, as it sets them before Python starts.
            var daemonEnvironment = environment
            if let lang = daemon.lang { daemonEnvironment["LANG"] = lang }
            if let locale = daemon.locale { daemonEnvironment["LC_ALL"] = locale }
            groups.append(group(name: daemon.name, home: daemon.pythonHome ?? global.pythonHome,
                                homeDirective: daemon.pythonHome != nil ? "WSGIDaemonProcess \(daemon.name) python-home" : "WSGIPythonHome",
                                sitePath: daemon.pythonPath, identity: user, directory: directory, built: built, environment: daemonEnvironment))
        }
        for (name, error) in reader.refusedGroups {
            groups.append(GroupReport(name: name, mode: "daemon", user: "", python_home: nil, python_path: [], python: nil, problems: [error]))
            problems.removeAll { $0 == error }
        }
        var sockets: SocketReport?
        if !global.daemons.isEmpty {
            let runtime = reader.runtimeDirectory ?? reader.serverRoot + "/logs"
            let prefix = global.socketPrefix ?? runtime + "/wsgi"
            let directory = (prefix as NSString).deletingLastPathComponent
            sockets = SocketReport(prefix: prefix, directory: directory)
            if let problem = socketDirectoryProblem(directory, apacheUser: apacheUser, environment: environment) { problems.append(problem) }
        }
        problems += groups.flatMap(\.problems)
        var notes: [String] = []
        if geteuid() != 0 {
            notes.append("Not run as root: each Python was asked as \(NSUserName()), and what other users can read was not checked; run swsgi doctor as root for the real answer.")
        }
        return DoctorReport(config: file, notes: notes, module: modulePath, module_python: built.versionText, module_program: built.program,
                            apache_user: apacheUser.name ?? "#\(apacheUser.uid)", groups: groups, sockets: sockets, problems: problems)
    }

    /// The swsgi module the configuration loads (else the one this tool finds), and what is
    /// wrong with the modules it loads: mod_wsgi instead or as well, mod_python.
    private func module(of first: ApacheConfigReader) throws -> (String, [String]) {
        var problems: [String] = []
        let effective = first.effectiveModules
        let swsgi = effective.first { $0.isSwsgi }
        let modWsgi = effective.first { $0.name == "wsgi_module" && !$0.isSwsgi }
        let skipped = first.modules.filter { line in
            line.hasWsgiWord && !effective.contains { $0.place == line.place }
        }
        let modulePath: String
        if let swsgi {
            guard FileManager.default.isReadableFile(atPath: swsgi.path) else {
                throw Failure("\(swsgi.place): the module '\(swsgi.path)' is not a readable file; build and install swsgi (make install) or correct the path.")
            }
            modulePath = swsgi.path
            if let modWsgi {
                problems.append("\(modWsgi.place): mod_wsgi is loaded too, and one Apache can run only one of them (configtest fails); remove that LoadModule line (a2dismod wsgi).")
            }
            for line in skipped where !line.isSwsgi {
                problems.append("\(line.place): Apache skips this LoadModule of mod_wsgi, as \(line.name) is swsgi already (\(swsgi.place)); remove it (a2dismod wsgi).")
            }
        } else {
            modulePath = try Installation.module(binaries.module, python: nil)
            if let modWsgi, let line = skipped.first(where: \.isSwsgi) {
                problems.append("\(line.place): Apache skips this LoadModule of swsgi, as \(line.name) is mod_wsgi already (\(modWsgi.place)); remove that line (a2dismod wsgi) (this report assumes swsgi).")
            } else if let modWsgi {
                problems.append("\(modWsgi.place): this configuration loads mod_wsgi, not swsgi; to run swsgi, make that line LoadModule wsgi_module \(modulePath) (this report assumes that module).")
            } else {
                problems.append("The configuration loads no swsgi; add LoadModule wsgi_module \(modulePath) (this report assumes that module).")
            }
        }
        if let python = effective.first(where: { $0.name == "python_module" }) {
            problems.append("\(python.place): mod_python is loaded too: two modules embedding Python in one Apache do not mix; remove that LoadModule line (a2dismod python).")
        }
        return (modulePath, problems)
    }

    /// The configuration read with the module's Python (nil: the LoadModule lines are all that count).
    private func read(_ file: String, python: ModulePython?, apache: String, environment: [String: String]) throws -> ApacheConfigReader {
        let configuration = Configuration(pythonVersion: python?.version ?? (3, 0), pythonPrefix: python?.prefix ?? "/")
        let reader = ApacheConfigReader(configuration: configuration, serverRoot: (file as NSString).deletingLastPathComponent,
                                        environment: environment, defines: define, builtIn: compiledIn(apache))
        try reader.read(file: file)
        return reader
    }

    private func group(name: String?, home: String?, homeDirective: String, sitePath: [String], identity: Identity,
                       directory: String, built: ModulePython, environment: [String: String]) -> GroupReport {
        var report = GroupReport(name: name ?? "(embedded)", mode: name == nil ? "embedded" : "daemon", user: identity.name ?? "#\(identity.uid)",
                                 python_home: home, python_path: sitePath, python: nil, problems: [])
        let subject = name.map { "WSGIDaemonProcess '\($0)'" } ?? "Embedded mode"
        if let home, let problem = checkPythonHome(home, directive: homeDirective, expected: built.version) {
            report.problems.append(problem)
            return report
        }
        for entry in sitePath where !isDirectory(entry) {
            report.problems.append("\(subject): python-path entry '\(entry)' is not a directory, so nothing is imported from it; correct or remove it.")
        }
        var env = ["PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": environment["LANG"] ?? "C"]
        env["LC_ALL"] = environment["LC_ALL"]
        // The module does not isolate Python from Apache's environment: PYTHONPATH and the
        // like that envvars exports reach every process's Python.
        for (key, value) in environment where key.hasPrefix("PYTHON") { env[key] = value }
        if let user = identity.name {
            env["USER"] = user
            env["LOGNAME"] = user
            if let home = homeDirectory(of: user) { env["HOME"] = home }
        }
        let runAs = geteuid() == 0 && identity.uid != 0 ? identity : nil
        switch probePython(home: home, sitePath: sitePath, built: built, as: runAs, directory: isDirectory(directory) ? directory : "/", environment: env) {
        case .success(let facts):
            report.python = facts
            // libpython is the module's; a standard library of another installation of the
            // same version may not match its extension modules and build options.
            if realPath(facts.base_prefix) != realPath(built.prefix) {
                report.problems.append("\(subject): its standard library is that of the Python at '\(facts.base_prefix)', but the module embeds the one at '\(built.prefix)' (\(built.program)); make the home with that Python (\(built.program) -m venv), or build swsgi for the other (make PYTHON=...).")
            }
        case .failure(let why):
            report.problems.append("\(subject): its Python does not start as user \(report.user) (\(why)); check the home and that this user can read it.")
        }
        return report
    }

    private func compiledIn(_ apache: String) -> Set<String> {
        let listing = execute([apache, "-l"]).output
        return Set(listing.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { $0.hasPrefix("mod_") && $0.hasSuffix(".c") }.map { String($0.dropFirst(4).dropLast(2)) + "_module" }
            + ["core_module", "http_module"])
    }

    /// The environment Debian's apache2ctl starts Apache with: its envvars, sourced by sh.
    private func apacheEnvironment() -> [String: String] {
        guard FileManager.default.isReadableFile(atPath: envvars) else { return [:] }
        let sourced = execute(["/bin/sh", "-c", ". \"$0\" >/dev/null 2>&1; env", envvars], environment: ["PATH=/usr/bin:/bin"])
        var result: [String: String] = [:]
        for line in sourced.output.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            result[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        return result
    }

    /// Apache's children connect to the sockets as Apache's User: it must be able to search
    /// the directory. A missing directory is fine if apache2ctl makes it (APACHE_RUN_DIR).
    private func socketDirectoryProblem(_ directory: String, apacheUser: Identity, environment: [String: String]) -> String? {
        guard isDirectory(directory) else {
            if directory == environment["APACHE_RUN_DIR"] { return nil }
            return "The daemon socket directory '\(directory)' does not exist: Apache cannot create the sockets there; create it (mkdir -p) or point WSGISocketPrefix at a directory that exists."
        }
        guard geteuid() == 0, apacheUser.uid != 0 else { return nil }
        let test = execute(["/usr/bin/test", "-x", directory], environment: [], as: apacheUser, in: "/")
        guard !test.succeeded else { return nil }
        return "The daemon socket directory '\(directory)' cannot be searched by Apache's User \(apacheUser.name ?? "#\(apacheUser.uid)"), so its children cannot reach the daemons (503); give that user x permission on it, or point WSGISocketPrefix elsewhere."
    }
}

private func account(_ user: String, group: String?) throws -> Identity {
    let entry = user.hasPrefix("#") ? UInt32(user.dropFirst()).flatMap { getpwuid($0) } : getpwnam(user)
    guard let entry else { throw Failure("Apache's User '\(user)' is not a known user; correct the User directive.") }
    var gid = entry.pointee.pw_gid
    if let group {
        guard let found = group.hasPrefix("#") ? UInt32(group.dropFirst()).flatMap({ getgrgid($0) }) : getgrnam(group) else {
            throw Failure("Apache's Group '\(group)' is not a known group; correct the Group directive.")
        }
        gid = found.pointee.gr_gid
    }
    return Identity(uid: entry.pointee.pw_uid, gid: gid, groups: nil, name: String(cString: entry.pointee.pw_name))
}

private func account(uid: UInt32, gid: UInt32?, groups: [UInt32]?) -> Identity {
    let entry = getpwuid(uid)
    return Identity(uid: uid, gid: gid ?? entry?.pointee.pw_gid ?? uid, groups: groups, name: entry.map { String(cString: $0.pointee.pw_name) })
}

private func homeDirectory(of user: String) -> String? {
    getpwnam(user).map { String(cString: $0.pointee.pw_dir) }
}

private func realPath(_ path: String) -> String {
    guard let resolved = realpath(path, nil) else { return path }
    defer { free(resolved) }
    return String(cString: resolved)
}
