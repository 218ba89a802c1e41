import SwsgiProtocol
import XCTest

final class PayloadCodingTests: XCTestCase {
    func testStringsRoundTripIncludingEmptyAndBinaryValues() throws {
        let strings: [[UInt8]] = [bytes("REQUEST_METHOD"), bytes("GET"), bytes("QUERY_STRING"), [], [0, 255, 10, 13]]
        let encoded = encodeStrings(strings)
        XCTAssertEqual(encoded.count, 4 + strings.reduce(0) { $0 + 4 + $1.count })
        XCTAssertEqual(Array(encoded.prefix(8)), [5, 0, 0, 0, 14, 0, 0, 0])
        XCTAssertEqual(try decodeStrings(encoded), strings)
        XCTAssertEqual(try decodeStrings(encodeStrings([])), [])
    }

    func testStringsFromBorrowedBuffersCStringsAndStringsMatchArrayEncoding() {
        let strings = [bytes("Content-Type"), bytes("text/plain"), [], bytes("mod_wsgi.queue_start"), bytes("é")]
        // As a C array of strings would be: buffers that outlive the call.
        let buffers = strings.prefix(3).map { string in
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: string.count, alignment: 1)
            string.withUnsafeBytes { buffer.copyMemory(from: $0) }
            return buffer
        }
        defer { buffers.forEach { $0.deallocate() } }
        // A small capacity, so that the builder has to grow.
        var list = StringListBuilder(capacity: 1)
        for buffer in buffers { list.append(UnsafeRawBufferPointer(buffer)) }
        let cString = strdup("mod_wsgi.queue_start")!
        defer { free(cString) }
        list.append(UnsafePointer(cString))
        list.append("é")
        let encoded = list.finish()  // outside the assertion's closure, which cannot consume it
        XCTAssertEqual(encoded, encodeStrings(strings))
        let long = [UInt8](repeating: 65, count: 10_000)
        XCTAssertEqual(try decodeStrings(encodeStrings([long, [], long])), [long, [], long])
    }

    func testMalformedStringEncodingsAreRejected() {
        XCTAssertMalformed(try decodeStrings([]))
        XCTAssertMalformed(try decodeStrings([1, 0, 0]))
        // count too large
        XCTAssertMalformed(try decodeStrings([2, 0, 0, 0, 1, 0, 0, 0, 65]))
        XCTAssertMalformed(try decodeStrings([255, 255, 255, 255]))
        // length past the end
        XCTAssertMalformed(try decodeStrings([1, 0, 0, 0, 5, 0, 0, 0, 65, 66]))
        XCTAssertMalformed(try decodeStrings([1, 0, 0, 0, 255, 255, 255, 255]))
        // length field itself cut short
        XCTAssertMalformed(try decodeStrings([2, 0, 0, 0, 0, 0, 0, 0, 0, 0]))
        // trailing bytes
        XCTAssertMalformed(try decodeStrings([1, 0, 0, 0, 1, 0, 0, 0, 65, 66]))
        XCTAssertMalformed(try decodeStrings([0, 0, 0, 0, 0]))
    }

    func testEndReadBodyAndFilePayloads() throws {
        for result: Int32 in [0, 404, 500, -1, .min, .max] {
            XCTAssertEqual(try decodeEnd(encodeEnd(result)), result)
        }
        XCTAssertEqual(encodeEnd(-1), [255, 255, 255, 255])
        XCTAssertEqual(encodeReadBody(65536), [0, 0, 1, 0])
        XCTAssertEqual(try decodeReadBody(encodeReadBody(.max)), .max)
        XCTAssertMalformed(try decodeReadBody(encodeReadBody(0)))
        XCTAssertMalformed(try decodeEnd([0, 0, 0]))
        XCTAssertMalformed(try decodeReadBody([1, 0, 0, 0, 0]))
        let file = try decodeFile([1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 128])
        XCTAssertEqual(file.offset, 1)
        XCTAssertEqual(file.length, 1 << 63 | 256)
        XCTAssertMalformed(try decodeFile([UInt8](repeating: 0, count: 15)))
    }
}
