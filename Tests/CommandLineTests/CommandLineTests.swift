import ArgumentParser
import ContlabCore
import XCTest
@testable import contlab

final class CommandLineFrontTests: XCTestCase {
    func testVersionComesFromTheCore() {
        XCTAssertEqual(Contlab.configuration.version, "contlab version \(ContlabVersion.current)")
        XCTAssertFalse(ContlabVersion.current.isEmpty)
    }
}
