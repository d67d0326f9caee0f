// A reference runtime for level B.3, in Go:
// `runtime run [--memory BYTES] [--pids N] ROOTFS CMD [ARG...]`.
//
// B.2's namespaces, pivot_root and /proc, and now a cgroup of the run's own with the memory
// and pids limits, written before the command runs and removed after it. The child that run
// starts with Cloneflags has a mount namespace of its own (CLONE_NEWNS), so its pivot_root
// leaves the runtime the host's /sys/fs/cgroup, where it removes the cgroup afterwards.
// Build it as the grader does: CGO_ENABLED=0 go build -o runtime .
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
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

// makeCgroup makes the run's cgroup and writes the limits ("" where an option was left out).
// It returns the directories made: one on v2, the memory and the pids one on v1.
func makeCgroup(memory, pids string) ([]string, error) {
	name := fmt.Sprintf("runtime-%d", os.Getpid())
	var memoryDir, pidsDir, memoryFile string
	// A hybrid host has a cgroup2 at /sys/fs/cgroup/unified too, without these controllers:
	// only cgroup.controllers at /sys/fs/cgroup itself means everything is v2.
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		memoryDir = filepath.Join("/sys/fs/cgroup", name)
		pidsDir, memoryFile = memoryDir, "memory.max"
		// A v2 cgroup has a controller's files only when its parent hands it down. It may be
		// handed down already, and a failure shows below, when the limit has no file.
		writeFile("/sys/fs/cgroup", "cgroup.subtree_control", "+memory +pids")
	} else {
		memoryDir = filepath.Join("/sys/fs/cgroup/memory", name)
		pidsDir = filepath.Join("/sys/fs/cgroup/pids", name)
		memoryFile = "memory.limit_in_bytes"
	}
	var dirs []string
	for _, dir := range []string{memoryDir, pidsDir} {
		if len(dirs) > 0 && dirs[0] == dir {
			continue // v2: one directory holds both
		}
		if err := os.Mkdir(dir, 0o755); err != nil {
			removeCgroup(dirs)
			return nil, err
		}
		dirs = append(dirs, dir)
	}
	var err error
	if memory != "" {
		err = writeFile(memoryDir, memoryFile, memory)
	}
	if pids != "" && err == nil {
		err = writeFile(pidsDir, "pids.max", pids)
	}
	if err != nil {
		removeCgroup(dirs)
		return nil, err
	}
	return dirs, nil
}

// removeCgroup removes the directories with rmdir: the files in them are the kernel's. rmdir
// refuses a cgroup with processes in it, and the PID namespace's last ones may still be on
// their way out just after PID 1 was reaped.
func removeCgroup(dirs []string) {
	for _, dir := range dirs {
		for attempt := 0; ; attempt++ {
			err := syscall.Rmdir(dir)
			if err == nil || err == syscall.ENOENT {
				break
			}
			if err != syscall.EBUSY || attempt == 100 {
				fmt.Fprintf(os.Stderr, "runtime: rmdir %s: %v\n", dir, err)
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// run makes the cgroup and writes the limits, starts `runtime init --cgroup DIR... ROOTFS
// CMD...` in new namespaces, waits, removes the cgroup and returns the status to exit with.
func run(rootfs string, argv []string, memory, pids string) int {
	dirs, err := makeCgroup(memory, pids)
	if err != nil {
		fmt.Fprintf(os.Stderr, "runtime: cgroup: %v\n", err)
		return 1
	}
	defer removeCgroup(dirs)
	args := []string{"init"}
	for _, dir := range dirs {
		args = append(args, "--cgroup", dir)
	}
	args = append(append(args, rootfs), argv...)
	cmd := exec.Command("/proc/self/exe", args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// The mount namespace is the child's alone: pivot_root moves the root of every process
	// in the namespace that had the old one, and the runtime keeps the host's.
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWPID | syscall.CLONE_NEWNS | syscall.CLONE_NEWUTS |
			syscall.CLONE_NEWIPC | syscall.CLONE_NEWNET,
	}
	err = cmd.Run()
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

// initContainer runs as PID 1 of the new namespaces: it joins each cgroup directory, then
// does B.2's set-up and the exec. Its errors end it with 125, as in C.
func initContainer(cgroups []string, rootfs string, argv []string) int {
	fail := func(what string, err error) int {
		fmt.Fprintf(os.Stderr, "runtime: %s: %v\n", what, err)
		return 125
	}
	// Join first, while /sys/fs/cgroup is still in view: "0" is the process writing, with all
	// its threads. Everything from here on, the command's first page included, is charged to
	// the limited cgroup (the Go runtime's few threads count in pids.max until the exec).
	for _, dir := range cgroups {
		if err := writeFile(dir, "cgroup.procs", "0"); err != nil {
			return fail("join "+dir, err)
		}
	}
	if err := syscall.Sethostname([]byte("container")); err != nil {
		return fail("sethostname", err)
	}
	// Cloneflags copies the mounts as shared as they were: make them private first.
	if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		return fail("mount / private", err)
	}
	// /proc for the new PID namespace, while the old /proc is still in view.
	proc := filepath.Join(rootfs, "proc")
	procFlags := uintptr(syscall.MS_NOSUID | syscall.MS_NODEV | syscall.MS_NOEXEC)
	if err := syscall.Mount("proc", proc, "proc", procFlags, ""); err != nil {
		return fail("mount proc", err)
	}
	if err := syscall.Mount(rootfs, rootfs, "", syscall.MS_BIND|syscall.MS_REC, ""); err != nil {
		return fail("bind the root", err)
	}
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
	// execve does not search PATH: CMD is a path inside ROOTFS.
	err := syscall.Exec(argv[0], argv, os.Environ())
	fmt.Fprintf(os.Stderr, "runtime: exec %s: %v\n", argv[0], err)
	return 127
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
