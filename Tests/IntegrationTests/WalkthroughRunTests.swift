import ContlabCore
import Foundation
import TextKit
import XCTest

/// `contlab stage N --yes` runs every step for real; its output must show each stage's proof.
final class WalkthroughRunTests: XCTestCase {
    override func setUpWithError() throws { try Harness.requireRoot() }

    func stage(_ n: Int, _ extra: [String] = []) throws -> Harness.Result {
        try Harness.run(["stage", "\(n)", "--yes"] + extra, timeout: 120)
    }

    /// Walk-through names among the images and containers: a run checks that it added none.
    static func runNames() throws -> Set<String> {
        let listed = try Harness.run(["image", "list", "-q"]).stdout + (try Harness.run(["container", "list"]).stdout)
        return Set(listed.matches(#"walkthrough-[0-9]+-[0-9]+-[0-9a-f]{4}[^ \n]*"#))
    }

    func testEachStageShowsItsProof() throws {
        let before = try Self.runNames()
        let list = try Harness.run(["stage"])
        XCTAssertEqual(list.status, 0, list.stderr)
        XCTAssertEqual(list.stdout.split(separator: "\n").filter { $0.first?.isNumber == true }.count, 7, list.stdout)
        XCTAssertTrue(list.stdout.contains("5  Images and layers  "), "whole titles: \(list.stdout)")
        XCTAssertTrue(
            list.stdout.split(separator: "\n").allSatisfy { Terminal.displayWidth(String($0)) <= 80 }, list.stdout)

        let zero = try stage(0)
        XCTAssertEqual(zero.status, 0, zero.stderr)
        XCTAssertTrue(zero.stdout.contains("shared with host") || zero.stdout.contains("ns pid"), zero.stdout)

        let one = try stage(1)
        XCTAssertEqual(one.status, 0, one.stderr)
        XCTAssertTrue(one.stdout.contains("ESCAPED"), one.stdout)
        XCTAssertTrue(one.stdout.contains("chroot("), "the record of system calls is shown: \(one.stdout + one.stderr)")

        let two = try stage(2)
        XCTAssertEqual(two.status, 0, two.stderr)
        XCTAssertTrue(two.stdout.contains("CONTAINED"), two.stdout)
        XCTAssertTrue(
            (two.stdout + two.stderr).contains("pivot_root(\".\", \".\")"), "the runtime's own record is shown")
        XCTAssertTrue(
            two.stdout.contains("PID 1 of its namespace") || two.stdout.contains("ppid       2 / 1")
                || two.stdout.contains("/ 1"), two.stdout)

        let three = try stage(3)
        XCTAssertEqual(three.status, 0, three.stderr)
        XCTAssertTrue(three.stdout.contains("OOM-killed"), three.stdout)
        XCTAssertTrue(three.stdout.contains("survived"), three.stdout)

        let four = try stage(4)
        XCTAssertEqual(four.status, 0, four.stderr)
        XCTAssertTrue(four.stdout.contains("PID 1 of its namespace"), four.stdout)
        XCTAssertTrue(
            four.stderr.contains("init: pivot_root(\".\", \".\")"),
            "the runtime's journal of the init's calls is shown: \(four.stderr)")
        // The engines step: one container through the lab's dockerd, and contlab-runc's journal of it.
        XCTAssertTrue(four.stdout.contains("hello from busybox, PID 1"), four.stdout)
        XCTAssertTrue(four.stdout.contains("init: pivot_root"), four.stdout)
        XCTAssertEqual(Self.scratchFolders(), [], "the walk-through's scratch is gone")

        // A walk-through killed before its clean-up left an image; the next run of this user removes it.
        let ended = Process()
        ended.executableURL = URL(fileURLWithPath: "/bin/true")
        try ended.run()
        ended.waitUntilExit()
        let gone = ended.processIdentifier
        let stale = "walkthrough-\(getuid())-\(gone)-beef/base:v1"
        XCTAssertEqual(try Harness.run(["image", "build", "--rootfs", "busybox", stale]).status, 0)
        let five = try stage(5)
        XCTAssertEqual(five.status, 0, five.stderr)
        XCTAssertFalse(try Self.runNames().contains(stale), "the killed run's image is removed")
        let both = five.stdout + five.stderr
        XCTAssertTrue(
            both.contains("mount(\"overlay\"") && both.contains("lowerdir="),
            "the overlay mount is shown from the record")
        XCTAssertTrue(five.stdout.contains("c 0,0   /bin/vi   whiteout"), five.stdout)
        XCTAssertTrue(five.stdout.contains("D /bin/vi") && five.stdout.contains("A /greeting"), five.stdout)
        XCTAssertEqual(
            five.stdout.components(separatedBy: "hello from a layer\n").count, 3,
            "the greeting is read in the first container and in the committed image's: \(five.stdout)")
        // Started at step 5, it first makes the image and the container steps 1 and 3 make.
        let later = try stage(5, ["--step", "5"])
        XCTAssertEqual(later.status, 0, later.stdout + later.stderr)
        XCTAssertTrue(
            later.stdout.contains("Running step 1, 3 quietly first: later steps use what they make."), later.stdout)
        XCTAssertFalse(later.stdout.contains("Step 1/9"), later.stdout)
        XCTAssertTrue(later.stdout.contains("A /greeting") && later.stdout.contains("D /bin/vi"), later.stdout)
        XCTAssertEqual(try Self.runNames().subtracting(before), [], "the walk-through removed its images and container")

        let chinese = try stage(2, ["--lang", "zh"])
        XCTAssertTrue(chinese.stdout.contains("第 2 阶段"), chinese.stdout)
        // The commands it runs speak Chinese too: inspect's labels inside the container, the
        // escape's report, --explain's header.
        XCTAssertTrue(
            chinese.stdout.contains("主机名") && chinese.stdout.contains("独有") && chinese.stdout.contains("与宿主机共享"),
            chinese.stdout)
        XCTAssertTrue(chinese.stdout.contains("第 2 阶段越狱尝试：CONTAINED"), chinese.stdout)
        XCTAssertTrue(chinese.stderr.contains("contlab --explain（host：contlab run；init：容器的第一个进程）："), chinese.stderr)
        XCTAssertFalse(chinese.stdout.contains("shared with host"), chinese.stdout)
    }

    /// Lab networks named after walk-through runs.
    static func runNetworks() throws -> Set<String> {
        Set(try Harness.run(["network", "ls"]).stdout.matches(#"walkthrough-[0-9]+-[0-9]+-[0-9a-f]{4}"#))
    }

    /// Stage 6: a server in the background, a second container reaching it by name through the
    /// bridge, and nothing left after: no network, no server, no scratch.
    func testStageSixConnectsTwoContainers() throws {
        // A walk-through killed before its clean-up left its network; the next run removes it.
        let ended = Process()
        ended.executableURL = URL(fileURLWithPath: "/bin/true")
        try ended.run()
        ended.waitUntilExit()
        let stale = "walkthrough-\(getuid())-\(ended.processIdentifier)-beef"
        XCTAssertEqual(try Harness.run(["network", "create", stale]).status, 0)

        let six = try stage(6)
        XCTAssertEqual(six.status, 0, six.stdout + six.stderr)
        XCTAssertFalse(try Self.runNetworks().contains(stale), "the killed run's network is removed")
        XCTAssertTrue(
            six.stdout.contains("hello from web"), "the second container read the server's page: \(six.stdout)")
        XCTAssertTrue(six.stdout.contains("It runs in the background until the walk-through ends."), six.stdout)
        let both = six.stdout + six.stderr
        XCTAssertTrue(
            both.contains("IFLA_INFO_KIND \"veth\"") && both.contains("IFLA_NET_NS_FD"),
            "the host's netlink record is shown")
        XCTAssertTrue(six.stdout.contains("master clab0"), "bridge link shows the server's cable: \(six.stdout)")
        XCTAssertTrue(
            six.stdout.contains("web ") && six.stdout.contains("HOST VETH"), "inspect shows the lease: \(six.stdout)")
        XCTAssertTrue(
            six.stderr.contains("has containers attached (web)"), "rm is refused while web runs: \(six.stderr)")
        XCTAssertEqual(try Self.runNetworks(), [], "the walk-through removed its network")
        XCTAssertFalse(Self.serverRunning(), "the background server was stopped")
        XCTAssertEqual(Self.scratchFolders(), [])

        // Started at the request step, the network and the server are made first, quietly.
        let later = try stage(6, ["--step", "4"])
        XCTAssertEqual(later.status, 0, later.stdout + later.stderr)
        XCTAssertTrue(later.stdout.contains("Running step 1, 3 quietly first"), later.stdout)
        XCTAssertTrue(later.stdout.contains("hello from web"), later.stdout)
        XCTAssertEqual(try Self.runNetworks(), [])
        XCTAssertFalse(Self.serverRunning())
    }

    /// A walk-through killed (SIGKILL) while its server runs takes the server with it, and the
    /// next run removes the network it left.
    func testAKilledStageSixLeavesNoServer() throws {
        let walkthrough = Process()
        walkthrough.executableURL = URL(fileURLWithPath: Harness.binary)
        walkthrough.arguments = ["stage", "6", "--yes"]
        let output = Pipe()
        walkthrough.standardOutput = output
        walkthrough.standardError = FileHandle.nullDevice
        try walkthrough.run()
        var seen = ""
        let deadline = Date().addingTimeInterval(60)
        while !seen.contains("hello from web"), Date() < deadline {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            seen += String(decoding: chunk, as: UTF8.self)
        }
        XCTAssertTrue(seen.contains("hello from web"), seen)
        XCTAssertTrue(Self.serverRunning(), "the server runs while the walk-through does")
        kill(walkthrough.processIdentifier, SIGKILL)
        walkthrough.waitUntilExit()
        let gone = Date().addingTimeInterval(10)
        while Self.serverRunning(), Date() < gone { usleep(100_000) }
        XCTAssertFalse(Self.serverRunning(), "the server ended with its walk-through")
        let next = try stage(6, ["--step", "8"])
        XCTAssertEqual(next.status, 0, next.stdout + next.stderr)
        XCTAssertEqual(try Self.runNetworks(), [], "the next run removed the killed run's network")
        XCTAssertFalse(Self.serverRunning())
    }

    /// A walk-through's httpd still running anywhere on the machine.
    static func serverRunning() -> Bool {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).contains { pid in
            guard Int(pid) != nil, let command = try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)
            else { return false }
            return command.contains("httpd\0-f\0-p\08080\0-h\0/tmp")
        }
    }

    static func scratchFolders() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory())) ?? []).filter {
            $0.hasPrefix("contlab-walkthrough")
        }
    }

    /// Four students run the same stage at once: each ends well and shows only its own
    /// containers and images (names are the run's own), and nothing is left afterwards.
    func testTheSameStageFourTimesAtOnce() throws {
        let before = try Self.runNames()
        for n in 0...6 {
            var results = [Harness.Result?](repeating: nil, count: 4)
            DispatchQueue.concurrentPerform(iterations: 4) { i in results[i] = try? self.stage(n) }
            for case let result? in results {
                XCTAssertEqual(result.status, 0, "stage \(n): \(result.stdout)\n\(result.stderr)")
                XCTAssertFalse(
                    result.stdout.contains("exists already") || result.stderr.contains("exists already"), result.stderr)
            }
            XCTAssertEqual(results.compactMap { $0 }.count, 4)
            if n == 5 {
                // Each run commits its own container into its own image and reads its own greeting.
                for case let result? in results {
                    let names = Set(result.stdout.matches(#"walkthrough-[0-9]+-[0-9]+-[0-9a-f]{4}"#))
                    XCTAssertEqual(names.count, 1, "one run's names only: \(names)")
                }
            } else if n == 4 {
                // The lab's dockerd is taken in turns: each journal shows one container's create.
                for case let result? in results {
                    let creates = result.stdout.split(separator: "\n").filter {
                        $0.hasPrefix("contlab-runc ") && $0.contains(" create --bundle ")
                    }
                    XCTAssertEqual(creates.count, 1, result.stdout)
                }
            }
        }
        XCTAssertEqual(try Self.runNames().subtracting(before), [])
        XCTAssertEqual(Self.scratchFolders(), [])
    }

    /// As a user who is not root, stage 3 cannot make cgroups: it says so and what to do, tells
    /// every step without running it, and still ends well.
    func testAStageWhoseNeedsAreMissingSaysWhatAndStillTellsItsSteps() throws {
        let nobody: UInt32 = 65534
        let three = try Harness.run(["stage", "3", "--yes"], as: nobody)
        XCTAssertEqual(three.status, 0, three.stderr)
        XCTAssertTrue(three.stdout.contains("This machine lacks some of what stage 3 uses"), three.stdout)
        XCTAssertTrue(
            three.stdout.contains("not root: making cgroups and writing their limits needs root"), three.stdout)
        XCTAssertTrue(
            three.stdout.contains("Steps 1, 2, 3 will be explained, with the commands, but not run."), three.stdout)
        XCTAssertEqual(three.stdout.components(separatedBy: "(not run: needs cgroups").count - 1, 3, three.stdout)
        XCTAssertTrue(
            three.stdout.contains("Step 3/3") && three.stdout.contains("By hand, with standard tools"), three.stdout)
        XCTAssertNil(
            (three.stdout + three.stderr).range(of: #"contlab/run-[0-9]"#, options: .regularExpression),
            "no step ran, so no cgroup was named in a record or a report:\n\(three.stdout)\n\(three.stderr)")
        XCTAssertFalse(three.stderr.contains("Permission denied"), three.stderr)

        let chinese = try Harness.run(["stage", "3", "--yes", "--lang", "zh"], as: nobody)
        XCTAssertTrue(chinese.stdout.contains("当前不是 root") && chinese.stdout.contains("第 1、2、3 步只讲解"), chinese.stdout)

        // As root on this machine nothing is missing, so nothing is said.
        let root = try Harness.run(["stage", "0", "--yes"])
        XCTAssertFalse(root.stdout.contains("This machine lacks"), root.stdout)
    }

    func testBadStageAndStepAreRefused() throws {
        let missing = try Harness.run(["stage", "9"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("there is no stage 9"), missing.stderr)
        let step = try Harness.run(["stage", "1", "--step", "99", "--yes"])
        XCTAssertNotEqual(step.status, 0)
        XCTAssertTrue(step.stderr.contains("--step 99"), step.stderr)
    }
}

extension String {
    /// Every match of a regular expression, in order.
    func matches(_ pattern: String) -> [String] {
        guard let expression = try? NSRegularExpression(pattern: pattern) else { return [] }
        return expression.matches(in: self, range: NSRange(startIndex..., in: self)).compactMap {
            Range($0.range, in: self).map { String(self[$0]) }
        }
    }
}
