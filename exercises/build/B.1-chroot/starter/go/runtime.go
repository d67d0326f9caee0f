// Your container runtime, in Go: `runtime run ROOTFS CMD [ARG...]`.
//
// Level B.1: run CMD with ROOTFS as its root directory, and exit with CMD's exit status.
// Build it as the grader does: CGO_ENABLED=0 go build -o runtime .
// Try it as root: sudo ./runtime run /path/to/a/rootfs /bin/sh
// (contlab rootfs build busybox prints the path of a busybox root filesystem.)
//
// A Go program runs on several threads. Here that does no harm: its threads share one root
// and one working directory (the Go runtime creates them with CLONE_FS), so syscall.Chroot
// and os.Chdir hold for all of them, and syscall.Exec replaces the whole process. Namespaces,
// at the next level, are another matter.
package main

import (
	"fmt"
	"os"
)

// run runs argv with rootfs as its root directory and returns the status to exit with.
func run(rootfs string, argv []string) int {
	// TODO B.1: make rootfs the root directory of the command, then run argv[0] with argv
	// (package syscall: Chroot, then Chdir("/"), then Exec; execve does not search PATH, so
	// CMD is a path inside ROOTFS). Or start a child: exec.Cmd{Path: argv[0], Args: argv,
	// Dir: "/"} with SysProcAttr.Chroot set (exec.Command would look CMD up on the host
	// first), then Run it and return its ExitCode().
	fmt.Fprintln(os.Stderr, "runtime: run is not written yet")
	return 1
}

func main() {
	if len(os.Args) < 4 || os.Args[1] != "run" {
		fmt.Fprintf(os.Stderr, "usage: %s run ROOTFS CMD [ARG...]\n", os.Args[0])
		os.Exit(2)
	}
	os.Exit(run(os.Args[2], os.Args[3:]))
}
