import ContlabCore
import Foundation
import History
import TextKit
import XCTest
@testable import Walkthrough

final class WalkthroughDataTests: XCTestCase {
    static let lessons = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "../../lessons"
    ).standardizedFileURL

    func testEveryStageHasBothLanguagesRealLessonsAndRealHistory() throws {
        let all = try StageWalkthrough.loadAll(from: Self.lessons.appendingPathComponent("walkthrough"))
        XCTAssertEqual(all.map(\.stage), [0, 1, 2, 3, 4, 5, 6])
        let history = try HistoryData.load(from: Self.lessons.appendingPathComponent("history"))
        let commands: Set<String> = [
            "inspect", "run", "escape", "oom-demo", "rootfs", "runc", "bundle", "hog",
            "image", "diff", "commit", "container", "engines", "network"
        ]
        for stage in all {
            for text in [stage.title, stage.summary]
                + stage.steps.flatMap({ [$0.title, $0.text] + ($0.lookFor.map { [$0] } ?? []) })
            {
                XCTAssertFalse(text.en.isEmpty, "stage \(stage.stage): an English text is empty")
                XCTAssertFalse(text.zh.isEmpty, "stage \(stage.stage): a Chinese text is empty")
            }
            if let lesson = stage.lesson {
                XCTAssertTrue(
                    FileManager.default.fileExists(atPath: Self.lessons.appendingPathComponent("en/\(lesson).md").path),
                    "stage \(stage.stage): no lesson \(lesson)")
            }
            for id in stage.history ?? [] {
                XCTAssertTrue(history.events.contains { $0.id == id }, "stage \(stage.stage): no history event \(id)")
            }
            for args in stage.cleanup ?? [] {
                XCTAssertTrue(
                    args.first.map(commands.contains) ?? false,
                    "stage \(stage.stage): cleanup \(args) is not a contlab command")
            }
            for step in stage.steps {
                if let first = step.run?.first {
                    XCTAssertTrue(commands.contains(first), "stage \(stage.stage): \(first) is not a contlab command")
                }
            }
        }
    }

    func testStepsReadAsTheyShouldWithoutColour() throws {
        let stage = StageWalkthrough(
            stage: 2, title: .init(en: "Namespaces", zh: "命名空间"), summary: .init(en: "own view", zh: "自己的视图"),
            lesson: "stage2-namespaces", history: nil,
            steps: [
                .init(
                    title: .init(en: "PID 1", zh: "1 号进程"), text: .init(en: "Why.", zh: "为什么。"),
                    byHand: ["unshare --pid --fork sh"], run: ["run", "--stage", "2", "--", "sh", "-c", "echo $$"],
                    lookFor: .init(en: "2", zh: "2"))
            ],
            exercises: nil)
        let text = stage.describe(step: 0, language: "en", style: Style(enabled: false), prose: true)
        XCTAssertTrue(text.contains("Step 1/1: PID 1"))
        XCTAssertTrue(text.contains("$ unshare --pid --fork sh"))
        XCTAssertTrue(text.contains("contlab run --stage 2 -- sh -c 'echo $$'"), text)
        XCTAssertFalse(
            stage.describe(step: 0, language: "en", style: Style(enabled: false), prose: false).contains("Why."))
        XCTAssertTrue(
            stage.describe(step: 0, language: "zh", style: Style(enabled: false), prose: true).contains("第 1/1 步：1 号进程")
        )
        XCTAssertTrue(
            stage.header(language: "en", style: Style(enabled: false), history: ["1979: chroot"]).contains(
                "1979: chroot"))
    }
}

/// A stage whose needs are missing says what is missing, how to get it, and what still can be
/// shown; its steps are told but not run.
final class WalkthroughNeedsTests: XCTestCase {
    static let everything = HostAbilities(isRoot: true, userNamespaces: true, memoryController: true, runc: true)
    let plain = Style(enabled: false)

    func stage(_ n: Int) throws -> StageWalkthrough {
        let all = try StageWalkthrough.loadAll(from: WalkthroughDataTests.lessons.appendingPathComponent("walkthrough"))
        return try XCTUnwrap(all.first { $0.stage == n })
    }

    func testTheStepsDeclareWhatTheyNeed() throws {
        XCTAssertTrue(try stage(0).steps.allSatisfy { ($0.needs ?? []).isEmpty }, "stage 0 only looks at the host")
        for n in [1, 2] {
            for step in try stage(n).steps where step.run != nil {
                XCTAssertEqual(step.needs, [.rootOrUserNamespaces], "stage \(n): \(step.title.en)")
            }
        }
        for step in try stage(3).steps {
            XCTAssertEqual(Set(step.needs ?? []), [.cgroups, .memoryController], step.title.en)
        }
        let four = try stage(4).steps
        XCTAssertTrue(four.prefix(3).allSatisfy { $0.byHandNeeds == [.runc] }, "stage 4 compares with runc by hand")
        XCTAssertEqual(four.last?.run, ["engines", "demo", "docker"])
        XCTAssertEqual(four.last?.needs, [.root], "a private dockerd needs root")
        let six = try stage(6).steps
        for step in six where step.run != nil { XCTAssertEqual(step.needs, [.root], "stage 6: \(step.title.en)") }
        // The server the later steps talk to runs in the background, checked by a request.
        let server = try XCTUnwrap(six.first { $0.background == true })
        XCTAssertEqual(server.prepares, true, "--step past the server must still start it")
        XCTAssertEqual(server.ready?.prefix(2), ["run", "--stage"])
    }

    func testABackgroundStepsReadyCommandIsMadeForTheRun() throws {
        let six = try stage(6).instantiated(scratch: "/tmp/x", name: "walkthrough-0-1-abcd")
        let server = try XCTUnwrap(six.steps.first { $0.background == true })
        XCTAssertTrue(server.ready?.contains("walkthrough-0-1-abcd") == true, "\(server.ready ?? [])")
        XCTAssertFalse(server.ready?.joined().contains("{name}") == true)
    }

    func testReadyWithoutBackgroundIsRefused() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("walkthrough-ready-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("stage9.yaml")
        try """
        stage: 9
        title: {en: "T", zh: "T"}
        summary: {en: "S", zh: "S"}
        steps:
          - title: {en: "a", zh: "a"}
            text: {en: "b", zh: "b"}
            run: [version]
            ready: [version]
        """.write(to: file, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try StageWalkthrough.load(file)) { error in
            XCTAssertEqual(
                error as? WalkthroughError, .invalid("stage9.yaml", "step 1 has ready: but is not a background step"))
        }
    }

    func testNothingIsSaidWhenTheMachineHasEverything() throws {
        for n in 0...4 {
            XCTAssertNil(try stage(n).needsReport(on: Self.everything, language: "en", style: plain))
        }
    }

    func testNoRootAndNoUserNamespaces() throws {
        var host = Self.everything
        host.isRoot = false
        host.userNamespaces = false
        let two = try stage(2)
        let report = try XCTUnwrap(two.needsReport(on: host, language: "en", style: plain))
        XCTAssertTrue(
            report.contains("not root, and this kernel lets no unprivileged user create a user namespace"), report)
        XCTAssertTrue(report.contains("sudo"), report)
        XCTAssertTrue(report.contains("Steps 1, 2, 3, 4, 5 will be explained, with the commands, but not run."), report)
        XCTAssertTrue(report.contains("still shown"), report)
        XCTAssertEqual(two.unmetNeeds(step: 0, on: host), [.rootOrUserNamespaces])

        // With user namespaces a user who is not root runs stage 2 rootless: nothing to say.
        host.userNamespaces = true
        XCTAssertNil(two.needsReport(on: host, language: "en", style: plain))
        // Stage 3's cgroups need real root or a subtree of the user's own, whatever the user
        // namespaces; the message names the admin's step.
        let three = try XCTUnwrap(try stage(3).needsReport(on: host, language: "en", style: plain))
        XCTAssertTrue(
            three.contains("not root: making cgroups") && three.contains("sudo contlab lab setup --users"), three)
        host.cgroupSubtree = true
        XCTAssertNil(try stage(3).needsReport(on: host, language: "en", style: plain), "a delegated subtree is enough")
        // Stage 4: the bundle runs rootless; only the lab's dockerd needs root.
        let four = try XCTUnwrap(try stage(4).needsReport(on: host, language: "en", style: plain))
        XCTAssertTrue(four.contains("Step 4 will be explained") && four.contains("Steps 1, 2, 3 still run."), four)
    }

    func testNoMemoryController() throws {
        var host = Self.everything
        host.memoryController = false
        let report = try XCTUnwrap(try stage(3).needsReport(on: host, language: "en", style: plain))
        XCTAssertTrue(report.contains("no cgroup memory controller"), report)
        XCTAssertTrue(report.contains("/sys/fs/cgroup/cgroup.controllers"), report)
        XCTAssertFalse(report.contains("not root"), "only what is missing is listed: \(report)")
        XCTAssertNil(try stage(2).needsReport(on: host, language: "en", style: plain), "stage 2 needs no cgroups")
        let zh = try XCTUnwrap(try stage(3).needsReport(on: host, language: "zh", style: plain))
        XCTAssertTrue(zh.contains("没有 cgroup 内存控制器") && zh.contains("第 1、2、3 步只讲解"), zh)
    }

    func testNoRuncStillRunsContlabsOwnSteps() throws {
        var host = Self.everything
        host.runc = false
        let four = try stage(4)
        let report = try XCTUnwrap(four.needsReport(on: host, language: "en", style: plain))
        XCTAssertTrue(report.contains("runc is not installed") && report.contains("apt-get install runc"), report)
        XCTAssertTrue(report.contains("Every step still runs."), report)
        XCTAssertTrue(four.steps.indices.allSatisfy { four.unmetNeeds(step: $0, on: host).isEmpty })
        XCTAssertEqual(four.unmetByHandNeeds(step: 1, on: host), [.runc])
    }

    func testAReportStartsAtTheFirstStepAsked() throws {
        var host = Self.everything
        host.isRoot = false
        let four = try stage(4)
        let fromThree = try XCTUnwrap(four.needsReport(on: host, language: "en", style: plain, from: 2))
        XCTAssertTrue(
            fromThree.contains("Step 4 will be explained") && fromThree.contains("Step 3 still runs."),
            "steps 1 and 2 are not mentioned: \(fromThree)")
    }

    func testTheLineInPlaceOfARun() {
        XCTAssertEqual(
            StageWalkthrough.notRun([.root, .memoryController], language: "en", style: plain),
            "(not run: needs root, memory-controller, see the note at the start)")
    }

    func testUserNamespaceSysctls() {
        XCTAssertTrue(
            HostAbilities.userNamespacesAllowed(
                maxUserNamespaces: "63542\n", unprivilegedClone: nil, appArmorRestricts: nil))
        XCTAssertTrue(
            HostAbilities.userNamespacesAllowed(maxUserNamespaces: "10", unprivilegedClone: "1", appArmorRestricts: "0")
        )
        XCTAssertFalse(
            HostAbilities.userNamespacesAllowed(maxUserNamespaces: "0", unprivilegedClone: "1", appArmorRestricts: nil))
        XCTAssertFalse(
            HostAbilities.userNamespacesAllowed(
                maxUserNamespaces: "10", unprivilegedClone: "0\n", appArmorRestricts: nil))
        XCTAssertFalse(
            HostAbilities.userNamespacesAllowed(maxUserNamespaces: "10", unprivilegedClone: nil, appArmorRestricts: "1")
        )
    }

    func testFindProgramSearchesThePath() {
        XCTAssertEqual(HostAbilities.findProgram("sh", path: "/nonexistent::/bin"), "/bin/sh")
        XCTAssertNil(HostAbilities.findProgram("no-such-program-here", path: "/bin:/usr/bin"))
    }

    func testAnUnknownNeedIsRefusedByName() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("contlab-needs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("stage7.yaml")
        try """
        stage: 7
        title: {en: "T", zh: "题"}
        summary: {en: "S", zh: "概"}
        steps:
          - title: {en: "A", zh: "甲"}
            text: {en: "B", zh: "乙"}
            run: [inspect]
            needs: [a-unicorn]
        """.write(to: file, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try StageWalkthrough.load(file)) { error in
            XCTAssertTrue("\(error)".contains("stage7.yaml"), "\(error)")
        }
    }

    func testARunsNamesAreItsOwn() throws {
        let text = Localized(en: "see {name}/base:v1", zh: "看 {name}")
        var step = StageWalkthrough.Step(
            title: text, text: text, byHand: ["ls {scratch}"], run: ["run", "--name", "{name}", "{scratch}/b"],
            lookFor: text)
        step.exit = 1
        let walkthrough = StageWalkthrough(
            stage: 5, title: text, summary: text, lesson: nil, history: nil, steps: [step], exercises: nil,
            cleanup: [["container", "rm", "{name}"]])
        let made = walkthrough.instantiated(scratch: "/tmp/s1", name: "walkthrough-0-42-beef")
        XCTAssertEqual(made.steps[0].run, ["run", "--name", "walkthrough-0-42-beef", "/tmp/s1/b"])
        XCTAssertEqual(made.steps[0].byHand, ["ls /tmp/s1"])
        XCTAssertEqual(made.steps[0].lookFor?.en, "see walkthrough-0-42-beef/base:v1")
        XCTAssertEqual(made.steps[0].text.zh, "看 walkthrough-0-42-beef")
        XCTAssertEqual(made.cleanup, [["container", "rm", "walkthrough-0-42-beef"]])
        XCTAssertEqual(made.steps[0].exit, 1)
        XCTAssertNotEqual(WalkthroughRunner.runName(), WalkthroughRunner.runName(), "two runs, two names")
    }

    func testOnlyThisUsersRunsWhoseProcessIsGoneAreStale() {
        let names = [
            "walkthrough-1000-42-beef/base:v1", "walkthrough-1000-42-beef/greeting:v1", "walkthrough-1000-42-beef",
            "walkthrough-1000-43-cafe/base:v1", "walkthrough-1001-42-beef/base:v1", "walkthrough-1000-44-xyz1",
            "walkthrough-1000-45-beef-extra", "library/busybox:latest", "walkthrough-1000-\(getpid())-aaaa"
        ]
        let stale = WalkthroughRunner.staleRunNames(in: names, uid: 1000, alive: { $0 == 43 })
        XCTAssertEqual(
            stale, ["walkthrough-1000-42-beef"],
            "43 still runs, 1001 is another user, xyz1 is not hex, -extra is not a run name, and this process is alive")
        XCTAssertEqual(WalkthroughRunner.staleRunNames(in: names, uid: 1000, alive: { _ in true }), [])
    }

    func testNoWalkthroughNamesAFixedPlaceOrName() throws {
        // Fixed names collide when a class runs a stage at once: scratch and names are the run's.
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../../lessons/walkthrough"
        ).standardizedFileURL
        for file in try FileManager.default.contentsOfDirectory(atPath: directory.path) where file.hasSuffix(".yaml") {
            let walkthrough = try StageWalkthrough.load(directory.appendingPathComponent(file))
            let args = walkthrough.steps.flatMap { $0.run ?? [] } + (walkthrough.cleanup ?? []).flatMap { $0 }
            for arg in args {
                XCTAssertFalse(arg.hasPrefix("/tmp/"), "\(file): \(arg) is a fixed place: use {scratch}")
            }
            for (i, step) in walkthrough.steps.enumerated() {
                guard let run = step.run, let flag = run.firstIndex(where: { ["--name", "--root"].contains($0) }),
                    flag + 1 < run.count
                else { continue }
                // A container's name on a lab network is the network's own: the run's network makes it unique.
                if let network = run.firstIndex(of: "--network"), network + 1 < run.count,
                    run[network + 1].contains("{")
                {
                    continue
                }
                XCTAssertTrue(run[flag + 1].contains("{"), "\(file) step \(i + 1): \(run[flag + 1]) is a fixed name")
            }
        }
    }

    func testProseFitsEightyColumnsInBothLanguages() throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../../lessons/walkthrough"
        ).standardizedFileURL
        for stage in try StageWalkthrough.loadAll(from: directory) {
            for language in ["en", "zh"] {
                var text = stage.header(language: language, style: Style(enabled: false), history: [], width: 80)
                for index in stage.steps.indices {
                    text += stage.describe(
                        step: index, language: language, style: Style(enabled: false), prose: true, width: 80)
                }
                // Commands (by hand, and contlab's own) stay whole so they can be copied.
                let prose = text.split(separator: "\n").filter { !$0.hasPrefix("  $ ") && !$0.hasPrefix("contlab ") }
                for line in prose {
                    XCTAssertLessThanOrEqual(
                        Terminal.displayWidth(String(line)), 80, "stage \(stage.stage) \(language): \(line)")
                }
            }
        }
    }

    func testAKilledWalkthroughsScratchIsRemovedByTheNext() throws {
        let stale = NSTemporaryDirectory() + "contlab-walkthrough-999999999-abcdef"
        let live = NSTemporaryDirectory() + "contlab-walkthrough-\(getpid())-abcdef"
        for dir in [stale, live] {
            try FileManager.default.createDirectory(atPath: dir + "/bundle", withIntermediateDirectories: true)
        }
        defer { try? FileManager.default.removeItem(atPath: live) }
        WalkthroughRunner.removeStaleScratch()
        XCTAssertFalse(FileManager.default.fileExists(atPath: stale), "its walk-through is gone")
        XCTAssertTrue(FileManager.default.fileExists(atPath: live), "this process is alive")
    }
}
