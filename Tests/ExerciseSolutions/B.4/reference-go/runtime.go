// A reference runtime for level B.4, in Go: an OCI bundle with runc's lifecycle.
//
//	runtime [--root DIR] create [--bundle DIR] ID
//	runtime [--root DIR] start ID | state ID | kill ID [SIGNAL] | delete ID
//
// The container is described by BUNDLE/config.json. `create` sets everything up and leaves
// the container process waiting on ROOT/ID/exec.fifo; `start` lets it exec the program;
// `state` prints the runtime-spec's state JSON; `kill` signals the process; `delete` removes
// what `create` made, once the process has stopped.
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
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"unsafe"
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

// ---- The state of a container: ROOT/ID/state.json holds what create knew (its status left
// empty); the status is read from the kernel each time it is asked for ----

// An ID names a folder under ROOT: nothing that could climb out of it.
var validID = regexp.MustCompile(`^[A-Za-z0-9_.+-]{1,200}$`)

func fifoPath(id string) string { return filepath.Join(containerDir(id), "exec.fifo") }

func statePath(id string) string { return filepath.Join(containerDir(id), "state.json") }

// load reads ID's saved state; an error if there is no such container.
func load(id string) (*State, error) {
	if !validID.MatchString(id) || id == "." || id == ".." {
		return nil, fmt.Errorf("no container %s", id)
	}
	data, err := os.ReadFile(statePath(id))
	if err != nil {
		return nil, fmt.Errorf("no container %s", id)
	}
	var s State
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("container %s: %s: %w", id, statePath(id), err)
	}
	return &s, nil
}

// statusOf: stopped if the process is gone, or a zombie nobody has reaped yet (kill(pid, 0)
// would still succeed for one); created while it lives and the FIFO is there; else running.
func statusOf(s *State) string {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.Pid))
	if s.Pid <= 0 || err != nil {
		return "stopped"
	}
	// "PID (COMM) S ...": the state letter follows the last ')', since COMM may hold one.
	line := string(stat)
	paren := strings.LastIndexByte(line, ')')
	if paren < 0 || paren+2 >= len(line) || line[paren+2] == 'Z' || line[paren+2] == 'X' {
		return "stopped"
	}
	if _, err := os.Stat(fifoPath(s.ID)); err == nil {
		return "created"
	}
	return "running"
}

// ---- create ----

// namespacesOf turns linux.namespaces into clone flags: exactly the types listed are new.
func namespacesOf(config *Config) (uintptr, error) {
	var flags uintptr
	for _, ns := range config.Linux.Namespaces {
		flag, ok := namespaceFlags[ns.Type]
		if !ok {
			return 0, fmt.Errorf("namespace type %q is not supported", ns.Type)
		}
		if ns.Path != "" {
			return 0, errors.New("joining a namespace by its path is not supported")
		}
		flags |= flag
	}
	return flags, nil
}

func create(bundle, id string) error {
	if !validID.MatchString(id) || id == "." || id == ".." {
		return errors.New("an ID is letters, digits and - _ . + only")
	}
	// The state holds the bundle as an absolute path, symbolic links resolved (realpath).
	bundle, err := filepath.Abs(bundle)
	if err == nil {
		bundle, err = filepath.EvalSymlinks(bundle)
	}
	if err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	config, err := readConfig(bundle)
	if err != nil {
		return err
	}
	flags, err := namespacesOf(config)
	if err != nil {
		return err
	}
	// Without a UTS namespace of its own, sethostname would rename the runtime's machine.
	if config.Hostname != "" && flags&syscall.CLONE_NEWUTS == 0 {
		return errors.New("hostname needs a uts namespace in linux.namespaces")
	}
	// The child finds ROOT again after create has gone, from wherever it runs.
	if stateRoot, err = filepath.Abs(stateRoot); err != nil {
		return err
	}
	if err := os.MkdirAll(stateRoot, 0o700); err != nil {
		return err
	}
	// mkdir fails if the folder exists: that is what makes the ID this container's alone.
	if err := os.Mkdir(containerDir(id), 0o700); err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("container %s: the ID is in use", id)
		}
		return err
	}
	if err := launch(bundle, id, flags); err != nil {
		os.RemoveAll(containerDir(id))
		return err
	}
	return nil
}

// launch is create's second half, once ROOT/ID is the container's: the FIFO, the container
// process, and the state file. create removes ROOT/ID if it fails.
func launch(bundle, id string, flags uintptr) error {
	if err := syscall.Mkfifo(fifoPath(id), 0o600); err != nil {
		return fmt.Errorf("mkfifo %s: %w", fifoPath(id), err)
	}
	ready, readyChild, err := os.Pipe()
	if err != nil {
		return err
	}
	defer ready.Close()
	cmd := exec.Command("/proc/self/exe", "--root", stateRoot, "init", bundle, id)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// The pipe's write end is fd 3 in the child (ExtraFiles[0]).
	cmd.ExtraFiles = []*os.File{readyChild}
	// Setsid: a session of its own, so that signals meant for create's process group (a
	// Ctrl-C, a timeout's kill) do not reach the container.
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: flags, Setsid: true}
	if err := cmd.Start(); err != nil {
		readyChild.Close()
		return err
	}
	// Only the child holds the write end now: the read sees its byte, or the end of the
	// pipe if it exits first (having said why on stderr).
	readyChild.Close()
	if n, _ := ready.Read(make([]byte, 1)); n != 1 {
		cmd.Wait()
		return errors.New("the container process failed before it was set up")
	}
	s := State{OCIVersion: "1.0.2", ID: id, Pid: cmd.Process.Pid, Bundle: bundle}
	data, err := json.Marshal(s)
	if err == nil {
		err = os.WriteFile(statePath(id), append(data, '\n'), 0o600)
	}
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return err
	}
	// No Wait: the container process lives on after create exits, and whoever inherits it
	// reaps it.
	return nil
}

// ---- The container process, from the clone to the exec ----

// makeMount makes one entry of config.json's mounts under the rootfs, before pivot_root: a
// bind's source is a path of the runtime's own file system, which is gone afterwards.
func makeMount(rootfs string, m Mount) error {
	if !filepath.IsAbs(m.Destination) {
		return fmt.Errorf("mount destination %q must be an absolute path", m.Destination)
	}
	var flags uintptr
	var data []string
	for _, option := range m.Options {
		if flag, ok := mountFlags[option]; ok {
			flags |= flag
		} else {
			data = append(data, option) // mode=755, size=2m...: the file system's own options
		}
	}
	if m.Type == "bind" {
		flags |= syscall.MS_BIND
	}
	target := filepath.Join(rootfs, m.Destination)
	if info, err := os.Stat(m.Source); err == nil && flags&syscall.MS_BIND != 0 && !info.IsDir() {
		// A file is bound onto a file: make an empty one to mount on.
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE, 0o644)
		if err != nil {
			return err
		}
		f.Close()
	} else if err := os.MkdirAll(target, 0o755); err != nil {
		return err
	}
	if flags&syscall.MS_BIND == 0 {
		if err := syscall.Mount(m.Source, target, m.Type, flags, strings.Join(data, ",")); err != nil {
			return fmt.Errorf("mount %s on %s: %w", m.Type, target, err)
		}
		return nil
	}
	if err := syscall.Mount(m.Source, target, "", flags&(syscall.MS_BIND|syscall.MS_REC), ""); err != nil {
		return fmt.Errorf("bind %s on %s: %w", m.Source, target, err)
	}
	// A bind takes no other flags at first: ro, nosuid... need a remount of the bind.
	if rest := flags &^ (syscall.MS_BIND | syscall.MS_REC); rest != 0 {
		if err := syscall.Mount("", target, "", syscall.MS_REMOUNT|syscall.MS_BIND|rest, ""); err != nil {
			return fmt.Errorf("remount %s: %w", target, err)
		}
	}
	return nil
}

// setRlimits sets process.rlimits; lowering a limit needs no privilege.
func setRlimits(rlimits []Rlimit) error {
	for _, r := range rlimits {
		resource, ok := rlimitNames[r.Type]
		if !ok {
			return fmt.Errorf("process.rlimits: unknown type %q", r.Type)
		}
		if err := syscall.Setrlimit(resource, &syscall.Rlimit{Cur: r.Soft, Max: r.Hard}); err != nil {
			return fmt.Errorf("setrlimit %s: %w", r.Type, err)
		}
	}
	return nil
}

// capabilityMask is the set the names make, one bit per capability number.
func capabilityMask(names []string) uint64 {
	var mask uint64
	for _, name := range names {
		for number, known := range capabilityNames {
			if known == name {
				mask |= 1 << number
			}
		}
	}
	return mask
}

// setCapabilities applies process.capabilities to this thread, whose sets the program will
// inherit: the bounding set first (an exec as root gets back all of what it holds), then the
// three sets capset writes. Dropping from the bounding set takes CAP_SETPCAP, which the
// effective set still holds until capset.
func setCapabilities(caps *Capabilities) error {
	if caps == nil {
		return nil
	}
	if caps.Bounding != nil {
		keep := capabilityMask(caps.Bounding)
		for number := 0; number < 64; number++ {
			if keep&(1<<number) != 0 {
				continue
			}
			_, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_CAPBSET_DROP, uintptr(number), 0)
			// EINVAL: past the last capability this kernel knows.
			if errno != 0 && errno != syscall.EINVAL {
				return fmt.Errorf("prctl(PR_CAPBSET_DROP, %d): %w", number, errno)
			}
		}
	}
	// capset(2)'s header and its two 32-bit halves of each set (version 3: 64 bits).
	header := struct {
		version uint32
		pid     int32 // 0: this thread
	}{linuxCapabilityVersion3, 0}
	var sets [2]struct{ effective, permitted, inheritable uint32 }
	effective := capabilityMask(caps.Effective)
	permitted := capabilityMask(caps.Permitted)
	inheritable := capabilityMask(caps.Inheritable)
	for i := range sets {
		shift := 32 * i
		sets[i].effective = uint32(effective >> shift)
		sets[i].permitted = uint32(permitted >> shift)
		sets[i].inheritable = uint32(inheritable >> shift)
	}
	_, _, errno := syscall.RawSyscall(syscall.SYS_CAPSET,
		uintptr(unsafe.Pointer(&header)), uintptr(unsafe.Pointer(&sets[0])), 0)
	if errno != 0 {
		return fmt.Errorf("capset: %w", errno)
	}
	return nil
}

// lookPath finds the program as execvp would, in the PATH of process.env: syscall.Exec does
// not search, and exec.LookPath would search the runtime's PATH, not the container's.
func lookPath(name string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	path := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	for _, entry := range env {
		if strings.HasPrefix(entry, "PATH=") {
			path = strings.TrimPrefix(entry, "PATH=")
		}
	}
	for _, dir := range filepath.SplitList(path) {
		candidate := filepath.Join(dir, name)
		if info, err := os.Stat(candidate); err == nil && info.Mode().IsRegular() && info.Mode()&0o111 != 0 {
			return candidate, nil
		}
	}
	return "", fmt.Errorf("%s: not found in the PATH of process.env", name)
}

func initContainer(bundle, id string) error {
	// Capabilities and the bounding set belong to a thread, not to the process: the set-up
	// and the exec stay on this one, whose sets the program inherits.
	runtime.LockOSThread()
	// create's pipe, to say "set up" on (fd 3: ExtraFiles[0]).
	ready := os.NewFile(3, "ready")
	config, err := readConfig(bundle)
	if err != nil {
		return err
	}
	flags, err := namespacesOf(config)
	if err != nil {
		return err
	}
	// The namespaces were made by clone(2), the PID namespace's with this process as its
	// PID 1: what is left is to set them up.
	if config.Hostname != "" {
		if err := syscall.Sethostname([]byte(config.Hostname)); err != nil {
			return fmt.Errorf("sethostname: %w", err)
		}
	}
	// root.path is relative to the bundle, not to where create was run.
	rootfs := config.Root.Path
	if rootfs == "" {
		return errors.New("config.json has no root.path")
	}
	if !filepath.IsAbs(rootfs) {
		rootfs = filepath.Join(bundle, rootfs)
	}
	// Opened now, while ROOT is in view: after pivot_root it is not. O_RDWR does not block,
	// and keeps the FIFO open for writing to (start's open then finds a reader). Go opens
	// it close-on-exec: the program does not inherit it.
	fifo, err := os.OpenFile(fifoPath(id), os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if flags&syscall.CLONE_NEWNS != 0 {
		// Cloneflags copies the mounts as shared as they were: nothing mounted from here on
		// may propagate back to the runtime's mount namespace.
		if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
			return fmt.Errorf("mount / private: %w", err)
		}
		// pivot_root wants a mount point; the recursive bind brings what is mounted inside.
		if err := syscall.Mount(rootfs, rootfs, "", syscall.MS_BIND|syscall.MS_REC, ""); err != nil {
			return fmt.Errorf("bind %s: %w", rootfs, err)
		}
		for _, m := range config.Mounts {
			if err := makeMount(rootfs, m); err != nil {
				return err
			}
		}
		if err := os.Chdir(rootfs); err != nil {
			return err
		}
		if err := syscall.PivotRoot(".", "."); err != nil {
			return fmt.Errorf("pivot_root: %w", err)
		}
		if err := syscall.Unmount(".", syscall.MNT_DETACH); err != nil {
			return fmt.Errorf("umount2 the old root: %w", err)
		}
	} else if err := syscall.Chroot(rootfs); err != nil {
		// No mount namespace of its own: the runtime's mounts are the container's, and a
		// chroot is all it can have.
		return fmt.Errorf("chroot %s: %w", rootfs, err)
	}
	cwd := config.Process.Cwd
	if cwd == "" {
		cwd = "/"
	}
	if err := os.Chdir(cwd); err != nil {
		return err
	}
	args, env := config.Process.Args, config.Process.Env
	if len(args) == 0 {
		return errors.New("process.args is empty")
	}
	program, err := lookPath(args[0], env)
	if err != nil {
		return err
	}
	// Go raised its own soft RLIMIT_NOFILE at start: the config's values go in now.
	if err := setRlimits(config.Process.Rlimits); err != nil {
		return err
	}
	// Last: the mounts above needed CAP_SYS_ADMIN.
	if err := setCapabilities(config.Process.Capabilities); err != nil {
		return err
	}
	// Set up: tell create, then wait for start's byte on the FIFO.
	if _, err := ready.Write([]byte{1}); err != nil {
		return fmt.Errorf("write to create: %w", err)
	}
	ready.Close()
	if n, err := fifo.Read(make([]byte, 1)); n != 1 {
		return fmt.Errorf("read exec.fifo: %v", err)
	}
	// The environment is process.env alone. The exec replaces the whole process, Go's
	// threads and all; it stays PID 1 of its namespace, the pid create saved.
	err = syscall.Exec(program, args, env)
	return fmt.Errorf("exec %s: %w", program, err)
}

// ---- start, state, kill, delete ----

func start(id string) error {
	s, err := load(id)
	if err != nil {
		return err
	}
	if status := statusOf(s); status != "created" {
		return fmt.Errorf("container %s is %s, not created: it cannot start", id, status)
	}
	// O_NONBLOCK: fails at once (ENXIO) if no process holds the FIFO any more.
	fd, err := syscall.Open(fifoPath(id), syscall.O_WRONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", fifoPath(id), err)
	}
	defer syscall.Close(fd)
	// Gone before the byte goes: once the process may run, state says running.
	if err := os.Remove(fifoPath(id)); err != nil {
		return err
	}
	if _, err := syscall.Write(fd, []byte{1}); err != nil {
		return fmt.Errorf("write to exec.fifo: %w", err)
	}
	return nil
}

func state(id string) error {
	s, err := load(id)
	if err != nil {
		return err
	}
	s.Status = statusOf(s)
	// The pid is required while created or running; a stopped one's may be someone else's.
	if s.Status == "stopped" {
		s.Pid = 0
	}
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	fmt.Println(string(data))
	return nil
}

func killContainer(id, signal string) error {
	s, err := load(id)
	if err != nil {
		return err
	}
	name := strings.TrimPrefix(strings.ToUpper(signal), "SIG")
	sig, ok := signalNames[name]
	if number, err := strconv.Atoi(name); err == nil && number > 0 && number < 65 {
		sig, ok = syscall.Signal(number), true
	}
	if !ok {
		return fmt.Errorf("unknown signal %s", signal)
	}
	if statusOf(s) == "stopped" {
		return fmt.Errorf("container %s is stopped: there is nothing to signal", id)
	}
	if err := syscall.Kill(s.Pid, sig); err != nil {
		return fmt.Errorf("kill %d: %w", s.Pid, err)
	}
	return nil
}

func deleteContainer(id string) error {
	s, err := load(id)
	if err != nil {
		return err
	}
	if status := statusOf(s); status != "stopped" {
		return fmt.Errorf("container %s is %s: kill it first, delete only removes a stopped one", id, status)
	}
	// The FIFO (still there if the process never started), the state file, the folder.
	return os.RemoveAll(containerDir(id))
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
