import ArgumentParser
import ContlabCore
import XCTest
@testable import contlab

final class CommandLineFrontTests: XCTestCase {
    func testAMistypedSubcommandGetsASuggestion() {
        XCTAssertEqual(Contlab.unknownSubcommand(in: ["stge", "1"]),
                       "contlab: unknown command 'stge'; did you mean 'stage'?\nSee 'contlab --help' for its commands.")
        XCTAssertEqual(Contlab.unknownSubcommand(in: ["image", "biuld", "--rootfs", "busybox", "bb"]),
                       "contlab image: unknown command 'biuld'; did you mean 'build'?\nSee 'contlab image --help' for its commands.")
        XCTAssertEqual(Contlab.unknownSubcommand(in: ["xyzzy"]),
                       "contlab: unknown command 'xyzzy'\nSee 'contlab --help' for its commands.")
    }

    /// After the default subcommand refused the word: `contlab history shw` ran `history timeline shw`.
    func testAMistypedSubcommandUnderADefaultGetsASuggestionOnceTheParseFailed() {
        XCTAssertEqual(Contlab.unknownSubcommand(in: ["history", "shw", "docker"], afterFailedParse: true),
                       "contlab history: unknown command 'shw'; did you mean 'show'?\nSee 'contlab history --help' for its commands.")
        XCTAssertNil(Contlab.unknownSubcommand(in: ["history", "--from", "2000"], afterFailedParse: true))
        XCTAssertNil(Contlab.unknownSubcommand(in: ["lessons", "no-such-lesson-at-all"], afterFailedParse: true))
    }

    func testRealCommandsOptionsAndArgumentsAreLeftToTheParser() {
        for arguments in [[], ["stage", "1"], ["--version"], ["--help"], ["help", "stage"], ["run", "--stage", "2", "--", "stge"],
                          ["container", "ls"], ["image", "ls"], ["history", "shw"], ["lessons", "stage1-chroot"], ["exercises"]] {
            XCTAssertNil(Contlab.unknownSubcommand(in: arguments), "\(arguments)")
        }
    }

    func testVersionComesFromTheCore() {
        XCTAssertEqual(Contlab.configuration.version, "contlab version \(ContlabVersion.current)")
        XCTAssertFalse(ContlabVersion.current.isEmpty)
    }
}
