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

    /// uid_map and gid_map contents for a new user namespace, written by the host.
    public struct IDMaps: Equatable, Sendable {
        public var uidMap: String
        public var gidMap: String
        /// Unprivileged writers must deny setgroups before writing gid_map (user_namespaces(7)).
        public var denySetgroups: Bool

        public init(uidMap: String, gidMap: String, denySetgroups: Bool) {
            self.uidMap = uidMap
            self.gidMap = gidMap
            self.denySetgroups = denySetgroups
        }

        /// The caller's own ids as root: all an unprivileged user may map.
        public static func callerAsRoot() -> IDMaps {
            IDMaps(uidMap: "0 \(getuid()) 1\n", gidMap: "0 \(getgid()) 1\n", denySetgroups: true)
        }
    }

    /// An existing namespace to enter, open at `fd` (which the caller closes).
    public struct JoinedNamespace: Equatable, Sendable {
        public var namespace: Namespace
        public var path: String
        public var fd: Int32

        public init(namespace: Namespace, path: String, fd: Int32) {
            self.namespace = namespace
            self.path = path
            self.fd = fd
        }
    }

    /// Clone a child into `namespaces` (less the cgroup namespace, which the init makes once it
    /// is in its cgroup) that re-executes this binary as `contlab <argument>` with `environment`.
    /// With `joining`, the child is first placed in those existing namespaces, in the order given,
    /// and the new ones are made inside them (owned by a joined user namespace, nested in a joined
    /// PID namespace). The child waits until `idMaps` are written and `beforeRelease` has run. With
    /// `dieWithParent`, it gets PR_SET_PDEATHSIG(SIGKILL): a foreground run ends with its caller.
    public static func clone(
        argument: String, environment: [String], namespaces: [Namespace], joining: [JoinedNamespace] = [],
        idMaps: IDMaps?, dieWithParent: Bool, rootless: Bool, beforeRelease: [Step] = []
    ) throws -> pid_t {
        let sync = try Sys.pipe()
        let cloned = namespaces.filter { $0 != .cgroup }
        let flags = Namespace.cloneFlags(cloned)
        // The child execs this binary by descriptor, and never from the host's file: a container
        // that sees its init as /proc/PID/exe could otherwise write that file (SelfImage). A
        // descriptor also works in a joined mount namespace, where /proc/self/exe may not resolve.
        let image: SelfImage.Image
        do { image = try SelfImage.image() } catch {
            close(sync.read)
            close(sync.write)
            throw error
        }
        let exeFD = image.fd
        if !joining.isEmpty {
            CallRecord.shared.note("clone(SIGCHLD), a child to join the namespaces")
            for joined in joining {
                CallRecord.shared.note(
                    "setns(open(\"\(joined.path)\"), \(joined.namespace.cloneFlagName)) in that child")
            }
        }
        let environment = environment + ["\(SelfImage.pathVariable)=\(image.path)"]
        CallRecord.shared.note("clone(\(Namespace.describe(cloned))\(joining.isEmpty ? "" : "|CLONE_PARENT")|SIGCHLD)")
        var failedJoin: Int32 = -1
        let joinFDs = joining.map(\.fd)
        let joinTypes = joining.map { Int32(bitPattern: UInt32($0.namespace.cloneFlag)) }
        let pid = withCStrings(["contlab", argument]) { argv in
            withCStrings(environment) { envp in
                cl_clone_exec(
                    flags, "/proc/self/exe", exeFD, argv, envp, sync.read, sync.write, dieWithParent ? SIGKILL : 0,
                    joinFDs, joinTypes, Int32(joining.count), &failedJoin)
            }
        }
        close(sync.read)
        if pid < 0 {
            close(sync.write)
            if failedJoin >= 0 && Int(failedJoin) < joining.count {
                let joined = joining[Int(failedJoin)]
                throw ContainerStartError.join(namespace: joined.namespace, path: joined.path, errno: -pid)
            }
            throw ContainerStartError.clone(namespaces: cloned, errno: -pid, rootless: rootless)
        }
        CallRecord.shared.note(
            "execveat(<contlab: \(image.source.rawValue)>, \"\", [\"contlab\", \"\(argument)\"], AT_EMPTY_PATH) in "
                + "the child, pid \(pid)"
        )
        do {
            if let idMaps { try writeIDMaps(idMaps, pid: pid) }
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
        return pid
    }

    /// Start the container's init for a stage 1–3 plan. Signals that `wait` forwards are blocked
    /// in the calling thread from here on, so call this from the main thread before starting any other.
    public static func start(
        plan inputPlan: ContainerPlan, explain: Bool = false,
        beforeRelease: [Step] = []
    ) throws -> ContainerProcess {
        var plan = inputPlan
        Signals.block(Signals.forwarded + [SIGCHLD])
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
        let planFD = try PlanHandoff.write(try plan.encoded())
        defer { close(planFD) }
        let env = ["\(ContainerPlan.environmentKey)=\(planFD)"]
        let pid: pid_t
        do {
            pid = try clone(
                argument: initArgument, environment: env, namespaces: plan.namespaces,
                idMaps: plan.rootless ? .callerAsRoot() : nil, dieWithParent: true,
                rootless: plan.rootless, beforeRelease: beforeRelease)
        } catch {
            if let recordPipe { close(recordPipe.write) }
            throw error
        }
        if let recordPipe { close(recordPipe.write) }
        let process = ContainerProcess(plan: plan, pid: pid)
        process.record = CallRecord.shared.entries.map { "host: " + $0 }
        if let recordPipe {
            let text = String(decoding: Sys.readAll(recordPipe.read), as: UTF8.self)
            process.record += text.split(separator: "\n").map { "init: " + $0 }
        }
        return process
    }

    static func writeIDMaps(_ maps: IDMaps, pid: pid_t) throws {
        do {
            if maps.denySetgroups { try Sys.writeFile("/proc/\(pid)/setgroups", "deny") }
            try Sys.writeFile("/proc/\(pid)/uid_map", maps.uidMap)
            try Sys.writeFile("/proc/\(pid)/gid_map", maps.gidMap)
        } catch let error as SystemCallError {
            throw ContainerStartError.idMap(error)
        }
    }

    /// Wait for the init to end, passing the signals in `Signals.forwarded` on to it.
    public func wait() -> ExitStatus { waitForwarding(pid: pid) }
}

/// Wait for a child, passing the forwarded signals on to it (they must be blocked already, so
/// none arrives between the fork and the wait); unblocks them when it returns.
public func waitForwarding(pid: pid_t) -> ExitStatus {
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

public enum ContainerStartError: Error, CustomStringConvertible {
    case clone(namespaces: [Namespace], errno: Int32, rootless: Bool)
    case idMap(SystemCallError)
    case join(namespace: Namespace, path: String, errno: Int32)

    public var description: String {
        switch self {
        case .clone(let namespaces, let errno, let rootless):
            let flags = Namespace.describe(namespaces)
            let base = "clone(\(flags)) failed: \(String(cString: strerror(errno))) (\(Errno.name(errno)))"
            switch errno {
            case EPERM where rootless:
                return base
                    + " — this kernel or sandbox does not let unprivileged users create user namespaces; run as root "
                    + "(sudo), or enable them (sysctl kernel.unprivileged_userns_clone=1 or "
                    + "user.max_user_namespaces > 0)"
            case EPERM:
                return base
                    + " — creating namespaces needs root: run with sudo, or add --rootless to use a user namespace"
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
        case .join(let namespace, let path, let errno):
            let base =
                "setns(\"\(path)\", \(namespace.cloneFlagName)) failed: \(String(cString: strerror(errno))) "
                + "(\(Errno.name(errno)))"
            switch errno {
            case EPERM:
                return base
                    + " — entering a namespace needs CAP_SYS_ADMIN in the user namespace that owns it; after joining"
                    + " a user namespace, only namespaces that user namespace owns can be entered"
            case EINVAL where namespace == .user:
                return base
                    + " — a process cannot enter its own user namespace or one of its ancestors; leave the user "
                    + "entry's path out to stay in it"
            case EINVAL:
                return base
                    + " — the kernel refused this namespace here (a PID namespace outside this one's descendants?)"
            default:
                return base
            }
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
