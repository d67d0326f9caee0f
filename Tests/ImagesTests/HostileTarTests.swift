import Images
import XCTest

/// Archives whose numbers are wrong on purpose: each is refused with the member and the field
/// named, none crashes the reader (a Swift trap is a crash).
final class HostileTarTests: XCTestCase {
    /// A one-member archive from TarWriter, then `patch` applied to its first header and the
    /// checksum made right again, so only the field under test is wrong.
    func archive(
        _ entry: TarEntry = TarEntry(path: "etc/motd", kind: .file, contents: Array("hi\n".utf8)),
        pax: [String: String] = [:], patch: (inout [UInt8]) -> Void = { _ in }
    ) -> [UInt8] {
        var writer = TarWriter()
        writer.append(entry)
        var member = Array(writer.finish())
        var first = 0
        if !pax.isEmpty {
            // An `x` header before the member, as TarWriter makes for long names.
            let body = pax.map { key, value -> String in
                var length = key.utf8.count + value.utf8.count + 3
                length += String(length).count
                if String(length).count != String(length - String(length).count).count { length += 1 }
                return "\(length) \(key)=\(value)\n"
            }.joined()
            var header = [UInt8](repeating: 0, count: 512)
            header.replaceSubrange(0..<9, with: Array("PaxHeader".utf8))
            Self.put(&header, "0000644", at: 100)
            Self.put(&header, String(body.utf8.count, radix: 8), at: 124)
            header[156] = UInt8(ascii: "x")
            header.replaceSubrange(257..<262, with: Array("ustar".utf8))
            Self.fixChecksum(&header)
            var data = Array(body.utf8)
            data += [UInt8](repeating: 0, count: (512 - data.count % 512) % 512)
            member = header + data + member
            first = header.count + data.count
        }
        var block = Array(member[first..<first + 512])
        patch(&block)
        Self.fixChecksum(&block)
        member.replaceSubrange(first..<first + 512, with: block)
        return member
    }

    static func put(_ block: inout [UInt8], _ text: String, at offset: Int) {
        for (i, byte) in text.utf8.enumerated() { block[offset + i] = byte }
    }

    static func fixChecksum(_ block: inout [UInt8]) {
        for i in 148..<156 { block[i] = 0x20 }
        let sum = block.reduce(0) { $0 + Int($1) }
        let text = String(sum, radix: 8)
        let padded = String(repeating: "0", count: 6 - text.count) + text
        put(&block, padded, at: 148)
        block[154] = 0
    }

    func refusal(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            _ = try TarReader.entries(bytes)
            XCTFail("accepted", file: file, line: line)
            return ""
        } catch {
            return "\(error)"
        }
    }

    func testTheWellFormedArchiveReads() throws {
        XCTAssertEqual(try TarReader.entries(archive()).first?.contents, Array("hi\n".utf8))
        XCTAssertEqual(
            try TarReader.entries(archive(pax: ["mtime": "1700000000.5", "uid": "100000"])).first?.uid, 100000)
    }

    func testNumbersOutOfRangeAreRefusedByName() {
        XCTAssertTrue(refusal(archive(pax: ["mtime": "1e300"])).contains("pax mtime \"1e300\" is not a time"))
        XCTAssertTrue(refusal(archive(pax: ["mtime": "nan"])).contains("is not a time"))
        XCTAssertTrue(refusal(archive(pax: ["uid": "-1"])).contains("member \"etc/motd\": uid -1 is out of range"))
        XCTAssertTrue(refusal(archive(pax: ["gid": "99999999999"])).contains("gid 99999999999 is out of range"))
        XCTAssertTrue(refusal(archive(pax: ["size": "9223372036854775807"])).contains("past the end of the archive"))
        // Base-256 ids: negative, and too big for 63 bits.
        XCTAssertTrue(
            refusal(
                archive { block in
                    for i in 108..<116 { block[i] = 0xff }
                }
            ).contains("negative base-256"))
        XCTAssertTrue(
            refusal(
                archive { block in
                    block[124] = 0x80
                    for i in 125..<136 { block[i] = 0xff }
                }
            ).contains("too big for 63 bits"))
        // 2^32 in base 256: one more than a uid holds.
        XCTAssertTrue(
            refusal(
                archive { block in
                    block[108] = 0x80
                    for i in 109..<116 { block[i] = 0 }
                    block[111] = 1
                }
            ).contains("member \"etc/motd\": uid 4294967296 is out of range"))
        let device = TarEntry(path: "dev/sda", kind: .blockDevice)
        XCTAssertTrue(
            refusal(
                archive(device) { block in
                    block[329] = 0x80
                    for i in 330..<337 { block[i] = 0 }
                    block[332] = 1
                }
            ).contains("member \"dev/sda\": device major 4294967296 is out of range"))
    }

    func testMalformedPaxRecordsAreRefused() {
        // A record whose length is shorter than its own text.
        var header = [UInt8](repeating: 0, count: 512)
        let body = Array("3 path=x\n".utf8)
        header.replaceSubrange(0..<9, with: Array("PaxHeader".utf8))
        Self.put(&header, "0000644", at: 100)
        Self.put(&header, String(body.count, radix: 8), at: 124)
        header[156] = UInt8(ascii: "x")
        Self.fixChecksum(&header)
        let bytes = header + body + [UInt8](repeating: 0, count: 512 - body.count) + archive()
        XCTAssertTrue(refusal(bytes).contains("pax extended header is malformed"))
    }
}

/// A gzip bomb stops at the limit, with the limit named and how to raise it.
final class GzipLimitTests: XCTestCase {
    func testABombStopsAtTheLimit() throws {
        let zeros = [UInt8](repeating: 0, count: 64 << 20)
        let bomb = try Gzip.compress(zeros, level: 9)
        XCTAssertLessThan(bomb.count, 1 << 20, "64 MiB of zeros fit in well under 1 MiB")
        XCTAssertThrowsError(try Gzip.decompress(bomb, limit: 8 << 20)) { error in
            XCTAssertTrue(
                "\(error)".contains("more than 8 MiB") && "\(error)".contains("CONTLAB_LAYER_LIMIT"), "\(error)")
        }
        XCTAssertEqual(try Gzip.decompress(bomb, limit: 64 << 20).count, 64 << 20, "exactly the limit is allowed")
    }

    func testTheLimitIsReadFromTheEnvironment() {
        XCTAssertEqual(Gzip.limit(environment: [:]), Gzip.defaultLimit)
        XCTAssertEqual(Gzip.limit(environment: ["CONTLAB_LAYER_LIMIT": "8G"]), 8 << 30)
        XCTAssertEqual(Gzip.limit(environment: ["CONTLAB_LAYER_LIMIT": "512m"]), 512 << 20)
        XCTAssertEqual(Gzip.limit(environment: ["CONTLAB_LAYER_LIMIT": "1000"]), 1000)
        XCTAssertEqual(Gzip.limit(environment: ["CONTLAB_LAYER_LIMIT": "lots"]), Gzip.defaultLimit)
    }
}
