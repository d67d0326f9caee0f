import ContlabCore
import Foundation
import XCTest

/// CVE-2019-5736 replayed against contlab-runc: an image whose program leads to /proc/self/exe
/// makes `exec`'s helper run the runtime's own binary inside the container, and root there
/// (with runc's default three capabilities) holds /proc/PID/exe open and tries to write through
/// it once the helper is gone. Before SelfImage, that replaced the host's binary. Each case runs a
/// copy of the binary, so a regression damages the copy and not the checkout's.
final class OCISelfImageTests: XCTestCase {
    static let tag = "-\(getpid())"
    var work = ""

    override func setUpWithError() throws {
        try Harness.requireRoot()
        work =
            FileManager.default.temporaryDirectory.appendingPathComponent(
                "contlab-cve-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            ).path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: work)
    }

    /// The attacker: find a process whose executable is contlab, hold its /proc/PID/exe, then try
    /// for five seconds to open it for writing through /proc/self/fd and write over it.
    static let attack = """
        while :; do for p in /proc/[0-9]*; do case "$(readlink $p/exe 2>/dev/null)" in \
        *contlab*) exec 3< $p/exe && { echo "holding $p/exe" >> /log; break 2; } ;; esac; done; done
        i=0
        while ! (echo PWNED > /proc/self/fd/3) 2>/dev/null; do
          i=$((i+1))
          if [ $i -gt 100 ]; then echo "refused: $( (echo x > /proc/self/fd/3) 2>&1)" >> /log; exec sleep 60; fi
          sleep 0.05
        done
        echo "wrote over the runtime" >> /log
        exec sleep 60
        """

    /// Root: the overlay view; a folder whose name overlayfs cannot take (':' separates layers):
    /// the sealed copy. Both must refuse the write, and the attack must have got as far as trying.
    func testAContainerCannotWriteTheRuntimeThroughProcPIDExe() throws {
        for (folder, refusal) in [("overlay", "Read-only file system"), ("memfd:copy", "Operation not permitted")] {
            let place = work + "/" + folder
            try FileManager.default.createDirectory(atPath: place, withIntermediateDirectories: true)
            let runtime = place + "/contlab-runc"
            try FileManager.default.copyItem(
                atPath: URL(fileURLWithPath: Harness.binary).resolvingSymlinksInPath().path,
                toPath: place + "/contlab")
            try FileManager.default.createSymbolicLink(atPath: runtime, withDestinationPath: "contlab")
            let original = try Data(contentsOf: URL(fileURLWithPath: place + "/contlab"))

            // The image: a writable copy of the busybox tree holding the script.
            let bundle = place + "/bundle"
            let made = try Harness.execute([
                place + "/contlab", "bundle", "create", "--rootfs", try Harness.busyboxRootfs(),
                bundle, "--", "sh", "-c", Self.attack
            ])
            XCTAssertEqual(made.status, 0, made.stderr)
            let rootfs = bundle + "/rootfs"
            XCTAssertEqual(try Harness.execute(["/bin/cp", "-a", try Harness.busyboxRootfs(), rootfs]).status, 0)
            // The image's program: a link to /proc/self/exe, which the helper's execve resolves in
            // itself (a `#!/proc/self/exe` script does the same). Started with one argument,
            // contlab takes its arguments from CONTLAB_ARGV: a hog that holds its memory for
            // three seconds gives the attacker a window that does not depend on luck.
            try FileManager.default.createSymbolicLink(atPath: rootfs + "/x", withDestinationPath: "/proc/self/exe")
            FileManager.default.createFile(atPath: rootfs + "/log", contents: nil)
            let configURL = URL(fileURLWithPath: bundle + "/config.json")
            var config = try JSONSerialization.jsonObject(with: Data(contentsOf: configURL)) as! [String: Any]
            config["root"] = ["path": "rootfs", "readonly": false]
            config["mounts"] = (config["mounts"] as! [[String: Any]]).filter {
                $0["destination"] as? String != "/usr/local/bin/contlab"
            }
            try JSONSerialization.data(withJSONObject: config).write(to: configURL)

            let id = "cve\(folder.prefix(4))\(Self.tag)"
            let state = place + "/state"
            let started = try Harness.execute([runtime, "--root", state, "run", "--detach", "--bundle", bundle, id])
            XCTAssertEqual(started.status, 0, "\(folder): \(started.stderr)")
            // Deleted by the checkout's binary: if the attack worked, the copy is no runtime anymore.
            defer { _ = try? Harness.run(["runc", "--root", state, "delete", "--force", id]) }

            // `docker exec` of the image's program until the attacker has caught one run of the
            // binary: each lives a few milliseconds, and the attacker's shell polls /proc.
            func log() -> String { (try? String(contentsOfFile: rootfs + "/log", encoding: .utf8)) ?? "" }
            var execs = 0
            var last = Harness.Result(status: 0, stdout: "", stderr: "")
            while execs < 5 && !log().contains("holding") {
                last = try Harness.execute([
                    runtime, "--root", state, "exec", "--env", #"CONTLAB_ARGV=["x","hog","1M","--hold","3"]"#,
                    id, "/x"
                ])
                execs += 1
            }
            XCTAssertTrue(
                log().contains("holding"),
                "\(folder): the attacker never saw the runtime's binary in \(execs) execs; the "
                    + "last: \(last.status) \(last.stdout) \(last.stderr)"
            )
            let deadline = Date().addingTimeInterval(15)
            while Date() < deadline && !log().contains("refused") && !log().contains("wrote") { usleep(100_000) }

            XCTAssertFalse(log().contains("wrote"), "\(folder): the container wrote over the runtime's binary")
            XCTAssertTrue(log().contains(refusal), "\(folder): expected \"\(refusal)\", the attacker logged: \(log())")
            XCTAssertEqual(
                try Data(contentsOf: URL(fileURLWithPath: place + "/contlab")), original,
                "\(folder): the binary on the host changed")
        }
    }
}
