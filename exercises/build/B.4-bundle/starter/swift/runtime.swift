// Your container runtime, in Swift: an OCI bundle with runc's lifecycle.
//
//   runtime [--root DIR] create [--bundle DIR] ID
//   runtime [--root DIR] start ID | state ID | kill ID [SIGNAL] | delete ID
//
// Level B.4: bring over what your B.3 run() does in the child (namespaces, mounts, pivot_root),
// now driven by BUNDLE/config.json, and split it into runc's steps. `create` sets everything
// up and leaves the container process waiting on ROOT/ID/exec.fifo; `start` lets it exec the
// program; `state` prints the runtime-spec's state JSON; `kill` signals the process; `delete`
// removes what `create` made, once the process has stopped. The JSON reader, the name tables,
// what Swift's Glibc module lacks and the command line are given; the TODOs are yours
// (task.en.md says what each is worth).
// Build it as the grader does: swiftc -O -o runtime runtime.swift
import Glibc

// ---- A small JSON reader: enough for config.json and the state file. ----

/// A JSON value; an object keeps its keys in their order.
enum JSON {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSON])
    case object([(key: String, value: JSON)])

    /// The whole text as one JSON value, or nil if it is not one.
    static func parse(_ text: String) -> JSON? {
        var reader = JSONReader(text)
        guard let value = reader.value() else { return nil }
        reader.skipSpace()
        return reader.next == nil ? value : nil
    }

    /// An object's item by key; nil if this is not an object or has no such key.
    subscript(key: String) -> JSON? {
        guard case .object(let items) = self else { return nil }
        return items.first { $0.key == key }?.value
    }

    /// A string's text; nil if this is not a string.
    var string: String? {
        guard case .string(let text) = self else { return nil }
        return text
    }

    /// A number; nil if this is not one.
    var number: Double? {
        guard case .number(let number) = self else { return nil }
        return number
    }

    /// true or false; nil if this is neither.
    var bool: Bool? {
        guard case .bool(let bool) = self else { return nil }
        return bool
    }

    /// An array's items; none if this is not an array.
    var array: [JSON] {
        guard case .array(let items) = self else { return [] }
        return items
    }
}

/// JSON.parse's reader: the text's characters, and how far it has read.
struct JSONReader {
    let text: [Unicode.Scalar]
    var at = 0

    init(_ text: String) { self.text = Array(text.unicodeScalars) }

    var next: Unicode.Scalar? { at < text.count ? text[at] : nil }

    mutating func skipSpace() {
        while let c = next, c == " " || c == "\t" || c == "\n" || c == "\r" { at += 1 }
    }

    /// Read `word` if it comes next.
    mutating func take(_ word: String) -> Bool {
        let scalars = Array(word.unicodeScalars)
        guard text[at...].starts(with: scalars) else { return false }
        at += scalars.count
        return true
    }

    mutating func value() -> JSON? {
        skipSpace()
        if take("{") || take("[") {
            let isObject = text[at - 1] == "{"
            let close: Unicode.Scalar = isObject ? "}" : "]"
            var items: [(key: String, value: JSON)] = []
            skipSpace()
            if next == close {
                at += 1
            } else {
                while true {
                    var key = ""
                    if isObject {
                        skipSpace()
                        guard take("\""), let read = stringBody() else { return nil }
                        skipSpace()
                        guard take(":") else { return nil }
                        key = read
                    }
                    guard let item = value() else { return nil }
                    items.append((key, item))
                    skipSpace()
                    if take(",") { continue }
                    guard take(String(close)) else { return nil }
                    break
                }
            }
            return isObject ? .object(items) : .array(items.map(\.value))
        }
        if take("\"") { return stringBody().map { .string($0) } }
        if take("true") { return .bool(true) }
        if take("false") { return .bool(false) }
        if take("null") { return .null }
        let start = at
        while let c = next, "+-0123456789.eE".unicodeScalars.contains(c) { at += 1 }
        return Double(String(String.UnicodeScalarView(text[start..<at]))).map { .number($0) }
    }

    /// A string's text, after its opening quote: read up to and past the closing one.
    mutating func stringBody() -> String? {
        var out = String.UnicodeScalarView()
        while let c = next, c != "\"" {
            at += 1
            guard c == "\\" else {
                out.append(c)
                continue
            }
            guard let escaped = next else { return nil }
            at += 1
            switch escaped {
            case "n": out.append("\n")
            case "t": out.append("\t")
            case "r": out.append("\r")
            case "b": out.append("\u{8}")
            case "f": out.append("\u{c}")
            case "u":
                guard at + 4 <= text.count, let code = UInt32(String(String.UnicodeScalarView(text[at..<at + 4])), radix: 16)
                else { return nil }
                at += 4
                // Above U+FFFF, a pair of escapes (a surrogate pair): read the second half.
                var scalar = code
                if (0xD800..<0xDC00).contains(code), take("\\u"), at + 4 <= text.count,
                    let low = UInt32(String(String.UnicodeScalarView(text[at..<at + 4])), radix: 16)
                {
                    at += 4
                    scalar = 0x10000 + ((code - 0xD800) << 10) + (low &- 0xDC00)
                }
                out.append(Unicode.Scalar(scalar) ?? "\u{FFFD}")
            default: out.append(escaped)  // \" \\ \/ stand for themselves
            }
        }
        guard take("\"") else { return nil }
        return String(out)
    }
}

/// `text` as a JSON string, quotes and all, for what `state` prints.
func jsonString(_ text: String) -> String {
    var out = "\""
    for c in text.unicodeScalars {
        switch c {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case _ where c.value < 0x20: out += "\\u00" + (c.value < 0x10 ? "0" : "") + String(c.value, radix: 16)
        default: out.unicodeScalars.append(c)
        }
    }
    return out + "\""
}

// ---- Files and names ----

var stateRoot = "/run/runtime-lab"

/// Say what went wrong, on stderr, and return 1: `return fail("...")`.
func fail(_ what: String) -> Int32 {
    fputs("runtime: \(what)\n", stderr)
    return 1
}

/// A file's whole text; nil if it cannot be read.
func readFile(_ path: String) -> String? {
    guard let file = fopen(path, "r") else { return nil }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = fread(&buffer, 1, buffer.count, file)
        if count == 0 { break }
        bytes += buffer[..<count]
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// Write `text` to a new file at `path` (or over the one there); true on success.
func writeFile(_ path: String, _ text: String) -> Bool {
    guard let file = fopen(path, "w") else { return false }
    let written = fputs(text, file) >= 0
    return fclose(file) == 0 && written
}

/// ROOT/ID, or ROOT/ID/FILE: where create keeps what it knows of the container.
func pathIn(_ id: String, _ file: String? = nil) -> String {
    stateRoot + "/" + id + (file.map { "/" + $0 } ?? "")
}

/// mkdir -p, for the state root and for mount points the rootfs lacks; true on success.
func makeDirs(_ path: String, _ mode: mode_t = 0o755) -> Bool {
    var made = ""
    for part in path.split(separator: "/") {
        made += (made.isEmpty && !path.hasPrefix("/") ? "" : "/") + part
        if mkdir(made, mode) != 0 && errno != EEXIST { return false }
    }
    return true
}

/// argv as the array of C strings that execv, execvp and execve take: a copy of each, then nil.
func cStrings(_ argv: [String]) -> [UnsafeMutablePointer<CChar>?] {
    argv.map { strdup($0) } + [nil]
}

// ---- What Swift's Glibc module lacks ----

// glibc declares unshare and the CLONE_NEW* flags only for _GNU_SOURCE, which Swift's Glibc
// module does not define, and syscall(2) and prctl(2) take a variable number of arguments,
// which Swift cannot pass: they are called through the C library, found by name, and the
// numbers are the kernel's (x86-64).
let CLONE_NEWNS: Int32 = 0x0002_0000
let CLONE_NEWCGROUP: Int32 = 0x0200_0000
let CLONE_NEWUTS: Int32 = 0x0400_0000
let CLONE_NEWIPC: Int32 = 0x0800_0000
let CLONE_NEWPID: Int32 = 0x2000_0000
let CLONE_NEWNET: Int32 = 0x4000_0000
let SYS_capset = 126
let SYS_pivot_root = 155
let SYS_prctl = 157
let PR_CAPBSET_DROP = 24
/// capset(2)'s header version for 64-bit sets (two 32-bit words per set).
let LINUX_CAPABILITY_VERSION_3: UInt32 = 0x2008_0522

/// The C library's function `name`, called as the C function type `type`.
func libc<T>(_ name: String, _ type: T.Type) -> T {
    guard let address = dlsym(nil, name) else { fatalError("the C library has no \(name)") }
    return unsafeBitCast(address, to: type)
}

/// unshare(2): 0, or -1 with errno set.
func unshare(_ flags: Int32) -> Int32 {
    libc("unshare", (@convention(c) (Int32) -> Int32).self)(flags)
}

/// syscall(2) with up to five arguments, each a number or a pointer's Int(bitPattern:): the
/// system call's result, or -1 with errno set. prctl(PR_CAPBSET_DROP, CAP) is
/// syscall(SYS_prctl, PR_CAPBSET_DROP, CAP).
func syscall(_ number: Int, _ a: Int = 0, _ b: Int = 0, _ c: Int = 0, _ d: Int = 0, _ e: Int = 0) -> Int {
    libc("syscall", (@convention(c) (Int, Int, Int, Int, Int, Int) -> Int).self)(number, a, b, c, d, e)
}

/// pivot_root(2): 0, or -1 with errno set.
func pivotRoot(_ newRoot: String, _ putOld: String) -> Int32 {
    newRoot.withCString { new in
        putOld.withCString { old in
            Int32(syscall(SYS_pivot_root, Int(bitPattern: new), Int(bitPattern: old)))
        }
    }
}

// ---- Names the kernel and the spec use ----

let namespaceFlags: [String: Int32] = [
    "pid": CLONE_NEWPID, "mount": CLONE_NEWNS, "uts": CLONE_NEWUTS, "ipc": CLONE_NEWIPC,
    "network": CLONE_NEWNET, "cgroup": CLONE_NEWCGROUP
]

/// Mount options that are flags; every other option goes to the file system as data.
let mountFlags: [String: UInt] = [
    "ro": UInt(MS_RDONLY), "rw": 0, "nosuid": UInt(MS_NOSUID), "nodev": UInt(MS_NODEV),
    "noexec": UInt(MS_NOEXEC), "sync": UInt(MS_SYNCHRONOUS), "noatime": UInt(MS_NOATIME),
    "nodiratime": UInt(MS_NODIRATIME), "relatime": UInt(MS_RELATIME), "strictatime": UInt(MS_STRICTATIME),
    "bind": UInt(MS_BIND), "rbind": UInt(MS_BIND | MS_REC), "suid": 0, "dev": 0, "exec": 0, "atime": 0
]

/// The resources of setrlimit(2), numbered as the kernel numbers them (setrlimit takes the number).
let rlimitNames: [String: Int32] = [
    "RLIMIT_CPU": 0, "RLIMIT_FSIZE": 1, "RLIMIT_DATA": 2, "RLIMIT_STACK": 3, "RLIMIT_CORE": 4,
    "RLIMIT_RSS": 5, "RLIMIT_NPROC": 6, "RLIMIT_NOFILE": 7, "RLIMIT_MEMLOCK": 8, "RLIMIT_AS": 9,
    "RLIMIT_LOCKS": 10, "RLIMIT_SIGPENDING": 11, "RLIMIT_MSGQUEUE": 12, "RLIMIT_NICE": 13,
    "RLIMIT_RTPRIO": 14, "RLIMIT_RTTIME": 15
]

/// The capabilities by number, as the kernel's linux/capability.h numbers them.
let capabilityNames = [
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT",
    "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
    "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN",
    "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE"
]

let signalNames: [String: Int32] = [
    "HUP": SIGHUP, "INT": SIGINT, "QUIT": SIGQUIT, "KILL": SIGKILL, "USR1": SIGUSR1, "USR2": SIGUSR2,
    "PIPE": SIGPIPE, "ALRM": SIGALRM, "TERM": SIGTERM, "CHLD": SIGCHLD, "CONT": SIGCONT, "STOP": SIGSTOP,
    "TSTP": SIGTSTP, "WINCH": SIGWINCH
]

// ---- Yours ----

/// What `state` prints for ID (see task.en.md): one JSON object with ociVersion, id, status,
/// pid and bundle (jsonString quotes a string). Keep what create knew in ROOT/ID (pathIn builds
/// the paths) and read the status from the kernel each time: /proc/PID/stat gone or its state
/// letter Z means stopped.
func state(_ id: String) -> Int32 {
    // TODO B.4
    fail("state is not written yet")
}

/// Read BUNDLE/config.json (readFile, JSON.parse, then config["process"]?["args"]...), claim
/// ROOT/ID with mkdir, make ROOT/ID/exec.fifo, unshare CLONE_NEWPID if listed, fork. The child:
/// the other namespaces, hostname, mounts and pivot_root (B.3's run(), from config.json now),
/// cwd, env, then it opens the FIFO (O_RDWR, before pivot_root) and reads one byte from it
/// before execvp. The parent waits until the child is set up (a pipe it writes to helps),
/// saves the state and exits 0.
func create(_ bundle: String, _ id: String) -> Int32 {
    // TODO B.4. Last, a point each: process.rlimits (rlimitNames, setrlimit) and
    // process.capabilities (capabilityNames; syscall with SYS_prctl and PR_CAPBSET_DROP, then
    // with SYS_capset).
    fail("create is not written yet")
}

/// Only a created container starts: open the FIFO O_WRONLY | O_NONBLOCK, remove it, write a byte.
func start(_ id: String) -> Int32 {
    // TODO B.4
    fail("start is not written yet")
}

/// SIGNAL is a name (TERM, SIGTERM: signalNames) or a number; TERM if left out.
func killContainer(_ id: String, _ signal: String?) -> Int32 {
    // TODO B.4
    fail("kill is not written yet")
}

/// Only a stopped container is deleted: everything under ROOT/ID goes.
func deleteContainer(_ id: String) -> Int32 {
    // TODO B.4
    fail("delete is not written yet")
}

func usage() -> Never {
    let me = CommandLine.arguments[0]
    fputs(
        "usage: \(me) [--root DIR] create [--bundle DIR] ID\n"
            + "       \(me) [--root DIR] start|state|delete ID\n"
            + "       \(me) [--root DIR] kill ID [SIGNAL]\n", stderr)
    exit(2)
}

var args = Array(CommandLine.arguments.dropFirst())
if args.count > 1 && args[0] == "--root" {
    stateRoot = args[1]
    args.removeFirst(2)
}
if args.isEmpty { usage() }
let command = args.removeFirst()
switch command {
case "create":
    var bundle = "."
    if args.count > 1 && args[0] == "--bundle" {
        bundle = args[1]
        args.removeFirst(2)
    }
    if args.count != 1 { usage() }
    exit(create(bundle, args[0]))
case "kill" where args.count == 1 || args.count == 2:
    exit(killContainer(args[0], args.count == 2 ? args[1] : nil))
case "start" where args.count == 1: exit(start(args[0]))
case "state" where args.count == 1: exit(state(args[0]))
case "delete" where args.count == 1: exit(deleteContainer(args[0]))
default: usage()
}
