import Foundation
import XCTest
@testable import Cgroups

/// The device program's logic, run by a small interpreter of the instructions it uses, and the
/// real thing: the kernel loading it and refusing a device to a process in a cgroup v2.
final class DeviceFilterTests: XCTestCase {
    /// Runs `program` on a device access as the kernel would: (type 1 block / 2 char, access
    /// bits 1 mknod / 2 read / 4 write, major, minor) → r0.
    func run(_ program: [DeviceFilter.Instruction], type: UInt32, access: UInt32, major: UInt32, minor: UInt32)
        -> UInt32?
    {
        var r = [UInt32](repeating: 0, count: 11)
        let context = [access << 16 | type, major, minor]
        var pc = 0
        var steps = 0
        while pc < program.count, steps < 10_000 {
            let i = program[pc]
            steps += 1
            pc += 1
            switch i.code {
            case 0x61: r[Int(i.dst)] = context[Int(i.off) / 4]
            case 0x54: r[Int(i.dst)] &= UInt32(bitPattern: i.imm)
            case 0x74: r[Int(i.dst)] >>= UInt32(i.imm)
            case 0xb4: r[Int(i.dst)] = UInt32(bitPattern: i.imm)
            case 0xbc: r[Int(i.dst)] = r[Int(i.src)]
            case 0x55: if r[Int(i.dst)] != UInt32(bitPattern: i.imm) { pc += Int(i.off) }
            case 0x95: return r[0]
            default: return nil
            }
        }
        return nil
    }

    func testLaterRulesOverrideEarlierOnes() {
        let rules = [
            DeviceFilter.Rule(allow: false),
            DeviceFilter.Rule(allow: true, type: "c", major: 1, minor: 3, access: "rw"),
            DeviceFilter.Rule(allow: true, type: "c", major: 136),
            DeviceFilter.Rule(allow: false, type: "c", major: 136, minor: 7)
        ]
        let program = DeviceFilter.program(rules)
        XCTAssertEqual(run(program, type: 2, access: 2, major: 1, minor: 3), 1, "read /dev/null: allowed")
        XCTAssertEqual(run(program, type: 2, access: 6, major: 1, minor: 3), 1, "read and write /dev/null: allowed")
        XCTAssertEqual(run(program, type: 2, access: 1, major: 1, minor: 3), 0, "mknod of it: not in the rule's rw")
        XCTAssertEqual(run(program, type: 1, access: 2, major: 1, minor: 3), 0, "a block device 1:3 is another device")
        XCTAssertEqual(run(program, type: 2, access: 2, major: 1, minor: 5), 0, "/dev/zero: the deny-all rule")
        XCTAssertEqual(run(program, type: 2, access: 6, major: 136, minor: 2), 1, "any pty")
        XCTAssertEqual(run(program, type: 2, access: 6, major: 136, minor: 7), 0, "but the one denied after")
        XCTAssertEqual(run(DeviceFilter.program([]), type: 2, access: 2, major: 1, minor: 3), 0, "no rule: deny")
        XCTAssertEqual(
            run(DeviceFilter.program([.init(allow: true)]), type: 1, access: 7, major: 8, minor: 0), 1, "allow all")
    }

    func testInstructionsEncodeAsTheKernelReadsThem() {
        let jump = DeviceFilter.Instruction(code: 0x55, dst: 4, src: 0, off: 3, imm: 136)
        XCTAssertEqual(jump.bytes, [0x55, 0x04, 0x03, 0x00, 0x88, 0x00, 0x00, 0x00])
        XCTAssertEqual(DeviceFilter.Instruction(code: 0xb4, imm: -1).bytes, [0xb4, 0, 0, 0, 0xff, 0xff, 0xff, 0xff])
    }

    /// The kernel loads the program and enforces it: in a cgroup v2 that denies all but
    /// /dev/null, a shell can read /dev/null and not /dev/zero.
    func testTheKernelEnforcesTheProgram() throws {
        try XCTSkipUnless(geteuid() == 0, "attaching a device program needs root (make test runs as root)")
        let mounts = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
        guard
            let root = mounts.split(separator: "\n").first(where: { $0.contains(" - cgroup2 ") })?.split(
                separator: " ")[4]
        else {
            throw XCTSkip("no cgroup2 mount on this machine")
        }
        let path = "\(root)/contlab-devtest-\(getpid())"
        XCTAssertEqual(mkdir(path, 0o755), 0, String(cString: strerror(errno)))
        defer { rmdir(path) }
        try DeviceFilter.attach(
            [.init(allow: false), .init(allow: true, type: "c", major: 1, minor: 3)], toCgroup: path)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = [
            "-c",
            "echo $$ > \(path)/cgroup.procs && sh -c 'cat /dev/null && echo null-ok; head -c1 /dev/zero >/dev/null "
                + "2>&1 && echo zero-ok || echo zero-denied'"
        ]
        let out = NSTemporaryDirectory() + "contlab-devtest-\(getpid()).out"
        FileManager.default.createFile(atPath: out, contents: nil)
        defer { unlink(out) }
        process.standardOutput = FileHandle(forWritingAtPath: out)
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(try String(contentsOfFile: out, encoding: .utf8), "null-ok\nzero-denied\n")
    }
}
