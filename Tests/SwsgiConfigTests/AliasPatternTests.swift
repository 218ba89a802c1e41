import XCTest
@testable import SwsgiConfig

final class AliasPatternTests: XCTestCase {
    private func target(_ f: Fixture, _ uri: [UInt8]) -> String? {
        f.config.translate(scope: f.main, uri: uri).map { String(decoding: $0.target, as: UTF8.self) }
    }

    func testTargetSubstitutionAndTheRestOfTheURI() {
        let f = Fixture()
        f.ok("WSGIScriptAliasMatch ^/([^/]+)/api /srv/$1/wsgi.py")
        f.ok("WSGIScriptAliasMatch ^/ /srv/root.wsgi")
        XCTAssertEqual(target(f, Array("/blog/api/x/y".utf8)), "/srv/blog/wsgi.py/x/y")
        XCTAssertEqual(target(f, Array("/blog/api".utf8)), "/srv/blog/wsgi.py")
        // A match of "/" alone is followed by the whole URI, as mod_wsgi does.
        XCTAssertEqual(target(f, Array("/other".utf8)), "/srv/root.wsgi/other")
    }

    func testSubstitutionRules() {
        let groups: [[UInt8]?] = [Array("/a/b".utf8), Array("a".utf8), nil]
        XCTAssertEqual(AliasPattern.substitute("x$1y$2z&\\$1$9", groups), Array("xayz/a/b$1".utf8))
    }

    func testURIBytesThatAreNotUTF8MatchAsBytes() {
        let f = Fixture()
        f.ok("WSGIScriptAliasMatch ^/(.)x /srv/$1.wsgi")
        XCTAssertEqual(f.config.translate(scope: f.main, uri: [0x2F, 0xE9, 0x78, 0x2F])?.target,
                       Array("/srv/".utf8) + [0xE9] + Array(".wsgi/".utf8))
    }

    func testBadPatternNamesTheDirectiveAndThePattern() {
        let f = Fixture()
        let error = f.apply("WSGIScriptAliasMatch ^/(open /srv/x.wsgi")
        XCTAssertTrue(error?.hasPrefix("WSGIScriptAliasMatch: '^/(open' is not a regular expression") == true, error ?? "")
        XCTAssertNotNil(f.apply("WSGIScriptAliasMatch ^/x relative.wsgi"))
        XCTAssertNotNil(f.apply("WSGIScriptAliasMatch ^/x /srv/x.wsgi bogus=1"))
    }

    func testGroupsAreSubstitutedPerRequest() throws {
        let f = Fixture()
        f.ok("WSGIScriptAliasMatch ^/([^/]+) /srv/$1/wsgi.py process-group=site-$1 application-group=app-$1")
        let alias = f.config.alias(scope: f.main, index: 0)
        XCTAssertEqual(alias.processGroup(for: Array("/blog/x".utf8)), .named("site-blog"))
        XCTAssertEqual(alias.applicationGroup(for: Array("/blog/x".utf8)), .named("app-blog"))
        XCTAssertNil(alias.fixedTarget)
    }

    func testConfigtestChecksTheGroupsAPatternCanName() {
        let f = Fixture()
        f.ok("WSGIDaemonProcess blog")
        f.ok("WSGIScriptAliasMatch ^/(blog|shop)(/|$) /srv/$1.wsgi process-group=$1")
        XCTAssertEqual(f.check(), "WSGIScriptAliasMatch ^/(blog|shop)(/|$): process-group=$1 can name 'shop', but no WSGIDaemonProcess defines it")
        f.ok("WSGIDaemonProcess shop")
        XCTAssertNil(f.check())
    }

    func testUndecidableGroupsWaitForTheRequest() {
        for pattern in ["^/([a-z]+)", "^/(blog|shop)?", "^/x|/(blog|shop)", "^/((blog|shop))*", "(?i)^/(blog)", "^/(b.g)"] {
            let f = Fixture()
            f.ok("WSGIScriptAliasMatch \(pattern) /srv/x.wsgi process-group=$1")
            XCTAssertNil(f.check(), pattern)
        }
    }

    func testNamesOfLaterGroups() throws {
        let pattern = try AliasPattern("^/(?:x|y)/(a|b)/[(|)]/(?<n>c\\.d)")
        XCTAssertEqual(pattern.names("$1-$2"), ["a-c.d", "b-c.d"])
    }
}

final class ScriptDirectiveTests: XCTestCase {
    func testHandlerScripts() {
        let f = Fixture()
        f.ok("WSGIHandlerScript Bobo-Script /srv/handler.wsgi process-group=g application-group=%{GLOBAL} pass-authorization=On")
        let handler = f.config.scope(f.main).handlerScripts["bobo-script"]
        XCTAssertEqual(handler?.path, "/srv/handler.wsgi")
        XCTAssertEqual(handler?.processGroup, .named("g"))
        XCTAssertEqual(handler?.applicationGroup, .global)
        XCTAssertEqual(handler?.passAuthorization, true)
        XCTAssertEqual(f.check(), "WSGIHandlerScript: process group 'g' is used but no WSGIDaemonProcess defines it")
        XCTAssertEqual(f.apply("WSGIHandlerScript x /srv/h.wsgi callable-object=y"),
                       "WSGIHandlerScript: option 'callable-object=y' is unknown; use process-group=, application-group= or pass-authorization=")
        XCTAssertNotNil(f.apply("WSGIHandlerScript x /srv/h.wsgi", in: .htaccess))
    }

    func testDispatchScripts() {
        let f = Fixture()
        f.ok("WSGIDispatchScript /srv/dispatch.wsgi")
        XCTAssertEqual(f.config.scope(f.main).dispatchScript?.applicationGroup, .global)
        f.ok("WSGIDispatchScript /srv/dispatch.wsgi application-group=%{SERVER}")
        XCTAssertEqual(f.config.scope(f.main).dispatchScript?.applicationGroup, .server)
        XCTAssertEqual(f.apply("WSGIDispatchScript dispatch.wsgi"), "WSGIDispatchScript: script 'dispatch.wsgi' must be an absolute path")
        XCTAssertNotNil(f.apply("WSGIDispatchScript /srv/d.wsgi process-group=g"))
        XCTAssertNotNil(f.apply("WSGIDispatchScript /srv/d.wsgi", in: .htaccess))
    }
}
