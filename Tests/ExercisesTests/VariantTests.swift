import ContlabCore
import XCTest
@testable import Exercises

final class VariantTests: XCTestCase {
    let key = Array("a class key of the autumn term".utf8)

    func testHMACMatchesRFC4231() {
        // RFC 4231, test case 2.
        let mac = Variant.hmac(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
        XCTAssertEqual(
            mac.map { String(format: "%02x", $0) }.joined(),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        // A key longer than the block is hashed first (test case 6).
        let long = Variant.hmac(
            key: [UInt8](repeating: 0xaa, count: 131),
            message: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8))
        XCTAssertEqual(
            long.map { String(format: "%02x", $0) }.joined(),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    }

    func testAStudentsVariantIsStableAndDiffersFromOthers() {
        let alice = Variant.derive(student: "alice", key: key)
        XCTAssertEqual(alice, Variant.derive(student: "alice", key: key), "the same student, the same values")
        XCTAssertNotEqual(
            alice.values, Variant.derive(student: "alice", key: Array("another class's key, spring".utf8)).values)
        let class30 = (1...30).map { Variant.derive(student: "s\($0)", key: key) }
        XCTAssertGreaterThan(Set(class30.map(\.hostname)).count, 6, "thirty students spread over the hostnames")
        XCTAssertEqual(Set(class30.map { $0["pids"] }), Set(Variant.pidLimits.map(String.init)))
        for variant in class30 {
            XCTAssertTrue(variant.hostname.hasPrefix("lab-"))
            XCTAssertTrue(Variant.deletable.contains(variant.deleted))
            XCTAssertEqual(variant.pidsFew, Int(variant["pids"])! - 3)
            XCTAssertEqual(variant.pidsMany, Int(variant["pids"])! + 3)
        }
    }

    func testEveryPlaceholderIsFilledAndTheStandardVariantKeepsTheOriginalTexts() throws {
        let catalog = try Fixtures.catalog()
        let variant = Variant.derive(student: "alice", key: key)
        for exercise in catalog.exercises {
            var texts =
                [exercise.title.en, exercise.title.zh]
                + exercise.checks.flatMap { [$0.title.en, $0.title.zh] + $0.hints.flatMap { [$0.en, $0.zh] } }
            for file in ["task.en.md", "task.zh.md"] {
                texts.append(
                    try String(contentsOfFile: exercise.directory + "/" + file, encoding: .utf8).replacingOccurrences(
                        of: "{{questions}}", with: ""))
            }
            for file in (try? FileManager.default.contentsOfDirectory(atPath: exercise.directory + "/starter")) ?? [] {
                texts.append(
                    (try? String(contentsOfFile: exercise.directory + "/starter/" + file, encoding: .utf8)) ?? "")
            }
            for text in texts {
                XCTAssertFalse(
                    variant.fill(text).contains("{{"), "\(exercise.id): a placeholder no variant fills: \(text)")
            }
        }
        let standard = Variant.standard.fill(try catalog.exercise("3.2"))
        XCTAssertEqual(standard.title.en, "At most 20 processes")
        XCTAssertEqual(standard.check("ten-run")?.title.zh, "其中的 shell 能启动 10 个进程")
        XCTAssertEqual(
            Variant.standard.fill(try catalog.exercise("5.2")).check("removes-vi")?.title.en,
            "the layer deletes /bin/vi")
        let filled = variant.fill(try catalog.exercise("2.2"))
        XCTAssertEqual(filled.check("hostname-lab")?.title.en, "inside, the hostname is \(variant.hostname)")
    }

    func testAnotherVariantsAnswerIsNamed() throws {
        let variant = Variant(
            student: "bob",
            values: ["hostname": "lab-oak", "pids": "28", "pids-few": "25", "pids-many": "31", "delete": "ed"])
        let report =
            #"{"pid": 2, "ppid": 1, "uid": 0, "gid": 0, "groups": [], "hostname": "lab-pine", "namespaces": [], "#
            + #""root": "/", "procMounted": true, "noNewPrivileges": false, "seccomp": "disabled", "cgroups": []}"#
        let probe = ProbeOutput.parse("inspect-begin\n\(report)\ninspect-end\n")
        let outcomes = Evaluation.unshareScript(
            exercise: "2.2", probe: probe, status: "exited 0", hostnameBefore: "outer",
            after: ProbeOutput(), variant: variant)
        let hostname = try XCTUnwrap(outcomes.first { $0.check == "hostname-lab" })
        XCTAssertFalse(hostname.passed)
        XCTAssertEqual(hostname.expected, "hostname lab-oak inside")
        XCTAssertTrue(
            hostname.seen.contains("lab-pine is another variant's value: this workspace's task asks for lab-oak"),
            hostname.seen)
        XCTAssertNil(
            variant.otherVariant("hostname", seen: "localhost"), "a value no variant has is only a wrong answer")

        let pids = Evaluation.pidsCgroup(
            made: true, setupStatus: "setup.sh exited 0", ten: .init(status: "exited 1", exitCode: 1),
            forty: .init(status: "exited 0", exitCode: 0), refusals: 4, variant: variant, limit: "20")
        XCTAssertEqual(pids.first { $0.check == "ten-run" }?.expected, "a shell starting 25 processes in it succeeds")
        XCTAssertTrue(
            pids.first { $0.check == "ten-run" }?.seen.contains("pids.max: 20 is another variant's value") == true)

        let layer = Evaluation.whiteoutLayer(
            status: "exited 0", tarError: nil, entries: ["bin/", "bin/.wh.vi", "etc/", "etc/motd"], unpackError: nil,
            viPresent: true, shPresent: true, motd: "hello from a layer",
            overlayOutput: "hello from a layer\nvi-present",
            variant: variant)
        let removes = try XCTUnwrap(layer.first { $0.check == "removes-vi" })
        XCTAssertFalse(removes.passed)
        XCTAssertTrue(
            removes.seen.contains("/bin/ed is still there") && removes.seen.contains("vi is another variant's value"),
            removes.seen)
        XCTAssertFalse(layer.first { $0.check == "small" }!.passed, "bin/.wh.vi is not this variant's change")
    }

    func testEachVariantLettersTheHistoryEventsItsOwnWay() throws {
        let exercise = try Fixtures.catalog().exercise("H.1")
        let data = try Fixtures.history()
        let reference = try String(
            contentsOf: Fixtures.solutionsDirectory.appendingPathComponent("H.1/reference/answers.yaml"),
            encoding: .utf8)
        XCTAssertTrue(HistoryQuiz.grade(exercise, answers: reference, data: data).allSatisfy(\.passed))
        let students = (1...5).map { Variant.derive(student: "s\($0)", key: key) }
        func answers(_ variant: Variant) -> String {
            exercise.checks.map { check in
                let key = HistoryQuiz.lettered(check, data: data, variant: variant).sorted {
                    $0.event.date < $1.event.date
                }.map(\.letter)
                return "\(check.id): [\(key.joined(separator: ", "))]"
            }.joined(separator: "\n")
        }
        XCTAssertEqual(Set(students.map(answers)).count, 5, "five students, five answer keys")
        for variant in students {
            XCTAssertTrue(
                HistoryQuiz.grade(exercise, answers: answers(variant), data: data, variant: variant).allSatisfy(
                    \.passed))
            XCTAssertFalse(
                HistoryQuiz.grade(exercise, answers: reference, data: data, variant: variant).allSatisfy(\.passed),
                "the answers for the standard lettering are not this student's")
            let questions = HistoryQuiz.questions(exercise, data: data, language: .en, variant: variant)
            let first = HistoryQuiz.lettered(exercise.checks[0], data: data, variant: variant)[0]
            XCTAssertTrue(questions.contains("  - A: \(first.event.title.en)"), questions)
        }
    }

    func testAWorkspaceKeepsItsVariantAndItsTasksShowIt() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "contlab-variant-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        defer { try? FileManager.default.removeItem(at: directory) }
        let variant = Variant.derive(student: "alice", key: key)
        let workspace = try Workspace.create(at: directory, catalog: try Fixtures.catalog(), variant: variant)
        XCTAssertEqual(workspace.loadVariant(), variant)
        let task = try String(
            contentsOf: workspace.folder(for: try Fixtures.catalog().exercise("2.2")).appendingPathComponent("TASK.md"),
            encoding: .utf8)
        XCTAssertTrue(task.contains("the hostname `\(variant.hostname)`"), task)
        let starter = try String(
            contentsOf: workspace.folder(for: try Fixtures.catalog().exercise("5.2")).appendingPathComponent(
                "layer.sh"), encoding: .utf8)
        XCTAssertTrue(starter.contains("deletes /bin/\(variant.deleted) and"), starter)
        let plain = directory.appendingPathComponent("plain")
        XCTAssertEqual(try Workspace.create(at: plain, catalog: try Fixtures.catalog()).loadVariant(), .standard)
    }

    func testTheClassKeyComesFromAFileOrTheEnvironmentAndIsLongEnough() throws {
        XCTAssertNil(try Variant.classKey(file: nil, environment: [:]))
        XCTAssertEqual(
            try Variant.classKey(file: nil, environment: ["CONTLAB_CLASS_KEY": "0123456789abcdef\n"]),
            Array("0123456789abcdef".utf8))
        XCTAssertThrowsError(try Variant.classKey(file: nil, environment: ["CONTLAB_CLASS_KEY": "short"])) { error in
            XCTAssertTrue("\(error)".contains("at least 16 characters"), "\(error)")
        }
        XCTAssertThrowsError(try Variant.classKey(file: "/nonexistent/class.key", environment: [:])) { error in
            XCTAssertTrue("\(error)".contains("head -c 32 /dev/urandom"), "\(error)")
        }
    }
}
