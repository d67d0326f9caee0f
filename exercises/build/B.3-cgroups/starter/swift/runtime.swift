// Your container runtime, in Swift: `runtime run [--memory BYTES] [--pids N] ROOTFS CMD [ARG...]`.
//
// Level B.3: start from your B.2 runtime (bring run over from ../B.2-namespaces/runtime.swift),
// then give the command a cgroup of its own: made, limited and joined before the command runs,
// removed after it. Keep the mount namespace the child's alone (unshare(CLONE_NEWNS) after the
// fork): pivot_root moves the root of every process in the namespace, and the runtime needs
// the host's /sys/fs/cgroup afterwards to remove its cgroup.
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

/// Write `value` to DIR/FILE, as `echo VALUE > DIR/FILE` does; true on success. The kernel
/// checks a cgroup value when it arrives, so an error may show at write or only at close.
func writeFile(_ dir: String, _ file: String, _ value: String) -> Bool {
    let path = dir + "/" + file
    let fd = open(path, O_WRONLY)
    if fd < 0 {
        perror(path)
        return false
    }
    let bytes = Array(value.utf8)
    var good = write(fd, bytes, bytes.count) == bytes.count
    good = close(fd) == 0 && good
    if !good { perror(path) }
    return good
}

/// memory and pids: the limits given, or nil where an option was left out.
func run(_ rootfs: String, _ argv: [String], memory: String?, pids: String?) -> Int32 {
    // TODO B.3: make the cgroup and write the limits; unshare and fork; in the child, join the
    // cgroup, then B.2's set-up and exec; in the parent, wait, then rmdir the cgroup (again
    // after a moment, usleep, while it fails with EBUSY).
    fputs("runtime: run is not written yet\n", stderr)
    return 1
}

func usage() -> Never {
    fputs("usage: \(CommandLine.arguments[0]) run [--memory BYTES] [--pids N] ROOTFS CMD [ARG...]\n", stderr)
    exit(2)
}

var args = Array(CommandLine.arguments.dropFirst())
if args.first != "run" { usage() }
args.removeFirst()
var memory: String?
var pids: String?
while args.count > 1 && (args[0] == "--memory" || args[0] == "--pids") {
    if args[0] == "--memory" { memory = args[1] } else { pids = args[1] }
    args.removeFirst(2)
}
if args.count < 2 { usage() }
exit(run(args[0], Array(args[1...]), memory: memory, pids: pids))
