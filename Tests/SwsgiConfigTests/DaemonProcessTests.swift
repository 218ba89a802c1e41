import XCTest
@testable import SwsgiConfig

final class DaemonProcessTests: XCTestCase {
    func testDefaultsFollowModWsgi() throws {
        let f = Fixture()
        f.ok("WSGIDaemonProcess site")
        let d = try XCTUnwrap(f.config.daemon(named: "site"))
        XCTAssertEqual(d.processes, 1)
        XCTAssertFalse(d.processesGiven)
        XCTAssertEqual(d.threads, 15)
        XCTAssertNil(d.user)
        XCTAssertNil(d.uid)
        XCTAssertNil(d.group)
        XCTAssertNil(d.umask)
        XCTAssertNil(d.displayName)
        XCTAssertEqual(d.pythonPath, [])
        XCTAssertEqual(d.maximumRequests, 0)
        XCTAssertEqual(d.inactivityTimeout, 0)
        XCTAssertEqual(d.requestTimeout, 0)
        XCTAssertEqual(d.interruptTimeout, 0)
        XCTAssertEqual(d.socketTimeout, 0)
        XCTAssertEqual(d.queueTimeout, 0)
        XCTAssertEqual(d.gracefulTimeout, 15)
        XCTAssertEqual(d.shutdownTimeout, 5)
        XCTAssertEqual(d.restartInterval, 0)
        XCTAssertEqual(d.startupTimeout, 0)
        XCTAssertEqual(d.connectTimeout, 15)
        XCTAssertEqual(d.deadlockTimeout, 300)
        XCTAssertEqual(d.listenBacklog, 100)
        XCTAssertEqual(d.headerBufferSize, 32768)
        XCTAssertEqual(d.responseBufferSize, 65536)
        XCTAssertEqual(d.stackSize, 0)
        XCTAssertEqual(d.requestBufferSize, 1 << 20)
        XCTAssertEqual(d.scope, Int(f.main))
        XCTAssertNil(f.config.daemon(named: "other"))
    }

    func testEveryOptionIsParsed() throws {
        let f = Fixture()
        let line = "WSGIDaemonProcess site processes=1 threads=0 user=nobody group=#65534 supplementary-groups=daemon,nogroup "
            + "umask=0027 home=/srv/site lang=en_GB.UTF-8 locale=C.UTF-8 python-home=/usr "
            + "python-path=/srv/site:/srv/lib python-eggs=/tmp/eggs display-name=%{GROUP} maximum-requests=1000 "
            + "inactivity-timeout=300 request-timeout=60 interrupt-timeout=10 socket-timeout=30 queue-timeout=45 graceful-timeout=20 "
            + "eviction-timeout=25 shutdown-timeout=6 restart-interval=3600 startup-timeout=15 connect-timeout=10 "
            + "deadlock-timeout=120 listen-backlog=50 send-buffer-size=512 receive-buffer-size=1024 "
            + "header-buffer-size=8192 response-buffer-size=131072 request-buffer-size=0 stack-size=524288 socket-user=daemon "
            + "script-user=nobody cpu-time-limit=100 cpu-priority=-5 memory-limit=1000000 "
            + "virtual-memory-limit=2000000 server-metrics=On newrelic-environment=prod"
        f.ok(line)
        let d = try XCTUnwrap(f.config.daemon(named: "site"))
        XCTAssertEqual(d.processes, 1)
        XCTAssertTrue(d.processesGiven)
        XCTAssertEqual(d.threads, 0)
        XCTAssertEqual(d.user, "nobody")
        XCTAssertEqual(d.uid, 65534)
        XCTAssertEqual(d.group, "nogroup")
        XCTAssertEqual(d.gid, 65534)
        XCTAssertEqual(d.supplementaryGroups, [1, 65534])
        XCTAssertEqual(d.umask, 0o027)
        XCTAssertEqual(d.home, "/srv/site")
        XCTAssertEqual(d.lang, "en_GB.UTF-8")
        XCTAssertEqual(d.locale, "C.UTF-8")
        XCTAssertEqual(d.pythonHome, "/usr")
        XCTAssertEqual(d.pythonPath, ["/srv/site", "/srv/lib"])
        XCTAssertEqual(d.pythonEggs, "/tmp/eggs")
        XCTAssertEqual(d.displayName, "(wsgi:site)")
        XCTAssertEqual(d.maximumRequests, 1000)
        XCTAssertEqual(d.inactivityTimeout, 300)
        XCTAssertEqual(d.requestTimeout, 60)
        XCTAssertEqual(d.interruptTimeout, 10)
        XCTAssertEqual(d.socketTimeout, 30)
        XCTAssertEqual(d.responseSocketTimeout, 30)
        XCTAssertEqual(d.queueTimeout, 45)
        XCTAssertEqual(d.gracefulTimeout, 20)
        XCTAssertEqual(d.evictionTimeout, 25)
        XCTAssertEqual(d.shutdownTimeout, 6)
        XCTAssertEqual(d.restartInterval, 3600)
        XCTAssertEqual(d.startupTimeout, 15)
        XCTAssertEqual(d.connectTimeout, 10)
        XCTAssertEqual(d.deadlockTimeout, 120)
        XCTAssertEqual(d.listenBacklog, 50)
        XCTAssertEqual(d.sendBufferSize, 512)
        XCTAssertEqual(d.receiveBufferSize, 1024)
        XCTAssertEqual(d.headerBufferSize, 8192)
        XCTAssertEqual(d.responseBufferSize, 131072)
        XCTAssertEqual(d.requestBufferSize, 0)
        XCTAssertEqual(d.stackSize, 524288)
        XCTAssertEqual(d.socketUser, "daemon")
        XCTAssertEqual(d.socketUID, 1)
        XCTAssertEqual(d.scriptUser, "nobody")
        XCTAssertEqual(d.scriptUID, nobody.uid)
        XCTAssertEqual(d.cpuTimeLimit, 100)
        XCTAssertEqual(d.cpuPriority, -5)
        XCTAssertEqual(d.memoryLimit, 1000000)
        XCTAssertEqual(d.virtualMemoryLimit, 2000000)
        XCTAssertTrue(d.serverMetrics)
    }

    func testLiteralDisplayNameAndZeroSizesMeanDefaults() throws {
        let f = Fixture()
        f.ok("WSGIDaemonProcess site display-name=my-site header-buffer-size=0 response-buffer-size=0 response-socket-timeout=7 Threads=4")
        let d = try XCTUnwrap(f.config.daemon(named: "site"))
        XCTAssertEqual(d.displayName, "my-site")
        XCTAssertEqual(d.headerBufferSize, 32768)
        XCTAssertEqual(d.responseBufferSize, 65536)
        XCTAssertEqual(d.responseSocketTimeout, 7)
        XCTAssertEqual(d.threads, 4)
    }

    func testMalformedOptions() {
        let cases: [(String, String)] = [
            ("processes=0", "option 'processes=0' must be at least 1"),
            ("processes=2x", "option 'processes=2x' is not a whole number"),
            ("processes=-3", "option 'processes=-3' must be at least 1"),
            ("processes=99999999999999999999", "option 'processes=99999999999999999999' is too large"),
            ("threads=1.5", "option 'threads=1.5' is not a whole number"),
            ("threads=-1", "option 'threads=-1' must not be negative"),
            ("threads= 4", "option 'threads=' has no value"),
            ("maximum-requests=-1", "option 'maximum-requests=-1' must not be negative"),
            ("request-timeout=1m", "option 'request-timeout=1m' is not a whole number"),
            ("interrupt-timeout=-1", "option 'interrupt-timeout=-1' must not be negative"),
            ("chroot=/nonexistent/jail", "option 'chroot=/nonexistent/jail' is not a directory"),
            ("chroot=srv/jail", "option 'chroot=srv/jail' must be an absolute path"),
            ("socket-user=nosuchuser", "option 'socket-user=nosuchuser' is not a known user"),
            ("script-group=nosuchgroup", "option 'script-group=nosuchgroup' is not a known group"),
            ("header-buffer-size=4096", "option 'header-buffer-size=4096' must be 0 (the default) or at least 8192"),
            ("response-buffer-size=100", "option 'response-buffer-size=100' must be 0 (the default) or at least 65536"),
            ("request-buffer-size=-1", "option 'request-buffer-size=-1' must not be negative"),
            ("request-buffer-size=1M", "option 'request-buffer-size=1M' is not a whole number"),
            ("send-buffer-size=511", "option 'send-buffer-size=511' must be 0 (the default) or at least 512"),
            ("receive-buffer-size=1", "option 'receive-buffer-size=1' must be 0 (the default) or at least 512"),
            ("stack-size=1024", "option 'stack-size=1024' must be 0 (the default) or at least 16384"),
            ("cpu-priority=20", "option 'cpu-priority=20' must be between -20 and 19"),
            ("umask=0089", "option 'umask=0089' is not an octal number"),
            ("umask=01777", "option 'umask=01777' must be at most 0777"),
            ("home=srv/site", "option 'home=srv/site' must be an absolute path"),
            ("server-metrics=maybe", "option 'server-metrics=maybe' must be On or Off"),
            ("bogus=1", "unknown option 'bogus=1'"),
            ("processes", "'processes' is not an option; options are written name=value"),
            ("=3", "'=3' is not an option; options are written name=value"),
            ("threads=2 threads=3", "option 'threads' is given more than once"),
            ("script-user=nobody script-group=nogroup", "options script-user and script-group cannot be used together"),
        ]
        for (options, expected) in cases {
            let f = Fixture()
            XCTAssertEqual(f.apply("WSGIDaemonProcess site \(options)"), "WSGIDaemonProcess: \(expected)", options)
            XCTAssertNil(f.config.daemon(named: "site"), options)
        }
        XCTAssertEqual(Fixture().apply("WSGIDaemonProcess site python-home=/nonexistent/venv"),
                       "WSGIDaemonProcess python-home '/nonexistent/venv' does not exist; WSGIDaemonProcess python-home must be sys.prefix of a Python 3.11 installation or virtual environment (not the bin/python file, not site-packages)")
    }

    func testOptionsWithoutEffectAreNoticedOncePerGroupAndOption() {
        let f = Fixture()
        f.ok("WSGIDaemonProcess a deadlock-timeout=60 request-timeout=5 server-metrics=On header-buffer-size=65536")
        f.ok("WSGIDaemonProcess b deadlock-timeout=60")
        XCTAssertEqual(f.config.notices, [
            "swsgi: WSGIDaemonProcess 'a': option 'deadlock-timeout' is accepted for compatibility with mod_wsgi but has no effect",
            "swsgi: WSGIDaemonProcess 'a': option 'server-metrics' is accepted for compatibility with mod_wsgi but has no effect",
            "swsgi: WSGIDaemonProcess 'a': option 'header-buffer-size' is accepted for compatibility with mod_wsgi but has no effect",
            "swsgi: WSGIDaemonProcess 'b': option 'deadlock-timeout' is accepted for compatibility with mod_wsgi but has no effect",
        ])
        XCTAssertEqual(Fixture().config.notices, [])
    }

    func testAChrootHoldsTheGroupsPythonAndScripts() throws {
        let jail = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: jail) }
        let f = Fixture()
        XCTAssertEqual(f.apply("WSGIDaemonProcess site chroot=\(jail) python-home=/usr"),
                       "WSGIDaemonProcess python-home '\(jail)/usr' does not exist; WSGIDaemonProcess python-home must be sys.prefix of a Python 3.11 installation or virtual environment (not the bin/python file, not site-packages)",
                       "python-home= is looked for inside the chroot, whatever the order of the options")
        f.ok("WSGIDaemonProcess site chroot=\(jail)/")
        let d = try XCTUnwrap(f.config.daemon(named: "site"))
        XCTAssertEqual(d.chroot, jail)
        XCTAssertEqual(d.inside("/usr"), jail + "/usr")
        XCTAssertEqual(d.seenInside(jail + "/srv/app.wsgi"), "/srv/app.wsgi")
        XCTAssertNil(d.seenInside(jail + "x/app.wsgi"))
        f.ok("WSGIScriptAlias / /srv/app.wsgi process-group=site")
        XCTAssertEqual(f.check(), "WSGIScriptAlias '/srv/app.wsgi' is for daemon process group 'site', whose chroot is '\(jail)': the script must be inside that directory")
        let g = Fixture()
        g.ok("WSGIDaemonProcess site chroot=\(jail)")
        g.ok("WSGIScriptAlias / \(jail)/srv/app.wsgi process-group=site")
        XCTAssertEqual(g.check(), "WSGIDaemonProcess 'site': its processes run inside chroot '\(jail)', which must hold their Python at '/usr': the Python '\(jail)/usr' does not exist; the Python must be sys.prefix of a Python 3.11 installation or virtual environment (not the bin/python file, not site-packages)")
    }

    func testNameMustComeFirst() {
        XCTAssertEqual(Fixture().apply("WSGIDaemonProcess processes=2"),
                       "WSGIDaemonProcess: 'processes=2' cannot be a process group name; the first argument must be the name, then options")
        XCTAssertEqual(Fixture().apply("WSGIDaemonProcess %{GLOBAL}"),
                       "WSGIDaemonProcess: '%{GLOBAL}' cannot be a process group name; the first argument must be the name, then options")
    }

    func testDuplicateNames() {
        let f = Fixture()
        let host = f.config.newScope()
        f.ok("WSGIDaemonProcess site threads=2")
        XCTAssertEqual(f.apply("WSGIDaemonProcess site", in: .virtualHost, scope: host),
                       "WSGIDaemonProcess: process group 'site' inside <VirtualHost> duplicates the one already defined in the main server configuration; daemon process group names must be unique across the server")
        XCTAssertEqual(f.apply("WSGIDaemonProcess site"),
                       "WSGIDaemonProcess: process group 'site' in the main server configuration duplicates the one already defined in the main server configuration; daemon process group names must be unique across the server")
        f.ok("WSGIDaemonProcess other", in: .virtualHost, scope: host)
        XCTAssertEqual(f.config.global.daemons.map(\.name), ["site", "other"])
        XCTAssertEqual(f.config.daemon(named: "site")?.threads, 2)
        XCTAssertEqual(f.config.daemon(named: "other")?.scope, Int(host))
    }

    func testUsersAndGroups() throws {
        let f = Fixture()
        f.ok("WSGIDaemonProcess a user=daemon group=daemon")
        let a = try XCTUnwrap(f.config.daemon(named: "a"))
        XCTAssertEqual(a.user, "daemon")
        XCTAssertEqual(a.uid, 1)
        XCTAssertEqual(a.group, "daemon")
        XCTAssertEqual(a.gid, 1)
        f.ok("WSGIDaemonProcess b user=#65534")
        XCTAssertEqual(f.config.daemon(named: "b")?.user, "nobody")
        XCTAssertEqual(f.config.daemon(named: "b")?.uid, 65534)
        XCTAssertEqual(f.apply("WSGIDaemonProcess c user=root"),
                       "WSGIDaemonProcess: refusing to run daemon process group 'c' as root")
        XCTAssertEqual(f.apply("WSGIDaemonProcess c user=#0"),
                       "WSGIDaemonProcess: refusing to run daemon process group 'c' as root")
        XCTAssertEqual(f.apply("WSGIDaemonProcess c user=no-such-user-swsgi"),
                       "WSGIDaemonProcess: option 'user=no-such-user-swsgi' is not a known user")
        XCTAssertEqual(f.apply("WSGIDaemonProcess c user=#4000000000"),
                       "WSGIDaemonProcess: option 'user=#4000000000' is not a known user")
        XCTAssertEqual(f.apply("WSGIDaemonProcess c group=no-such-group-swsgi"),
                       "WSGIDaemonProcess: option 'group=no-such-group-swsgi' is not a known group")
        XCTAssertEqual(f.apply("WSGIDaemonProcess c supplementary-groups=daemon,no-such-group-swsgi"),
                       "WSGIDaemonProcess: option 'supplementary-groups=daemon,no-such-group-swsgi' is not a known group")
        XCTAssertEqual(f.apply("WSGIDaemonProcess c socket-user=no-such-user-swsgi"),
                       "WSGIDaemonProcess: option 'socket-user=no-such-user-swsgi' is not a known user")
        XCTAssertNil(f.config.daemon(named: "c"))
    }

    func testUndefinedProcessGroupsAreReportedByCheck() {
        let f = Fixture()
        let dir = f.config.newScope()
        f.ok("WSGIProcessGroup %{GLOBAL}")
        f.ok("WSGIProcessGroup %{ENV:GROUP}", in: .directory, scope: dir)
        XCTAssertNil(f.check())
        f.ok("WSGIProcessGroup site", in: .directory, scope: dir)
        XCTAssertEqual(f.check(),
                       "WSGIProcessGroup: process group 'site' is used but no WSGIDaemonProcess defines it")
        f.ok("WSGIDaemonProcess site")
        XCTAssertNil(f.check())
        f.ok("WSGIScriptAlias /x /srv/x.wsgi process-group=other")
        XCTAssertEqual(f.check(),
                       "WSGIScriptAlias: process group 'other' is used but no WSGIDaemonProcess defines it")
        f.ok("WSGIDaemonProcess other")
        XCTAssertNil(f.check())
    }

    func testProblemsListsEveryProblemOnceWhereCheckStopsAtTheFirst() {
        let f = Fixture()
        let dir = f.config.newScope()
        f.ok("WSGIProcessGroup site", in: .directory, scope: dir)
        f.ok("WSGIScriptAlias /x /srv/x.wsgi process-group=other")
        f.ok("WSGIImportScript /srv/x.wsgi process-group=other application-group=%{GLOBAL}")
        XCTAssertEqual(f.config.problems(apacheUID: nobody.uid, apacheGID: nobody.gid), [
            "WSGIScriptAlias: process group 'other' is used but no WSGIDaemonProcess defines it",
            "WSGIImportScript: process group 'other' is used but no WSGIDaemonProcess defines it",
            "WSGIProcessGroup: process group 'site' is used but no WSGIDaemonProcess defines it",
        ])
        XCTAssertEqual(f.check(), "WSGIScriptAlias: process group 'other' is used but no WSGIDaemonProcess defines it")
    }
}
