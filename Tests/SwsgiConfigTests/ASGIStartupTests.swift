import XCTest
@testable import SwsgiConfig

/// Which ASGI apps a daemon group starts (lifespan) as its processes start: those whose
/// alias names the script and both groups without waiting for a request.
final class ASGIStartupTests: XCTestCase {
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
        // Not ASGI, or another group's.
        f.ok("WSGIScriptAlias /h /srv/h.wsgi process-group=api application-group=%{GLOBAL}")
        f.ok("WSGIScriptAlias /i /srv/i.py process-group=other application-group=%{GLOBAL} interface=asgi")
        XCTAssertEqual(f.config.asgiStartups(group: "api"), [
            ASGIStartup(script: "/srv/a.py", applicationGroup: "", callable: "application"),
            ASGIStartup(script: "/srv/b.py", applicationGroup: "shop", callable: "app"),
        ])
        XCTAssertEqual(f.config.asgiStartups(group: "other"), [ASGIStartup(script: "/srv/i.py", applicationGroup: "", callable: "application")])
    }

    func testAnAppMountedTwiceStartsOnce() {
        let f = Fixture()
        f.ok("WSGIDaemonProcess api")
        f.ok("WSGIScriptAlias /a /srv/a.py process-group=api application-group=%{GLOBAL} interface=asgi")
        f.ok("WSGIScriptAlias /b /srv/a.py process-group=api application-group=%{GLOBAL} interface=asgi")
        XCTAssertEqual(f.config.asgiStartups(group: "api").count, 1)
    }
}
