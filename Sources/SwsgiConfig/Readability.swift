import Glibc

/// Who must read a set of paths: Apache's User for embedded mode, a daemon group's user=.
struct Reader {
    let uid: UInt32
    let gid: UInt32
    let supplementary: [UInt32]?
    /// Who that is, for the sentence: "user 'www-data'", or with the daemon group named.
    let role: String
}

/// A path the configuration makes a reader open, and the directive (with option) naming it.
struct NeededPath {
    let path: String
    let directive: String
}

/// The needed paths the reader cannot open (read, and search for a directory), as the kernel
/// itself answers for that user, ACLs included, each with the sentence that says so; only the
/// first unless `all` (configtest stops at one, `swsgi doctor` lists them). Asking
/// needs the reader's identity, which only root can take: run as anyone else, configtest
/// checks nothing here (the daemon or child would then run as the same user anyway).
/// Paths that do not exist are left to the checks that report them.
func unreadablePaths(_ paths: [NeededPath], by reader: Reader, all: Bool) -> [String] {
    let existing = paths.filter { fileKind($0.path) != .missing }
    guard !existing.isEmpty, geteuid() == 0, reader.uid != 0 else { return [] }
    var pipeEnds: [Int32] = [0, 0]
    guard pipe(&pipeEnds) == 0 else { return [] }
    // Everything the child needs is made before fork: it only calls async-signal-safe functions.
    let cPaths = existing.map { strdup($0.path)! }
    let modes = existing.map { fileKind($0.path) == .directory ? R_OK | X_OK : R_OK }
    let name = userName(reader.uid).map { strdup($0)! }
    defer { cPaths.forEach { free($0) }; name.map { free($0) } }
    let child = fork()
    if child == 0 {
        close(pipeEnds[0])
        let dropped: Bool
        if let extra = reader.supplementary {
            dropped = extra.map { gid_t($0) }.withUnsafeBufferPointer { setgroups($0.count, $0.baseAddress) } == 0
        } else {
            dropped = name.map { initgroups($0, reader.gid) == 0 } ?? (setgroups(0, nil) == 0)
        }
        guard dropped, setgid(reader.gid) == 0, setuid(reader.uid) == 0 else { _exit(2) }
        for index in cPaths.indices where access(cPaths[index], modes[index]) != 0 {
            var failed = Int32(index)
            _ = write(pipeEnds[1], &failed, 4)
            if !all { break }
        }
        _exit(0)
    }
    close(pipeEnds[1])
    var failures: [Int] = []
    var failed: Int32 = -1
    while child > 0, read(pipeEnds[0], &failed, 4) == 4, existing.indices.contains(Int(failed)) {
        failures.append(Int(failed))
    }
    close(pipeEnds[0])
    if child > 0 {
        var status: Int32 = 0
        while waitpid(child, &status, 0) < 0 && errno == EINTR {}
    }
    return failures.map { index in
        let needed = existing[index]
        let blocking = blockingDirectory(needed.path)
        let where_ = blocking.map { "; directory '\($0)' is not searchable (x) for it" } ?? ""
        return "\(needed.directive) '\(needed.path)' cannot be read by \(reader.role)\(where_): Python would fail in every process that runs as it; make it readable for that user, or install Python and the application under a directory it can read"
    }
}

/// The first ancestor directory of path that only some users may enter (no x for others),
/// as the usual culprit: a home directory of mode 0700 such as /root.
private func blockingDirectory(_ path: String) -> String? {
    var prefix = ""
    for component in path.split(separator: "/").dropLast() {
        prefix += "/" + component
        var info = stat()
        if stat(prefix, &info) == 0, info.st_mode & S_IXOTH == 0 { return prefix }
    }
    return nil
}

func userName(_ uid: UInt32) -> String? {
    (try? systemUser("#\(uid)"))?.name
}

/// The directory a virtual environment was made from (pyvenv.cfg's `home`), which the
/// process must read too; nil for a prefix.
func virtualEnvironmentBase(_ home: String) -> String? {
    guard let cfg = readText(join(home, "pyvenv.cfg")) else { return nil }
    for line in cfg.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
        let parts = line.split(separator: "=", maxSplits: 1)
        guard parts.count == 2, trimmed(parts[0]) == "home" else { continue }
        return String(trimmed(parts[1]))
    }
    return nil
}

extension ConfigState {
    /// Who must read what: Apache's User the embedded Python, embedded scripts and access and
    /// authentication scripts, each
    /// daemon group's user its Python and the scripts mounted into it. A script whose group
    /// is only known per request (WSGIProcessGroup, %{ENV:...}) is not attributed to anyone.
    func neededPaths(apacheUID: UInt32, apacheGID: UInt32) -> [(Reader, [NeededPath])] {
        func python(home: String?, homeDirective: String, path: [String], pathDirective: String) -> [NeededPath] {
            var needed: [NeededPath] = []
            if let home {
                needed.append(NeededPath(path: home, directive: homeDirective))
                if let base = virtualEnvironmentBase(home) {
                    needed.append(NeededPath(path: base, directive: "\(homeDirective) (the Python its pyvenv.cfg names)"))
                }
            } else {
                needed.append(NeededPath(path: pythonPrefix, directive: "the Python this module is built for, at"))
            }
            return needed + path.map { NeededPath(path: $0, directive: pathDirective) }
        }
        let aliases = scopes.flatMap(\.scriptAliases)
        // Access, authentication and dispatch scripts run in the Apache child whatever the mode.
        var childScripts: [NeededPath] = []
        for scope in scopes {
            for (directive, script) in [("WSGIAccessScript", scope.accessScript), ("WSGIAuthUserScript", scope.authUserScript),
                                        ("WSGIAuthGroupScript", scope.authGroupScript)] {
                guard let script, !childScripts.contains(where: { $0.path == script.path }) else { continue }
                childScripts.append(NeededPath(path: script.path, directive: directive))
            }
        }
        for script in scopes.compactMap(\.dispatchScript) where !childScripts.contains(where: { $0.path == script.path }) {
            childScripts.append(NeededPath(path: script.path, directive: "WSGIDispatchScript"))
        }
        let handlers = scopes.flatMap(\.handlerScripts.values)
        var result: [(Reader, [NeededPath])] = []
        if !global.restrictEmbedded || !childScripts.isEmpty {
            var paths = python(home: global.pythonHome, homeDirective: "WSGIPythonHome",
                               path: global.pythonPath, pathDirective: "WSGIPythonPath") + childScripts
            if global.daemons.isEmpty {
                paths += aliases.compactMap { $0.fixedTarget.map { NeededPath(path: $0, directive: "WSGIScriptAlias") } }
                paths += handlers.map { NeededPath(path: $0.path, directive: "WSGIHandlerScript") }
            }
            let name = userName(apacheUID).map { "'\($0)'" } ?? "#\(apacheUID)"
            result.append((Reader(uid: apacheUID, gid: apacheGID, supplementary: nil, role: "Apache's User \(name)"), paths))
        }
        for daemon in global.daemons {
            let uid = daemon.uid ?? apacheUID
            // Inside a chroot the group's Python is the one under it (its scripts are checked
            // to be under it, with their paths as they are).
            var paths = python(home: daemon.pythonHome ?? global.pythonHome, homeDirective: daemon.pythonHome != nil ? "WSGIDaemonProcess python-home" : "WSGIPythonHome",
                               path: daemon.pythonPath, pathDirective: "WSGIDaemonProcess python-path")
                .map { NeededPath(path: daemon.inside($0.path), directive: $0.directive) }
            paths += aliases.filter { $0.processGroup == .named(daemon.name) }.compactMap { $0.fixedTarget.map { NeededPath(path: $0, directive: "WSGIScriptAlias") } }
            paths += global.importScripts.filter { $0.processGroup == .named(daemon.name) }.map { NeededPath(path: $0.path, directive: "WSGIImportScript") }
            paths += handlers.filter { $0.processGroup == .named(daemon.name) }.map { NeededPath(path: $0.path, directive: "WSGIHandlerScript") }
            let name = userName(uid).map { "'\($0)'" } ?? "#\(uid)"
            let reader = Reader(uid: uid, gid: daemon.gid ?? apacheGID, supplementary: daemon.supplementaryGroups,
                                role: "user \(name), as which WSGIDaemonProcess '\(daemon.name)' runs")
            result.append((reader, paths))
        }
        return result
    }
}
