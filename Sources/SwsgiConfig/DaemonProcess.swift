import Glibc

/// WSGIDaemonProcess NAME [option=value ...]. Times are in seconds, sizes in bytes; defaults are
/// mod_wsgi's.
public struct DaemonProcess: Sendable {
    public var name: String
    public var processes = 1
    /// Whether processes= was given at all: mod_wsgi sets wsgi.multiprocess from that, even for 1.
    public var processesGiven = false
    /// 0 is "service script" mode: no request threads.
    public var threads = 15
    public var pythonHome: String?
    public var pythonPath: [String] = []
    /// nil: Apache's User / Group.
    public var user: String?
    public var uid: UInt32?
    public var group: String?
    public var gid: UInt32?
    /// nil: initgroups() of the user.
    public var supplementaryGroups: [UInt32]?
    public var home: String?
    /// The directory the processes are confined to (chroot); every other path of the group
    /// (python-home, python-path, home, its scripts) is then seen from inside it.
    public var chroot: String?
    /// The process title, with %{GROUP} already expanded.
    public var displayName: String?
    public var lang: String?
    public var locale: String?
    public var pythonEggs: String?
    public var umask: UInt32?
    public var maximumRequests = 0
    public var inactivityTimeout = 0
    public var requestTimeout = 0
    /// mod_wsgi 6: 0 restarts the process at request-timeout; otherwise the request is
    /// interrupted first and has this long to unwind.
    public var interruptTimeout = 0
    /// 0: Apache's Timeout.
    public var socketTimeout = 0
    public var queueTimeout = 0
    public var gracefulTimeout = 15
    /// 0: graceful-timeout.
    public var evictionTimeout = 0
    public var shutdownTimeout = 5
    public var restartInterval = 0
    public var startupTimeout = 0
    public var connectTimeout = 15
    public var deadlockTimeout = 300
    /// Already defaulted to socket-timeout when not given, as mod_wsgi does.
    public var responseSocketTimeout = 0
    public var listenBacklog = 100
    /// 0: the operating system's default.
    public var sendBufferSize = 0
    public var receiveBufferSize = 0
    public var headerBufferSize = 32768
    public var responseBufferSize = 65536
    /// swsgi's own: how much of a request body the Apache child reads before it hands the
    /// request to the group, so that a slow client holds no worker thread; 0 reads nothing ahead.
    public var requestBufferSize = 1 << 20
    /// 0: the operating system's default.
    public var stackSize = 0
    /// Who owns the group's socket: Apache's User unless socket-user= names another.
    public var socketUser: String?
    public var socketUID: UInt32?
    /// Scripts this group runs must be owned by this user (or group), as in mod_wsgi.
    public var scriptUser: String?
    public var scriptUID: UInt32?
    public var scriptGroup: String?
    public var scriptGID: UInt32?
    public var cpuTimeLimit = 0
    public var cpuPriority = 0
    public var memoryLimit = 0
    public var virtualMemoryLimit = 0
    public var serverMetrics = false
    /// The options given that change nothing in swsgi, in the order given: configtest says so.
    public private(set) var withoutEffect: [String] = []
    /// The server scope it was defined in.
    public var scope: Int
    /// Where it was defined, for the duplicate-name message.
    var context: DirectiveContext

    static let directive = "WSGIDaemonProcess"

    init(words: [String], scope: Int, context: DirectiveContext, python: (major: Int, minor: Int)) throws {
        name = words[0]
        self.scope = scope
        self.context = context
        guard !name.contains("="), !name.hasPrefix("%{") else {
            throw ConfigError("\(Self.directive): '\(name)' cannot be a process group name; the first argument must be the name, then options")
        }
        for option in try options(words.dropFirst(), directive: Self.directive) {
            try explain("\(Self.directive): option '\(option.word)'") {
                try set(option, python: python)
            }
        }
        // After every option: with chroot= the home is inside it.
        if let home = pythonHome, let problem = checkPythonHome(inside(home), directive: "\(Self.directive) python-home", expected: python) {
            throw ConfigError(problem)
        }
        if scriptUser != nil && scriptGroup != nil {
            throw ConfigError("\(Self.directive): options script-user and script-group cannot be used together")
        }
        // What 0 means for these, resolved once so users of the struct need not know.
        if responseSocketTimeout == 0 { responseSocketTimeout = socketTimeout }
        if headerBufferSize == 0 { headerBufferSize = 32768 }
        if responseBufferSize == 0 { responseBufferSize = 65536 }
    }

    private mutating func set(_ option: Option, python: (major: Int, minor: Int)) throws {
        let value = option.value
        switch option.key {
        case "processes":
            processes = try Limit.atLeast(1).parse(value)
            processesGiven = true
        case "threads": threads = try Limit.atLeast(0).parse(value)
        case "user":
            let account = try systemUser(value)
            guard account.id != 0 else {
                throw ConfigError("\(Self.directive): refusing to run daemon process group '\(name)' as root")
            }
            (user, uid) = (account.name, account.id)
        case "group":
            let account = try systemGroup(value)
            (group, gid) = (account.name, account.id)
        case "supplementary-groups":
            supplementaryGroups = try value.split(separator: ",").map { try systemGroup(String($0)).id }
        case "umask": umask = try octalMask(value)
        case "home": home = try absolutePath(value)
        case "chroot":
            let jail = try absolutePath(value)
            guard fileKind(jail) == .directory else { throw Reason("is not a directory") }
            guard geteuid() == 0 else { throw Reason("needs Apache to be started as root") }
            chroot = jail.count > 1 && jail.hasSuffix("/") ? String(jail.dropLast()) : jail
        case "lang": lang = value
        case "locale": locale = value
        case "python-home": pythonHome = value
        case "python-path": pythonPath = searchPath(value)
        case "python-eggs": pythonEggs = value
        case "display-name": displayName = value == "%{GROUP}" ? "(wsgi:\(name))" : value
        case "maximum-requests": maximumRequests = try Limit.atLeast(0).parse(value)
        case "inactivity-timeout": inactivityTimeout = try Limit.atLeast(0).parse(value)
        case "request-timeout": requestTimeout = try Limit.atLeast(0).parse(value)
        case "interrupt-timeout": interruptTimeout = try Limit.atLeast(0).parse(value)
        case "socket-timeout": socketTimeout = try Limit.atLeast(0).parse(value)
        case "queue-timeout": queueTimeout = try Limit.atLeast(0).parse(value)
        case "graceful-timeout": gracefulTimeout = try Limit.atLeast(0).parse(value)
        case "eviction-timeout": evictionTimeout = try Limit.atLeast(0).parse(value)
        case "shutdown-timeout": shutdownTimeout = try Limit.atLeast(0).parse(value)
        case "restart-interval": restartInterval = try Limit.atLeast(0).parse(value)
        case "startup-timeout": startupTimeout = try Limit.atLeast(0).parse(value)
        case "connect-timeout": connectTimeout = try Limit.atLeast(0).parse(value)
        case "deadlock-timeout": deadlockTimeout = try Limit.atLeast(0).parse(value)
        case "response-socket-timeout": responseSocketTimeout = try Limit.atLeast(0).parse(value)
        case "listen-backlog": listenBacklog = try Limit.atLeast(0).parse(value)
        case "send-buffer-size": sendBufferSize = try Limit.zeroOrAtLeast(512).parse(value)
        case "receive-buffer-size": receiveBufferSize = try Limit.zeroOrAtLeast(512).parse(value)
        case "header-buffer-size": headerBufferSize = try Limit.zeroOrAtLeast(8192).parse(value)
        case "response-buffer-size": responseBufferSize = try Limit.zeroOrAtLeast(65536).parse(value)
        case "request-buffer-size": requestBufferSize = try Limit.atLeast(0).parse(value)
        // Below 16 KiB pthread_attr_setstacksize() fails (PTHREAD_STACK_MIN).
        case "stack-size": stackSize = try Limit.zeroOrAtLeast(16384).parse(value)
        case "socket-user":
            let account = try systemUser(value)
            (socketUser, socketUID) = (account.name, account.id)
        case "script-user":
            let account = try systemUser(value)
            (scriptUser, scriptUID) = (account.name, account.id)
        case "script-group":
            let account = try systemGroup(value)
            (scriptGroup, scriptGID) = (account.name, account.id)
        case "cpu-time-limit": cpuTimeLimit = try Limit.atLeast(0).parse(value)
        case "cpu-priority": cpuPriority = try Limit.within(-20...19).parse(value)
        case "memory-limit": memoryLimit = try Limit.atLeast(0).parse(value)
        case "virtual-memory-limit": virtualMemoryLimit = try Limit.atLeast(0).parse(value)
        case "server-metrics": serverMetrics = try onOff(value)
        // mod_wsgi 4.x/5.x New Relic hooks: accepted so such configurations still load.
        case "newrelic-config-file", "newrelic-environment": break
        default: throw ConfigError("\(Self.directive): unknown option '\(option.word)'")
        }
        if Self.optionsWithoutEffect.contains(option.key), !withoutEffect.contains(option.key) { withoutEffect.append(option.key) }
    }

    /// Where a path the group's processes see is outside them: inside its chroot, if any.
    public func inside(_ path: String) -> String {
        chroot.map { $0 == "/" ? path : $0 + path } ?? path
    }

    /// A path outside seen from inside the chroot (SCRIPT_FILENAME): nil when it is not
    /// inside the chroot at all.
    public func seenInside(_ path: String) -> String? {
        guard let jail = chroot, jail != "/" else { return path }
        return path.hasPrefix(jail + "/") ? String(path.dropFirst(jail.count)) : nil
    }

    /// Accepted so that mod_wsgi configurations load (their values are checked all the same).
    static let optionsWithoutEffect: Set<String> = [
        "deadlock-timeout", "response-socket-timeout", "send-buffer-size", "receive-buffer-size", "header-buffer-size",
        "response-buffer-size", "python-eggs", "server-metrics", "newrelic-config-file", "newrelic-environment",
    ]
}
