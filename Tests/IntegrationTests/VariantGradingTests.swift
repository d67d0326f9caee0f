import ContlabCore
import Foundation
import XCTest

/// Variants: a teacher makes each student's workspace with the class key; the tasks show that
/// student's values, the reference solutions adapted to them score full marks, and the same
/// answers in another student's workspace fail with a message that names the variant.
extension ExerciseGradingTests {
    /// The four exercises with values of their own, and how a reference answer is adapted.
    static let varied: [(id: String, file: String, value: String, from: String)] = [
        ("2.2", "container.sh", "hostname", "hostname lab"),
        ("3.2", "setup.sh", "pids", "echo 20 >"),
        ("4.1", "config.json", "hostname", "\"hostname\": \"lab\""),
        ("5.2", "layer.sh", "delete", ".wh.vi")
    ]

    func variantValues(_ root: String) throws -> [String: String] {
        let data = try Data(contentsOf: URL(fileURLWithPath: root + "/.contlab/variant.json"))
        return try XCTUnwrap(
            (JSONSerialization.jsonObject(with: data) as? [String: Any])?["values"] as? [String: String])
    }

    func testEachStudentsVariantIsGradedAgainstItsOwnValues() throws {
        let place = workspace + "-variants"
        defer { try? FileManager.default.removeItem(atPath: place) }
        try FileManager.default.createDirectory(atPath: place + "/class", withIntermediateDirectories: true)
        let key = place + "/class.key"
        try "a secret of the autumn term, 2026\n".write(toFile: key, atomically: true, encoding: .utf8)
        func initialize(_ student: String) throws -> [String: String] {
            let made = try Harness.run([
                "exercises", "init", place + "/class/" + student, "--student", student, "--class-key", key
            ])
            XCTAssertEqual(made.status, 0, made.stderr)
            XCTAssertTrue(made.stderr.contains("the variant of \(student):"), made.stderr)
            return try variantValues(place + "/class/" + student)
        }
        let alice = try initialize("alice")
        // A classmate whose every value differs from alice's (the key decides who that is).
        var bob: (name: String, values: [String: String])?
        for n in 1...40 where bob == nil {
            let values = try initialize("s\(n)")
            if ["hostname", "pids", "delete"].allSatisfy({ values[$0] != alice[$0] }) {
                bob = ("s\(n)", values)
            } else {
                try FileManager.default.removeItem(atPath: place + "/class/s\(n)")
            }
        }
        let other = try XCTUnwrap(bob, "no classmate of 40 differs from alice in every value")
        XCTAssertNotEqual(alice, other.values, "two students' variants differ")

        // alice's task shows her values; her answers, adapted to them, score full marks.
        func folder(_ student: String, _ id: String) throws -> String {
            let name = try XCTUnwrap(
                try FileManager.default.contentsOfDirectory(atPath: place + "/class/" + student).first {
                    $0.hasPrefix(id + "-")
                })
            return place + "/class/\(student)/\(name)"
        }
        let task = try String(contentsOfFile: try folder("alice", "2.2") + "/TASK.md", encoding: .utf8)
        XCTAssertTrue(task.contains("`\(alice["hostname"]!)`"), task)
        for item in Self.varied {
            let reference = try String(
                contentsOf: Self.solutions.appendingPathComponent("\(item.id)/reference/\(item.file)"), encoding: .utf8)
            let adapted = reference.replacingOccurrences(
                of: item.from,
                with: item.from
                    .replacingOccurrences(
                        of: item.value == "delete" ? "vi" : item.value == "pids" ? "20" : "lab",
                        with: alice[item.value]!))
            XCTAssertNotEqual(adapted, reference, "\(item.id): the reference names the standard value")
            for student in ["alice", other.name] {
                try adapted.write(
                    toFile: try folder(student, item.id) + "/" + item.file, atomically: true, encoding: .utf8)
            }
        }
        func verify(_ student: String) throws -> [String: Any] {
            let result = try Harness.run(
                ["verify", "--workspace", place + "/class/" + student, "--format", "json", "--lang", "en", "--no-save"],
                timeout: 600)
            return try XCTUnwrap(
                JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], result.stderr)
        }
        func checks(_ report: [String: Any]) -> [String: [String: Any]] {
            let exercises = (report["exercises"] as? [[String: Any]] ?? []).filter { exercise in
                Self.varied.contains { $0.id == exercise["id"] as? String }
            }
            var byID: [String: [String: Any]] = [:]
            for exercise in exercises {
                for check in exercise["checks"] as? [[String: Any]] ?? [] {
                    byID["\(exercise["id"]!)/\(check["id"]!)"] = check
                }
            }
            return byID
        }
        let aliceChecks = checks(try verify("alice"))
        XCTAssertEqual(aliceChecks.count, 15)
        XCTAssertEqual(
            aliceChecks.filter { $0.value["passed"] as? Bool != true }.keys.sorted(), [], "alice's own answers pass")

        // The same answers in the classmate's workspace fail, and the report says why.
        let copied = checks(try verify(other.name))
        // alice's process limit is too low for the classmate's few, or too high for their many.
        let pidsCheck = Int(other.values["pids"]!)! > Int(alice["pids"]!)! ? "3.2/ten-run" : "3.2/forty-refused"
        for id in ["2.2/hostname-lab", pidsCheck, "4.1/hostname-lab", "5.2/removes-vi"] {
            let check = try XCTUnwrap(copied[id], id)
            XCTAssertEqual(check["passed"] as? Bool, false, id)
            XCTAssertTrue((check["seen"] as? String ?? "").contains("is another variant's value"), "\(id): \(check)")
        }

        // The teacher grades the class with the key: a copy of alice's whole workspace handed in
        // as the classmate's is graded against the classmate's values and named.
        try FileManager.default.removeItem(atPath: place + "/class/" + other.name)
        try FileManager.default.copyItem(atPath: place + "/class/alice", toPath: place + "/class/" + other.name)
        let book = place + "/book"
        let graded = try Harness.run(
            ["grade", place + "/class", "--class-key", key, "--out", book, "--jobs", "2"], timeout: 900)
        XCTAssertEqual(graded.status, 0, graded.stderr)
        XCTAssertTrue(graded.stderr.contains("\(other.name)'s workspace was made for alice"), graded.stderr)
        let rows = try String(contentsOfFile: book + "/gradebook.csv", encoding: .utf8).components(separatedBy: "\r\n")
        let header = rows[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let column = try XCTUnwrap(header.firstIndex(of: "2.2"))
        func points(_ student: String) throws -> String {
            let row = try XCTUnwrap(rows.first { $0.hasPrefix(student + ",") }, "\(student) in \(rows)")
            return String(row.split(separator: ",", omittingEmptySubsequences: false)[column])
        }
        XCTAssertEqual(try points("alice"), "3")
        XCTAssertEqual(try points(other.name), "2", "the copy fails 2.2's hostname under the classmate's values")
    }
}

extension ExerciseGradingTests {
    /// A workspace made for an assignment: verify grades its exercises, shows the weighted
    /// score and the due date, and a hint that costs says so and is taken off.
    func testAnAssignmentsWorkspaceShowsTheWeightedScoreAndWhatHintsCost() throws {
        let place = workspace + "-assigned"
        defer {
            try? FileManager.default.removeItem(atPath: place);
            try? FileManager.default.removeItem(atPath: place + ".yaml")
        }
        try """
        title: Week 2, namespaces
        exercises: ["2.1", "2.2"]
        weights: {"2.2": 2}
        due: 2999-12-20T23:59:00Z
        hints: cost
        hint-cost: 1
        """.write(toFile: place + ".yaml", atomically: true, encoding: .utf8)
        XCTAssertEqual(try Harness.run(["exercises", "init", place, "--assignment", place + ".yaml"]).status, 0)
        let folder = try XCTUnwrap(
            try FileManager.default.contentsOfDirectory(atPath: place).first { $0.hasPrefix("2.2-") })
        try FileManager.default.removeItem(atPath: place + "/" + folder + "/container.sh")
        try FileManager.default.copyItem(
            atPath: Self.solutions.appendingPathComponent("2.2/reference/container.sh").path,
            toPath: place + "/" + folder + "/container.sh")
        let first = try Harness.execute(
            [Harness.binary, "verify", "--lang", "en", "--color", "never"], directory: place, timeout: 300)
        XCTAssertEqual(first.status, 1, first.stderr)
        XCTAssertTrue(
            first.stdout.contains("3/6 points, 1 of 2 exercises complete"),
            "only the assigned exercises: \(first.stdout)")
        XCTAssertTrue(first.stdout.contains("Week 2, namespaces: 6/9 weighted; due 2999-12-20T23:59:00Z"), first.stdout)
        let hint = try Harness.execute(
            [Harness.binary, "hint", "2.1", "--lang", "en", "--color", "never"], directory: place)
        XCTAssertTrue(hint.stdout.contains("In this assignment each hint costs 1 point."), hint.stdout)
        let second = try Harness.execute(
            [Harness.binary, "verify", "--lang", "en", "--color", "never"], directory: place, timeout: 300)
        XCTAssertTrue(
            second.stdout.contains("5/9 weighted") && second.stdout.contains("hints asked for: 1, each costs 1 point"),
            second.stdout)
        let bad = try Harness.run(["exercises", "init", place + "-2", "--assignment", "/nonexistent.yaml"])
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.stderr.contains("cannot read /nonexistent.yaml"), bad.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: place + "-2"), "nothing half-made")
    }
}
