// Your container runtime, in Go: `runtime run ROOTFS CMD [ARG...]`.
//
// Level B.2: start from your B.1 runtime (bring run over from ../B.1-chroot/runtime.go), then
// give the command new PID, mount, UTS, IPC and network namespaces, the hostname "container",
// ROOTFS as its root through pivot_root with the old root detached, and a fresh /proc.
// Build it as the grader does: CGO_ENABLED=0 go build -o runtime .
//
// Why Go does this differently from C: unshare(2) moves only the calling thread into new
// namespaces, a Go program runs on several threads, and the scheduler moves goroutines between
// them; a new PID namespace, besides, is never the caller's own, only its children's. So
// syscall.Unshare in main would leave most of the runtime, and the command, where they were.
// Go runtimes start the container's first process inside the new namespaces instead: the
// runtime runs itself again (/proc/self/exe) with a hidden command, here
// `runtime init ROOTFS CMD [ARG...]`, through an exec.Cmd whose SysProcAttr.Cloneflags holds
// the CLONE_NEW* flags. clone(2) creates that child in the new namespaces, and every thread its
// own Go runtime starts is created there too. The child, PID 1 of its PID namespace, sets up
// the hostname, the mounts and the root, then syscall.Exec's the command in its place. (runc
// does its part in C before Go starts; runtime.LockOSThread with syscall.Unshare is the other
// way, for work that stays on one thread and forks from it.)
package main

import (
	"fmt"
	"os"
)

// run starts `runtime init ROOTFS CMD...` in new namespaces, waits for it, and returns the
// status to exit with.
func run(rootfs string, argv []string) int {
	// TODO B.2: exec.Command("/proc/self/exe", "init", rootfs, argv...), its Stdin, Stdout and
	// Stderr the runtime's own, SysProcAttr: &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID
	// | ...}; Run it and return the command's status, as B.1 does.
	fmt.Fprintln(os.Stderr, "runtime: run is not written yet")
	return 1
}

// initContainer runs as PID 1 of the new namespaces: the hostname, the mounts, pivot_root and
// /proc (task.en.md gives the order), then syscall.Exec of the command. Cloneflags, unlike
// SysProcAttr.Unshareflags, leaves the mounts as shared as they were: make them private first.
func initContainer(rootfs string, argv []string) int {
	// TODO B.2: syscall.Sethostname, Mount, Chdir, PivotRoot, Unmount(".", syscall.MNT_DETACH),
	// then Chdir("/") and Exec.
	fmt.Fprintln(os.Stderr, "runtime: init is not written yet")
	return 1
}

func main() {
	if len(os.Args) < 4 || (os.Args[1] != "run" && os.Args[1] != "init") {
		fmt.Fprintf(os.Stderr, "usage: %s run ROOTFS CMD [ARG...]\n", os.Args[0])
		os.Exit(2)
	}
	if os.Args[1] == "init" {
		os.Exit(initContainer(os.Args[2], os.Args[3:]))
	}
	os.Exit(run(os.Args[2], os.Args[3:]))
}
