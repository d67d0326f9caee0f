import CLinux
import ContlabCore
import Foundation

/// cgroup v2 has no devices.allow and devices.deny: a cgroup's device rules are an eBPF program
/// of type BPF_PROG_TYPE_CGROUP_DEVICE, attached to its directory, which the kernel runs on
/// every open and mknod of a device node and which answers 1 (allow) or 0 (deny). This builds
/// that program from OCI's rules and loads it, as runc's devicefilter does.
public enum DeviceFilter {
    /// One rule as linux.resources.devices gives it: type a (all), b or c; nil major or minor
    /// for any; access from r, w and m.
    public struct Rule: Equatable, Sendable {
        public var allow: Bool
        public var type: Character
        public var major: Int64?
        public var minor: Int64?
        public var access: String

        public init(
            allow: Bool, type: Character = "a", major: Int64? = nil, minor: Int64? = nil, access: String = "rwm"
        ) {
            self.allow = allow
            self.type = type
            self.major = major
            self.minor = minor
            self.access = DeviceFilter.accessLetters(access)
        }
    }

    /// The devices every container may use whatever its rules say (null, zero, full, random,
    /// urandom, tty, console, ptmx, the ptys, tun), allowed after the rules as runc does.
    /// The same list serves v1's devices.allow.
    public static let defaults: [Rule] =
        ([(1, 3), (1, 5), (1, 7), (1, 8), (1, 9), (5, 0), (5, 1), (5, 2), (136, nil), (10, 200)] as [(Int64, Int64?)])
        .map { Rule(allow: true, type: "c", major: $0.0, minor: $0.1) }

    /// A BPF instruction: opcode, destination and source registers, offset, immediate.
    public struct Instruction: Equatable, Sendable {
        public var code: UInt8
        public var dst: UInt8 = 0
        public var src: UInt8 = 0
        public var off: Int16 = 0
        public var imm: Int32 = 0

        /// The kernel's struct bpf_insn, little-endian.
        public var bytes: [UInt8] {
            let o = UInt16(bitPattern: off), i = UInt32(bitPattern: imm)
            return [
                code, src << 4 | dst, UInt8(o & 0xff), UInt8(o >> 8),
                UInt8(i & 0xff), UInt8((i >> 8) & 0xff), UInt8((i >> 16) & 0xff), UInt8(i >> 24)
            ]
        }

        // The few instructions the filter needs (32-bit ALU, as the context's fields are u32).
        static func loadWord(_ dst: UInt8, from src: UInt8, offset: Int16) -> Instruction {
            Instruction(code: 0x61, dst: dst, src: src, off: offset)
        }
        static func and(_ dst: UInt8, _ imm: Int32) -> Instruction { Instruction(code: 0x54, dst: dst, imm: imm) }
        static func shiftRight(_ dst: UInt8, _ imm: Int32) -> Instruction {
            Instruction(code: 0x74, dst: dst, imm: imm)
        }
        static func move(_ dst: UInt8, _ imm: Int32) -> Instruction { Instruction(code: 0xb4, dst: dst, imm: imm) }
        static func moveRegister(_ dst: UInt8, _ src: UInt8) -> Instruction {
            Instruction(code: 0xbc, dst: dst, src: src)
        }
        static func jumpIfNotEqual(_ dst: UInt8, _ imm: Int32, skip: Int16) -> Instruction {
            Instruction(code: 0x55, dst: dst, off: skip, imm: imm)
        }
        static let exit = Instruction(code: 0x95)
    }

    /// The program for `rules` in order (a later rule overrides an earlier one, so the program
    /// tries them last first and answers with the first that matches; none matching: deny).
    /// Registers: r2 the device type (1 block, 2 char), r3 the access asked for (1 mknod,
    /// 2 read, 4 write), r4 the major, r5 the minor number.
    public static func program(_ rules: [Rule]) -> [Instruction] {
        var program: [Instruction] = [
            .loadWord(2, from: 1, offset: 0), .and(2, 0xffff),
            .loadWord(3, from: 1, offset: 0), .shiftRight(3, 16),
            .loadWord(4, from: 1, offset: 4), .loadWord(5, from: 1, offset: 8)
        ]
        for rule in rules.reversed() {
            var block: [Instruction] = []
            var tests: [(register: UInt8, value: Int32)] = []
            if rule.type == "b" || rule.type == "c" { tests.append((2, rule.type == "b" ? 1 : 2)) }
            if let major = rule.major, major >= 0 { tests.append((4, Int32(truncatingIfNeeded: major))) }
            if let minor = rule.minor, minor >= 0 { tests.append((5, Int32(truncatingIfNeeded: minor))) }
            let mask = access(rule.access)
            if mask != 7 {
                // Only accesses within the rule's: asked & ~allowed must be 0.
                block += [.moveRegister(1, 3), .and(1, Int32(~mask & 7)), .jumpIfNotEqual(1, 0, skip: 0)]
            }
            block += tests.map { .jumpIfNotEqual($0.register, $0.value, skip: 0) }
            block += [.move(0, rule.allow ? 1 : 0), .exit]
            // A failed test skips the rest of the block, its answer included.
            for j in block.indices where block[j].code == 0x55 { block[j].off = Int16(block.count - 1 - j) }
            program += block
            // A rule that matches every access answers for all the earlier ones; the verifier
            // refuses code that cannot be reached.
            if tests.isEmpty && mask == 7 { return program }
        }
        return program + [.move(0, 0), .exit]
    }

    /// An access string as the kernel's files take it: r, w and m in that order, from letters
    /// given in any order. Other letters are skipped, as runc skips them ("rwa" is "rw"): the
    /// spec names only these three.
    public static func accessLetters(_ text: String) -> String {
        String("rwm".filter { text.contains($0) })
    }

    /// r, w, m as the kernel's BPF_DEVCG_ACC_READ, _WRITE, _MKNOD bits.
    static func access(_ text: String) -> Int32 {
        (text.contains("m") ? 1 : 0) | (text.contains("r") ? 2 : 0) | (text.contains("w") ? 4 : 0)
    }

    /// Load the program for `rules` and attach it to the cgroup v2 directory at `path`.
    public static func attach(_ rules: [Rule], toCgroup path: String) throws {
        let bytes = program(rules).flatMap(\.bytes)
        var log = [CChar](repeating: 0, count: 16_384)
        let prog = bytes.withUnsafeBytes {
            cl_bpf_load_device_program($0.baseAddress, Int32(bytes.count / 8), &log, UInt32(log.count))
        }
        guard prog >= 0 else {
            let verifier = String(cString: log).split(separator: "\n").suffix(3).joined(separator: " / ")
            throw SystemCallError(
                "bpf(BPF_PROG_LOAD, BPF_PROG_TYPE_CGROUP_DEVICE)", errno: -prog,
                hint: verifier.isEmpty
                    ? "loading BPF programs needs CAP_BPF and CAP_SYS_ADMIN" : "the verifier said: \(verifier)")
        }
        defer { close(prog) }
        CallRecord.shared.note(
            "bpf(BPF_PROG_LOAD, BPF_PROG_TYPE_CGROUP_DEVICE, \(bytes.count / 8) instructions) = \(prog)")
        let directory = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directory >= 0 else { throw SystemCallError("open(\"\(path)\")", errno: errno) }
        defer { close(directory) }
        let result = cl_bpf_attach_device_program(directory, prog)
        CallRecord.shared.note("bpf(BPF_PROG_ATTACH, \"\(path)\", BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI)")
        guard result == 0 else {
            throw SystemCallError("bpf(BPF_PROG_ATTACH, \"\(path)\", BPF_CGROUP_DEVICE)", errno: -result)
        }
    }
}

extension DeviceFilter.Rule {
    /// The rule as cgroup v1's devices.allow and devices.deny read it: `a`, or `c 1:3 rwm`
    /// with `*` for any number.
    public var v1Entry: String {
        type == "a" ? "a" : "\(type) \(major.map(String.init) ?? "*"):\(minor.map(String.init) ?? "*") \(access)"
    }
}
