import ContlabCore
import Foundation
import Lessons
import TextKit

/// The report formats `contlab verify --format` writes: one for people and four for the
/// autograders that read them (GitHub Classroom, CI test views, Gradescope). Pure.
public enum ReportFormat: String, CaseIterable, Sendable {
    case text, json, junit, tap, gradescope
}

public enum ReportRenderer {
    public static func render(
        _ report: GradeReport, format: ReportFormat, style: Style = Style(enabled: false),
        labels: ExerciseLabels = .of(.en)
    ) -> String {
        switch format {
        case .text: return text(report, style: style, labels: labels)
        case .json: return json(report)
        case .junit: return junit(report)
        case .tap: return tap(report)
        case .gradescope: return gradescope(report)
        }
    }

    // MARK: text

    /// The expected and seen texts come from the graders, in English; titles and hints are in
    /// the language the report was scored in. With a `width` (the terminal's, or 80 in a pipe),
    /// a check's title, expected and seen lines wrap there, each under its own text.
    public static func text(
        _ report: GradeReport, style: Style, labels: ExerciseLabels = .of(.en), width: Int? = nil
    ) -> String {
        var out = ""
        for exercise in report.exercises {
            let mark = exercise.passed ? style.green("✓") : style.red("✗")
            out += Terminal.hanging(
                "\(mark) \(style.bold(exercise.id)) ", "\(exercise.title)  \(exercise.points)/\(exercise.maxPoints)",
                width: width)
            // The hint itself is asked for (`contlab hint ID`), not printed: a first run of an
            // untouched starter would otherwise show the whole answer, and the asking is counted.
            var named = false
            for check in exercise.checks {
                let sign = check.passed ? style.green(labels.pass) : style.red(labels.fail)
                out += Terminal.hanging(
                    "    \(sign) \(check.id) (\(check.points)/\(check.maxPoints)) ", check.title, width: width)
                guard !check.passed else { continue }
                out += Terminal.hanging("         \(labels.expected) ", check.expected, width: width)
                out += Terminal.hanging("         \(labels.seen) ", check.seen, width: width)
                if !named {
                    let unbuilt = check.expected == Evaluation.notBuiltExpected
                    out += Terminal.hanging(
                        "         \(labels.hint) ", unbuilt ? labels.fixBuild : labels.askForHint(exercise.id),
                        width: width, paint: style.yellow)
                    named = true
                }
            }
        }
        let done = report.exercises.filter(\.passed).count
        return out
            + labels.total(points: report.points, of: report.maxPoints, complete: done, of: report.exercises.count)
            + "\n"
    }

    // MARK: json

    struct JSONReport: Encodable {
        var points: Int
        var maxPoints: Int
        var passed: Bool
        var exercises: [ExerciseResult]
        var hintsUsed: Int?
    }

    public static func json(_ report: GradeReport) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let body = JSONReport(
            points: report.points, maxPoints: report.maxPoints, passed: report.passed, exercises: report.exercises,
            hintsUsed: report.hintsUsed)
        return String(decoding: (try? encoder.encode(body)) ?? Data("{}".utf8), as: UTF8.self) + "\n"
    }

    // MARK: JUnit XML (the de-facto schema Jenkins, GitLab and GitHub test reporters read)

    public static func junit(_ report: GradeReport) -> String {
        let checks = report.exercises.flatMap(\.checks)
        let failures = checks.filter { !$0.passed }.count
        let total = report.exercises.reduce(0.0) { $0 + $1.seconds }
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out +=
            "<testsuites name=\"contlab\" tests=\"\(checks.count)\" failures=\"\(failures)\" "
            + "time=\"\(seconds(total))\">\n"
        for exercise in report.exercises {
            let failed = exercise.checks.filter { !$0.passed }.count
            out +=
                "  <testsuite name=\"\(Markup.escapeXML("\(exercise.id) \(exercise.title)"))\" tests=\"\(exercise.checks.count)\" failures=\"\(failed)\" errors=\"0\" time=\"\(seconds(exercise.seconds))\">\n"
            out +=
                "    <properties><property name=\"points\" value=\"\(exercise.points)\"/><property "
                + "name=\"max_points\" value=\"\(exercise.maxPoints)\"/></properties>\n"
            for check in exercise.checks {
                let name = Markup.escapeXML("\(check.id): \(check.title) [\(check.points)/\(check.maxPoints)]")
                out += "    <testcase classname=\"contlab.\(Markup.escapeXML(exercise.id))\" name=\"\(name)\""
                if check.passed {
                    out += "/>\n"
                } else {
                    out +=
                        ">\n      <failure message=\"\(Markup.escapeXML("expected \(check.expected); seen \(check.seen)"))\" type=\"check\">"
                    out += Markup.escapeXML(failureText(check)) + "</failure>\n    </testcase>\n"
                }
            }
            out += "  </testsuite>\n"
        }
        return out + "</testsuites>\n"
    }

    static func seconds(_ value: Double) -> String { String(format: "%.3f", value) }

    static func failureText(_ check: CheckResult) -> String {
        var text = "expected: \(check.expected)\nseen: \(check.seen)"
        if let hint = check.hint { text += "\nhint: \(hint)" }
        return text
    }

    // MARK: TAP 13

    public static func tap(_ report: GradeReport) -> String {
        let checks = report.exercises.flatMap { exercise in exercise.checks.map { (exercise, $0) } }
        var out = "TAP version 13\n1..\(checks.count)\n"
        for (number, (exercise, check)) in checks.enumerated() {
            // '#' starts a directive (SKIP, TODO) in a TAP description; escape it.
            let description = "\(exercise.id) \(check.id): \(check.title)"
                .replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "#", with: "\\#")
                .replacingOccurrences(of: "\n", with: " ")
            out += "\(check.passed ? "ok" : "not ok") \(number + 1) - \(description)\n"
            out += "  ---\n  points: \(check.points)\n  max_points: \(check.maxPoints)\n"
            if !check.passed {
                // JSON strings are valid YAML double-quoted scalars, so the block stays YAML.
                out += "  expected: \(quoted(check.expected))\n  seen: \(quoted(check.seen))\n"
                if let hint = check.hint { out += "  hint: \(quoted(hint))\n" }
            }
            out += "  ...\n"
        }
        return out
    }

    static func quoted(_ text: String) -> String {
        let data = (try? JSONEncoder().encode([text])) ?? Data("[\"\"]".utf8)
        return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
    }

    // MARK: Gradescope results.json

    struct GradescopeTest: Encodable {
        var name: String
        var score: Double
        var max_score: Double
        var status: String
        var output: String
    }

    struct GradescopeResults: Encodable {
        var score: Double
        var max_score: Double
        var output: String
        var visibility: String
        var tests: [GradescopeTest]
    }

    public static func gradescope(_ report: GradeReport) -> String {
        var tests: [GradescopeTest] = []
        for exercise in report.exercises {
            for check in exercise.checks {
                tests.append(
                    GradescopeTest(
                        name: "\(exercise.id) \(check.id): \(check.title)", score: Double(check.points),
                        max_score: Double(check.maxPoints), status: check.passed ? "passed" : "failed",
                        output: check.passed ? "passed" : failureText(check)))
            }
        }
        let results = GradescopeResults(
            score: Double(report.points), max_score: Double(report.maxPoints),
            output: "contlab verify: \(report.points)/\(report.maxPoints) points", visibility: "visible", tests: tests)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: (try? encoder.encode(results)) ?? Data("{}".utf8), as: UTF8.self) + "\n"
    }
}
