import CLinux
import Foundation

/// The host side of starting a container: clone the init into its namespaces, finish what only
/// the parent can do (uid maps, cgroups) while the child waits, then let it run and wait for it,
/// passing signals on. The child re-executes this binary at once (runc's nsexec does the same):
/// a forked copy of a multi-threaded Swift process must not run Swift code.
public final class ContainerProcess {
    public let plan: ContainerPlan
    public let pid: pid_t
    /// The host's calls and then the init's, once `start` has returned.
    public private(set) var record: [String] = []

    /// Steps that run on the host after the clone and before the init may go on; a step that
    /// throws kills the child and fails the start.
    public typealias Step = (_ pid: pid_t) throws -> Void

    public static let initArgument = "__init"

    private init(plan: ContainerPlan, pid: pid_t) {
        self.plan = plan
        self.pid = pid
    }

    /// Start the container's init. Signals that `wait` forwards are blocked in the calling thread
    /// from here on, so call this from the main thread before starting any other.
    public static func start(plan inputPlan: ContainerPlan, explain: Bool = false,
                             beforeRelease: [Step] = []) throws -> ContainerProcess {
        var plan = inputPlan
        Signals.block(Signals.forwarded + [SIGCHLD])
        let sync = try Sys.pipe()
        var recordPipe: (read: Int32, write: Int32)?
        if explain {
            let p = try Sys.pipe()
            Sys.setCloexec(p.write, false)
            recordPipe = p
            plan.recordFD = p.write
        }
        defer {
            if let recordPipe { close(recordPipe.read) }
        }
        let env = ["\(ContainerPlan.environmentKey)=\(try plan.encoded())"]
        // The cgroup namespace is the init's to make, once the host has placed it in its cgroup.
        let cloned = plan.namespaces.filter { $0 != .cgroup }
        let flags = Namespace.cloneFlags(cloned)
        CallRecord.shared.note("clone(\(Namespace.describe(cloned))|SIGCHLD)")
        let pid = withCStrings(["contlab", initArgument]) { argv in
            withCStrings(env) { envp in
                cl_clone_exec(flags, "/proc/self/exe", argv, envp, sync.read, SIGKILL)
            }
        }
        close(sync.read)
        if let recordPipe { close(recordPipe.write) }
        if pid < 0 {
            close(sync.write)
            throw ContainerStartError.clone(namespaces: plan.namespaces, errno: -pid, rootless: plan.rootless)
        }
        CallRecord.shared.note("execve(\"/proc/self/exe\", [\"contlab\", \"\(initArgument)\"]) in the child, pid \(pid)")
        let process = ContainerProcess(plan: plan, pid: pid)
        do {
            if plan.rootless { try writeIDMaps(pid: pid) }
            for step in beforeRelease { try step(pid) }
        } catch {
            close(sync.write)
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            throw error
        }
        Sys.writeAll(sync.write, [1])
        close(sync.write)
        process.record = CallRecord.shared.entries.map { "host: " + $0 }
        if let recordPipe {
            let text = String(decoding: Sys.readAll(recordPipe.read), as: UTF8.self)
            process.record += text.split(separator: "\n").map { "init: " + $0 }
        }
        return process
    }

    /// Map the caller's uid and gid to root in the child's new user namespace. Unprivileged
    /// writers may map only their own ids, and must deny setgroups first (user_namespaces(7)).
    static func writeIDMaps(pid: pid_t) throws {
        let uid = getuid(), gid = getgid()
        do {
            try Sys.writeFile("/proc/\(pid)/setgroups", "deny")
            try Sys.writeFile("/proc/\(pid)/uid_map", "0 \(uid) 1\n")
            try Sys.writeFile("/proc/\(pid)/gid_map", "0 \(gid) 1\n")
        } catch let error as SystemCallError {
            throw ContainerStartError.idMap(error)
        }
    }

    /// Wait for the init to end, passing the signals in `Signals.forwarded` on to it.
    public func wait() -> ExitStatus {
        defer {
            var set = Signals.set(Signals.forwarded + [SIGCHLD])
            pthread_sigmask(SIG_UNBLOCK, &set, nil)
        }
        while true {
            var status: Int32 = 0
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { return ExitStatus(waitStatus: status) }
            if r < 0 && errno != EINTR { return .exited(125) }
            let (sig, _) = Signals.wait(Signals.forwarded + [SIGCHLD])
            if sig != SIGCHLD && sig != 0 { kill(pid, sig) }
        }
    }
}

public enum ContainerStartError: Error, CustomStringConvertible {
    case clone(namespaces: [Namespace], errno: Int32, rootless: Bool)
    case idMap(SystemCallError)

    public var description: String {
        switch self {
        case .clone(let namespaces, let errno, let rootless):
            let flags = Namespace.describe(namespaces)
            let base = "clone(\(flags)) failed: \(String(cString: strerror(errno))) (\(Errno.name(errno)))"
            switch errno {
            case EPERM where rootless:
                return base + " — this kernel or sandbox does not let unprivileged users create user namespaces; run as root (sudo), or enable them (sysctl kernel.unprivileged_userns_clone=1 or user.max_user_namespaces > 0)"
            case EPERM:
                return base + " — creating namespaces needs root: run with sudo, or add --rootless to use a user namespace"
            case EINVAL:
                let missing = namespaces.filter { !Sys.exists("/proc/self/ns/\($0.procName)") }
                let names = missing.map { "\($0.rawValue) (Linux \($0.since))" }.joined(separator: ", ")
                return base + (missing.isEmpty ? "" : " — this kernel has no \(names) namespace")
            case ENOSPC, EUSERS:
                return base + " — the limit on namespaces of one kind is reached (see /proc/sys/user/max_*_namespaces)"
            default:
                return base
            }
        case .idMap(let error):
            return "cannot map your user to root in the new user namespace: \(error)"
        }
    }
}

/// Run `body` with a NULL-terminated C array of the strings, as argv and envp are passed.
public func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    pointers.append(nil)
    defer { for p in pointers { free(p) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
