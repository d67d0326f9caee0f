// Your container runtime, in Swift: `runtime run ROOTFS CMD [ARG...]`.
//
// Level B.1: run CMD with ROOTFS as its root directory, and exit with CMD's exit status.
// Build it as the grader does: swiftc -O -o runtime runtime.swift
// Try it as root: sudo ./runtime run /path/to/a/rootfs /bin/sh
// (contlab rootfs build busybox prints the path of a busybox root filesystem.)
//
// The program imports Glibc, not Foundation: it builds in seconds, and the C library's calls
// are Swift functions of the same names (chroot, chdir, execvp, fork, waitpid, perror...), a
// Swift String going where C takes a const char *. Swift runs none of its own threads here, so
// fork and exec behave as they do in C.
import Glibc

/// argv as the array of C strings that execv and execvp take: a copy of each, then nil.
func cStrings(_ argv: [String]) -> [UnsafeMutablePointer<CChar>?] {
    argv.map { strdup($0) } + [nil]
}

/// run runs argv with rootfs as its root directory and returns the status to exit with.
func run(_ rootfs: String, _ argv: [String]) -> Int32 {
    // TODO B.1: make rootfs the root directory of the command, then run argv[0] with argv:
    // chroot(rootfs), chdir("/"), then execvp(argv[0], cStrings(argv)). Or fork, exec in the
    // child and waitpid in the parent, and return the command's exit status: (status >> 8) &
    // 0xff, since C's WEXITSTATUS is a macro, which Swift does not import.
    fputs("runtime: run is not written yet\n", stderr)
    return 1
}

let args = CommandLine.arguments
if args.count < 4 || args[1] != "run" {
    fputs("usage: \(args[0]) run ROOTFS CMD [ARG...]\n", stderr)
    exit(2)
}
exit(run(args[2], Array(args[3...])))
