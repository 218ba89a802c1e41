import ArgumentParser
import Foundation
import SwsgiConfig

/// `swsgi serve app.wsgi`: mod_wsgi-express's start-server for swsgi.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve a WSGI application with Apache in the foreground, configured for it alone.",
        discussion: """
        Writes an Apache configuration into a server root of its own (a new directory under /tmp, \
        removed on exit, or --server-root), runs the application in one daemon process group, and \
        runs Apache in the foreground with its log on the terminal. Ctrl-C or SIGTERM stops it.
        """
    )

    enum ApplicationType: String, ExpressibleByArgument, CaseIterable {
        case script, module
    }

    @Argument(help: "The WSGI script file, or with --application-type module the module's name.")
    var application: String?

    @Option(help: "The same as the argument, as mod_wsgi-express names it.")
    var entryPoint: String?

    @Option(help: "What the application names: a script file or a Python module.")
    var applicationType: ApplicationType = .script

    @Option(help: "The name of the WSGI callable in the script or module.")
    var callableObject = "application"

    @Option(help: "The URL path the application is mounted at.")
    var mountPoint = "/"

    @Option(help: "The address to listen on (0.0.0.0 for every interface).")
    var host = "127.0.0.1"

    @Option(help: "The port to listen on.")
    var port = 8000

    @Option(help: "Daemon processes that run the application.")
    var processes = 1

    @Option(help: "Threads per daemon process.")
    var threads = 5

    @Option(help: "sys.prefix of the Python installation or virtual environment (default: $VIRTUAL_ENV).")
    var pythonHome: String?

    @Option(help: ArgumentHelp("A directory for sys.path (site.addsitedir, .pth files processed); repeatable.", valueName: "directory"))
    var pythonPath: [String] = []

    @Option(help: "The application's current directory, first on sys.path (default: the script's directory).")
    var workingDirectory: String?

    @Option(parsing: .upToNextOption, help: ArgumentHelp("Serve the files of a directory at a URL: --url-alias /static DIR; repeatable.", valueName: "url-path directory"))
    var urlAlias: [String] = []

    @Option(help: "A directory whose existing files Apache serves itself; other URLs go to the application.")
    var documentRoot: String?

    @Option(help: "Requests after which a daemon process is replaced (0: never).")
    var maximumRequests = 0

    @Option(help: "Seconds after which a request is answered with 504 and its process replaced (0: never).")
    var requestTimeout = 60

    @Option(help: "Seconds a request past --request-timeout has to unwind after mod_wsgi.RequestTimeout is raised in it, before its process is replaced (0: replace it at once).")
    var interruptTimeout = 0

    @Flag(help: "Log each request on stdout.")
    var accessLog = false

    @Option(help: "Apache's LogLevel: emerg, alert, crit, error, warn, notice, info, debug.")
    var logLevel = "warn"

    @Option(help: "The user the application runs as (only when run as root; default www-data).")
    var user: String?

    @Option(help: "The group the application runs as (only when run as root; default the user's group).")
    var group: String?

    @Option(help: "A directory for the configuration and runtime files, kept on exit (default: a new one under /tmp).")
    var serverRoot: String?

    @Flag(help: "Write the configuration and an apachectl script into the server root, and exit.")
    var setupOnly = false

    @Option(help: ArgumentHelp("A file of extra Apache directives, included last; repeatable.", valueName: "file"))
    var includeFile: [String] = []

    @Flag(help: "Restart the daemon process when a file of any module it imported changes.")
    var reloadOnChanges = false

    @OptionGroup var binaries: Binaries

    static let logLevels = ["emerg", "alert", "crit", "error", "warn", "notice", "info", "debug"]

    /// Each wrong value is one sentence (a Failure: no usage text after it).
    func validate() throws {
        if application != nil && entryPoint != nil { throw Failure("Give the application either as the argument or with --entry-point, not both.") }
        if application == nil && entryPoint == nil { throw Failure("Name the application to serve: swsgi serve app.wsgi.") }
        var address = in_addr()
        guard inet_pton(AF_INET, host, &address) == 1 else {
            throw Failure("--host must be an IPv4 address such as 127.0.0.1 or 0.0.0.0, not '\(host)'.")
        }
        guard (1...65535).contains(port) else { throw Failure("--port must be from 1 to 65535, not \(port).") }
        guard processes >= 1 else { throw Failure("--processes must be at least 1, not \(processes).") }
        guard threads >= 1 else { throw Failure("--threads must be at least 1, not \(threads).") }
        guard maximumRequests >= 0 else { throw Failure("--maximum-requests must be 0 or more, not \(maximumRequests).") }
        guard requestTimeout >= 0 else { throw Failure("--request-timeout must be 0 or more seconds, not \(requestTimeout).") }
        guard interruptTimeout >= 0 else { throw Failure("--interrupt-timeout must be 0 or more seconds, not \(interruptTimeout).") }
        guard Self.logLevels.contains(logLevel.lowercased()) else {
            throw Failure("--log-level must be one of \(Self.logLevels.joined(separator: ", ")), not '\(logLevel)'.")
        }
        guard mountPoint.hasPrefix("/") else { throw Failure("--mount-point must begin with '/', not '\(mountPoint)'.") }
        guard urlAlias.count % 2 == 0 else { throw Failure("--url-alias takes two values, a URL path and a directory: --url-alias /static ./static.") }
        for url in stride(from: 0, to: urlAlias.count, by: 2).map({ urlAlias[$0] }) where !url.hasPrefix("/") {
            throw Failure("--url-alias: the URL path '\(url)' must begin with '/'.")
        }
        if (user != nil || group != nil) && geteuid() != 0 {
            throw Failure("--user and --group can only be used when swsgi runs as root.")
        }
        if applicationType == .module, let name = application ?? entryPoint,
           !name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy(isIdentifier) {
            throw Failure("--application-type module needs a Python module name such as mysite.wsgi, not '\(name)'.")
        }
    }

    func run() throws {
        let plan = try makePlan()
        try FileManager.default.createDirectory(atPath: plan.root, withIntermediateDirectories: true)
        chmod(plan.root, 0o755)
        if let loader = loaderSource(plan: plan) {
            try loader.write(toFile: plan.script, atomically: true, encoding: .utf8)
        }
        try plan.configuration.write(toFile: plan.configPath, atomically: true, encoding: .utf8)
        try plan.controlScriptText.write(toFile: plan.controlScript, atomically: true, encoding: .utf8)
        chmod(plan.controlScript, 0o755)
        let temporary = serverRoot == nil && !setupOnly
        defer { if temporary { try? FileManager.default.removeItem(atPath: plan.root) } }

        let test = execute([plan.apache, "-f", plan.configPath, "-t"])
        guard test.succeeded else {
            let complaint = apacheComplaint(test.output + test.errors, config: plan.configPath)
            let who = plan.user.map { " (run as root, swsgi serve runs the application as --user, here '\($0)')" } ?? ""
            throw Failure(complaint + (complaint.contains("cannot be read by") ? who : ""))
        }
        if setupOnly {
            print("Configuration written to \(plan.configPath).")
            print("Start it with \(plan.controlScript) start, stop it with \(plan.controlScript) stop; it serves \(plan.url).")
            return
        }
        try checkPortIsFree(host: plan.host, port: plan.port)
        print("swsgi: serving \(application ?? entryPoint!) on \(plan.url) with Python \(plan.python) (server root \(plan.root)); Ctrl-C stops.")
        fflush(stdout)
        let (stopped, status) = runInForeground(apache: plan.apache, config: plan.configPath)
        if !stopped && status != 0 { throw ExitCode(status) }
    }

    /// Resolves and checks every path and the Python before anything is written.
    private func makePlan() throws -> ServerPlan {
        let name = application ?? entryPoint!
        let environment = ProcessInfo.processInfo.environment
        let home = try (pythonHome.map { try existingDirectory($0, option: "--python-home") })
            ?? environment["VIRTUAL_ENV"].map { try existingDirectory($0, option: "VIRTUAL_ENV (the active virtual environment)") }
        let module = try Installation.module(binaries.module, python: home.flatMap { virtualEnvironmentVersion(home: $0) })
        let built = try ModulePython(module: module)
        if let home, let problem = checkPythonHome(home, directive: pythonHome != nil ? "--python-home" : "VIRTUAL_ENV", expected: built.version) {
            throw Failure(problem + "; or build swsgi for that Python (make PYTHON=...) and give --module")
        }
        var working = FileManager.default.currentDirectoryPath
        if applicationType == .script {
            let script = absolute(name)
            guard FileManager.default.isReadableFile(atPath: script), !isDirectory(script) else {
                throw Failure("The WSGI script '\(name)' is not a readable file.")
            }
            working = (script as NSString).deletingLastPathComponent
        }
        working = try workingDirectory.map { try existingDirectory($0, option: "--working-directory") } ?? working
        var aliases: [(url: String, path: String)] = []
        for index in stride(from: 0, to: urlAlias.count, by: 2) {
            aliases.append((urlAlias[index], try existingDirectory(urlAlias[index + 1], option: "--url-alias \(urlAlias[index])")))
        }
        let includes = try includeFile.map { file -> String in
            guard FileManager.default.isReadableFile(atPath: file) else { throw Failure("--include-file '\(file)' is not a readable file.") }
            return absolute(file)
        }
        let apache = try Installation.apache(binaries.httpd)
        let asRoot = geteuid() == 0
        let runUser = user ?? "www-data"
        guard !asRoot || getpwnam(runUser) != nil else { throw Failure("--user '\(runUser)' is not a known user.") }
        let runGroup = try group ?? primaryGroup(of: runUser)
        guard !asRoot || getgrnam(runGroup) != nil else { throw Failure("--group '\(runGroup)' is not a known group.") }
        let paths = try pythonPath.map { try existingDirectory($0, option: "--python-path") }
        let documents = try documentRoot.map { try existingDirectory($0, option: "--document-root") }
        // Made last, so that nothing is left behind when a check above fails.
        let root = try serverRoot.map { absolute($0) } ?? makeTemporaryRoot()
        let script = applicationType == .module || reloadOnChanges ? root + "/loader.wsgi" : absolute(name)
        return ServerPlan(
            root: root, apache: apache, module: module, apacheModules: Installation.moduleDirectory,
            host: host, port: port, mountPoint: mountPoint, script: script,
            callable: script == absolute(name) && callableObject != "application" ? callableObject : nil,
            processes: processes, threads: threads, pythonHome: home, python: "\(built.versionText) at \(home ?? built.prefix)",
            pythonPath: paths,
            workingDirectory: working, urlAliases: aliases,
            documentRoot: documents,
            maximumRequests: maximumRequests, requestTimeout: requestTimeout, interruptTimeout: interruptTimeout, accessLog: accessLog,
            logLevel: logLevel.lowercased(), user: asRoot ? runUser : nil, group: asRoot ? runGroup : nil,
            includeFiles: includes, logToTerminal: !setupOnly
        )
    }

    /// The generated script that loads the application for --application-type module and
    /// --reload-on-changes; nil when Apache mounts the user's script itself.
    private func loaderSource(plan: ServerPlan) -> String? {
        guard plan.script == plan.root + "/loader.wsgi" else { return nil }
        let name = application ?? entryPoint!
        var lines = ["# Written by swsgi serve: loads the application."]
        if applicationType == .module {
            lines += ["import importlib", "application = getattr(importlib.import_module(\(pythonString(name))), \(pythonString(callableObject)))"]
        } else {
            lines += ["import runpy", "_script = \(pythonString(absolute(name)))",
                      "application = runpy.run_path(_script, run_name='__swsgi_script__')[\(pythonString(callableObject))]"]
        }
        if reloadOnChanges {
            lines.append(applicationType == .script ? "_watched = [_script]" : "_watched = []")
            lines.append(reloadMonitorSource)
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// --reload-on-changes: a thread that ends the daemon process (which Apache then starts
/// again) when the file of a module it imported, or a watched script, changes.
private let reloadMonitorSource = """
import os, signal, sys, threading, time

def _monitor():
    seen = {}
    while True:
        files = _watched + [getattr(m, '__file__', None) for m in list(sys.modules.values())]
        for name in files:
            try:
                mtime = os.stat(name).st_mtime
            except (OSError, TypeError, ValueError):
                continue
            if seen.setdefault(name, mtime) != mtime:
                print('swsgi serve: %s changed; restarting the daemon process.' % name)
                os.kill(os.getpid(), signal.SIGTERM)
                return
        time.sleep(1)

threading.Thread(target=_monitor, name='swsgi-reload-monitor', daemon=True).start()
"""

/// The name of user's primary group (as mod_wsgi's daemons default to it).
private func primaryGroup(of user: String) throws -> String {
    guard geteuid() == 0 else { return "" }
    guard let entry = getpwnam(user) else { throw Failure("--user '\(user)' is not a known user.") }
    guard let group = getgrgid(entry.pointee.pw_gid) else { return "#\(entry.pointee.pw_gid)" }
    return String(cString: group.pointee.gr_name)
}

private func isIdentifier(_ part: Substring) -> Bool {
    guard let first = part.first, first == "_" || first.isLetter else { return false }
    return part.allSatisfy { $0 == "_" || $0.isLetter || $0.isNumber }
}

func absolute(_ path: String) -> String {
    let full = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    return (full as NSString).standardizingPath
}

func isDirectory(_ path: String) -> Bool {
    var directory: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
}

private func existingDirectory(_ path: String, option: String) throws -> String {
    guard isDirectory(path) else { throw Failure("\(option) '\(path)' is not a directory.") }
    return absolute(path)
}

/// A new directory under TMPDIR (default /tmp), as mod_wsgi-express's.
private func makeTemporaryRoot() throws -> String {
    let base = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
    var template = Array("\(base)/swsgi-serve-XXXXXX".utf8CString)
    guard let made = mkdtemp(&template) else { throw Failure("No directory could be made under \(base): \(String(cString: strerror(errno))).") }
    return String(cString: made)
}

/// A Python string literal for text.
private func pythonString(_ text: String) -> String {
    "'" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
}

/// What Apache said, as the one sentence that matters: the module's sentence, without the
/// "Syntax error on line N of FILE:" and "Configuration check failed" around it, which do
/// not help with a generated file.
func apacheComplaint(_ text: String, config: String) -> String {
    let lines = text.split(separator: "\n").map { line -> String in
        // "apache2: Syntax error on line 13 of FILE: why" keeps only the why.
        guard let place = line.range(of: config + ":") else { return line.trimmingCharacters(in: .whitespaces) }
        return line[place.upperBound...].trimmingCharacters(in: .whitespaces)
    }.filter { !$0.isEmpty && !$0.hasPrefix("AH00014") }
    return lines.last.map { "Apache refuses the configuration: \($0)" } ?? "Apache refuses the configuration \(config)."
}

private func checkPortIsFree(host: String, port: Int) throws {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return }
    defer { close(fd) }
    var one: Int32 = 1
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    inet_pton(AF_INET, host, &address.sin_addr)  // checked by validate()
    let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    if bound != 0 {
        throw Failure("Port \(port) on \(host) cannot be used (\(String(cString: strerror(errno)))); choose another with --port.")
    }
}
