// A reference runtime for level B.2, in Go: `runtime run ROOTFS CMD [ARG...]`.
//
// The command gets new PID, mount, UTS, IPC and network namespaces, the hostname "container",
// ROOTFS as its root through pivot_root with the old root detached, and a fresh /proc.
// unshare(2) would move only the calling thread, so the runtime runs itself again as
// `runtime init ROOTFS CMD...` in a child that clone(2) creates in the new namespaces; that
// child, PID 1 there, sets up and execs the command, and the parent waits for it.
// Build it as the grader does: CGO_ENABLED=0 go build -o runtime .
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
)

// run starts `runtime init ROOTFS CMD...` in new namespaces, waits for it, and returns the
// status to exit with.
func run(rootfs string, argv []string) int {
	cmd := exec.Command("/proc/self/exe", append([]string{"init", rootfs}, argv...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// clone(2) makes the child in these namespaces, before its Go runtime starts any thread:
	// all of them, and the command after the exec, are inside. The PID namespace's first
	// process is this child, PID 1 there.
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWPID | syscall.CLONE_NEWNS | syscall.CLONE_NEWUTS |
			syscall.CLONE_NEWIPC | syscall.CLONE_NEWNET,
	}
	err := cmd.Run()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		fmt.Fprintf(os.Stderr, "runtime: %v\n", err)
		return 1
	}
	// The command's status, as a shell reports it: 128+N when signal N ended it.
	status := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if status.Signaled() {
		return 128 + int(status.Signal())
	}
	return status.ExitStatus()
}

// initContainer runs as PID 1 of the new namespaces: the hostname, the mounts, pivot_root and
// /proc, then the exec. Its errors end it with 125 (the runtime's own failure), as in C.
func initContainer(rootfs string, argv []string) int {
	fail := func(what string, err error) int {
		fmt.Fprintf(os.Stderr, "runtime: %s: %v\n", what, err)
		return 125
	}
	// The UTS namespace is the child's own: the host keeps its name.
	if err := syscall.Sethostname([]byte("container")); err != nil {
		return fail("sethostname", err)
	}
	// Cloneflags copies the mounts as shared as they were: without this, what follows would
	// propagate back to the host's mount namespace.
	if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		return fail("mount / private", err)
	}
	// /proc for the new PID namespace, mounted while the old /proc is still in view (in a
	// user namespace the kernel allows a new procfs only then).
	proc := filepath.Join(rootfs, "proc")
	procFlags := uintptr(syscall.MS_NOSUID | syscall.MS_NODEV | syscall.MS_NOEXEC)
	if err := syscall.Mount("proc", proc, "proc", procFlags, ""); err != nil {
		return fail("mount proc", err)
	}
	// pivot_root wants a mount point: ROOTFS bound on itself is one, /proc and all.
	if err := syscall.Mount(rootfs, rootfs, "", syscall.MS_BIND|syscall.MS_REC, ""); err != nil {
		return fail("bind the root", err)
	}
	if err := os.Chdir(rootfs); err != nil {
		return fail("chdir", err)
	}
	// pivot_root(".", "."): the new root and the old stacked on the same point. It moves the
	// root of every thread of this process (they all had the old one); a chroot's climb out
	// has nowhere to go once the old root is gone.
	if err := syscall.PivotRoot(".", "."); err != nil {
		return fail("pivot_root", err)
	}
	// The old root is on top now: detach it, with everything mounted under it.
	if err := syscall.Unmount(".", syscall.MNT_DETACH); err != nil {
		return fail("umount2 the old root", err)
	}
	if err := os.Chdir("/"); err != nil {
		return fail("chdir /", err)
	}
	// execve does not search PATH: CMD is a path inside ROOTFS. The exec replaces the whole
	// process, Go's threads and all; the command stays PID 1.
	err := syscall.Exec(argv[0], argv, os.Environ())
	fmt.Fprintf(os.Stderr, "runtime: exec %s: %v\n", argv[0], err)
	return 127
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
