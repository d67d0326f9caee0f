import ArgumentParser
import ContlabCore
import TextKit
import XCTest
@testable import contlab

final class HelpLayoutTests: XCTestCase {
    /// contlab and every subcommand under it, at any depth.
    static func allCommands(_ command: ParsableCommand.Type = Contlab.self) -> [ParsableCommand.Type] {
        [command] + command.configuration.subcommands.flatMap { allCommands($0) }
    }

    static func name(_ command: ParsableCommand.Type) -> String {
        command == Contlab.self ? "contlab" : command._commandName
    }

    func testEveryHelpScreenFitsEightyColumns() {
        let commands = Self.allCommands()
        XCTAssertGreaterThan(commands.count, 40, "the walk found the subcommands")
        for command in commands {
            for line in Contlab.helpText(for: command, columns: 80).split(separator: "\n") {
                XCTAssertLessThanOrEqual(
                    Terminal.displayWidth(String(line)), 80, "\(Self.name(command)) --help: \(line)")
            }
        }
    }

    /// A line of the overview is only cut where the next word would not have fitted: a
    /// pre-wrapped discussion, wrapped again by swift-argument-parser, broke lines mid-sentence
    /// ("Steps are data,\nin\nlessons/…").
    func testOverviewLinesAreFilledBeforeTheyBreak() {
        for width in [60, 80, 120] {
            for command in Self.allCommands() {
                let help = Contlab.helpText(for: command, columns: width)
                let overview = help.components(separatedBy: "\nUSAGE: ")[0].split(
                    separator: "\n", omittingEmptySubsequences: false)
                for (line, next) in zip(overview, overview.dropFirst())
                where !line.isEmpty && !next.isEmpty && !line.hasPrefix(" ") && !next.hasPrefix(" ") {
                    let word = next.split(separator: " ").first ?? ""
                    XCTAssertGreaterThanOrEqual(
                        line.count + 1 + word.count, width,
                        "\(Self.name(command)) --help at \(width) columns breaks early:\n\(line)\n\(next)")
                }
            }
        }
    }

    /// Prose in a discussion is one source line per paragraph (joined with a trailing \), so
    /// that it wraps to any width; only lists and examples, indented, keep their line breaks.
    func testDiscussionsAreNotPreWrapped() {
        for command in Self.allCommands() {
            let lines = command.configuration.discussion.split(separator: "\n", omittingEmptySubsequences: false)
            for (line, next) in zip(lines, lines.dropFirst())
            where !line.isEmpty && !next.isEmpty && !line.hasPrefix(" ") && !next.hasPrefix(" ") {
                XCTAssertTrue(
                    line.hasSuffix(":"), "\(Self.name(command)): a paragraph broken by hand:\n\(line)\n\(next)")
            }
        }
    }

    func testLongUsageLinesWrapWithoutSplittingAGroup() {
        let usage =
            "USAGE: contlab verify [<id>] [--stage <stage>] [--format <format>] [--output <output>] "
            + "[--workspace <workspace>] [--timeout <timeout>] [--watch] [--lang <en|zh>] [--color <color>]"
        let wrapped = HelpLayout.wrappingUsage("OVERVIEW: x\n\n" + usage + "\n\nOPTIONS:", width: 80)
        let lines = wrapped.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(
            lines,
            [
                "OVERVIEW: x", "",
                "USAGE: contlab verify [<id>] [--stage <stage>] [--format <format>]",
                "                      [--output <output>] [--workspace <workspace>]",
                "                      [--timeout <timeout>] [--watch] [--lang <en|zh>]",
                "                      [--color <color>]",
                "", "OPTIONS:"
            ])
        let short = "USAGE: contlab stage [<number>]"
        XCTAssertEqual(HelpLayout.wrappingUsage(short, width: 80), short)
    }
}

final class CommandLineFrontTests: XCTestCase {
    func testAMistypedSubcommandGetsASuggestion() {
        XCTAssertEqual(
            Contlab.unknownSubcommand(in: ["stge", "1"]),
            "contlab: unknown command 'stge'; did you mean 'stage'?\nSee 'contlab --help' for its commands.")
        XCTAssertEqual(
            Contlab.unknownSubcommand(in: ["image", "biuld", "--rootfs", "busybox", "bb"]),
            "contlab image: unknown command 'biuld'; did you mean 'build'?\nSee 'contlab image --help' for its "
                + "commands."
        )
        XCTAssertEqual(
            Contlab.unknownSubcommand(in: ["xyzzy"]),
            "contlab: unknown command 'xyzzy'\nSee 'contlab --help' for its commands.")
    }

    /// After the default subcommand refused the word: `contlab history shw` ran `history timeline shw`.
    func testAMistypedSubcommandUnderADefaultGetsASuggestionOnceTheParseFailed() {
        XCTAssertEqual(
            Contlab.unknownSubcommand(in: ["history", "shw", "docker"], afterFailedParse: true),
            "contlab history: unknown command 'shw'; did you mean 'show'?\nSee 'contlab history --help' for its "
                + "commands."
        )
        XCTAssertNil(Contlab.unknownSubcommand(in: ["history", "--from", "2000"], afterFailedParse: true))
        XCTAssertNil(Contlab.unknownSubcommand(in: ["lessons", "no-such-lesson-at-all"], afterFailedParse: true))
    }

    func testRealCommandsOptionsAndArgumentsAreLeftToTheParser() {
        for arguments in [
            [], ["stage", "1"], ["--version"], ["--help"], ["help", "stage"], ["run", "--stage", "2", "--", "stge"],
            ["container", "ls"], ["image", "ls"], ["history", "shw"], ["lessons", "stage1-chroot"], ["exercises"]
        ] {
            XCTAssertNil(Contlab.unknownSubcommand(in: arguments), "\(arguments)")
        }
    }

    func testVersionComesFromTheCore() {
        XCTAssertEqual(Contlab.configuration.version, "contlab version \(ContlabVersion.current)")
        XCTAssertFalse(ContlabVersion.current.isEmpty)
    }

    func testHelpColumnsFollowCOLUMNS() {
        XCTAssertEqual(Contlab.helpColumns(environment: ["COLUMNS": "80"]), 80)
        XCTAssertEqual(Contlab.helpColumns(environment: ["COLUMNS": "132"]), 132)
    }
}

/// `contlab grade` reads a submission's last commit time with git: never as root in a
/// student's repository, whose config can name programs for git to run.
final class SubmissionGitTests: XCTestCase {
    func testRootAsksGitAsTheWorkspacesOwnerOrNobody() throws {
        let student = try XCTUnwrap(GradeCommand.gitLogCommand("/subs/ana", owner: 1001, group: 1001, euid: 0))
        XCTAssertEqual(Array(student.prefix(4)), ["setpriv", "--reuid=1001", "--regid=1001", "--clear-groups"])
        XCTAssertTrue(student.contains("--no-show-signature"))
        let copied = try XCTUnwrap(GradeCommand.gitLogCommand("/subs/bo", owner: 0, group: 0, euid: 0))
        XCTAssertEqual(Array(copied.prefix(3)), ["setpriv", "--reuid=65534", "--regid=65534"])
    }

    func testAnotherUserAsksOnlyAboutTheirOwnRepositories() {
        XCTAssertNil(GradeCommand.gitLogCommand("/subs/ana", owner: 1001, group: 1001, euid: 1000))
        XCTAssertEqual(GradeCommand.gitLogCommand("/home/t/ws", owner: 1000, group: 1000, euid: 1000)?.first, "git")
        XCTAssertEqual(GradeCommand.gitEnvironment["GIT_CONFIG_NOSYSTEM"], "1")
    }
}
