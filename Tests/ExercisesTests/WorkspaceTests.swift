import XCTest
@testable import Exercises

final class WorkspaceTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "contlab-grade-ws-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
    }

    override func tearDown() {
        try? FileManager.default.removeItem(at: directory)
    }

    func testCreateLaysOutTasksAndStarters() throws {
        let catalog = try Fixtures.catalog()
        let workspace = try Workspace.create(at: directory, catalog: catalog) { _, _, text in
            text.replacingOccurrences(of: "{{questions}}", with: "Q")
        }
        for exercise in catalog.exercises {
            let folder = workspace.folder(for: exercise)
            XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent("TASK.md").path))
            XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent("TASK.zh.md").path))
            for file in exercise.files {
                XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent(file).path))
            }
        }
        let sub = workspace.folder(for: catalog.exercises[0])
        XCTAssertEqual(try Workspace.find(from: sub).root.path, workspace.root.path)
        XCTAssertThrowsError(try Workspace.create(at: directory, catalog: catalog)) { error in
            XCTAssertEqual(error as? ExerciseError, .workspaceExists(self.directory.path))
        }
    }

    func testNotAWorkspace() {
        XCTAssertThrowsError(try Workspace.find(from: URL(fileURLWithPath: "/proc/self"))) { error in
            XCTAssertTrue("\(error)".contains("is not an exercise workspace"))
        }
    }

    func testProgressIsKeptAndHintsAdvance() throws {
        let catalog = try Fixtures.catalog()
        let workspace = try Workspace.create(at: directory, catalog: catalog)
        let exercise = try Fixtures.exercise()
        var progress = workspace.loadProgress()
        XCTAssertEqual(progress[exercise.id].status, .notStarted)
        let failing = Scoring.score(exercise, outcomes: [], language: .en)
        progress.record(failing, at: "2026-01-01T00:00:00Z")
        var entry = progress[exercise.id]
        XCTAssertEqual(entry.status, .failing)
        XCTAssertEqual(entry.failing, ["first", "second"])
        let first = try XCTUnwrap(Workspace.nextHint(exercise, entry: entry, language: .en))
        XCTAssertEqual(first.hint, "hint one")
        entry.hintsShown["first"] = 1
        XCTAssertEqual(Workspace.nextHint(exercise, entry: entry, language: .en)?.hint, "hint two")
        progress[exercise.id] = entry
        try workspace.saveProgress(progress)
        XCTAssertEqual(workspace.loadProgress(), progress)
        // Progress lives in .contlab/, nowhere near the student's files.
        XCTAssertTrue(
            FileManager.default.fileExists(atPath: directory.appendingPathComponent(".contlab/progress.json").path))
    }

    /// Two commands at once (threads here, each with its own open of the folder, as two
    /// processes would have): every change is kept. Without the lock, a load that happens
    /// between another's load and save loses that one's count.
    func testChangesMadeAtOnceAreAllKept() throws {
        let workspace = try Workspace.create(at: directory, catalog: try Fixtures.catalog())
        let exercise = try Fixtures.exercise()
        let changes = 24
        let failures = NSLock()
        var errors: [Error] = []
        DispatchQueue.concurrentPerform(iterations: changes) { _ in
            do {
                try workspace.updateProgress { progress in
                    var entry = progress[exercise.id]
                    entry.hintsShown["first", default: 0] += 1
                    progress[exercise.id] = entry
                }
            } catch {
                failures.lock()
                errors.append(error)
                failures.unlock()
            }
        }
        XCTAssertTrue(errors.isEmpty, "\(errors)")
        XCTAssertEqual(workspace.loadProgress()[exercise.id].hintsShown["first"], changes)
    }

    /// A student's workspace saved by root (`sudo contlab verify`): links planted in .contlab,
    /// or .contlab itself a link, never have root write elsewhere, and a FIFO in place of the
    /// progress file reads as no progress at once rather than blocking.
    func testPlantedLinksAndAFIFOAreNotFollowed() throws {
        let workspace = try Workspace.create(at: directory, catalog: try Fixtures.catalog())
        let victim = directory.path + "-victim"
        try "keep".write(toFile: victim, atomically: false, encoding: .utf8)
        defer { unlink(victim) }
        let state = workspace.stateDirectory.path
        XCTAssertEqual(symlink(victim, state + "/progress.json"), 0)
        for pid in [getpid(), getpid() + 1] { symlink(victim, state + "/progress.json.\(pid)") }
        try workspace.saveProgress(Workspace.Progress())
        XCTAssertEqual(try String(contentsOfFile: victim, encoding: .utf8), "keep", "written through a link")
        var info = stat()
        XCTAssertEqual(lstat(state + "/progress.json", &info), 0)
        XCTAssertEqual(info.st_mode & S_IFMT, S_IFREG, "the link itself was replaced")

        unlink(state + "/progress.json")
        XCTAssertEqual(mkfifo(state + "/progress.json", 0o644), 0)
        XCTAssertEqual(workspace.loadProgress(), Workspace.Progress(), "a FIFO reads as no progress")

        try FileManager.default.removeItem(atPath: state)
        let elsewhere = directory.path + "-elsewhere"
        try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: elsewhere) }
        XCTAssertEqual(symlink(elsewhere, state), 0)
        XCTAssertThrowsError(try workspace.saveProgress(Workspace.Progress()))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: elsewhere), [], "nothing written there")
    }

    func testADamagedProgressFileReadsAsNoProgress() throws {
        let workspace = try Workspace.create(at: directory, catalog: try Fixtures.catalog())
        try Data([0xFF, 0x00]).write(to: directory.appendingPathComponent(".contlab/progress.json"))
        XCTAssertEqual(workspace.loadProgress(), Workspace.Progress())
    }
}
