import XCTest
@testable import ContlabCore

final class FlagsTests: XCTestCase {
    func testCloneFlagsMatchTheKernelHeaders() {
        XCTAssertEqual(Namespace.pid.cloneFlag, 0x2000_0000)
        XCTAssertEqual(Namespace.mount.cloneFlag, 0x0002_0000)
        XCTAssertEqual(Namespace.cloneFlags([.pid, .network]), 0x6000_0000)
        XCTAssertEqual(Namespace.describe([.network, .pid, .mount]), "CLONE_NEWPID|CLONE_NEWNS|CLONE_NEWNET")
        XCTAssertEqual(Namespace.describe([]), "0")
    }

    func testMountFlagsDescribeThemselvesAsInTheHeaders() {
        XCTAssertEqual(MountFlags([.bind, .recursive]).description, "MS_BIND|MS_REC")
        XCTAssertEqual(MountFlags([.recursive, .private]).rawValue, 0x44000)
        XCTAssertEqual(MountFlags().description, "0")
    }

    func testSignalsParseNamesAndNumbers() {
        XCTAssertEqual(Signals.parse("TERM"), SIGTERM)
        XCTAssertEqual(Signals.parse("sigkill"), SIGKILL)
        XCTAssertEqual(Signals.parse("9"), 9)
        XCTAssertNil(Signals.parse("NOPE"))
        XCTAssertNil(Signals.parse("0"))
        XCTAssertEqual(Signals.name(SIGINT), "SIGINT")
    }

    func testExitStatusUsesShellConventions() {
        XCTAssertEqual(ExitStatus(waitStatus: 7 << 8), .exited(7))
        XCTAssertEqual(ExitStatus(waitStatus: SIGKILL), .signaled(SIGKILL))
        XCTAssertEqual(ExitStatus.signaled(SIGTERM).shellCode, 143)
        XCTAssertEqual(ExitStatus.exited(3).shellCode, 3)
    }

    func testSystemCallErrorNamesTheErrnoAndHint() {
        let error = SystemCallError(
            "pivot_root(\".\", \".\")", errno: EINVAL, hint: "the new root must be a mount point")
        XCTAssertTrue(error.description.contains("EINVAL"))
        XCTAssertTrue(error.description.contains("mount point"))
    }
}

final class SHA256Tests: XCTestCase {
    func testKnownVectors() {
        XCTAssertEqual(SHA256.hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(
            SHA256.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(
            SHA256.hex(Array(repeating: UInt8(ascii: "a"), count: 1_000)),
            "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
    }
}

final class UserDatabaseTests: XCTestCase {
    let db = UserDatabase(
        passwd: "root:x:0:0:root:/root:/bin/sh\nstudent:x:1000:1000:A student:/home/student:/bin/sh\nbroken line\n",
        group: "root:x:0:\nstudent:x:1000:\nlab:x:2000:student,other\n")

    func testResolvesNamesNumbersAndGroups() throws {
        XCTAssertEqual(
            try db.resolve("student"), .init(uid: 1000, gid: 1000, additionalGids: [2000], home: "/home/student"))
        XCTAssertEqual(
            try db.resolve("1000:0"), .init(uid: 1000, gid: 0, additionalGids: [2000], home: "/home/student"))
        XCTAssertEqual(try db.resolve("4242"), .init(uid: 4242, gid: 0, additionalGids: [], home: "/"))
        XCTAssertEqual(try db.resolve("student:lab").gid, 2000)
    }

    func testRefusesUnknownNamesWithTheKnownOnes() {
        XCTAssertThrowsError(try db.resolve("mallory")) { error in
            XCTAssertEqual(error as? UserError, .unknownUser("mallory", known: ["root", "student"]))
            XCTAssertTrue("\(error)".contains("root, student"))
        }
        XCTAssertThrowsError(try db.resolve("student:nogroup"))
        XCTAssertThrowsError(try db.resolve(":0"))
    }
}

final class ContainerPlanTests: XCTestCase {
    func testRoundTripsThroughTheEnvironmentEncoding() throws {
        var plan = ContainerPlan(
            stage: 2, rootfs: "/r", args: ["sh", "-c", "echo \"hi\""], env: ["PATH=/bin"],
            hostname: "lab", namespaces: [.pid, .mount])
        plan.hostRoot = FileIdentity(device: 65024, inode: 2)
        let decoded = try ContainerPlan.decode(try plan.encoded())
        XCTAssertEqual(decoded, plan)
        XCTAssertEqual(decoded.searchPath, "/bin")
        XCTAssertEqual(ContainerPlan(stage: 1, rootfs: "/", args: ["x"]).searchPath, ContainerPlan.defaultPath)
    }

    func testCommandErrorsUseShellExitCodes() {
        XCTAssertEqual(CommandError.notFound("x", searchPath: "/bin").exitCode, 127)
        XCTAssertEqual(CommandError.exec("/x", errno: EACCES).exitCode, 126)
        XCTAssertEqual(CommandError.exec("/x", errno: ENOENT).exitCode, 127)
        XCTAssertTrue(CommandError.exec("/x", errno: ENOENT).description.contains("static binary"))
    }
}
