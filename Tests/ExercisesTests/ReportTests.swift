import Foundation
import FoundationXML
import XCTest
import TextKit

@testable import Exercises

final class ReportTests: XCTestCase {
    /// One passing exercise and one failing, whose "seen" holds what a student's program may
    /// print: control characters, markup, U+FFFD from bytes that were not UTF-8.
    func report() throws -> GradeReport {
        let exercise = try Fixtures.exercise()
        let hostile = "<b>&\u{1}\u{7}\u{1B}[31m\u{FFFD}\u{FFFD} ]]> #"
        let failing = Scoring.score(
            exercise,
            outcomes: [
                CheckOutcome("first", passed: false, expected: "a \"quoted\" thing\nover two lines", seen: hostile)
            ], hintsShown: ["first": 1], language: .en, seconds: 0.25)
        let passing = Scoring.score(
            exercise, outcomes: exercise.checks.map { CheckOutcome($0.id, passed: true, expected: "", seen: "") },
            language: .en, seconds: 1.5)
        return GradeReport(exercises: [passing, failing])
    }

    func testJUnitParsesAndCounts() throws {
        let xml = ReportRenderer.junit(try report())
        let document = try XMLDocument(xmlString: xml)
        let root = try XCTUnwrap(document.rootElement())
        XCTAssertEqual(root.name, "testsuites")
        XCTAssertEqual(root.attribute(forName: "tests")?.stringValue, "4")
        XCTAssertEqual(root.attribute(forName: "failures")?.stringValue, "2")
        let suites = root.elements(forName: "testsuite")
        XCTAssertEqual(suites.count, 2)
        let failures = try root.nodes(forXPath: "//testcase/failure")
        XCTAssertEqual(failures.count, 2)
        XCTAssertTrue(failures[0].stringValue?.contains("hint: hint one") ?? false)
        XCTAssertTrue(failures[0].stringValue?.contains("<b>&") ?? false, "escaped text comes back as it was")
    }

    func testTAPIsWellFormed() throws {
        let tap = ReportRenderer.tap(try report())
        let lines = tap.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(lines[0], "TAP version 13")
        XCTAssertEqual(lines[1], "1..4")
        let results = lines.filter { $0.hasPrefix("ok ") || $0.hasPrefix("not ok ") }
        XCTAssertEqual(results.count, 4)
        let pattern = try NSRegularExpression(pattern: "^(ok|not ok) ([0-9]+) - [^#\\n]*(\\\\#[^#\\n]*)*$")
        for (index, line) in results.enumerated() {
            XCTAssertNotNil(pattern.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)), line)
            XCTAssertTrue(line.contains(" \(index + 1) - "), line)
        }
        XCTAssertEqual(results.filter { $0.hasPrefix("not ok") }.count, 2)
        // Every YAML block is indented, opened with --- and closed with ...
        XCTAssertEqual(lines.filter { $0 == "  ---" }.count, 4)
        XCTAssertEqual(lines.filter { $0 == "  ..." }.count, 4)
        for line in lines.dropFirst(2) where !line.isEmpty && !results.contains(line) {
            XCTAssertTrue(line.hasPrefix("  "), "YAML lines are indented: \(line)")
            XCTAssertFalse(line.unicodeScalars.contains { $0.value < 0x20 }, "no raw control characters: \(line)")
        }
    }

    func testGradescopeResults() throws {
        let data = Data(ReportRenderer.gradescope(try report()).utf8)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertEqual(object["score"] as? Double, 3)
        XCTAssertEqual(object["max_score"] as? Double, 6)
        let tests = try XCTUnwrap(object["tests"] as? [[String: Any]])
        XCTAssertEqual(tests.count, 4)
        for test in tests {
            XCTAssertNotNil(test["name"] as? String)
            XCTAssertNotNil(test["score"] as? Double)
            XCTAssertNotNil(test["max_score"] as? Double)
            XCTAssertNotNil(test["output"] as? String)
        }
        XCTAssertTrue((tests[2]["output"] as? String)?.contains("expected:") ?? false)
    }

    func testJSONCarriesPointsAndChecks() throws {
        let data = Data(ReportRenderer.json(try report()).utf8)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertEqual(object["points"] as? Int, 3)
        XCTAssertEqual(object["maxPoints"] as? Int, 6)
        XCTAssertEqual(object["passed"] as? Bool, false)
        XCTAssertEqual((object["exercises"] as? [Any])?.count, 2)
    }

    func testTextSaysExpectedSeenAndHowToAskForAHint() throws {
        let text = ReportRenderer.text(try report(), style: .init(enabled: false))
        XCTAssertTrue(text.contains("expected: a \"quoted\" thing"))
        XCTAssertFalse(text.contains("hint one"), "the hint is asked for, not printed")
        XCTAssertEqual(
            text.components(separatedBy: "hint:     for a hint, run contlab hint ").count - 1, 1,
            "named once per failing exercise: \(text)")
        XCTAssertTrue(text.hasSuffix("3/6 points, 1 of 2 exercises complete\n"))
    }

    /// At 80 columns a long "seen" wraps under its own text, in English and in Chinese, and no
    /// line is wider than the width; without a width nothing wraps.
    func testTextWrapsToTheWidthGiven() throws {
        var report = try report()
        let long = Array(repeating: "the runtime exited with 1, saying runtime: run is not written yet", count: 3)
            .joined(separator: "; ")
        let failing = try XCTUnwrap(report.exercises.firstIndex { !$0.passed })
        let check = try XCTUnwrap(report.exercises[failing].checks.firstIndex { !$0.passed })
        report.exercises[failing].checks[check].seen = long
        report.exercises[failing].checks[check].title = String(repeating: "命令看得到每一层的文件，", count: 6)
        let text = ReportRenderer.text(report, style: .init(enabled: false), width: 80)
        let lines = text.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.allSatisfy { Terminal.displayWidth($0) <= 80 }, text)
        let seen = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("         seen:") })
        // Under the text: as far in as "         seen:     " is wide.
        XCTAssertTrue(lines[seen + 1].hasPrefix(String(repeating: " ", count: 19)), text)
        XCTAssertNotEqual(Array(lines[seen + 1])[19], " ", text)
        XCTAssertEqual(
            lines[seen...].prefix { !$0.hasPrefix("         hint:") }.map { $0.trimmingCharacters(in: .whitespaces) }
                .joined(separator: " "),
            "seen:     " + long, "the words are all there, in order")
        XCTAssertTrue(
            ReportRenderer.text(report, style: .init(enabled: false)).contains("seen:     " + long),
            "no width: one line")
    }

    /// A runtime that did not build: the hint line says to fix the build, since every check
    /// failed for that one reason and the hints are about the checks.
    func testARuntimeThatDidNotBuildIsToldToFixItFirst() throws {
        let exercise = try Fixtures.exercise()
        let result = Scoring.score(
            exercise,
            outcomes: exercise.checks.map {
                CheckOutcome(
                    $0.id, passed: false, expected: Evaluation.notBuiltExpected,
                    seen: "the build failed (status 1): runtime.c:3: error")
            }, language: .en)
        let text = ReportRenderer.text(GradeReport(exercises: [result]), style: .init(enabled: false), width: 80)
        XCTAssertTrue(text.contains("your runtime did not build"), text)
        XCTAssertFalse(text.contains("for a hint, run"), text)
        let graded = ReportRenderer.text(try report(), style: .init(enabled: false), width: 80)
        XCTAssertTrue(graded.contains("for a hint, run contlab hint"), graded)
    }

    /// `grade --merge` reads verify's JSON back: the points and the hints asked for survive.
    func testTheJSONReportReadsBackWithItsHintCount() throws {
        var report = try report()
        report.hintsUsed = 2
        let decoded = try JSONDecoder().decode(GradeReport.self, from: Data(ReportRenderer.json(report).utf8))
        XCTAssertEqual(decoded.hintsUsed, 2)
        XCTAssertEqual(decoded.points, report.points)
        XCTAssertNil(
            try JSONDecoder().decode(GradeReport.self, from: Data(#"{"exercises": []}"#.utf8)).hintsUsed,
            "an older report has none")
    }
}
