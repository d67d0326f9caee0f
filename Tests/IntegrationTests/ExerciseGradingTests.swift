import ContlabCore
import Foundation
import FoundationXML
import XCTest

/// `contlab verify` grading real work through the built binary, as a student or a teacher runs
/// it: for every exercise the starter files score zero, the reference solution (kept here, in
/// Tests/ExerciseSolutions, never in a workspace) scores full marks, and each wrong answer fails
/// the checks its expect.json names with the hint it names. Needs root (containers, cgroups).
final class ExerciseGradingTests: XCTestCase {
    static let solutions = Harness.packageRoot.appendingPathComponent("Tests/ExerciseSolutions")
    var workspace = ""
    var mountsBefore = ""

    override func setUpWithError() throws {
        try Harness.requireRoot()
        _ = try Harness.busyboxRootfs()
        workspace = NSTemporaryDirectory() + "contlab-grade-it-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let made = try Harness.run(["exercises", "init", workspace])
        XCTAssertEqual(made.status, 0, made.stderr)
        mountsBefore = Harness.hostTraces().mounts
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: workspace)
        guard geteuid() == 0 else { return }
        // Grading leaves no cgroups, mounts or processes of its own behind.
        for hierarchy in (try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? [] {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup/" + hierarchy)) ?? []
            XCTAssertEqual(entries.filter { $0.hasPrefix("contlab-grade-") }, [], "cgroups left in \(hierarchy)")
        }
        // Other tests on this machine mount and unmount meanwhile: look only at new mounts where
        // grading works (its temporary directories) or where an exercise mounts (/mnt, /proc).
        let traces = Harness.hostTraces()
        let before = Set(mountsBefore.split(separator: "\n"))
        let added = traces.mounts.split(separator: "\n").filter { line in
            let fields = line.split(separator: " ")
            guard !before.contains(line), fields.count > 4 else { return false }
            return fields[4].contains("contlab-grade") || fields[4] == "/mnt" || fields[4].hasPrefix("/proc")
        }
        XCTAssertEqual(added, [], "mounts left behind")
        // Other tests run containers meanwhile too: look for grading's own processes (runtimes
        // started for contlab-grade-… containers, the marker process of 1.3).
        var processes: [String] = []
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where Int(entry) != nil {
            let cmdline = (Sys.readText("/proc/\(entry)/cmdline") ?? "").replacingOccurrences(of: "\0", with: " ")
            if cmdline.contains("contlab-grade-") || cmdline.contains("contlab-marker-") {
                processes.append("\(entry): \(cmdline)")
            }
        }
        XCTAssertEqual(processes, [], "processes left behind")
    }

    // MARK: helpers

    func folder(_ id: String) throws -> String {
        let name = try XCTUnwrap(
            try FileManager.default.contentsOfDirectory(atPath: workspace).first { $0.hasPrefix(id + "-") })
        return workspace + "/" + name
    }

    /// Put the files of Tests/ExerciseSolutions/ID/VARIANT in the exercise's folder.
    func use(_ id: String, _ variant: String) throws {
        let source = Self.solutions.appendingPathComponent("\(id)/\(variant)")
        let target = try folder(id)
        for file in try FileManager.default.contentsOfDirectory(atPath: source.path) where file != "expect.json" {
            try? FileManager.default.removeItem(atPath: target + "/" + file)
            try FileManager.default.copyItem(
                atPath: source.appendingPathComponent(file).path, toPath: target + "/" + file)
        }
    }

    func write(_ id: String, _ file: String, _ data: Data) throws {
        try data.write(to: URL(fileURLWithPath: try folder(id) + "/" + file))
    }

    struct Graded {
        var status: Int32
        var points: Int
        var maxPoints: Int
        var checks: [[String: Any]]
        var stderr: String

        var failing: [String] { checks.filter { $0["passed"] as? Bool == false }.compactMap { $0["id"] as? String } }
        func check(_ id: String) -> [String: Any] { checks.first { $0["id"] as? String == id } ?? [:] }
    }

    func verify(_ args: [String], timeout: TimeInterval = 240) throws -> Graded {
        let result = try Harness.run(
            ["verify", "--workspace", workspace, "--format", "json", "--lang", "en"] + args, timeout: timeout)
        guard let object = try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] else {
            XCTFail("verify \(args) printed no JSON (status \(result.status)): \(result.stdout)\n\(result.stderr)")
            return Graded(status: result.status, points: -1, maxPoints: -1, checks: [], stderr: result.stderr)
        }
        let exercises = object["exercises"] as? [[String: Any]] ?? []
        return Graded(
            status: result.status, points: object["points"] as? Int ?? -1, maxPoints: object["maxPoints"] as? Int ?? -1,
            checks: exercises.flatMap { $0["checks"] as? [[String: Any]] ?? [] }, stderr: result.stderr)
    }

    /// Starter zero, reference full, every wrong answer failing as its expect.json says.
    /// `reference`: the folder of the full-marks answer (the build track has one per language);
    /// `wrongs`: whether to grade the wrong answers too (the build track's are in C);
    /// `starterRuns`: the build track's skeletons build and run, so no check may say the
    /// runtime did not (the build failed, a file is missing, the grader stopped short).
    func gradeExercise(
        _ id: String, reference: String? = "reference", wrongs: Bool = true, starterRuns: Bool = false
    ) throws {
        let starter = try verify([id])
        XCTAssertEqual(starter.points, 0, "\(id): the starter files score zero; failing \(starter.failing)")
        XCTAssertEqual(starter.status, 1, "\(id): a failing grade exits 1")
        if starterRuns {
            XCTAssertFalse(starter.checks.isEmpty, "\(id): the starter is graded check by check")
            for check in starter.checks {
                XCTAssertNotEqual(
                    check["expected"] as? String, "the runtime builds and runs",
                    "\(id): the skeleton must build and run; seen: \(check["seen"] as? String ?? "?")")
            }
        }

        let variants = try FileManager.default.contentsOfDirectory(
            atPath: Self.solutions.appendingPathComponent(id).path
        ).sorted()
        for wrong in variants where wrong.hasPrefix("wrong-") && wrongs {
            try use(id, wrong)
            let expectData = try Data(contentsOf: Self.solutions.appendingPathComponent("\(id)/\(wrong)/expect.json"))
            let expect = try XCTUnwrap(JSONSerialization.jsonObject(with: expectData) as? [String: Any])
            let graded = try verify([id])
            XCTAssertEqual(
                Set(graded.failing), Set(expect["failing"] as? [String] ?? []), "\(id) \(wrong): \(graded.checks)")
            // The report holds no hint until one is asked for (it would give answers away);
            // `contlab hint`, as a student asks, names the first failing check's.
            let hint = expect["hint"] as? String ?? "?"
            XCTAssertEqual(
                graded.checks.compactMap { $0["hint"] as? String }, [], "\(id) \(wrong): no hint was asked for")
            let asked = try Harness.execute([
                "/bin/sh", "-c", "cd \"$0\" && exec \"$1\" hint \"$2\" --lang en", workspace, Harness.binary, id
            ]).stdout
            let words = asked.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            XCTAssertTrue(words.contains(hint), "\(id) \(wrong): the hint mentions \"\(hint)\": \(asked)")
            let again = try verify([id]).checks.compactMap { $0["hint"] as? String }
            XCTAssertTrue(
                again.contains { $0.contains(hint) }, "\(id) \(wrong): once asked, the report repeats it: \(again)")
            for check in graded.checks where check["passed"] as? Bool == false {
                XCTAssertFalse((check["expected"] as? String ?? "").isEmpty, "\(id) \(wrong): expected is said")
                XCTAssertFalse((check["seen"] as? String ?? "").isEmpty, "\(id) \(wrong): seen is said")
            }
            XCTAssertEqual(graded.status, 1)
        }

        guard let reference else { return }
        try use(id, reference)
        let full = try verify([id])
        XCTAssertEqual(
            full.points, full.maxPoints,
            "\(id) \(reference): full marks; failing \(full.checks.filter { $0["passed"] as? Bool == false })")
        XCTAssertGreaterThan(full.maxPoints, 0)
        XCTAssertEqual(full.status, 0)
    }

    // MARK: every exercise

    func testStage1() throws {
        // The graders' containers start from the shared busybox tree: they must leave it as it was
        // (no mount points made in it for their binds).
        let tree = try Harness.busyboxRootfs()
        let before = try FileManager.default.contentsOfDirectory(atPath: tree).sorted()
        for id in ["1.1", "1.2", "1.3"] { try gradeExercise(id) }
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: tree).sorted(), before, "the busybox tree is unchanged")
    }
    func testStage2() throws { for id in ["2.1", "2.2", "2.3"] { try gradeExercise(id) } }
    func testStage3() throws { for id in ["3.1", "3.2", "3.3"] { try gradeExercise(id) } }
    func testStage4() throws { for id in ["4.1", "4.2", "4.3"] { try gradeExercise(id) } }
    func testStage5() throws { for id in ["5.1", "5.2"] { try gradeExercise(id) } }
    func testStage6() throws { for id in ["6.1", "6.2"] { try gradeExercise(id) } }

    /// The build track, in each language it offers: the untouched skeleton builds and scores
    /// zero, the reference runtime scores full marks, and the wrong runtimes (in C) fail what
    /// their expect.json says, with the hint it names.
    func testBuildTrack() throws {
        try gradeBuildLevels(["B.1", "B.2"])
        let unknown = try Harness.run([
            "exercises", "init", NSTemporaryDirectory() + "contlab-grade-build-\(getpid())-cobol", "--track", "build",
            "--lang", "cobol"
        ])
        XCTAssertEqual(unknown.status, 2)
        XCTAssertTrue(unknown.stderr.contains("choose --lang c, go, python or swift"), unknown.stderr)
        XCTAssertFalse(
            FileManager.default.fileExists(atPath: NSTemporaryDirectory() + "contlab-grade-build-\(getpid())-cobol"),
            "nothing is made")
    }

    /// B.3 apart, since it lends the grading container a cgroup subtree: graded as the others,
    /// and afterwards no cgroup of the student's runtime or of the grading is left (tearDown
    /// looks for the grading's; the runtimes' are named runtime-PID, under no other parent).
    func testBuildTrackCgroups() throws {
        func runtimeCgroups() -> [String] {
            ["memory", "pids", ""].flatMap { hierarchy in
                ((try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup/" + hierarchy)) ?? [])
                    .filter { $0.hasPrefix("runtime-") }.map { hierarchy + "/" + $0 }
            }
        }
        let before = runtimeCgroups()
        try gradeBuildLevels(["B.3"])
        XCTAssertEqual(runtimeCgroups(), before, "no runtime's cgroup is left on the host")
    }

    /// B.4, the OCI bundle: the skeleton scores zero, the references full marks, and each wrong
    /// runtime (the program run at create, state without pid, delete of a running container
    /// accepted) fails only its check; the shared trees keep their owner (gradeBuildLevels).
    func testBuildTrackBundle() throws {
        try gradeBuildLevels(["B.4"])
    }

    /// B.5, a root of layers: the skeleton scores zero, the references full marks, and each
    /// wrong runtime (the layers in manifest order, the top layer as upperdir, the overlay
    /// mounted in the runtime's namespace) fails only its checks; and the busybox tree, the
    /// grading's base layer's source, is left as it was.
    func testBuildTrackLayers() throws {
        let tree = try Harness.busyboxRootfs()
        let before = try FileManager.default.contentsOfDirectory(atPath: tree).sorted()
        try gradeBuildLevels(["B.5"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: tree).sorted(), before)
    }

    /// Each language's workspace, the levels graded in it, then the shared trees checked: the
    /// grader lends the host's /usr and the busybox tree read-only, and they keep their owner.
    /// Go's skeletons are graded untouched (built with the host's Go, scoring zero), as are its
    /// references; Swift's too (built with the host's swiftc), and its references where a level
    /// has one.
    func gradeBuildLevels(_ ids: [String]) throws {
        let standard = workspace
        defer { workspace = standard }
        for language in ["c", "python", "go", "swift"] {
            workspace = NSTemporaryDirectory() + "contlab-grade-build-\(getpid())-\(language)"
            try? FileManager.default.removeItem(atPath: workspace)
            defer { try? FileManager.default.removeItem(atPath: workspace) }
            let made = try Harness.run(["exercises", "init", workspace, "--track", "build", "--lang", language])
            XCTAssertEqual(made.status, 0, made.stderr)
            let files = [
                "c": ["runtime.c"], "python": ["runtime.py"], "go": ["runtime.go", "go.mod"], "swift": ["runtime.swift"]
            ]
            for file in files[language]! {
                XCTAssertTrue(
                    FileManager.default.fileExists(atPath: try folder("B.1") + "/" + file),
                    "\(language): the skeleton's \(file) is there")
            }
            for id in ids {
                let reference = "reference-\(language)"
                let has = FileManager.default.fileExists(
                    atPath: Self.solutions.appendingPathComponent("\(id)/\(reference)").path)
                XCTAssertTrue(has || language == "swift", "\(id) has a reference in \(language)")
                try gradeExercise(id, reference: has ? reference : nil, wrongs: language == "c", starterRuns: true)
            }
        }
        let busybox = try Harness.busyboxRootfs()
        // Swift's toolchain, where it has one of its own outside /usr, is lent as /usr is.
        let swift = FileManager.default.fileExists(atPath: "/opt/swift") ? ["/opt/swift", "/opt/swift/usr/bin"] : []
        for path in ["/usr", "/usr/bin", "/usr/bin/su", busybox, busybox + "/etc"] + swift {
            var info = stat()
            XCTAssertEqual(lstat(path, &info), 0, path)
            XCTAssertEqual(info.st_uid, 0, "\(path) is still root's")
        }
        var su = stat()
        stat("/usr/bin/su", &su)
        XCTAssertNotEqual(su.st_mode & S_ISUID, 0, "su is still setuid")
    }
    func testHistory() throws { for id in ["H.1", "H.2", "H.3"] { try gradeExercise(id) } }

    func testTheSameSolutionGetsTheSameGrade() throws {
        try use("1.3", "reference")
        try use("3.3", "reference")
        for _ in 0..<3 {
            let graded = try verify(["--stage", "1"])
            XCTAssertEqual(
                graded.failing,
                ["builds", "shell", "student", "tmp", "escapes", "no-mounts-left", "contained-at-stage-2"])
            XCTAssertEqual(try verify(["3.3"]).failing, [])
        }
    }

    // MARK: reports through the command line

    func testReportFormatsForAutograders() throws {
        try use("1.1", "reference")
        try use("H.1", "wrong-namespaces")
        let junit = workspace + "/.contlab/junit.xml"
        let tap = workspace + "/.contlab/results.tap"
        let gradescope = workspace + "/.contlab/results.json"
        for (format, file) in [("junit", junit), ("tap", tap), ("gradescope", gradescope)] {
            let result = try Harness.run([
                "verify", "--workspace", workspace, "--format", format, "--output", file, "1.1"
            ])
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertTrue(result.stdout.contains("4/4 points"), "the text report goes to stdout: \(result.stdout)")
            let failing = try Harness.run([
                "verify", "--workspace", workspace, "--format", format, "--output", file + ".h", "H.1"
            ])
            XCTAssertEqual(failing.status, 1)
        }
        // JUnit: Foundation's parser and Python's both read it.
        let document = try XMLDocument(contentsOf: URL(fileURLWithPath: junit + ".h"))
        XCTAssertEqual(document.rootElement()?.attribute(forName: "failures")?.stringValue, "1")
        let python = try Harness.execute([
            "/usr/bin/python3", "-c",
            "import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); print(r.tag, r.get('tests'))",
            junit
        ])
        XCTAssertEqual(python.stdout, "testsuites 4\n", python.stderr)
        // TAP: a plan and one well-formed line per check.
        let lines = try String(contentsOfFile: tap, encoding: .utf8).split(separator: "\n").map(String.init)
        XCTAssertEqual(Array(lines.prefix(2)), ["TAP version 13", "1..4"])
        XCTAssertEqual(lines.filter { $0.range(of: "^ok [1-4] - 1\\.1 ", options: .regularExpression) != nil }.count, 4)
        // Gradescope: score, and tests[] with name, score, max_score, output.
        let results = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: gradescope + ".h")))
                as? [String: Any])
        XCTAssertEqual(results["score"] as? Double, 3)
        let tests = try XCTUnwrap(results["tests"] as? [[String: Any]])
        XCTAssertEqual(tests.count, 4)
        XCTAssertTrue(
            tests.allSatisfy {
                $0["name"] is String && $0["score"] is Double && $0["max_score"] is Double && $0["output"] is String
            })
    }

    // MARK: bad input

    func testNotAWorkspaceAndUnknownIDAreRefused() throws {
        let outside = try Harness.run(["verify", "--workspace", "/tmp"])
        XCTAssertEqual(outside.status, 2)
        XCTAssertTrue(outside.stderr.contains("is not an exercise workspace"), outside.stderr)
        let unknown = try Harness.run(["verify", "--workspace", workspace, "3.7"])
        XCTAssertEqual(unknown.status, 2)
        XCTAssertTrue(unknown.stderr.contains("no exercise \"3.7\""), unknown.stderr)
        let notRoot = try Harness.run(["verify", "--workspace", workspace, "1.1"], as: 65534)
        XCTAssertEqual(notRoot.status, 2, "a grader that cannot run containers refuses instead of failing every check")
        XCTAssertTrue(notRoot.stderr.contains("run it as root"), notRoot.stderr)
        let initAgain = try Harness.run(["exercises", "init", workspace])
        XCTAssertEqual(initAgain.status, 2)
        XCTAssertTrue(initAgain.stderr.contains("already holds files"), initAgain.stderr)
    }

    func testAHangingScriptIsKilledAndFailedWithTheReason() throws {
        try write("2.1", "container.sh", Data("#!/bin/sh\nsleep 1000 &\nexec sleep 1000\n".utf8))
        let start = Date()
        let host = try verify(["--timeout", "3", "2.1"], timeout: 60)
        XCTAssertLessThan(Date().timeIntervalSince(start), 20)
        XCTAssertEqual(host.points, 0)
        XCTAssertTrue(
            (host.check("own-pid-namespace")["seen"] as? String ?? "").contains("did not finish within its time limit"),
            "\(host.checks)")

        try write("1.2", "escape.sh", Data("#!/bin/sh\nwhile :; do :; done\n".utf8))
        let jailed = try verify(["--timeout", "3", "1.2"], timeout: 60)
        XCTAssertEqual(jailed.points, 0)
        XCTAssertTrue(
            (jailed.check("escapes")["seen"] as? String ?? "").contains("killed after 3 s"), "\(jailed.checks)")
    }

    func testOutputThatIsNotUTF8IsGraded() throws {
        var script = Data("#!/bin/sh\nprintf '\\377\\376\\001\\033[31m<&]]>'\necho\nexit 3\n".utf8)
        script += Data()
        try write("1.3", "find.sh", script)
        let graded = try verify(["1.3"])
        XCTAssertEqual(graded.points, 0)
        let seen = graded.check("finds")["seen"] as? String ?? ""
        XCTAssertTrue(seen.contains("\u{FFFD}") && seen.contains("exited with 3"), seen)
        let junit = workspace + "/.contlab/bad.xml"
        XCTAssertEqual(
            try Harness.run(["verify", "--workspace", workspace, "--format", "junit", "--output", junit, "1.3"]).status,
            1)
        XCTAssertNoThrow(try XMLDocument(contentsOf: URL(fileURLWithPath: junit)))
    }

    func testScriptsThatDeleteTheirFilesOrFillTheDiskAreContained() throws {
        try write("2.1", "container.sh", Data("#!/bin/sh\nrm -rf \"$PWD\"\nexec \"$@\"\n".utf8))
        _ = try verify(["2.1"])
        XCTAssertTrue(
            FileManager.default.fileExists(atPath: try folder("2.1") + "/container.sh"),
            "the student's own file is kept: a copy was graded")

        // Host-setup scripts see the host's root filesystem read-only (but their own copy).
        let stray = "/var/tmp/contlab-grade-stray-\(getpid())"
        try write("3.1", "setup.sh", Data("#!/bin/sh\necho x > \(stray)\ntouch ./mine && mkdir \"$CGROUP/lab\"\n".utf8))
        let host = try verify(["3.1"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: stray), "the script wrote to the host's root filesystem")
        XCTAssertEqual(host.failing, ["big-hog-killed"], "its own folder stays writable: \(host.checks)")

        try write(
            "1.2", "escape.sh",
            Data("#!/bin/sh\ndd if=/dev/zero of=/tmp/fill bs=1M count=400 2>/dev/null\nexit 1\n".utf8))
        let filled = try verify(["--timeout", "10", "1.2"], timeout: 60)
        XCTAssertEqual(filled.points, 0)
        XCTAssertTrue((filled.check("escapes")["seen"] as? String ?? "").contains("exited with 1"), "\(filled.checks)")
    }

    /// Ctrl-C during a grading: the program under way is stopped, the grading cleans up (no
    /// temporary folder, container or cgroup of it is left), nothing is recorded, and verify
    /// exits 130. Before, the signal ended contlab at once and left them all behind.
    func testCtrlCDuringAGradingLeavesNothingBehind() throws {
        try write("1.2", "escape.sh", Data("#!/bin/sh\nsleep 30\n".utf8))
        func temporaries() -> Set<String> {
            Set(
                ((try? FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory())) ?? []).filter {
                    $0.hasPrefix("contlab-grade-")
                })
        }
        let before = temporaries()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Harness.binary)
        process.arguments = ["verify", "--workspace", workspace, "--lang", "en", "1.2"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        let started = Date()
        try process.run()
        // The grading's container is under way once a process names it (contlab-grade-PID-…).
        let mark = "contlab-grade-\(process.processIdentifier)-"
        func containerProcesses() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).filter {
                Int($0) != nil && (Sys.readText("/proc/\($0)/cmdline") ?? "").contains(mark)
            }
        }
        var waited = 0
        while containerProcesses().isEmpty && waited < 200 {
            usleep(50_000)
            waited += 1
        }
        XCTAssertFalse(containerProcesses().isEmpty, "the grading's container started")
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationReason, .exit)
        XCTAssertEqual(process.terminationStatus, 130)
        XCTAssertLessThan(Date().timeIntervalSince(started), 25, "the 30 s sleep was stopped")
        XCTAssertEqual(containerProcesses(), [], "no process of the grading is left")
        XCTAssertEqual(temporaries().subtracting(before), [], "no temporary folder of the grading is left")
        let cgroups = ["memory", "pids", "cpu"].flatMap { hierarchy in
            ((try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup/\(hierarchy)/contlab-runc")) ?? [])
                .filter { $0.hasPrefix(mark) }
        }
        XCTAssertEqual(cgroups, [], "no cgroup of the grading is left")
        XCTAssertFalse(
            (Sys.readText(workspace + "/.contlab/progress.json") ?? "").contains("\"1.2\""), "not recorded")
    }

    func testWatchGradesAgainWhenAFileChanges() throws {
        let output = workspace + "/.contlab/watch.out"
        FileManager.default.createFile(atPath: output, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Harness.binary)
        process.arguments = ["verify", "--workspace", workspace, "--watch", "--lang", "en", "H.3"]
        process.standardOutput = handle
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try? handle.close()
        defer {
            process.terminate()
            process.waitUntilExit()
        }
        func waitFor(_ text: String) -> Bool {
            for _ in 0..<200 {
                if (try? String(contentsOfFile: output, encoding: .utf8))?.contains(text) == true { return true }
                usleep(50_000)
            }
            return false
        }
        XCTAssertTrue(waitFor("0/5 points"), "the first grading")
        usleep(1_100_000)  // a new modification time, whatever the file system's resolution
        try use("H.3", "reference")
        XCTAssertTrue(waitFor("H.3 changed, grading again"))
        XCTAssertTrue(waitFor("5/5 points"), (try? String(contentsOfFile: output, encoding: .utf8)) ?? "")
    }

    func testHintsAdvanceAndProgressIsListed() throws {
        _ = try verify(["1.2"])
        func hint() throws -> String {
            try Harness.execute([
                "/bin/sh", "-c", "cd \"$0\" && exec \"$1\" hint 1.2 --lang en", workspace, Harness.binary
            ]).stdout
        }
        XCTAssertTrue(try hint().contains("hint 1/3"))
        // Without an id: the first failing exercise's next hint.
        let next = try Harness.execute([
            "/bin/sh", "-c", "cd \"$0\" && exec \"$1\" hint --lang en", workspace, Harness.binary
        ]).stdout
        XCTAssertTrue(next.contains("1.2") && next.contains("hint 2/3"), next)
        try use("1.2", "reference")
        let graded = try verify(["1.2"])
        XCTAssertEqual(graded.failing, [])
        let list = try Harness.execute([
            "/bin/sh", "-c", "cd \"$0\" && exec \"$1\" exercises --lang en", workspace, Harness.binary
        ]).stdout
        XCTAssertTrue(list.contains("1.2   done"), list)
        XCTAssertTrue(list.contains("1.1   not started"), list)
        XCTAssertTrue(try hint().contains("no hint needed"))
        let text = try Harness.run(["verify", "--workspace", workspace, "--lang", "en", "2.2"]).stdout
        XCTAssertTrue(text.contains("for a hint, run contlab hint 2.2"), text)
        XCTAssertFalse(text.contains("hostname lab &&"), "the answer is not printed on a first run: \(text)")
    }
}
