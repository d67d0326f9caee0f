// Your container runtime, in Swift:
//   runtime run --layer DIR [--layer DIR...] --upper UPPER --work WORK ROOTFS CMD [ARG...]
//
// Level B.5: start from your B.2 runtime (bring run over from ../B.2-namespaces/runtime.swift),
// then build the command's root out of layers: mount an overlay of the layers (read-only,
// base first on the command line) and UPPER (the container's own changes) on the empty folder
// ROOTFS, in the child's mount namespace, and pivot_root into it. No layer is ever written.
// Build it as the grader does: swiftc -O -o runtime runtime.swift
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

/// layers: the folders in the order --layer gave them (the base first).
func run(_ layers: [String], upper: String, work: String, _ rootfs: String, _ argv: [String]) -> Int32 {
    // TODO B.5: build overlay's data, "lowerdir=TOP:...:BASE,upperdir=UPPER,workdir=WORK";
    // unshare and fork as in B.2; in the child, make mounts private, mount the overlay on
    // ROOTFS (mount("overlay", rootfs, "overlay", 0, data)), then /proc, pivot_root and exec.
    fputs("runtime: run is not written yet\n", stderr)
    return 1
}

func usage() -> Never {
    fputs(
        "usage: \(CommandLine.arguments[0]) run --layer DIR [--layer DIR...] --upper UPPER --work WORK ROOTFS CMD "
            + "[ARG...]\n", stderr)
    exit(2)
}

var args = Array(CommandLine.arguments.dropFirst())
if args.first != "run" { usage() }
args.removeFirst()
var layers: [String] = []
var upper: String?
var work: String?
while args.count > 1 && args[0].hasPrefix("--") {
    switch args[0] {
    case "--layer": layers.append(args[1])
    case "--upper": upper = args[1]
    case "--work": work = args[1]
    default: usage()
    }
    args.removeFirst(2)
}
guard !layers.isEmpty, let upper, let work, args.count >= 2 else { usage() }
exit(run(layers, upper: upper, work: work, args[0], Array(args[1...])))
