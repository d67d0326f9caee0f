import TextKit
import XCTest
@testable import ContlabCore

final class ExplainRecordTests: XCTestCase {
    let root = "/var/lib/contlab/rootfs/busybox/6d50d8a509fe"

    var stage2: [String] {
        [
            "host: clone(CLONE_NEWPID|CLONE_NEWNS|SIGCHLD)",
            "init: mount(\"\(root)\", \"\(root)\", NULL, MS_BIND|MS_REC, NULL)",
            "init: mount(\"proc\", \"\(root)/proc\", \"proc\", MS_NOSUID|MS_NODEV|MS_NOEXEC, NULL)",
            "init: mknod(\"\(root)/dev/null\", S_IFCHR|0666, makedev(1, 3))",
            "init: mknod(\"\(root)/dev/zero\", S_IFCHR|0666, makedev(1, 5))",
            "init: mknod(\"\(root)/dev/tty\", S_IFCHR|0666, makedev(5, 0))",
            "init: mkdir(\"\(root)/dev/pts\", 0755)",
            "init: symlink(\"/proc/self/fd\", \"\(root)/dev/fd\")",
            "init: symlink(\"/proc/self/fd/0\", \"\(root)/dev/stdin\")",
            "init: symlink(\"/proc/self/fd/1\", \"\(root)/dev/stdout\")",
            "init: chdir(\"\(root)\")",
            "init: pivot_root(\".\", \".\")",
            "init: chdir(\"/\")"
        ]
    }

    func testPathsUnderTheRootAreWrittenRelativeToItAndRunsOfOneCallAreOneLine() {
        XCTAssertEqual(ExplainRecord.rootfs(in: stage2), root)
        XCTAssertEqual(
            ExplainRecord.compact(stage2),
            [
                "host: clone(CLONE_NEWPID|CLONE_NEWNS|SIGCHLD)",
                "init: mount(\"<rootfs>\", \"<rootfs>\", NULL, MS_BIND|MS_REC, NULL)",
                "init: mount(\"proc\", \"<rootfs>/proc\", \"proc\", MS_NOSUID|MS_NODEV|MS_NOEXEC, NULL)",
                "init: mknod(\"<rootfs>/dev/{null,zero,tty}\", …) ×3",
                "init: mkdir(\"<rootfs>/dev/pts\", 0755)",
                "init: symlink(…, \"<rootfs>/dev/{fd,stdin,stdout}\") ×3",
                "init: chdir(\"<rootfs>\")",
                "init: pivot_root(\".\", \".\")",
                "init: chdir(\"/\")"
            ])
    }

    func testStageOnesChrootNamesTheRootAndLinesFitTheWidth() {
        let stage1 = ["host: clone(0|SIGCHLD)", "init: chroot(\"\(root)\")", "init: chdir(\"/\")"]
        XCTAssertEqual(ExplainRecord.compact(stage1)[1], "init: chroot(\"<rootfs>\")")
        let long = [
            "init: mount(\"proc\", \"/p\", \"proc\", "
                + "MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_RELATIME|MS_STRICTATIME, NULL)"
        ]
        let fitted = ExplainRecord.compact(long, width: 60)
        XCTAssertEqual(
            fitted,
            [
                "init: mount(\"proc\", \"/p\", \"proc\", MS_RDONLY|MS_NOSUID|",
                "        MS_NODEV|MS_NOEXEC|MS_RELATIME|MS_STRICTATIME, NULL)"
            ], "broken where a flag ends, no flag lost")
        XCTAssertTrue(fitted.allSatisfy { Terminal.displayWidth($0) <= 60 })
        let unbroken = [
            "init: mount(\"overlay\", \"/m\", \"overlay\", 0, \"lowerdir=" + String(repeating: "/layer", count: 30)
                + "\")"
        ]
        XCTAssertTrue(ExplainRecord.compact(unbroken, width: 60).allSatisfy { Terminal.displayWidth($0) <= 60 })
        XCTAssertEqual(ExplainRecord.compact(long), long, "no width (not a terminal): whole lines")
        XCTAssertEqual(
            ExplainRecord.compact(["init: mknod(\"/a/x\")", "init: mknod(\"/a/y\")"]).count, 2,
            "two calls stay two lines")
    }
}
