import ContlabCore
import XCTest
@testable import OCI
@testable import Stage4OCI

/// `contlab-runc --version` and `--help`, as engines and people read them.
final class RuncVersionTests: XCTestCase {
    func testVersionHasRuncsShape() throws {
        XCTAssertEqual(RuncMain.version, "contlab-runc version \(ContlabVersion.current)\nspec: 1.2.1")
        XCTAssertEqual(DefaultSpec.ociVersion, "1.2.1")
        // Docker splits the first line at "version" for the runtime's name and its version.
        let first = RuncMain.version.split(separator: "\n")[0].components(separatedBy: "version")
        XCTAssertEqual(first.map { $0.trimmingCharacters(in: .whitespaces) }, ["contlab-runc", ContlabVersion.current])
    }

    func testVersionFlagsAsRuncTakesThem() throws {
        for arguments in [["--version"], ["-v"], ["--root", "/tmp/r", "--version"]] {
            XCTAssertEqual(try RuncCommandLine.parse(arguments).verb, .version, "\(arguments)")
        }
    }

    func testHelpFitsEightyColumns() {
        for line in RuncMain.help.split(separator: "\n") {
            XCTAssertLessThanOrEqual(line.count, 80, String(line))
        }
        XCTAssertTrue(RuncMain.help.contains("--version"))
    }
}
