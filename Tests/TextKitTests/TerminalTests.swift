import XCTest
@testable import TextKit

final class TerminalTests: XCTestCase {
    func testDisplayWidthCountsWideCharactersTwice() {
        XCTAssertEqual(Terminal.displayWidth("chroot"), 6)
        XCTAssertEqual(Terminal.displayWidth("容器"), 4)
        XCTAssertEqual(Terminal.displayWidth("runc 容器，"), 5 + 4 + 2)
        XCTAssertEqual(Terminal.displayWidth("\u{1B}[1mbold\u{1B}[0m"), 4)
    }

    func testColorModeRespectsNoColorAndPipes() {
        XCTAssertFalse(ColorMode.auto.enabled(fd: -1, environment: [:]))
        XCTAssertFalse(ColorMode.auto.enabled(environment: ["NO_COLOR": "1"]))
        XCTAssertTrue(ColorMode.always.enabled(environment: ["NO_COLOR": "1"]))
        XCTAssertFalse(ColorMode.never.enabled())
        XCTAssertEqual(Style(enabled: false).bold("x"), "x")
        XCTAssertEqual(Style(enabled: true).bold("x"), "\u{1B}[1mx\u{1B}[0m")
    }
}
