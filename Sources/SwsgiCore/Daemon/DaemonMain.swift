import CLinux
import Glibc
import SwsgiABI
import SwsgiConfig
import SwsgiPython

/// A daemon process from fork to serving: privileges dropped before any Python runs, then
/// Python initialised with the group's own home and path, then the server.
enum DaemonMain {
    static func run(_ plan: GroupPlan, parent: pid_t, global: GlobalSettings) -> Never {
        let config = plan.config
        for other in DaemonGroups.groups where other.index != plan.index && other.listener >= 0 { close(other.listener) }
        SelfPipe.resetSignals()
        setProcessTitle(config.displayName ?? "swsgi:\(config.name)")
        guard let account = dropPrivileges(config) else { _exit(1) }
        // After the credentials changed: the kernel clears the setting on such a change.
        _ = swsgi_prctl(PR_SET_PDEATHSIG, UInt(SIGTERM))
        if getppid() != parent { _exit(0) }
        Apache.log(nil, SWSGI_LOG_INFO, "swsgi: daemon process \(getpid()) of group '\(config.name)' starting with uid=\(getuid()), gid=\(getgid()) and threads=\(config.threads)")
        if let home = config.home ?? account.home, chdir(home) != 0 {
            Apache.log(nil, SWSGI_LOG_WARNING, "swsgi: daemon group '\(config.name)': cannot change directory to '\(home)': \(String(cString: strerror(errno)))")
        }
        if let mask = config.umask { umask(mode_t(mask)) }
        applyLimits(config)
        // glibc raises its mmap threshold to the largest block freed so far and then keeps the
        // pages of such blocks for good: a peer's few 16 MiB frames (and their copies) would
        // stay in the daemon's memory. From 1 MiB, the size of the body frames, blocks are
        // mapped and handed back when freed.
        mallopt(M_MMAP_THRESHOLD, 1 << 20)
        if let lang = config.lang { setenv("LANG", lang, 1) }
        if let locale = config.locale {
            setenv("LC_ALL", locale, 1)
            if setlocale(LC_ALL, locale) == nil {
                Apache.log(nil, SWSGI_LOG_WARNING, "swsgi: daemon group '\(config.name)': unsupported locale '\(locale)'")
            }
        }
        Gateway.multithread = config.threads != 1
        Gateway.multiprocess = config.processesGiven
        Gateway.threads = max(1, config.threads)
        Gateway.processes = config.processes
        Gateway.asgiTimeouts = (config.requestTimeout, config.shutdownTimeout)
        RequestThread.processStart = Double(epochMicroseconds()) / 1e6
        SelfPipe.install([SIGTERM, SIGINT, SIGHUP, SIGUSR1])
        PythonRuntime.start(home: config.pythonHome ?? global.pythonHome,
                            homeDirective: config.pythonHome != nil ? "WSGIDaemonProcess \(config.name) python-home" : "WSGIPythonHome",
                            sitePath: config.pythonPath, processGroup: config.name, settings: global, host: .gateway)
        // Inside a chroot the scripts are where the chroot puts them (configtest checked that).
        PythonRuntime.preload(global.importScripts.map { script in
            var inside = script
            inside.path = config.seenInside(script.path) ?? script.path
            return inside
        }, for: .named(config.name))
        let preloads = plan.preloads.map { preload in
            var inside = preload
            inside.script = config.seenInside(preload.script) ?? preload.script
            return inside
        }
        PythonRuntime.preload(preloads.filter { !$0.asgi })
        let startups = preloads.filter(\.asgi)
        DaemonServer(plan).run(startingWith: startups.isEmpty ? nil : {
            PythonRuntime.startASGI(startups, requestTimeout: config.requestTimeout, shutdownTimeout: config.shutdownTimeout)
        })
    }

    private struct Account { var home: String? }

    /// cpu-time-limit, memory-limit, virtual-memory-limit and cpu-priority.
    private static func applyLimits(_ config: DaemonProcess) {
        func limit(_ resource: __rlimit_resource, _ value: Int, _ option: String) {
            guard value > 0 else { return }
            var bound = rlimit(rlim_cur: rlim_t(value), rlim_max: rlim_t(value))
            if setrlimit(__rlimit_resource_t(resource.rawValue), &bound) != 0 {
                Apache.log(nil, SWSGI_LOG_WARNING, "swsgi: daemon group '\(config.name)': cannot apply \(option)=\(value): \(String(cString: strerror(errno)))")
            }
        }
        limit(RLIMIT_CPU, config.cpuTimeLimit, "cpu-time-limit")
        limit(RLIMIT_DATA, config.memoryLimit, "memory-limit")
        limit(RLIMIT_AS, config.virtualMemoryLimit, "virtual-memory-limit")
        if config.cpuPriority != 0, setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, Int32(config.cpuPriority)) != 0 {
            Apache.log(nil, SWSGI_LOG_WARNING, "swsgi: daemon group '\(config.name)': cannot apply cpu-priority=\(config.cpuPriority)")
        }
    }

    /// user=/group= (default: Apache's User/Group), when running as root. Any failure is
    /// fatal: a daemon must never go on with more privileges than configured.
    private static func dropPrivileges(_ config: DaemonProcess) -> Account? {
        guard getuid() == 0 || geteuid() == 0 else { return Account(home: nil) }
        let uid = config.uid.map { uid_t($0) } ?? DaemonGroups.apacheUID
        let gid = config.gid.map { gid_t($0) } ?? DaemonGroups.apacheGID
        guard uid != 0 else {
            Apache.log(nil, SWSGI_LOG_ERR, "swsgi: daemon group '\(config.name)' would run as root; refusing to start it")
            return nil
        }
        let entry = getpwuid(uid)
        let name = entry.map { String(cString: $0.pointee.pw_name) }
        let home = entry.map { String(cString: $0.pointee.pw_dir) }
        func fail(_ what: String) -> Account? {
            Apache.log(nil, SWSGI_LOG_ERR, "swsgi: daemon group '\(config.name)': \(what) failed: \(String(cString: strerror(errno)))")
            return nil
        }
        if setgid(gid) != 0 { return fail("setgid(\(gid))") }
        if let extra = config.supplementaryGroups {
            let groups = extra.map { gid_t($0) }
            if setgroups(groups.count, groups) != 0 { return fail("setgroups") }
        } else if let name, initgroups(name, gid) != 0 {
            return fail("initgroups(\(name))")
        } else if name == nil, setgroups(0, nil) != 0 {
            return fail("setgroups")
        }
        // Last of what needs root, after the lookups that read /etc.
        if let jail = config.chroot, chroot(jail) != 0 || chdir("/") != 0 { return fail("chroot(\(jail))") }
        if setuid(uid) != 0 { return fail("setuid(\(uid))") }
        guard getuid() == uid, geteuid() == uid, setuid(0) != 0 else {
            Apache.log(nil, SWSGI_LOG_ERR, "swsgi: daemon group '\(config.name)': could not drop root privileges")
            return nil
        }
        if let home { setenv("HOME", home, 1) }
        if let name { setenv("USER", name, 1); setenv("LOGNAME", name, 1) }
        // The user's home is the working directory only when the daemon runs as another user.
        return Account(home: uid != DaemonGroups.apacheUID ? home : nil)
    }
}
