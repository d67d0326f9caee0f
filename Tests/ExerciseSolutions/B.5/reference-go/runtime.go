// A reference runtime for level B.5, in Go:
//
//	runtime run --layer DIR [--layer DIR...] --upper UPPER --work WORK ROOTFS CMD [ARG...]
//
// The command's root is an overlay of the layers (read-only, base first on the command line)
// and UPPER (the container's own changes), mounted on the empty folder ROOTFS in the child's
// mount namespace; the rest is B.2: new namespaces, the hostname, /proc and pivot_root. The
// runtime runs itself again as `runtime init DATA ROOTFS CMD...` in a child that clone(2)
// creates in the new namespaces, DATA being the overlay's mount data.
// Build it as the grader does: CGO_ENABLED=0 go build -o runtime .
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// overlayData is the mount data of the overlay. layers come in --layer's order, the base
// first; overlay's lowerdir lists the topmost layer first, so they are joined in reverse.
func overlayData(layers []string, upper, work string) string {
	lower := make([]string, 0, len(layers))
	for i := len(layers) - 1; i >= 0; i-- {
		lower = append(lower, layers[i])
	}
	return "lowerdir=" + strings.Join(lower, ":") + ",upperdir=" + upper + ",workdir=" + work
}

// run starts `runtime init DATA ROOTFS CMD...` in new namespaces, waits for it, and returns
// the status to exit with.
func run(data, rootfs string, argv []string) int {
	cmd := exec.Command("/proc/self/exe", append([]string{"init", data, rootfs}, argv...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// The mount namespace is the child's alone: the overlay mounted there goes when its last
	// process exits, and the runtime's own mount table never sees it.
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
	status := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if status.Signaled() {
		return 128 + int(status.Signal())
	}
	return status.ExitStatus()
}

// initContainer runs as PID 1 of the new namespaces: mounts made private, the overlay on
// ROOTFS, the hostname, /proc, pivot_root, then the exec. Its errors end it with 125.
func initContainer(data, rootfs string, argv []string) int {
	fail := func(what string, err error) int {
		fmt.Fprintf(os.Stderr, "runtime: %s: %v\n", what, err)
		return 125
	}
	if err := syscall.Sethostname([]byte("container")); err != nil {
		return fail("sethostname", err)
	}
	// Cloneflags copies the mounts as shared as they were: made private first, the overlay
	// and everything after it stay in this namespace.
	if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		return fail("mount / private", err)
	}
	// The layers as lowerdir, UPPER as upperdir: every change the command makes lands in UPPER,
	// and no layer is ever written.
	if err := syscall.Mount("overlay", rootfs, "overlay", 0, data); err != nil {
		return fail("mount overlay", err)
	}
	proc := filepath.Join(rootfs, "proc")
	procFlags := uintptr(syscall.MS_NOSUID | syscall.MS_NODEV | syscall.MS_NOEXEC)
	if err := syscall.Mount("proc", proc, "proc", procFlags, ""); err != nil {
		return fail("mount proc", err)
	}
	// The overlay is a mount point already, as pivot_root wants its new root to be.
	if err := os.Chdir(rootfs); err != nil {
		return fail("chdir", err)
	}
	if err := syscall.PivotRoot(".", "."); err != nil {
		return fail("pivot_root", err)
	}
	if err := syscall.Unmount(".", syscall.MNT_DETACH); err != nil {
		return fail("umount2 the old root", err)
	}
	if err := os.Chdir("/"); err != nil {
		return fail("chdir /", err)
	}
	err := syscall.Exec(argv[0], argv, os.Environ())
	fmt.Fprintf(os.Stderr, "runtime: exec %s: %v\n", argv[0], err)
	return 127
}

func usage() {
	fmt.Fprintf(os.Stderr, "usage: %s run --layer DIR [--layer DIR...] --upper UPPER --work WORK ROOTFS CMD [ARG...]\n",
		os.Args[0])
	os.Exit(2)
}

func main() {
	if len(os.Args) > 4 && os.Args[1] == "init" {
		os.Exit(initContainer(os.Args[2], os.Args[3], os.Args[4:]))
	}
	if len(os.Args) < 2 || os.Args[1] != "run" {
		usage()
	}
	var layers []string
	var upper, work string
	args := os.Args[2:]
	for len(args) > 1 && strings.HasPrefix(args[0], "--") {
		switch args[0] {
		case "--layer":
			layers = append(layers, args[1])
		case "--upper":
			upper = args[1]
		case "--work":
			work = args[1]
		default:
			usage()
		}
		args = args[2:]
	}
	if len(layers) == 0 || upper == "" || work == "" || len(args) < 2 {
		usage()
	}
	os.Exit(run(overlayData(layers, upper, work), args[0], args[1:]))
}
