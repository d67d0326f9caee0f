// Your container runtime, in Swift: `runtime run ROOTFS CMD [ARG...]`.
//
// Level B.2: start from your B.1 runtime (bring run over from ../B.1-chroot/runtime.swift),
// then give the command new PID, mount, UTS, IPC and network namespaces, the hostname
// "container", ROOTFS as its root through pivot_root with the old root detached, and a fresh
// /proc. The helpers below call what Swift's Glibc module lacks.
// Build it as the grader does: swiftc -O -o runtime runtime.swift
//
// Swift runs as C does here: one thread, so unshare and then fork work as the task says.
// sethostname, mount, umount2 and the MS_ and MNT_ constants are Glibc's; the constants are
// Ints, and mount takes its flags as a UInt, umount2 as an Int32: UInt(MS_REC | MS_PRIVATE),
// Int32(MNT_DETACH).
import Glibc

// What Glibc lacks: glibc declares unshare and the CLONE_NEW* flags only for _GNU_SOURCE, which
// Swift's Glibc module does not define, and syscall(2) takes a variable number of arguments,
// which Swift cannot pass. Both are called through the C library, found by name.
let CLONE_NEWNS: Int32 = 0x0002_0000
let CLONE_NEWUTS: Int32 = 0x0400_0000
let CLONE_NEWIPC: Int32 = 0x0800_0000
let CLONE_NEWPID: Int32 = 0x2000_0000
let CLONE_NEWNET: Int32 = 0x4000_0000
let SYS_pivot_root = 155  // x86-64

/// The C library's function `name`, called as the C function type `type`.
func libc<T>(_ name: String, _ type: T.Type) -> T {
    guard let address = dlsym(nil, name) else { fatalError("the C library has no \(name)") }
    return unsafeBitCast(address, to: type)
}

/// unshare(2): 0, or -1 with errno set.
func unshare(_ flags: Int32) -> Int32 {
    libc("unshare", (@convention(c) (Int32) -> Int32).self)(flags)
}

/// pivot_root(2), through syscall(2): 0, or -1 with errno set.
func pivotRoot(_ newRoot: String, _ putOld: String) -> Int32 {
    let syscall = libc("syscall", (@convention(c) (Int, UnsafePointer<CChar>, UnsafePointer<CChar>) -> Int).self)
    return Int32(syscall(SYS_pivot_root, newRoot, putOld))
}

/// argv as the array of C strings that execv and execvp take: a copy of each, then nil.
func cStrings(_ argv: [String]) -> [UnsafeMutablePointer<CChar>?] {
    argv.map { strdup($0) } + [nil]
}

func run(_ rootfs: String, _ argv: [String]) -> Int32 {
    // TODO B.2: unshare, fork, and in the child: hostname, mounts, pivot_root, /proc, exec.
    fputs("runtime: run is not written yet\n", stderr)
    return 1
}

let args = CommandLine.arguments
if args.count < 4 || args[1] != "run" {
    fputs("usage: \(args[0]) run ROOTFS CMD [ARG...]\n", stderr)
    exit(2)
}
exit(run(args[2], Array(args[3...])))
