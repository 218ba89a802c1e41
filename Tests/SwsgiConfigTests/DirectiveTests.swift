import XCTest
@testable import SwsgiConfig

final class DirectiveTests: XCTestCase {
    func testProcessWideDirectivesAreStored() {
        let f = Fixture()
        f.ok("WSGIPythonHome /usr")
        f.ok("WSGIPythonPath /srv/a::/srv/b:")
        f.ok("WSGIPythonOptimize 2")
        f.ok("WSGIPythonHashSeed 4294967295")
        f.ok("WSGIPythonWarnings ignore::DeprecationWarning")
        f.ok("WSGIPythonWarnings error")
        f.ok("wsgidontwritebytecode ON")
        f.ok("WSGISocketPrefix /var/run/apache2/wsgi")
        f.ok("WSGIRestrictEmbedded on")
        let g = f.config.global
        XCTAssertEqual(g.pythonHome, "/usr")
        XCTAssertEqual(g.pythonPath, ["/srv/a", "/srv/b"])
        XCTAssertEqual(g.pythonOptimize, 2)
        XCTAssertEqual(g.pythonHashSeed, .value(4294967295))
        XCTAssertEqual(g.pythonWarnings, ["ignore::DeprecationWarning", "error"])
        XCTAssertTrue(g.dontWriteBytecode)
        XCTAssertEqual(g.socketPrefix, "/var/run/apache2/wsgi")
        XCTAssertTrue(g.restrictEmbedded)
        f.ok("WSGIPythonHashSeed random")
        XCTAssertEqual(f.config.global.pythonHashSeed, .random)
    }

    func testDefaults() {
        let g = Fixture().config.global
        XCTAssertNil(g.pythonHome)
        XCTAssertEqual(g.pythonOptimize, 0)
        XCTAssertNil(g.pythonHashSeed)
        XCTAssertFalse(g.dontWriteBytecode)
        XCTAssertFalse(g.restrictEmbedded)
        XCTAssertTrue(g.lazyInitialization)
        XCTAssertTrue(g.restrictSignal)
        XCTAssertFalse(g.restrictStdout)
        XCTAssertEqual(g.acceptMutex, "default")
        XCTAssertTrue(g.daemons.isEmpty)
    }

    func testImportScript() {
        let f = Fixture()
        f.ok("WSGIDaemonProcess site")
        f.ok("WSGIImportScript /srv/preload.py process-group=site application-group=%{GLOBAL}")
        let script = f.config.global.importScripts.first
        XCTAssertEqual(script?.path, "/srv/preload.py")
        XCTAssertEqual(script?.processGroup, .named("site"))
        XCTAssertEqual(script?.applicationGroup, .global)
        XCTAssertNotNil(f.apply("WSGIImportScript /srv/preload.py process-group=site"))
        XCTAssertNotNil(f.apply("WSGIImportScript /srv/preload.py process-group=site application-group=%{RESOURCE}"))
        XCTAssertNotNil(f.apply("WSGIImportScript relative.py process-group=site application-group=x"))
        f.ok("WSGIImportScript /srv/preload.py process-group=ghost application-group=x")
        XCTAssertEqual(f.check(), "WSGIImportScript: process group 'ghost' is used but no WSGIDaemonProcess defines it")
    }

    func testNoEffectDirectivesAreCheckedButAccepted() {
        let f = Fixture()
        for line in ["WSGIIgnoreActivity Off", "WSGIPassApacheRequest Off"] {
            f.ok(line)
        }
        XCTAssertNotNil(f.apply("WSGIIgnoreActivity yes"))
    }

    func testErrorOverrideHeadMappingAndSendfile() {
        let f = Fixture()
        XCTAssertNil(f.config.scope(f.main).mapHEADToGET)
        f.ok("WSGIErrorOverride On")
        f.ok("WSGIMapHEADToGET on")
        XCTAssertEqual(f.config.scope(f.main).errorOverride, true)
        XCTAssertEqual(f.config.scope(f.main).mapHEADToGET, .on)
        XCTAssertEqual(f.apply("WSGIMapHEADToGET Sometimes"), "WSGIMapHEADToGET: 'Sometimes' is not On, Off or Auto")
        XCTAssertNil(f.config.scope(f.main).enableSendfile)
        f.ok("WSGIEnableSendfile On")
        XCTAssertEqual(f.config.scope(f.main).enableSendfile, true)
        XCTAssertNotNil(f.apply("WSGIEnableSendfile yes"))
    }

    func testCompatibilityDirectivesAreAcceptedAndStored() {
        let f = Fixture()
        for line in ["WSGILazyInitialization Off", "WSGIRestrictStdout On", "WSGIRestrictStdin On",
                     "WSGIRestrictSignal Off", "WSGIDestroyInterpreter Off", "WSGISocketRotation Off",
                     "WSGIVerboseDebugging On", "WSGICaseSensitivity Off", "WSGIAcceptMutex FCNTL",
                     "WSGIPythonEggs /tmp/eggs"] {
            f.ok(line)
        }
        let g = f.config.global
        XCTAssertFalse(g.lazyInitialization)
        XCTAssertTrue(g.restrictStdout)
        XCTAssertTrue(g.restrictStdin)
        XCTAssertFalse(g.restrictSignal)
        XCTAssertFalse(g.destroyInterpreter)
        XCTAssertFalse(g.socketRotation)
        XCTAssertTrue(g.verboseDebugging)
        XCTAssertFalse(g.caseSensitivity)
        XCTAssertEqual(g.acceptMutex, "fcntl")
        XCTAssertEqual(g.pythonEggs, "/tmp/eggs")
        XCTAssertEqual(f.apply("WSGIAcceptMutex spinlock"),
                       "WSGIAcceptMutex: 'spinlock' is not a lock mechanism; use one of default, flock, fcntl, sysvsem, posixsem, pthread")
    }

    func testDirectivesWithoutEffectAreNoticedOnce() {
        let f = Fixture()
        for line in ["WSGIRestrictStdout On", "WSGIRestrictStdout Off", "WSGIEnableSendfile Off", "WSGIAcceptMutex flock",
                     "WSGIPythonHashSeed 1", "WSGIPassApacheRequest On"] {
            f.ok(line)
        }
        XCTAssertEqual(f.config.notices, [
            "swsgi: WSGIRestrictStdout is accepted for compatibility with mod_wsgi but has no effect",
            "swsgi: WSGIAcceptMutex is accepted for compatibility with mod_wsgi but has no effect",
            "swsgi: WSGIPassApacheRequest is accepted for compatibility with mod_wsgi but has no effect",
        ])
        XCTAssertNotNil(Fixture().apply("WSGIRestrictStdout maybe"))
    }

    func testRestrictProcess() {
        let f = Fixture()
        let dir = f.config.newScope()
        f.ok("WSGIDaemonProcess a")
        f.ok("WSGIRestrictProcess a %{GLOBAL}")
        f.ok("WSGIRestrictProcess b", in: .directory, scope: dir)
        XCTAssertEqual(f.config.scope(f.main).restrictProcess, ["a", ""])
        XCTAssertEqual(f.config.scope(f.config.merge(base: f.main, add: dir)).restrictProcess, ["b"], "the directory's list replaces the server's")
        XCTAssertEqual(f.config.scope(f.config.merge(base: f.main, add: f.config.newScope())).restrictProcess, ["a", ""])
        XCTAssertEqual(f.check(), "WSGIRestrictProcess: process group 'b' is not defined by any WSGIDaemonProcess")
        XCTAssertEqual(f.apply("WSGIRestrictProcess %{ENV:X}"),
                       "WSGIRestrictProcess: '%{ENV:X}' is not a process group name; use the name of a WSGIDaemonProcess or %{GLOBAL}")
        XCTAssertEqual(f.apply("WSGIRestrictProcess a", in: .htaccess),
                       "WSGIRestrictProcess cannot be used in .htaccess files: put it in the server configuration, a <VirtualHost>, <Directory> or <Location>")
    }

    func testValueErrors() {
        let f = Fixture()
        XCTAssertEqual(f.apply("WSGIPythonOptimize 3"), "WSGIPythonOptimize: '3' must be between 0 and 2")
        XCTAssertEqual(f.apply("WSGIPythonOptimize 1x"), "WSGIPythonOptimize: '1x' is not a whole number")
        XCTAssertEqual(f.apply("WSGIPythonOptimize -1"), "WSGIPythonOptimize: '-1' must be between 0 and 2")
        XCTAssertEqual(f.apply("WSGIPythonHashSeed 4294967296"),
                       "WSGIPythonHashSeed: '4294967296' must be 'random' or a whole number from 0 to 4294967295")
        XCTAssertEqual(f.apply("WSGIPythonHashSeed -1"),
                       "WSGIPythonHashSeed: '-1' must be 'random' or a whole number from 0 to 4294967295")
        XCTAssertEqual(f.apply("WSGIPythonHashSeed 12ab"),
                       "WSGIPythonHashSeed: '12ab' must be 'random' or a whole number from 0 to 4294967295")
        XCTAssertEqual(f.apply("WSGIRestrictEmbedded yes"), "WSGIRestrictEmbedded: 'yes' must be On or Off")
        XCTAssertEqual(f.apply("WSGIPassAuthorization 1"), "WSGIPassAuthorization: '1' must be On or Off")
        XCTAssertEqual(f.apply("WSGIPythonHome /nonexistent/python"),
                       "WSGIPythonHome '/nonexistent/python' does not exist; WSGIPythonHome must be sys.prefix of a Python 3.11 installation or virtual environment (not the bin/python file, not site-packages)")
        XCTAssertNil(f.config.global.pythonHome)
        XCTAssertEqual(f.config.global.pythonOptimize, 0)
    }

    func testArgumentCounts() {
        let f = Fixture()
        XCTAssertEqual(f.apply("WSGIPythonOptimize"), "WSGIPythonOptimize expects 1 argument (WSGIPythonOptimize 0|1|2) but got 0")
        XCTAssertEqual(f.apply("WSGIRestrictEmbedded On Off"), "WSGIRestrictEmbedded expects 1 argument (WSGIRestrictEmbedded On|Off) but got 2")
        XCTAssertEqual(f.apply("WSGIScriptAlias /app"),
                       "WSGIScriptAlias expects 2 to 7 arguments (WSGIScriptAlias URL-path file-or-directory [process-group=name] [application-group=name] [callable-object=name] [pass-authorization=On|Off] [interface=wsgi|asgi]) but got 1")
        XCTAssertEqual(f.apply("WSGIDaemonProcess"), "WSGIDaemonProcess expects at least 1 argument (WSGIDaemonProcess name [option=value ...]) but got 0")
        XCTAssertEqual(f.apply("WSGIProcessGroup a b"), "WSGIProcessGroup expects 1 argument (WSGIProcessGroup name|%{GLOBAL}|%{ENV:variable}) but got 2")
    }

    func testUnknownDirective() {
        XCTAssertEqual(Fixture().apply("WSGIFrobnicate On"), "WSGIFrobnicate is not a swsgi directive")
    }

    func testNamesAreCaseInsensitiveAndMessagesUseTheCanonicalName() {
        let f = Fixture()
        XCTAssertEqual(f.apply("wsgipythonoptimize 9"), "WSGIPythonOptimize: '9' must be between 0 and 2")
    }

    func testProcessWideDirectivesOnlyInTheMainServer() {
        let processWide = ["WSGIPythonHome /usr", "WSGIPythonPath /a", "WSGIPythonOptimize 1", "WSGIPythonHashSeed 1",
                           "WSGIPythonWarnings error", "WSGIDontWriteBytecode On", "WSGISocketPrefix /run/wsgi",
                           "WSGIRestrictEmbedded On", "WSGILazyInitialization On", "WSGIRestrictStdout On",
                           "WSGIRestrictStdin On", "WSGIRestrictSignal On", "WSGIDestroyInterpreter On",
                           "WSGISocketRotation On", "WSGIAcceptMutex default", "WSGIVerboseDebugging On",
                           "WSGICaseSensitivity On", "WSGIPythonEggs /tmp"]
        let f = Fixture()
        for line in processWide {
            let name = String(line.split(separator: " ")[0])
            f.ok(line)
            XCTAssertEqual(f.apply(line, in: .virtualHost),
                           "\(name) cannot be used inside <VirtualHost>: it is process-wide; put it in the main server configuration")
            XCTAssertEqual(f.apply(line, in: .directory),
                           "\(name) cannot be used inside <Directory>, <Location> or <Files>: it is process-wide; put it in the main server configuration")
            XCTAssertEqual(f.apply(line, in: .htaccess),
                           "\(name) cannot be used in .htaccess files: it is process-wide; put it in the main server configuration")
        }
    }

    func testServerAndVirtualHostOnlyDirectives() {
        let f = Fixture()
        f.ok("WSGIScriptAlias / /srv/app.wsgi", in: .virtualHost)
        f.ok("WSGIDaemonProcess vh", in: .virtualHost)
        XCTAssertEqual(f.apply("WSGIScriptAlias / /srv/app.wsgi", in: .directory),
                       "WSGIScriptAlias cannot be used inside <Directory>, <Location> or <Files>: put it in the main server configuration or a <VirtualHost>")
        XCTAssertEqual(f.apply("WSGIDaemonProcess d", in: .directory),
                       "WSGIDaemonProcess cannot be used inside <Directory>, <Location> or <Files>: put it in the main server configuration or a <VirtualHost>")
        XCTAssertEqual(f.apply("WSGIDaemonProcess d", in: .htaccess),
                       "WSGIDaemonProcess cannot be used in .htaccess files: put it in the main server configuration or a <VirtualHost>")
    }

    func testGroupDirectivesNotInHtaccess() {
        let f = Fixture()
        for context in [DirectiveContext.server, .virtualHost, .directory] {
            f.ok("WSGIProcessGroup %{GLOBAL}", in: context)
            f.ok("WSGIApplicationGroup %{GLOBAL}", in: context)
        }
        XCTAssertEqual(f.apply("WSGIProcessGroup x", in: .htaccess),
                       "WSGIProcessGroup cannot be used in .htaccess files: put it in the server configuration, a <VirtualHost>, <Directory> or <Location>")
        XCTAssertEqual(f.apply("WSGIApplicationGroup x", in: .htaccess),
                       "WSGIApplicationGroup cannot be used in .htaccess files: put it in the server configuration, a <VirtualHost>, <Directory> or <Location>")
    }

    func testPerDirectoryDirectivesEverywhere() {
        let f = Fixture()
        for context in [DirectiveContext.server, .virtualHost, .directory, .htaccess] {
            let scope = f.config.newScope()
            f.ok("WSGICallableObject app", in: context, scope: scope)
            f.ok("WSGIPassAuthorization On", in: context, scope: scope)
            f.ok("WSGIChunkedRequest on", in: context, scope: scope)
            f.ok("WSGIScriptReloading Off", in: context, scope: scope)
            let s = f.config.scope(scope)
            XCTAssertEqual(s.callableObject, "app")
            XCTAssertEqual(s.passAuthorization, true)
            XCTAssertEqual(s.chunkedRequest, true)
            XCTAssertEqual(s.scriptReloading, false)
        }
        XCTAssertNil(f.config.scope(f.main).passAuthorization)
    }

    func testHtaccessDirectivesGiveTheSameScopeEveryTime() {
        let f = Fixture()
        func read() -> Int32 {
            let first = f.config.applyHtaccess(base: -1, name: "WSGICallableObject", args: ["app"])
            let second = f.config.applyHtaccess(base: first.scope, name: "WSGIErrorOverride", args: ["On"])
            XCTAssertNil(first.error)
            XCTAssertNil(second.error)
            return second.scope
        }
        let scope = read()
        XCTAssertEqual(read(), scope)
        XCTAssertEqual(f.config.scope(scope).callableObject, "app")
        XCTAssertEqual(f.config.scope(scope).errorOverride, true)
        let refused = f.config.applyHtaccess(base: -1, name: "WSGIPassApacheRequest", args: ["On"])
        XCTAssertEqual(refused.error, "WSGIPassApacheRequest cannot be used in .htaccess files: put it in the server configuration, a <VirtualHost>, <Directory> or <Location>")
        XCTAssertEqual(f.config.applyHtaccess(base: -1, name: "WSGIPassApacheRequest", args: ["On"]).scope, refused.scope)
    }

    func testApplicationGroups() {
        let cases: [(String, ApplicationGroup)] = [
            ("%{GLOBAL}", .global), ("%{RESOURCE}", .resource), ("%{SERVER}", .server), ("%{HOST}", .host),
            ("%{ENV:APP_GROUP}", .env("APP_GROUP")), ("portal", .named("portal")),
        ]
        let f = Fixture()
        for (word, expected) in cases {
            f.ok("WSGIApplicationGroup \(word)")
            XCTAssertEqual(f.config.scope(f.main).applicationGroup, expected)
        }
        XCTAssertEqual(f.config.apply(scope: f.main, context: .server, name: "WSGIApplicationGroup", args: [""]), nil)
        XCTAssertEqual(f.config.scope(f.main).applicationGroup, .global)
        XCTAssertEqual(f.apply("WSGIApplicationGroup %{GLOBALS}"),
                       "WSGIApplicationGroup: '%{GLOBALS}' is not supported; use %{GLOBAL}, %{RESOURCE}, %{SERVER}, %{HOST}, %{ENV:variable} or a name")
        XCTAssertEqual(f.apply("WSGIApplicationGroup %{ENV:}"), "WSGIApplicationGroup: '%{ENV:}' names no environment variable")
    }

    func testProcessGroups() {
        let f = Fixture()
        f.ok("WSGIProcessGroup %{GLOBAL}")
        XCTAssertEqual(f.config.scope(f.main).processGroup, .embedded)
        f.ok("WSGIProcessGroup %{ENV:GROUP}")
        XCTAssertEqual(f.config.scope(f.main).processGroup, .env("GROUP"))
        f.ok("WSGIProcessGroup site")
        XCTAssertEqual(f.config.scope(f.main).processGroup, .named("site"))
        XCTAssertEqual(f.apply("WSGIProcessGroup %{RESOURCE}"),
                       "WSGIProcessGroup: '%{RESOURCE}' is not supported; use %{GLOBAL}, %{ENV:variable} or the name of a WSGIDaemonProcess")
        XCTAssertEqual(f.config.apply(scope: f.main, context: .server, name: "WSGIProcessGroup", args: [""]),
                       "WSGIProcessGroup: '' is not supported; use %{GLOBAL}, %{ENV:variable} or the name of a WSGIDaemonProcess")
    }

    func testCallableObject() {
        let f = Fixture()
        f.ok("WSGICallableObject %{ENV:CALLABLE}")
        XCTAssertEqual(f.config.scope(f.main).callableObject, "%{ENV:CALLABLE}")
        XCTAssertEqual(f.config.apply(scope: f.main, context: .server, name: "WSGICallableObject", args: [""]),
                       "WSGICallableObject: '' is not a name")
    }

    func testUnknownScopeIsAnErrorNotACrash() {
        XCTAssertEqual(Fixture().apply("WSGIChunkedRequest On", scope: 99),
                       "WSGIChunkedRequest: internal error, scope 99 was never created")
    }
}

final class InterpreterOptionsTests: XCTestCase {
    private func fixture(python: (major: Int, minor: Int) = (3, 12)) -> Fixture { Fixture(python: python) }

    func testPerInterpreterGILNeedsPython312() {
        XCTAssertEqual(fixture(python: python311).apply("WSGIPerInterpreterGIL On"),
                       "WSGIPerInterpreterGIL On needs Python 3.12 or newer (PEP 684's per-interpreter GIL); this module is built for Python 3.11")
        XCTAssertNil(fixture(python: python311).apply("WSGIPerInterpreterGIL Off"))
    }

    func testSectionsChooseTheMostSpecificSetting() {
        let f = fixture()
        XCTAssertNil(f.apply("WSGIPerInterpreterGIL On"))
        XCTAssertNil(f.apply("<WSGIInterpreterOptions> process-group=d"))
        XCTAssertNil(f.apply("WSGIPerInterpreterGIL Off"))
        XCTAssertNil(f.apply("</WSGIInterpreterOptions>"))
        XCTAssertNil(f.apply("<WSGIInterpreterOptions> process-group=d application-group=fast"))
        XCTAssertNil(f.apply("WSGIPerInterpreterGIL On"))
        XCTAssertNil(f.apply("</WSGIInterpreterOptions>"))
        let global = f.config.global
        XCTAssertTrue(global.ownGIL(processGroup: "", applicationGroup: "app"))
        XCTAssertFalse(global.ownGIL(processGroup: "d", applicationGroup: "app"))
        XCTAssertTrue(global.ownGIL(processGroup: "d", applicationGroup: "fast"))
        XCTAssertFalse(global.ownGIL(processGroup: "", applicationGroup: ""), "the main interpreter keeps the process's GIL")
    }

    func testOnlyPerInterpreterDirectivesInsideASection() {
        let f = fixture()
        XCTAssertNil(f.apply("<WSGIInterpreterOptions> application-group=%{GLOBAL}"))
        XCTAssertEqual(f.apply("WSGIPythonOptimize 1"), "WSGIPythonOptimize cannot be used inside <WSGIInterpreterOptions>: only WSGIPerInterpreterGIL can")
        XCTAssertEqual(f.apply("<WSGIInterpreterOptions>"), "<WSGIInterpreterOptions> sections cannot be nested")
        XCTAssertNil(f.apply("</WSGIInterpreterOptions>"))
        XCTAssertNil(f.apply("WSGIPythonOptimize 1"))
        XCTAssertEqual(f.apply("<WSGIInterpreterOptions> group=x"),
                       "<WSGIInterpreterOptions>: option 'group=x' is unknown; use process-group= and application-group=")
    }
}
