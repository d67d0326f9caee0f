// A reference runtime for level B.1, in Go: `runtime run ROOTFS CMD [ARG...]`.
//
// The command runs with ROOTFS as its root directory, in place of the runtime: chroot, then
// chdir, then execve. The Go runtime's threads share one root and working directory
// (CLONE_FS), so the chroot holds for all of them, and the exec replaces the whole process;
// the command's exit status is then the runtime's own.
package main

import (
	"fmt"
	"os"
	"syscall"
)

func run(rootfs string, argv []string) int {
	if err := syscall.Chroot(rootfs); err != nil {
		fmt.Fprintf(os.Stderr, "runtime: chroot %s: %v\n", rootfs, err)
		return 1
	}
	// Without it the working directory stays outside the new root.
	if err := os.Chdir("/"); err != nil {
		fmt.Fprintf(os.Stderr, "runtime: chdir /: %v\n", err)
		return 1
	}
	// execve does not search PATH: CMD is a path inside ROOTFS.
	err := syscall.Exec(argv[0], argv, os.Environ())
	fmt.Fprintf(os.Stderr, "runtime: exec %s: %v\n", argv[0], err)
	return 127
}

func main() {
	if len(os.Args) < 4 || os.Args[1] != "run" {
		fmt.Fprintf(os.Stderr, "usage: %s run ROOTFS CMD [ARG...]\n", os.Args[0])
		os.Exit(2)
	}
	os.Exit(run(os.Args[2], os.Args[3:]))
}
