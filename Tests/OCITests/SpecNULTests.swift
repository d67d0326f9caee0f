import Foundation
import OCI
import XCTest

/// A NUL inside a config's string is refused by its path, not cut short at the system call.
final class SpecNULTests: XCTestCase {
    func config(_ edit: (inout [String: Any]) -> Void) throws -> Data {
        var object = try XCTUnwrap(
            JSONSerialization.jsonObject(with: DefaultSpec.encode(DefaultSpec.make(rootless: false))) as? [String: Any])
        edit(&object)
        return try JSONSerialization.data(withJSONObject: object)
    }

    func testNULInAPathOrAnArgumentIsRefused() throws {
        let readonly = try config { object in
            var linux = object["linux"] as? [String: Any] ?? [:]
            linux["readonlyPaths"] = ["/proc/bus", "/etc\u{0}/proc/sys"]
            object["linux"] = linux
        }
        XCTAssertThrowsError(try SpecCheck.decode(readonly)) { error in
            XCTAssertEqual(
                "\(error)",
                "config.json: linux.readonlyPaths[1]: holds a NUL character (\\u0000), which would cut it short where "
                    + "it reaches the kernel; remove it"
            )
        }
        let argument = try config { object in
            var process = object["process"] as? [String: Any] ?? [:]
            process["args"] = ["sh", "-c", "true\u{0}rm -rf /"]
            object["process"] = process
        }
        XCTAssertThrowsError(try SpecCheck.decode(argument)) { error in
            XCTAssertTrue("\(error)".contains("process.args[2]: holds a NUL character"), "\(error)")
        }
        XCTAssertNoThrow(try SpecCheck.decode(try config { _ in }), "the default config has none")
    }
}

/// Documents that are not what config.json must be get contlab's own words, with the fix.
final class SpecDocumentKindTests: XCTestCase {
    func message(_ bytes: [UInt8]) -> String {
        do { _ = try SpecCheck.decode(Data(bytes)); return "" } catch { return "\(error)" }
    }

    func testNotAnObjectAByteOrderMarkAndUTF16AreNamed() throws {
        XCTAssertTrue(
            message(Array("null".utf8)).contains("must be a JSON object")
                && message(Array("null".utf8)).contains("holds null"))
        XCTAssertTrue(message(Array(" 0\n".utf8)).contains("holds a number"))
        XCTAssertTrue(message(Array("\"str\"".utf8)).contains("holds a string"))
        XCTAssertTrue(message(Array("[1]".utf8)).contains("holds an array"))
        let config = [UInt8](try DefaultSpec.encode(DefaultSpec.make(rootless: false)))
        XCTAssertTrue(message([0xEF, 0xBB, 0xBF] + config).contains("byte order mark"))
        let utf16 = [UInt8](String(decoding: config, as: UTF8.self).data(using: .utf16)!)
        XCTAssertTrue(message(utf16).contains("UTF-16"), message(utf16))
        XCTAssertEqual(message(config), "", "a good one still reads")
    }
}
