import XCTest
@testable import SwsgiConfig

final class TrustedProxiesTests: XCTestCase {
    private func range(_ text: String) throws -> AddressRange { try AddressRange(parsing: text) }
    private func address(_ text: String) -> [UInt8] { parseAddress(text)! }

    func testRanges() throws {
        XCTAssertTrue(try range("10.0.0.0/8").contains(address("10.200.3.4")))
        XCTAssertFalse(try range("10.0.0.0/8").contains(address("11.0.0.1")))
        XCTAssertTrue(try range("172.16.0.0/255.240.0.0").contains(address("172.31.255.255")))
        XCTAssertFalse(try range("172.16.0.0/255.240.0.0").contains(address("172.32.0.0")))
        XCTAssertTrue(try range("192.168").contains(address("192.168.7.9")))
        XCTAssertFalse(try range("192.168").contains(address("192.169.0.1")))
        XCTAssertTrue(try range("127.0.0.1").contains(address("127.0.0.1")))
        XCTAssertFalse(try range("127.0.0.1").contains(address("127.0.0.2")))
        XCTAssertTrue(try range("2001:DB8::/32").contains(address("2001:db8:1::5")))
        XCTAssertFalse(try range("2001:db8::/32").contains(address("2001:db9::5")))
        XCTAssertTrue(try range("::1").contains(address("::1")))
        // An IPv4 peer Apache reports in its IPv6-mapped form is the same address.
        XCTAssertTrue(try range("10.0.0.0/8").contains(address("::ffff:10.1.2.3")))
        XCTAssertTrue(try range("0.0.0.0/0").contains(address("8.8.8.8")))
        for bad in ["10.0.0.0/33", "::/129", "host.example", "10.1/16", "1.2.3.4/255.0.255.0", "fe80::1%eth0", "", "1.2.3.4.5", "10.256"] {
            XCTAssertThrowsError(try range(bad), bad)
        }
    }

    private let removed = "(removed)"

    /// The edits as a dictionary, a removal as `removed`.
    private func rewrite(_ headers: [ProxyHeader], _ proxies: [String]?, _ environ: [String: String]) throws -> [String: String] {
        let settings = TrustedProxies(headers: headers, proxies: try proxies?.map(range))
        var result: [String: String] = [:]
        for edit in settings.rewrite({ environ[$0] }) { result[edit.key] = edit.value ?? removed }
        return result
    }

    func testTrustedPeer() throws {
        let edits = try rewrite([.realIP, .forwardedProto, .host], ["127.0.0.1"], [
            "REMOTE_ADDR": "127.0.0.1", "HTTP_X_REAL_IP": " 203.0.113.7 ", "HTTP_X_CLIENT_IP": "6.6.6.6",
            "HTTP_X_FORWARDED_PROTO": "HTTPS", "HTTP_X_HTTPS": "0", "HTTP_X_HOST": "www.example.org"])
        XCTAssertEqual(edits, ["REMOTE_ADDR": "203.0.113.7", "HTTP_X_CLIENT_IP": removed, "HTTPS": "1",
                               "HTTP_X_HTTPS": removed, "HTTP_HOST": "www.example.org"])
    }

    func testUntrustedPeerLosesTheWholeFamily() throws {
        let edits = try rewrite([.forwardedFor], ["10.0.0.0/8"], [
            "REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "6.6.6.6", "HTTP_X_CLIENT_IP": "6.6.6.7",
            "HTTP_X_FORWARDED_HOST": "kept.example"])
        XCTAssertEqual(edits, ["HTTP_X_FORWARDED_FOR": removed, "HTTP_X_CLIENT_IP": removed])
        XCTAssertEqual(try rewrite([.forwardedFor], ["10.0.0.0/8"], ["REMOTE_ADDR": "not an address", "HTTP_X_FORWARDED_FOR": "1.2.3.4"]),
                       ["HTTP_X_FORWARDED_FOR": removed])
    }

    func testForwardedForWithoutProxiesTakesTheFirst() throws {
        XCTAssertEqual(try rewrite([.forwardedFor], nil, ["REMOTE_ADDR": "1.1.1.1", "HTTP_X_FORWARDED_FOR": " , 203.0.113.7, 10.0.0.1"]),
                       ["REMOTE_ADDR": "203.0.113.7"])
    }

    func testDirectives() {
        let f = Fixture()
        f.ok("WSGITrustedProxyHeaders X-Forwarded-For X-Forwarded-Proto")
        f.ok("WSGITrustedProxyHeaders x-forwarded-for X-Forwarded-Host")
        f.ok("WSGITrustedProxies 127.0.0.1 ::1")
        f.ok("WSGITrustedProxies 10.0.0.0/8")
        let scope = f.config.scope(f.main)
        XCTAssertEqual(scope.trustedProxyHeaders, [.forwardedFor, .forwardedProto, .forwardedHost])
        XCTAssertEqual(scope.trustedProxies?.count, 3)
        XCTAssertEqual(f.apply("WSGITrustedProxyHeaders X-Real-IP"),
                       "WSGITrustedProxyHeaders: 'X-Real-IP' and 'X-Forwarded-For' both give the client's address; trust only the one your proxy always sets")
        XCTAssertEqual(f.apply("WSGITrustedProxyHeaders X_Forwarded_Port"),
                       "WSGITrustedProxyHeaders: 'X_Forwarded_Port' is not a header name: Apache drops request headers whose names contain '_'; write X-Forwarded-Port")
        XCTAssertTrue(f.apply("WSGITrustedProxies 10.0.0.0/40")?.hasPrefix("WSGITrustedProxies: '10.0.0.0/40' ") == true)
        // A directory's lists replace the server's.
        let dir = f.config.newScope()
        f.ok("WSGITrustedProxyHeaders X-Real-IP", in: .directory, scope: dir)
        XCTAssertEqual(f.config.scope(f.config.merge(base: f.main, add: dir)).trustedProxyHeaders, [.realIP])
    }

    func testAuthScripts() {
        let f = Fixture()
        let dir = f.config.newScope()
        f.ok("WSGIAuthUserScript /srv/auth.wsgi application-group=users", in: .directory, scope: dir)
        f.ok("WSGIAccessScript /srv/access.wsgi", in: .htaccess, scope: dir)
        let scope = f.config.scope(dir)
        XCTAssertEqual(scope.authUserScript?.applicationGroup, .named("users"))
        XCTAssertEqual(scope.accessScript?.applicationGroup, .global)
        XCTAssertEqual(f.config.needs(scope: dir), [.accessScript, .authUserScript])
        f.config.freeze()
        XCTAssertEqual(f.config.needs(scope: dir), [.accessScript, .authUserScript])
        XCTAssertEqual(f.config.needs(scope: f.main), [])
        XCTAssertNotNil(f.apply("WSGIAuthGroupScript /srv/groups.wsgi"))
        XCTAssertNotNil(f.apply("WSGIAuthGroupScript groups.wsgi", in: .directory, scope: dir))
        XCTAssertEqual(f.apply("WSGIAuthGroupScript /srv/g.wsgi process-group=x", in: .directory, scope: dir),
                       "WSGIAuthGroupScript: option 'process-group=x' is not supported: the script always runs in the Apache child (embedded mode), as in mod_wsgi")
    }
}
