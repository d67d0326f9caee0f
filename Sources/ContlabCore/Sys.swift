import CLinux
import Foundation

/// Thin wrappers over the system calls a runtime makes. Each records itself in `CallRecord.shared`
/// in C notation and throws `SystemCallError` with the errno and, where one is known, a hint.
public enum Sys {
    /// O_PATH (<fcntl.h>, hidden behind _GNU_SOURCE): a descriptor that names a file without opening it.
    public static let openPath: Int32 = 0o10000000

    static func quote(_ s: String?) -> String { s.map { "\"\($0)\"" } ?? "NULL" }

    /// Notes `call` in the record; false when the record is all that is wanted (the recording
    /// mode of `CallRecord.callsKernel`), so the wrapper returns as if the call had succeeded.
    static func record(_ call: String) -> Bool {
        CallRecord.shared.note(call)
        return CallRecord.shared.callsKernel
    }

    /// Brings the loopback interface of a new network namespace up (ioctl SIOCSIFFLAGS).
    public static func loopbackUp() throws {
        guard record("ioctl(socket(AF_INET), SIOCSIFFLAGS, \"lo\" IFF_UP)") else { return }
        let rc = cl_loopback_up()
        if rc != 0 { throw SystemCallError("ioctl(SIOCSIFFLAGS, lo)", errno: -rc) }
    }

    public static func mount(
        source: String?, target: String, fstype: String?, flags: MountFlags,
        data: String? = nil, hint: String? = nil
    ) throws {
        let call =
            "mount(\(quote(source)), \(quote(target)), \(quote(fstype)), \(flags.description)"
            + (data.map { ", \"\($0)\")" } ?? ", NULL)")
        guard record(call) else { return }
        if Glibc.mount(source, target, fstype, flags.rawValue, data) != 0 {
            throw SystemCallError(call, errno: errno, hint: hint)
        }
    }

    public static func umount(_ target: String, detach: Bool = false) throws {
        let call = "umount2(\"\(target)\", \(detach ? "MNT_DETACH" : "0"))"
        guard record(call) else { return }
        if umount2(target, detach ? Int32(MNT_DETACH) : 0) != 0 {
            throw SystemCallError(call, errno: errno)
        }
    }

    public static func pivotRoot(newRoot: String, putOld: String, hint: String? = nil) throws {
        let call = "pivot_root(\"\(newRoot)\", \"\(putOld)\")"
        guard record(call) else { return }
        let rc = cl_pivot_root(newRoot, putOld)
        if rc != 0 { throw SystemCallError(call, errno: -rc, hint: hint) }
    }

    public static func chroot(_ path: String, hint: String? = nil) throws {
        let call = "chroot(\"\(path)\")"
        guard record(call) else { return }
        if Glibc.chroot(path) != 0 { throw SystemCallError(call, errno: errno, hint: hint) }
    }

    public static func chdir(_ path: String, hint: String? = nil) throws {
        let call = "chdir(\"\(path)\")"
        guard record(call) else { return }
        if Glibc.chdir(path) != 0 { throw SystemCallError(call, errno: errno, hint: hint) }
    }

    public static func sethostname(_ name: String) throws {
        let call = "sethostname(\"\(name)\", \(name.utf8.count))"
        guard record(call) else { return }
        let rc = name.withCString { Glibc.sethostname($0, name.utf8.count) }
        if rc != 0 { throw SystemCallError(call, errno: errno) }
    }

    public static func setdomainname(_ name: String) throws {
        let call = "setdomainname(\"\(name)\", \(name.utf8.count))"
        guard record(call) else { return }
        let rc = name.withCString { Glibc.setdomainname($0, name.utf8.count) }
        if rc != 0 { throw SystemCallError(call, errno: errno) }
    }

    /// setns(2) into the namespace open at `fd` (the file `path`, for the record and the error).
    public static func setns(_ fd: Int32, _ namespace: Namespace, path: String) throws {
        let call = "setns(open(\"\(path)\"), \(namespace.cloneFlagName))"
        guard record(call) else { return }
        let rc = cl_setns(fd, Int32(bitPattern: UInt32(namespace.cloneFlag)))
        if rc != 0 { throw SystemCallError(call, errno: -rc) }
    }

    public static func mkdir(_ path: String, mode: mode_t = 0o755, existOK: Bool = true) throws {
        // Recorded once made (an existing directory is no call worth showing).
        guard CallRecord.shared.callsKernel else {
            CallRecord.shared.note("mkdir(\"\(path)\", 0\(String(mode, radix: 8)))")
            return
        }
        if Glibc.mkdir(path, mode) != 0 {
            if existOK && errno == EEXIST { return }
            throw SystemCallError("mkdir(\"\(path)\", 0\(String(mode, radix: 8)))", errno: errno)
        }
        CallRecord.shared.note("mkdir(\"\(path)\", 0\(String(mode, radix: 8)))")
    }

    /// The text of `path` inside the tree `root`, resolved as if `root` were / (a symlink or
    /// ".." in an image cannot lead to the host's files), only if it is a regular file, and at
    /// most `limit` bytes: an image's /etc/passwd that points at /dev/zero or a FIFO is
    /// refused, not read for ever. Nil when absent or refused.
    public static func readInRoot(_ root: String, _ path: String, limit: Int = 1 << 20) -> String? {
        let rootFD = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard rootFD >= 0 else { return nil }
        defer { close(rootFD) }
        let fd = cl_open_in_root(rootFD, path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_size <= limit else { return nil }
        var bytes = [UInt8](repeating: 0, count: limit + 1)
        var total = 0
        while total <= limit {
            let count = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + total, limit + 1 - total) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            total += count
        }
        guard total <= limit else { return nil }
        return String(decoding: bytes[..<total], as: UTF8.self)
    }

    /// Run `body` holding an exclusive flock(2) on `path` (made 0600 if missing): the way two
    /// processes at once take turns at one shared thing. The lock goes with the process.
    public static func withFileLock<T>(_ path: String, _ body: () throws -> T) throws -> T {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SystemCallError("open(\"\(path)\")", errno: errno) }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 && errno == EINTR {}
        return try body()
    }

    /// mkdir -p: each missing component made 0755 (existing ones are left as they are).
    public static func mkdirs(_ path: String, mode: mode_t = 0o755) throws {
        guard CallRecord.shared.callsKernel else { return }
        var current = ""
        for component in path.split(separator: "/") {
            current += "/" + component
            if isDirectory(current) { continue }
            if Glibc.mkdir(current, mode) != 0 && errno != EEXIST {
                throw SystemCallError("mkdir(\"\(current)\")", errno: errno)
            }
        }
    }

    /// unshare(2) of one namespace, for the one a process must make itself once it is placed
    /// (a cgroup namespace is rooted at the cgroup its creator is in at that moment).
    public static func unshare(_ namespace: Namespace) throws {
        let call = "unshare(\(namespace.cloneFlagName))"
        guard record(call) else { return }
        let rc = cl_unshare(Int32(bitPattern: UInt32(namespace.cloneFlag)))
        if rc != 0 { throw SystemCallError(call, errno: -rc) }
    }

    /// mknod for a character device, 0`mode` whatever the umask.
    public static func mknodChar(_ path: String, mode: mode_t, major: UInt32, minor: UInt32) throws {
        try mknod(path, type: S_IFCHR, mode: mode, major: major, minor: minor)
    }

    /// mknod(2) of a device or FIFO (`type`: S_IFCHR, S_IFBLK or S_IFIFO), then chmod to `mode`
    /// (mknod is filtered by the umask; device nodes must be 0666 like the host's) and, with
    /// `owner`, chown. With `replacing`, whatever is at `path` is unlinked first.
    public static func mknod(
        _ path: String, type: mode_t, mode: mode_t, major: UInt32, minor: UInt32,
        owner: (uid: uid_t, gid: gid_t)? = nil, replacing: Bool = false
    ) throws {
        let typeName = type == S_IFBLK ? "S_IFBLK" : type == S_IFIFO ? "S_IFIFO" : "S_IFCHR"
        let call = "mknod(\"\(path)\", \(typeName)|0\(String(mode, radix: 8)), makedev(\(major), \(minor)))"
        guard record(call) else { return }
        if replacing { Glibc.unlink(path) }
        if Glibc.mknod(path, type | mode, DeviceNumber.make(major, minor)) != 0 {
            throw SystemCallError(call, errno: errno)
        }
        _ = Glibc.chmod(path, mode)
        if let owner { _ = Glibc.chown(path, owner.uid, owner.gid) }
    }

    /// unlink(2), where a missing file is no failure.
    public static func unlink(_ path: String) throws {
        let call = "unlink(\"\(path)\")"
        guard record(call) else { return }
        if Glibc.unlink(path) != 0 && errno != ENOENT { throw SystemCallError(call, errno: errno) }
    }

    public static func symlink(target: String, at path: String) throws {
        let call = "symlink(\"\(target)\", \"\(path)\")"
        guard record(call) else { return }
        if Glibc.symlink(target, path) != 0 && errno != EEXIST {
            throw SystemCallError(call, errno: errno)
        }
    }

    /// Bind the file open at `source` (`sourcePath`, for the record) onto the one open at
    /// `target` (`path`): open_tree and move_mount, by descriptors, so neither is looked up again
    /// by a path a container could have turned into a symlink.
    public static func bind(_ source: Int32, sourcePath: String, onto target: Int32, path: String) throws {
        let call = "move_mount(open_tree(\"\(sourcePath)\", OPEN_TREE_CLONE), \"\(path)\")"
        guard record(call) else { return }
        let rc = cl_bind_fd_onto(source, target)
        if rc != 0 { throw SystemCallError(call, errno: -rc) }
    }

    /// An empty read-only tmpfs over the directory open at `target` (`path`, for the record):
    /// fsopen, fsmount, move_mount.
    public static func readOnlyTmpfs(onto target: Int32, path: String) throws {
        let call = "move_mount(fsmount(fsopen(\"tmpfs\"), MOUNT_ATTR_RDONLY), \"\(path)\")"
        guard record(call) else { return }
        let rc = cl_tmpfs_ro_onto(target)
        if rc != 0 { throw SystemCallError(call, errno: -rc) }
    }

    /// mount_setattr(2): the mount at `path` and every one below it made read-only (Linux
    /// 5.12); `hintWhenUnsupported` is the hint when the kernel has no such call (ENOSYS).
    public static func makeReadOnlyRecursively(_ path: String, hintWhenUnsupported: String? = nil) throws {
        let call = "mount_setattr(AT_FDCWD, \"\(path)\", AT_RECURSIVE, {MOUNT_ATTR_RDONLY})"
        guard record(call) else { return }
        let rc = cl_mount_setattr_readonly_recursive(path)
        if rc != 0 { throw SystemCallError(call, errno: -rc, hint: rc == -ENOSYS ? hintWhenUnsupported : nil) }
    }

    /// seccomp(SECCOMP_SET_MODE_FILTER) of a classic BPF `program` (8 bytes an instruction),
    /// noted as `call`; with `listener`, SECCOMP_FILTER_FLAG_NEW_LISTENER, and the notification
    /// descriptor is returned. Nil in the recording mode, or without a listener.
    public static func loadSeccompProgram(_ program: [UInt8], listener: Bool, call: String) throws -> Int32? {
        guard record(call) else { return nil }
        let count = UInt16(program.count / 8)
        let rc = program.withUnsafeBytes {
            listener
                ? cl_seccomp_load_program_with_listener($0.baseAddress, count)
                : cl_seccomp_load_program($0.baseAddress, count)
        }
        if rc < 0 { throw SystemCallError(call, errno: -rc) }
        return listener ? rc : nil
    }

    /// A kernel call a C library makes for us (libseccomp's seccomp_load, say), noted as `call`:
    /// `body` returns 0 or -errno. False in the recording mode, where `body` is not run.
    public static func libraryCall(_ call: String, _ body: () -> Int32) throws -> Bool {
        guard record(call) else { return false }
        let rc = body()
        if rc != 0 { throw SystemCallError(call, errno: -rc) }
        return true
    }

    /// Create an empty file (a bind-mount target), leaving an existing one alone.
    public static func touch(_ path: String, mode: mode_t = 0o644) throws {
        guard CallRecord.shared.callsKernel else { return }
        let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, mode)
        if fd < 0 { throw SystemCallError("open(\"\(path)\", O_CREAT)", errno: errno) }
        close(fd)
    }

    /// write(2) a whole string to a file that exists (procfs and cgroupfs files).
    public static func writeFile(_ path: String, _ text: String, record: Bool = true) throws {
        let call = "write(\"\(path)\", \"\(text.replacingOccurrences(of: "\n", with: "\\n"))\")"
        if record { CallRecord.shared.note(call) }
        guard CallRecord.shared.callsKernel else { return }
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        if fd < 0 { throw SystemCallError(call, errno: errno) }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        if n != bytes.count { throw SystemCallError(call, errno: n < 0 ? errno : EIO) }
    }

    /// Read a small file (procfs, cgroupfs, /etc/passwd) as text; nil when it cannot be read.
    public static func readText(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { return nil }
        defer { close(fd) }
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            data.append(contentsOf: buffer[0..<n])
        }
        return String(decoding: data, as: UTF8.self)
    }

    public static func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink(path, &buffer, buffer.count - 1)
        if n < 0 { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    public static func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }

    /// A pipe whose two ends are close-on-exec unless asked otherwise.
    public static func pipe(cloexec: Bool = true) throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [0, 0]
        let rc = cl_pipe2(&fds, cloexec ? Int32(O_CLOEXEC) : 0)
        if rc != 0 { throw SystemCallError("pipe2", errno: -rc) }
        return (fds[0], fds[1])
    }

    /// A connected pair of unix stream sockets, both close-on-exec, named like a pipe's ends
    /// (`read` stays with the caller, `write` goes to a child): unlike a pipe it also carries
    /// descriptors (SCM_RIGHTS), and it ends the same way, when the child's last copy closes.
    public static func socketPair() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [0, 0]
        if socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) != 0 {
            throw SystemCallError("socketpair(AF_UNIX)", errno: errno)
        }
        return (fds[0], fds[1])
    }

    public static func setCloexec(_ fd: Int32, _ on: Bool) {
        let flags = fcntl(fd, F_GETFD)
        _ = fcntl(fd, F_SETFD, on ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC)
    }

    /// Write everything, retrying on EINTR and short writes.
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            offset += n
        }
    }

    /// Read until EOF.
    public static func readAll(_ fd: Int32) -> [UInt8] {
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            data.append(contentsOf: buffer[0..<n])
        }
        return data
    }

    /// Print one line to standard error (unbuffered, usable after fork and around exec).
    public static func warn(_ line: String) {
        writeAll(STDERR_FILENO, Array((line + "\n").utf8))
    }
}

/// How a process ended, and the exit code a shell would report for it (128+N for signal N).
public enum ExitStatus: Equatable, Sendable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Int32)

    public init(waitStatus: Int32) {
        let sig = cl_wait_termsig(waitStatus)
        self = sig != 0 ? .signaled(sig) : .exited(cl_wait_exitcode(waitStatus))
    }

    public var shellCode: Int32 {
        switch self {
        case .exited(let code): return code
        case .signaled(let sig): return 128 + sig
        }
    }

    public var description: String {
        switch self {
        case .exited(let code): return "exited with code \(code)"
        case .signaled(let sig): return "killed by signal \(sig) (\(Signals.name(sig)))"
        }
    }
}

public enum Signals {
    public static let names: [(Int32, String)] = [
        (SIGHUP, "HUP"), (SIGINT, "INT"), (SIGQUIT, "QUIT"), (SIGILL, "ILL"), (SIGTRAP, "TRAP"),
        (SIGABRT, "ABRT"), (SIGBUS, "BUS"), (SIGFPE, "FPE"), (SIGKILL, "KILL"), (SIGUSR1, "USR1"),
        (SIGSEGV, "SEGV"), (SIGUSR2, "USR2"), (SIGPIPE, "PIPE"), (SIGALRM, "ALRM"), (SIGTERM, "TERM"),
        (SIGCHLD, "CHLD"), (SIGCONT, "CONT"), (SIGSTOP, "STOP"), (SIGTSTP, "TSTP"), (SIGTTIN, "TTIN"),
        (SIGTTOU, "TTOU"), (SIGURG, "URG"), (SIGXCPU, "XCPU"), (SIGXFSZ, "XFSZ"), (SIGVTALRM, "VTALRM"),
        (SIGPROF, "PROF"), (SIGWINCH, "WINCH"), (SIGIO, "IO"), (SIGPWR, "PWR"), (SIGSYS, "SYS")
    ]

    public static func name(_ sig: Int32) -> String {
        names.first { $0.0 == sig }.map { "SIG" + $0.1 } ?? "signal \(sig)"
    }

    /// `TERM`, `SIGTERM`, `sigterm` or `15`.
    public static func parse(_ text: String) -> Int32? {
        if let n = Int32(text), n > 0, n < 65 { return n }
        var upper = text.uppercased()
        if upper.hasPrefix("SIG") { upper.removeFirst(3) }
        return names.first { $0.1 == upper }?.0
    }

    /// The signals a runtime passes on to the container rather than dying of them.
    public static let forwarded: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH]

    public static func set(_ signals: [Int32]) -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for s in signals { sigaddset(&set, s) }
        return set
    }

    /// Block `signals` in this thread so `sigwaitinfo` receives them instead of handlers.
    public static func block(_ signals: [Int32]) {
        var set = set(signals)
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Wait for one of `signals` (which must be blocked); returns its number and sender pid.
    public static func wait(_ signals: [Int32]) -> (signal: Int32, pid: pid_t) {
        var set = set(signals)
        var info = siginfo_t()
        while true {
            let sig = sigwaitinfo(&set, &info)
            if sig > 0 { return (sig, info._sifields._kill.si_pid) }
            if errno != EINTR { return (0, 0) }
        }
    }
}

/// RFC 3339 timestamps in UTC (`2026-11-24T11:20:40Z`), without Foundation's date formatters,
/// whose first use loads ICU's time-zone data (milliseconds on every runtime call).
public enum Timestamp {
    public static func rfc3339(_ seconds: time_t = time(nil)) -> String {
        var t = seconds
        var parts = tm()
        gmtime_r(&t, &parts)
        func pad(_ n: Int32, _ width: Int = 2) -> String {
            let s = String(n)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return
            "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1))-\(pad(parts.tm_mday))T\(pad(parts.tm_hour)):\(pad(parts.tm_min)):\(pad(parts.tm_sec))Z"
    }
}

extension Sys {
    /// Replace a small file by writing a temporary beside it and renaming it over: readers see
    /// the old content or the new, never half. No fsync: runtime state lives on tmpfs (/run).
    public static func replaceFile(_ path: String, _ bytes: [UInt8]) throws {
        // A fresh name, created exclusively and never through a symlink: a planted link must
        // not make root write somewhere else.
        let temp = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
        if fd < 0 { throw SystemCallError("open(\"\(temp)\")", errno: errno) }
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 {
                let error = n < 0 ? errno : EIO
                close(fd)
                Glibc.unlink(temp)
                throw SystemCallError("write(\"\(temp)\")", errno: error)
            }
            offset += n
        }
        close(fd)
        if rename(temp, path) != 0 {
            let error = errno
            Glibc.unlink(temp)
            throw SystemCallError("rename(\"\(temp)\", \"\(path)\")", errno: error)
        }
    }
}
