import XCTest
@testable import SwsgiHTTP

// The validators take buffer pointers; these adapters keep the tests readable.
private func statusLineProblem(_ bytes: [UInt8]) -> String? { bytes.withUnsafeBufferPointer { SwsgiHTTP.statusLineProblem($0) } }
private func headerNameProblem(_ bytes: [UInt8]) -> String? { bytes.withUnsafeBufferPointer { SwsgiHTTP.headerNameProblem($0) } }
private func headerValueProblem(_ bytes: [UInt8]) -> String? { bytes.withUnsafeBufferPointer { SwsgiHTTP.headerValueProblem($0) } }
private func contentLength(_ bytes: [UInt8]) -> Int64? { bytes.withUnsafeBufferPointer { SwsgiHTTP.contentLength($0) } }
private func isContentLength(_ text: String) -> Bool { Array(text.utf8).withUnsafeBufferPointer { SwsgiHTTP.isContentLength($0) } }

final class ResponseValidationTests: XCTestCase {
    func testGoodStatusLines() {
        XCTAssertNil(statusLineProblem(Array("200 OK".utf8)))
        XCTAssertNil(statusLineProblem(Array("404 Not Found".utf8)))
        XCTAssertNil(statusLineProblem(Array("599 ".utf8)))
    }

    func testBadStatusLines() {
        XCTAssertNotNil(statusLineProblem(Array("200".utf8)))
        XCTAssertNotNil(statusLineProblem(Array("abc OK".utf8)))
        XCTAssertNotNil(statusLineProblem(Array("20 OK".utf8)))
        XCTAssertNotNil(statusLineProblem(Array("200OK".utf8)))
        XCTAssertNotNil(statusLineProblem(Array("099 Low".utf8)))
        XCTAssertNotNil(statusLineProblem(Array("200 OK\r\nX-Evil: 1".utf8)))
    }

    func testHeaderNames() {
        XCTAssertNil(headerNameProblem(Array("Content-Type".utf8)))
        XCTAssertNil(headerNameProblem(Array("X_Under.score".utf8)))
        XCTAssertNotNil(headerNameProblem(Array("".utf8)))
        XCTAssertNotNil(headerNameProblem(Array("Bad Name".utf8)))
        XCTAssertNotNil(headerNameProblem(Array("Bad:Name".utf8)))
        XCTAssertNotNil(headerNameProblem(Array("X\r\nInjected".utf8)))
    }

    func testHeaderValues() {
        XCTAssertNil(headerValueProblem(Array("text/html; charset=utf-8".utf8)))
        XCTAssertNil(headerValueProblem([0x61, 0x09, 0xE9]))
        let problem = headerValueProblem(Array("a\r\nSet-Cookie: x=1".utf8))
        XCTAssertEqual(problem, "the control character 0x0D")
        XCTAssertNotNil(headerValueProblem(Array("a\nb".utf8)))
        XCTAssertNotNil(headerValueProblem([0x61, 0x00]))
    }

    func testContentLength() {
        XCTAssertEqual(contentLength(Array("12".utf8)), 12)
        XCTAssertEqual(contentLength(Array("0".utf8)), 0)
        XCTAssertNil(contentLength(Array("".utf8)))
        XCTAssertNil(contentLength(Array("-1".utf8)))
        XCTAssertNil(contentLength(Array("1 2".utf8)))
    }

    func testContentLengthName() {
        XCTAssertTrue(isContentLength("Content-Length"))
        XCTAssertTrue(isContentLength("content-LENGTH"))
        XCTAssertFalse(isContentLength("Content-Type"))
        XCTAssertFalse(isContentLength("Content-Lengths"))
    }

    func testApplicationGroupNames() {
        XCTAssertEqual(resourceGroupName(serverName: "localhost", port: "18080", scriptName: "/Sub"), "localhost:18080|/sub")
        XCTAssertEqual(resourceGroupName(serverName: "example.com", port: "80", scriptName: ""), "example.com|")
        XCTAssertEqual(serverGroupName(serverName: "example.com", port: "443"), "example.com")
    }
}
