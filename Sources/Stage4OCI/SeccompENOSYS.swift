import Foundation
import OCI

/// A short classic-BPF program put in front of libseccomp's, so that a system call newer than
/// every call the profile names fails with ENOSYS instead of taking the default action. A
/// profile written before a call existed cannot allow it; with EPERM (the usual default) a
/// program cannot tell "denied" from "not there", and glibc and others only fall back to an
/// older call on ENOSYS (clone3 → clone, for example). runc does the same.
///
/// For each architecture the profile lists, the stub compares the call's number with the
/// highest number of any call the profile names there: above it, ENOSYS; otherwise, on to the
/// profile's own program. x86_64 and x32 share one audit architecture; x32's calls carry bit 30
/// in their number, and are compared with x32's own highest number.
enum SeccompENOSYS {
    /// One `struct sock_filter`.
    struct Instruction: Equatable {
        var code: UInt16
        var jt: UInt8 = 0
        var jf: UInt8 = 0
        var k: UInt32

        /// The kernel's layout on a little-endian machine: code, jt, jf, k.
        var bytes: [UInt8] {
            let codeBytes: [UInt8] = [UInt8(code & 0xFF), UInt8(code >> 8)]
            let kBytes: [UInt8] = [UInt8(k & 0xFF), UInt8((k >> 8) & 0xFF), UInt8((k >> 16) & 0xFF), UInt8(k >> 24)]
            return codeBytes + [jt, jf] + kBytes
        }

        static func decode(_ bytes: [UInt8]) -> [Instruction] {
            stride(from: 0, to: bytes.count - bytes.count % 8, by: 8).map { i in
                let code = UInt16(bytes[i]) | UInt16(bytes[i + 1]) << 8
                var k: UInt32 = 0
                for byte in bytes[(i + 4)...(i + 7)].reversed() { k = k << 8 | UInt32(byte) }
                return Instruction(code: code, jt: bytes[i + 2], jf: bytes[i + 3], k: k)
            }
        }
    }

    /// One audit architecture (AUDIT_ARCH_*, what seccomp_data.arch holds) and the highest call
    /// number the profile names on it, natively and (x86_64 only) for x32.
    struct Limit: Equatable {
        var auditArch: UInt32
        var native: UInt32?
        var x32: UInt32?
    }

    static let auditArchX86_64: UInt32 = 0xC000_003E
    /// libseccomp's token for x32: x86_64's audit value without the 64-bit flag.
    static let x32Token: UInt32 = 0x4000_003E
    static let x32Bit: UInt32 = 0x4000_0000

    // linux/bpf_common.h and linux/seccomp.h
    static let loadWord: UInt16 = 0x20  // BPF_LD | BPF_W | BPF_ABS
    static let jumpEqual: UInt16 = 0x15  // BPF_JMP | BPF_JEQ | BPF_K
    static let jumpGreater: UInt16 = 0x25  // BPF_JMP | BPF_JGT | BPF_K
    static let jumpSet: UInt16 = 0x45  // BPF_JMP | BPF_JSET | BPF_K
    static let jumpAlways: UInt16 = 0x05  // BPF_JMP | BPF_JA
    static let returnValue: UInt16 = 0x06  // BPF_RET | BPF_K
    static let returnENOSYS: UInt32 = 0x0005_0000 | UInt32(ENOSYS)  // SECCOMP_RET_ERRNO | ENOSYS
    static let offsetOfNumber: UInt32 = 0, offsetOfArch: UInt32 = 4  // struct seccomp_data

    /// Whether a profile needs the stub: not when its default lets calls through (allow, log,
    /// trace: the kernel's own ENOSYS reaches the program), nor when the default is ENOSYS already.
    static func wanted(_ seccomp: Spec.Seccomp) -> Bool {
        if ["SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_TRACE"].contains(seccomp.defaultAction) { return false }
        if seccomp.defaultAction == "SCMP_ACT_ERRNO" && seccomp.defaultErrnoRet == UInt32(ENOSYS) { return false }
        return !(seccomp.architectures ?? []).isEmpty
    }

    /// The limits from each listed architecture's token (libseccomp's SCMP_ARCH_* value, the
    /// audit value but for x32) and the numbers of the profile's calls there (negative: the
    /// call does not exist on it). An architecture with none of the calls gets no check.
    static func limits(_ architectures: [(token: UInt32, numbers: [Int32])]) -> [Limit] {
        var out: [Limit] = []
        for (token, numbers) in architectures {
            let isX32 = token == x32Token
            let audit = isX32 ? auditArchX86_64 : token
            guard let highest = numbers.filter({ $0 >= 0 }).map({ UInt32($0) }).max() else { continue }
            var limit = out.first { $0.auditArch == audit } ?? Limit(auditArch: audit)
            if isX32 {
                limit.x32 = max(limit.x32 ?? 0, highest | x32Bit)
            } else {
                limit.native = max(limit.native ?? 0, highest)
            }
            out.removeAll { $0.auditArch == audit }
            out.append(limit)
        }
        return out
    }

    /// The stub for `limits`; it ends where the profile's program begins (which loads the
    /// architecture again itself). Empty when there is nothing to check.
    static func stub(_ limits: [Limit]) -> [Instruction] {
        guard !limits.isEmpty else { return [] }
        // `ja` to the end of the stub is written with k = 0 and fixed once the length is known.
        let toProgram = Instruction(code: jumpAlways, k: 0)
        func check(_ highest: UInt32?) -> [Instruction] {
            guard let highest else { return [toProgram] }
            return [
                Instruction(code: jumpGreater, jt: 0, jf: 1, k: highest),
                Instruction(code: returnValue, k: returnENOSYS), toProgram
            ]
        }
        var program = [Instruction(code: loadWord, k: offsetOfArch)]
        for limit in limits {
            var body = [Instruction(code: loadWord, k: offsetOfNumber)]
            if limit.auditArch == auditArchX86_64 {
                let x32 = check(limit.x32)
                body.append(Instruction(code: jumpSet, jt: 0, jf: UInt8(x32.count), k: x32Bit))
                body += x32
            }
            body += check(limit.native)
            program.append(Instruction(code: jumpEqual, jt: 0, jf: UInt8(body.count), k: limit.auditArch))
            program += body
        }
        for index in program.indices where program[index] == toProgram {
            program[index].k = UInt32(program.count - index - 1)
        }
        return program
    }
}
