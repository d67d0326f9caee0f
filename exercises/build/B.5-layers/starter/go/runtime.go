// Your container runtime, in Go:
//
//	runtime run --layer DIR [--layer DIR...] --upper UPPER --work WORK ROOTFS CMD [ARG...]
//
// Level B.5: start from your B.2 runtime (bring run and initContainer over from
// ../B.2-namespaces/runtime.go), then build the command's root out of layers: mount an overlay
// of the layers (read-only, base first on the command line) and UPPER (the container's own
// changes) on the empty folder ROOTFS, in the child's mount namespace, and pivot_root into it.
// No layer is ever written.
// Build it as the grader does: CGO_ENABLED=0 go build -o runtime .
//
// As in B.2, the runtime runs itself again in new namespaces, now as
// `runtime init DATA ROOTFS CMD [ARG...]`, where DATA is the overlay's mount data that run
// worked out; the child mounts it before anything else of ROOTFS.
package main

import (
	"fmt"
	"os"
	"strings"
)

// overlayData is the mount data of the overlay: "lowerdir=TOP:...:BASE,upperdir=UPPER,
// workdir=WORK". layers come in --layer's order, the base first.
func overlayData(layers []string, upper, work string) string {
	// TODO B.5: overlay lists the topmost lower layer first.
	return ""
}

// run starts `runtime init DATA ROOTFS CMD...` in new namespaces, waits for it, and returns
// the status to exit with.
func run(data, rootfs string, argv []string) int {
	// TODO B.5: B.2's run, passing data on to init.
	fmt.Fprintln(os.Stderr, "runtime: run is not written yet")
	return 1
}

// initContainer runs as PID 1 of the new namespaces: mounts made private, the overlay on
// ROOTFS (syscall.Mount("overlay", rootfs, "overlay", 0, data)), then B.2's hostname, /proc,
// pivot_root and exec.
func initContainer(data, rootfs string, argv []string) int {
	// TODO B.5
	fmt.Fprintln(os.Stderr, "runtime: init is not written yet")
	return 1
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
