import ContlabCore
import Foundation
import XCTest

/// A shared lab server, as its admin and a student without sudo meet it: a fresh account made by
/// the test, `sudo contlab lab setup --users NAME`, then as that student stage 3's OOM proof, a
/// stage-4 bundle, and `verify` of every reference solution at full marks; `lab teardown` and
/// the account's removal leave no trace.
final class LabServerTests: XCTestCase {
    var user = ""
    var uid: UInt32 = 0
    /// What the student runs and reads, where they can reach it (the checkout may be under a
    /// 0700 home): the binary, lessons/, rootfs-recipes/, exercises/ and the solutions.
    var place = ""

    override func setUpWithError() throws {
        try Harness.requireRoot()
        _ = try Harness.busyboxRootfs()
        user = "contlab-t\(getpid() % 100_000)"
        let made = try Harness.execute(["/usr/sbin/useradd", "--create-home", "--shell", "/bin/sh", user])
        XCTAssertEqual(made.status, 0, made.stderr)
        uid = try XCTUnwrap(getpwnam(user)?.pointee.pw_uid)
        place = NSTemporaryDirectory() + "contlab-lab-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(
            atPath: place, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let root = Harness.packageRoot
        try FileManager.default.copyItem(atPath: Harness.binary, toPath: place + "/contlab")
        for folder in ["lessons", "rootfs-recipes", "exercises", "Tests/ExerciseSolutions"] {
            try FileManager.default.copyItem(
                atPath: root.appendingPathComponent(folder).path,
                toPath: place + "/" + (folder as NSString).lastPathComponent)
        }
        _ = try Harness.execute(["/bin/chmod", "-R", "a+rX", place])
    }

    override func tearDown() {
        guard !user.isEmpty, geteuid() == 0 else { return }
        _ = try? Harness.run(["lab", "teardown", "--users", user])
        _ = try? Harness.execute(["/usr/bin/pkill", "-KILL", "-u", user])
        _ = try? Harness.execute(["/usr/sbin/userdel", "--remove", user])
        try? FileManager.default.removeItem(atPath: place)
    }

    /// Run this contlab as the student, with their own home and no session manager, from the
    /// reachable copy (a working directory the student cannot enter breaks the tools grading runs).
    func asStudent(_ args: [String], timeout: TimeInterval = 120) throws -> Harness.Result {
        let home = String(cString: getpwnam(user).pointee.pw_dir)
        return try Harness.execute(
            ["/usr/bin/setpriv", "--reuid=\(uid)", "--regid=\(uid)", "--init-groups", place + "/contlab"] + args,
            environment: ["HOME": home, "USER": user, "CONTLAB_HOME": place, "XDG_RUNTIME_DIR": "", "TMPDIR": "/tmp"],
            directory: place, timeout: timeout)
    }

    func testAStudentWithoutSudoRunsEveryStageAndIsGraded() throws {
        // Before the admin step: stage 3 says what the admin must do.
        let before = try asStudent(["run", "--stage", "3", "--memory", "64M", "--", "contlab", "hog", "30M"])
        XCTAssertNotEqual(before.status, 0)
        XCTAssertTrue(before.stderr.contains("sudo contlab lab setup --users \(user)"), before.stderr)
        let verifyBefore = try asStudent(["verify", "--workspace", "/nonexistent"])
        XCTAssertEqual(verifyBefore.status, 2)
        // The gradebook says why a workspace could not be graded, in verify's words.
        let studentHome = String(cString: getpwnam(user).pointee.pw_dir)
        XCTAssertEqual(try asStudent(["exercises", "init", studentHome + "/early"]).status, 0)
        let early = try asStudent(["grade", studentHome + "/early", "--out", studentHome + "/book"], timeout: 300)
        XCTAssertEqual(early.status, 0, early.stderr)
        let book = try String(contentsOfFile: studentHome + "/book/gradebook.csv", encoding: .utf8)
        XCTAssertTrue(book.contains("could not grade it (exit 2): contlab:") && book.contains("lab setup"), book)

        let setup = try Harness.run(["lab", "setup", "--users", user])
        XCTAssertEqual(setup.status, 0, setup.stderr)
        let status = try Harness.run(["lab", "status"])
        XCTAssertTrue(status.stdout.contains("\(user): prepared"), status.stdout)

        // Stage 3: OOM-killed above the limit, alive below it, with the kernel's counter.
        let above = try asStudent(["run", "--stage", "3", "--memory", "64M", "--", "contlab", "hog", "100M"])
        XCTAssertEqual(above.status, 137, above.stderr)
        XCTAssertTrue(above.stderr.contains("OOM kills      1"), above.stderr)
        XCTAssertTrue(
            above.stderr.contains("contlab-users/\(uid)/run-"), "under the student's subtree: \(above.stderr)")
        let below = try asStudent(["run", "--stage", "3", "--memory", "64M", "--", "contlab", "hog", "30M"])
        XCTAssertEqual(below.status, 0, below.stderr)

        // Stage 4: a bundle of the student's, run by contlab-runc with state in their home.
        let home = String(cString: getpwnam(user).pointee.pw_dir)
        let bundle = home + "/bundle"
        XCTAssertEqual(try asStudent(["bundle", "create", bundle, "--", "contlab", "inspect"]).status, 0)
        let run = try asStudent(["runc", "run", "--bundle", bundle, "b1"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains("PID 1 of its namespace"), run.stdout)
        XCTAssertTrue(
            Sys.isDirectory(home + "/.local/state/contlab-runc"), "without XDG_RUNTIME_DIR, state in the home")

        // verify: every reference solution at full marks, graded without root.
        let workspace = home + "/ws"
        XCTAssertEqual(try asStudent(["exercises", "init", workspace]).status, 0)
        // The build track's levels (B.N) live in workspaces of their own; stage 6 is root's, as
        // the README's table says (its networks need root).
        for id in try FileManager.default.contentsOfDirectory(atPath: place + "/ExerciseSolutions")
        where !id.hasPrefix("B.") && !id.hasPrefix("6.") {
            let folder = try XCTUnwrap(
                try FileManager.default.contentsOfDirectory(atPath: workspace).first { $0.hasPrefix(id + "-") })
            let source = place + "/ExerciseSolutions/\(id)/reference"
            for file in try FileManager.default.contentsOfDirectory(atPath: source) {
                let target = workspace + "/" + folder + "/" + file
                try? FileManager.default.removeItem(atPath: target)
                try FileManager.default.copyItem(atPath: source + "/" + file, toPath: target)
                chown(target, uid, uid)
            }
        }
        let graded = try asStudent(
            ["verify", "--workspace", workspace, "--format", "json", "--lang", "en"], timeout: 600)
        let report = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(graded.stdout.utf8)) as? [String: Any], graded.stderr)
        for exercise in report["exercises"] as? [[String: Any]] ?? []
        where !(exercise["id"] as? String ?? "").hasPrefix("6.") {
            XCTAssertEqual(exercise["points"] as? Int, exercise["maxPoints"] as? Int, "\(exercise)")
        }
        XCTAssertGreaterThan((report["exercises"] as? [[String: Any]] ?? []).count, 15)

        // Teardown: the subtrees are gone, nothing of the student's is left running.
        let teardown = try Harness.run(["lab", "teardown", "--users", user])
        XCTAssertEqual(teardown.status, 0, teardown.stderr)
        for hierarchy in (try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? [] {
            XCTAssertFalse(Sys.exists("/sys/fs/cgroup/\(hierarchy)/contlab-users/\(uid)"), "left in \(hierarchy)")
        }
        let left = try Harness.execute(["/usr/bin/pgrep", "-u", "\(uid)"])
        XCTAssertEqual(left.stdout, "", "processes of the student left running")
    }

    func testSetupNeedsRootAndSaysWhom() throws {
        let notRoot = try asStudent(["lab", "setup", "--users", user])
        XCTAssertNotEqual(notRoot.status, 0)
        XCTAssertTrue(notRoot.stderr.contains("run it as root"), notRoot.stderr)
        let nobody = try Harness.run(["lab", "setup"])
        XCTAssertNotEqual(nobody.status, 0)
        XCTAssertTrue(nobody.stderr.contains("--users NAME"), nobody.stderr)
        let unknown = try Harness.run(["lab", "setup", "--users", "no-such-user-\(getpid())"])
        XCTAssertTrue(unknown.stderr.contains("no user no-such-user"), unknown.stderr)
    }
}
