// Your container runtime, in Go: an OCI bundle with runc's lifecycle.
//
//	runtime [--root DIR] create [--bundle DIR] ID
//	runtime [--root DIR] start ID | state ID | kill ID [SIGNAL] | delete ID
//
// Level B.4: bring over what your B.3 initContainer does (namespaces, mounts, pivot_root), now
// driven by BUNDLE/config.json, and split it into runc's steps. `create` sets everything up and
// leaves the container process waiting on ROOT/ID/exec.fifo; `start` lets it exec the program;
// `state` prints the runtime-spec's state JSON; `kill` signals the process; `delete` removes
// what `create` made, once the process has stopped. The spec's types, the name tables and
// main() are given; the TODOs are yours (task.en.md says what each is worth).
//
// As at B.2, the container process is this program run again in new namespaces: create
// starts `/proc/self/exe --root ROOT init BUNDLE ID` with SysProcAttr.Cloneflags (the listed
// namespaces) and returns without waiting for it. That child does the set-up and then waits on
// the FIFO; start's byte lets it syscall.Exec the program.
// Build it as the grader does: CGO_ENABLED=0 go build -o runtime .
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// ---- The runtime-spec's types: the parts of config.json this level reads ----

type Config struct {
	OCIVersion string      `json:"ociVersion"`
	Process    Process     `json:"process"`
	Root       Root        `json:"root"`
	Hostname   string      `json:"hostname"`
	Mounts     []Mount     `json:"mounts"`
	Linux      LinuxConfig `json:"linux"`
}

type Process struct {
	Args         []string      `json:"args"`
	Env          []string      `json:"env"`
	Cwd          string        `json:"cwd"`
	Capabilities *Capabilities `json:"capabilities"`
	Rlimits      []Rlimit      `json:"rlimits"`
}

type Capabilities struct {
	Bounding    []string `json:"bounding"`
	Effective   []string `json:"effective"`
	Permitted   []string `json:"permitted"`
	Inheritable []string `json:"inheritable"`
}

type Rlimit struct {
	Type string `json:"type"`
	Hard uint64 `json:"hard"`
	Soft uint64 `json:"soft"`
}

type Root struct {
	Path     string `json:"path"`
	Readonly bool   `json:"readonly"`
}

type Mount struct {
	Destination string   `json:"destination"`
	Type        string   `json:"type"`
	Source      string   `json:"source"`
	Options     []string `json:"options"`
}

type LinuxConfig struct {
	Namespaces []Namespace `json:"namespaces"`
}

type Namespace struct {
	Type string `json:"type"`
	Path string `json:"path"`
}

// State is what `state` prints (and what create may keep in ROOT/ID): the spec's state JSON.
type State struct {
	OCIVersion string `json:"ociVersion"`
	ID         string `json:"id"`
	Status     string `json:"status"`
	Pid        int    `json:"pid,omitempty"`
	Bundle     string `json:"bundle"`
}

// readConfig reads BUNDLE/config.json.
func readConfig(bundle string) (*Config, error) {
	data, err := os.ReadFile(filepath.Join(bundle, "config.json"))
	if err != nil {
		return nil, err
	}
	var config Config
	if err := json.Unmarshal(data, &config); err != nil {
		return nil, fmt.Errorf("%s/config.json: %w", bundle, err)
	}
	return &config, nil
}

// ---- Files and names ----

var stateRoot = "/run/runtime-lab"

// containerDir is ROOT/ID, where create keeps what it knows of the container.
func containerDir(id string) string { return filepath.Join(stateRoot, id) }

// cloneNewCgroup is CLONE_NEWCGROUP, which Go 1.19's syscall package does not name.
const cloneNewCgroup = 0x02000000

var namespaceFlags = map[string]uintptr{
	"pid": syscall.CLONE_NEWPID, "mount": syscall.CLONE_NEWNS, "uts": syscall.CLONE_NEWUTS,
	"ipc": syscall.CLONE_NEWIPC, "network": syscall.CLONE_NEWNET, "cgroup": cloneNewCgroup,
}

// Mount options that are flags; every other option goes to the file system as data.
var mountFlags = map[string]uintptr{
	"ro": syscall.MS_RDONLY, "rw": 0, "nosuid": syscall.MS_NOSUID, "nodev": syscall.MS_NODEV,
	"noexec": syscall.MS_NOEXEC, "sync": syscall.MS_SYNCHRONOUS, "noatime": syscall.MS_NOATIME,
	"nodiratime": syscall.MS_NODIRATIME, "relatime": syscall.MS_RELATIME,
	"strictatime": syscall.MS_STRICTATIME, "bind": syscall.MS_BIND,
	"rbind": syscall.MS_BIND | syscall.MS_REC, "suid": 0, "dev": 0, "exec": 0, "atime": 0,
}

// The resources of setrlimit(2), numbered as the kernel numbers them (Go's syscall package
// names only a few).
var rlimitNames = map[string]int{
	"RLIMIT_CPU": 0, "RLIMIT_FSIZE": 1, "RLIMIT_DATA": 2, "RLIMIT_STACK": 3, "RLIMIT_CORE": 4,
	"RLIMIT_RSS": 5, "RLIMIT_NPROC": 6, "RLIMIT_NOFILE": 7, "RLIMIT_MEMLOCK": 8, "RLIMIT_AS": 9,
	"RLIMIT_LOCKS": 10, "RLIMIT_SIGPENDING": 11, "RLIMIT_MSGQUEUE": 12, "RLIMIT_NICE": 13,
	"RLIMIT_RTPRIO": 14, "RLIMIT_RTTIME": 15,
}

// The capabilities by number, as the kernel's linux/capability.h numbers them.
var capabilityNames = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
	"CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE",
	"CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT",
	"CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
	"CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN",
	"CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
}

// capset(2)'s header version for 64-bit sets (two 32-bit words per set).
const linuxCapabilityVersion3 = 0x20080522

var signalNames = map[string]syscall.Signal{
	"HUP": syscall.SIGHUP, "INT": syscall.SIGINT, "QUIT": syscall.SIGQUIT, "KILL": syscall.SIGKILL,
	"USR1": syscall.SIGUSR1, "USR2": syscall.SIGUSR2, "PIPE": syscall.SIGPIPE, "ALRM": syscall.SIGALRM,
	"TERM": syscall.SIGTERM, "CHLD": syscall.SIGCHLD, "CONT": syscall.SIGCONT, "STOP": syscall.SIGSTOP,
	"TSTP": syscall.SIGTSTP, "WINCH": syscall.SIGWINCH,
}

var errNotWritten = errors.New("not written yet")

// ---- Yours ----

// create reads BUNDLE/config.json (readConfig), claims ROOT/ID with os.Mkdir, makes
// ROOT/ID/exec.fifo (syscall.Mkfifo) and starts the container process: exec.Command of
// /proc/self/exe with "--root", ROOT, "init", BUNDLE, ID (absolute paths: filepath.Abs), its
// Cloneflags from linux.namespaces (namespaceFlags), Setsid (a session of its own: signals
// meant for create's process group do not reach it), and a pipe in cmd.ExtraFiles (fd 3 in
// the child) on which the child writes a byte once it is set up. It waits for that byte,
// saves the state (the pid is cmd.Process.Pid) and returns nil; it never Waits for the child,
// which lives on after create exits.
func create(bundle, id string) error {
	return fmt.Errorf("create is %w", errNotWritten) // TODO B.4
}

// initContainer is the container process: B.3's set-up from config.json (the mounts, in
// order, made under the root before pivot_root), process.cwd, then the FIFO opened O_RDWR
// (before pivot_root) and the byte on fd 3; it reads one byte from the FIFO and
// syscall.Exec's process.args with process.env (Exec does not search PATH). Last, a point
// each: process.rlimits (syscall.Setrlimit, rlimitNames; Go 1.19 and later raise their own
// soft RLIMIT_NOFILE at start, so set the config's values here) and process.capabilities
// (capabilityNames; prctl PR_CAPBSET_DROP and capset through syscall.RawSyscall). Capabilities
// and the bounding set belong to a thread, not to the process: call runtime.LockOSThread first,
// so that the set-up and the Exec run on the one thread whose sets the program inherits.
func initContainer(bundle, id string) error {
	return fmt.Errorf("init is %w", errNotWritten) // TODO B.4
}

// start: only a created container starts. Open the FIFO O_WRONLY|O_NONBLOCK, remove it, write
// a byte.
func start(id string) error {
	return fmt.Errorf("start is %w", errNotWritten) // TODO B.4
}

// state prints one JSON object (State, see task.en.md). Keep what create knew in ROOT/ID, and
// read the status from the kernel each time: /proc/PID/stat gone, or its state letter Z, means
// stopped.
func state(id string) error {
	return fmt.Errorf("state is %w", errNotWritten) // TODO B.4
}

// killContainer: SIGNAL is a name (TERM, SIGTERM: signalNames) or a number; TERM if left out.
func killContainer(id, signal string) error {
	return fmt.Errorf("kill is %w", errNotWritten) // TODO B.4
}

// deleteContainer: only a stopped container is deleted; everything under ROOT/ID goes.
func deleteContainer(id string) error {
	return fmt.Errorf("delete is %w", errNotWritten) // TODO B.4
}

func usage() {
	me := os.Args[0]
	fmt.Fprintf(os.Stderr, "usage: %s [--root DIR] create [--bundle DIR] ID\n", me)
	fmt.Fprintf(os.Stderr, "       %s [--root DIR] start|state|delete ID\n", me)
	fmt.Fprintf(os.Stderr, "       %s [--root DIR] kill ID [SIGNAL]\n", me)
	os.Exit(2)
}

func main() {
	args := os.Args[1:]
	if len(args) > 1 && args[0] == "--root" {
		stateRoot, args = args[1], args[2:]
	}
	if len(args) == 0 {
		usage()
	}
	command, args := args[0], args[1:]
	var err error
	switch {
	case command == "create":
		bundle := "."
		if len(args) > 1 && args[0] == "--bundle" {
			bundle, args = args[1], args[2:]
		}
		if len(args) != 1 {
			usage()
		}
		err = create(bundle, args[0])
	case command == "init" && len(args) == 2:
		err = initContainer(args[0], args[1])
	case command == "kill" && (len(args) == 1 || len(args) == 2):
		signal := "TERM"
		if len(args) == 2 {
			signal = args[1]
		}
		err = killContainer(args[0], signal)
	case command == "start" && len(args) == 1:
		err = start(args[0])
	case command == "state" && len(args) == 1:
		err = state(args[0])
	case command == "delete" && len(args) == 1:
		err = deleteContainer(args[0])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "runtime: %v\n", err)
		os.Exit(1)
	}
}
