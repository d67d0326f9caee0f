// Your container runtime, in Go: `runtime run [--memory BYTES] [--pids N] ROOTFS CMD [ARG...]`.
//
// Level B.3: start from your B.2 runtime (bring run and initContainer over from
// ../B.2-namespaces/runtime.go), then give the command a cgroup of its own: made, limited and
// joined before the command runs, removed after it. The child that B.2's run starts with
// Cloneflags is in a mount namespace of its own already (CLONE_NEWNS), so its pivot_root
// leaves the runtime the host's /sys/fs/cgroup, which it needs afterwards to remove the cgroup.
// The child joins the cgroup itself, first thing, by writing 0 ("the process writing") to each
// directory's cgroup.procs: run passes the directories as `init --cgroup DIR ...`. A join moves
// all the child's threads, and pids.max counts threads: the Go runtime's few count until the exec.
// Build it as the grader does: CGO_ENABLED=0 go build -o runtime .
package main

import (
	"fmt"
	"os"
	"path/filepath"
)

// writeFile writes value to dir/file, as `echo VALUE > DIR/FILE` does. The kernel checks a
// cgroup value when it arrives, so the error may come from the write or from the close.
func writeFile(dir, file, value string) error {
	f, err := os.OpenFile(filepath.Join(dir, file), os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(value)
	if closeErr := f.Close(); err == nil {
		err = closeErr
	}
	return err
}

// run makes the cgroup and writes the limits (memory and pids are "" where an option was left
// out), starts `runtime init --cgroup DIR... ROOTFS CMD...` in new namespaces, waits, removes
// the cgroup and returns the status to exit with.
func run(rootfs string, argv []string, memory, pids string) int {
	// TODO B.3: make the cgroup and write the limits (writeFile); start the child as B.2 does,
	// with "--cgroup", DIR for each directory before rootfs; wait; then remove the directories
	// (syscall.Rmdir, again after a moment while it fails with EBUSY).
	fmt.Fprintln(os.Stderr, "runtime: run is not written yet")
	return 1
}

// initContainer runs as PID 1 of the new namespaces: it joins each cgroup directory, then
// does B.2's set-up and syscall.Exec.
func initContainer(cgroups []string, rootfs string, argv []string) int {
	// TODO B.3: writeFile(dir, "cgroup.procs", "0") for each of cgroups, then B.2's init.
	fmt.Fprintln(os.Stderr, "runtime: init is not written yet")
	return 1
}

func usage() int {
	fmt.Fprintf(os.Stderr, "usage: %s run [--memory BYTES] [--pids N] ROOTFS CMD [ARG...]\n", os.Args[0])
	return 2
}

func main() {
	if len(os.Args) < 2 || (os.Args[1] != "run" && os.Args[1] != "init") {
		os.Exit(usage())
	}
	args := os.Args[2:]
	var memory, pids string
	var cgroups []string
	for len(args) > 1 {
		if os.Args[1] == "run" && args[0] == "--memory" {
			memory = args[1]
		} else if os.Args[1] == "run" && args[0] == "--pids" {
			pids = args[1]
		} else if os.Args[1] == "init" && args[0] == "--cgroup" {
			cgroups = append(cgroups, args[1])
		} else {
			break
		}
		args = args[2:]
	}
	if len(args) < 2 {
		os.Exit(usage())
	}
	if os.Args[1] == "init" {
		os.Exit(initContainer(cgroups, args[0], args[1:]))
	}
	os.Exit(run(args[0], args[1:], memory, pids))
}
