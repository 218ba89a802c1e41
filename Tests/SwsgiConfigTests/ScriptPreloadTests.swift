import XCTest
@testable import SwsgiConfig

/// Which scripts a process group loads (and which ASGI apps it starts) as its processes
/// start: those whose alias names the script and both groups without waiting for a request.
final class ScriptPreloadTests: XCTestCase {
    func testOnlyAliasesThatNameBothGroupsAndOneScript() {
        let f = Fixture()
        f.ok("WSGIDaemonProcess api")
        f.ok("WSGIDaemonProcess other")
        f.ok("WSGIScriptAlias /a /srv/a.py process-group=api application-group=%{GLOBAL} interface=asgi")
        f.ok("WSGIScriptAlias /b /srv/b.py process-group=api application-group=shop callable-object=app interface=asgi")
        // A request names these: the default %{RESOURCE}, %{SERVER}, a directory's scripts, $1.
        f.ok("WSGIScriptAlias /c /srv/c.py process-group=api interface=asgi")
        f.ok("WSGIScriptAlias /d /srv/d.py process-group=api application-group=%{SERVER} interface=asgi")
        f.ok("WSGIScriptAlias /e /srv/scripts/ process-group=api application-group=%{GLOBAL} interface=asgi")
        f.ok("WSGIScriptAliasMatch ^/f/(\\w+) /srv/$1.py process-group=api application-group=%{GLOBAL} interface=asgi")
        f.ok("WSGIScriptAliasMatch ^/g/(\\w+) /srv/g.py process-group=api application-group=$1 interface=asgi")
        // A WSGI script qualifies as well; another group's does not.
        f.ok("WSGIScriptAlias /h /srv/h.wsgi process-group=api application-group=%{GLOBAL}")
        f.ok("WSGIScriptAlias /i /srv/i.py process-group=other application-group=%{GLOBAL} interface=asgi")
        XCTAssertEqual(f.config.scriptPreloads(group: .named("api")), [
            ScriptPreload(script: "/srv/a.py", applicationGroup: "", callable: "application", asgi: true),
            ScriptPreload(script: "/srv/b.py", applicationGroup: "shop", callable: "app", asgi: true),
            ScriptPreload(script: "/srv/h.wsgi", applicationGroup: "", callable: "application", asgi: false),
        ])
        XCTAssertEqual(f.config.scriptPreloads(group: .named("other")),
                       [ScriptPreload(script: "/srv/i.py", applicationGroup: "", callable: "application", asgi: true)])
    }

    func testEmbeddedAliasesNameProcessGroupGlobal() {
        let f = Fixture()
        f.ok("WSGIScriptAlias /a /srv/a.wsgi process-group=%{GLOBAL} application-group=shop")
        // Without process-group= mod_wsgi does not preload, whatever the application group.
        f.ok("WSGIScriptAlias /b /srv/b.wsgi application-group=%{GLOBAL}")
        XCTAssertEqual(f.config.scriptPreloads(group: .embedded),
                       [ScriptPreload(script: "/srv/a.wsgi", applicationGroup: "shop", callable: "application", asgi: false)])
    }

    func testAScriptMountedTwiceLoadsOnce() {
        let f = Fixture()
        f.ok("WSGIDaemonProcess api")
        f.ok("WSGIScriptAlias /a /srv/a.py process-group=api application-group=%{GLOBAL} interface=asgi")
        f.ok("WSGIScriptAlias /b /srv/a.py process-group=api application-group=%{GLOBAL} interface=asgi")
        XCTAssertEqual(f.config.scriptPreloads(group: .named("api")).count, 1)
    }
}
