import ContlabCore
import Foundation
import TextKit

/// What `contlab run` was asked for, before it becomes a `ContainerPlan`. Turning one into the
/// other is pure: it decides namespaces, environment and identity, and refuses what cannot work.
public struct RunRequest: Equatable, Sendable {
    public var stage: Int
    public var rootfs: String
    public var args: [String]
    public var env: [String] = []
    public var cwd: String?
    public var user: String?
    public var hostname: String?
    public var rootless = false
    public var terminal: String?
    /// contlab's language (`CONTLAB_LANG`), passed in so contlab inside speaks it too.
    public var language: String?

    public init(stage: Int, rootfs: String, args: [String]) {
        self.stage = stage
        self.rootfs = rootfs
        self.args = args
    }

    /// The namespaces each stage adds: none at stage 1 (chroot alone), and from stage 2 on PID,
    /// mount, UTS, IPC, network, and cgroup where the kernel has it. Rootless adds a user
    /// namespace at any stage, since nothing else is allowed without it.
    public static func namespaces(stage: Int, rootless: Bool, kernelHasCgroupNamespace: Bool) -> [Namespace] {
        var set: [Namespace] = rootless ? [.user] : []
        if stage >= 2 {
            set += [.pid, .mount, .uts, .ipc, .network]
            if kernelHasCgroupNamespace { set.append(.cgroup) }
        }
        return set
    }

    public func plan(users: UserDatabase, kernelHasCgroupNamespace: Bool = true) throws -> ContainerPlan {
        guard (1...3).contains(stage) else { throw RunError.stage(stage) }
        guard !args.isEmpty else { throw CommandError.empty }
        var identity = UserDatabase.Identity(uid: 0, gid: 0, additionalGids: [], home: "/root")
        if let user {
            identity = try users.resolve(user)
            if rootless && (identity.uid != 0 || identity.gid != 0) {
                throw RunError.rootlessUser(user)
            }
        } else if let root = users.users.first(where: { $0.uid == 0 }) {
            identity.home = root.home
        }
        if let hostname {
            guard stage >= 2 else { throw RunError.hostnameNeedsUTS }
            guard Self.isValidHostname(hostname) else { throw RunError.hostname(hostname) }
        }
        if let cwd, !cwd.hasPrefix("/") { throw RunError.cwd(cwd) }
        for entry in env where !entry.contains("=") || entry.hasPrefix("=") { throw RunError.env(entry) }

        // The environment a `docker run` user expects: PATH, HOME, HOSTNAME, TERM, then --env.
        var environment = ["PATH=\(ContainerPlan.defaultPath)", "HOME=\(identity.home)"]
        if stage >= 2 { environment.append("HOSTNAME=\(hostname ?? "contlab")") }
        if let terminal { environment.append("TERM=\(terminal)") }
        if let language { environment.append("\(Language.environmentKey)=\(language)") }
        for entry in env {
            let key = entry.split(separator: "=", maxSplits: 1)[0]
            environment.removeAll { $0.hasPrefix(key + "=") }
            environment.append(entry)
        }
        return ContainerPlan(
            stage: stage, rootfs: rootfs, args: args, env: environment, cwd: cwd ?? "/",
            uid: identity.uid, gid: identity.gid, additionalGids: identity.additionalGids,
            hostname: stage >= 2 ? (hostname ?? "contlab") : nil,
            namespaces: Self.namespaces(
                stage: stage, rootless: rootless, kernelHasCgroupNamespace: kernelHasCgroupNamespace),
            rootless: rootless)
    }

    /// `plan` for this machine: the users of the root filesystem's /etc/passwd and /etc/group, a
    /// cgroup namespace where the kernel has one, and the host's root directory and namespace
    /// ids, which contlab's probes inside (`contlab inspect`, the escape) compare with their own.
    public func planOnThisHost() throws -> ContainerPlan {
        var plan = try plan(
            users: UserDatabase(rootfs: rootfs), kernelHasCgroupNamespace: Sys.exists("/proc/self/ns/cgroup"))
        plan.hostRoot = FileIdentity(path: "/")
        plan.hostNamespaces = currentNamespaceIDs()
        return plan
    }

    /// RFC 1123 labels: letters, digits and hyphens, at most 63 each, 64 bytes in all (the
    /// kernel's HOST_NAME_MAX).
    public static func isValidHostname(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 64 else { return false }
        return name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            !label.isEmpty && label.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        }
    }
}

public enum RunError: Error, CustomStringConvertible, Equatable {
    case stage(Int)
    case rootlessUser(String)
    case hostnameNeedsUTS
    case hostname(String)
    case cwd(String)
    case env(String)

    public var description: String {
        switch self {
        case .stage(let n):
            return "--stage \(n): this contlab runs stages 1 (chroot), 2 (namespaces) and 3 (cgroups)"
        case .rootlessUser(let user):
            return
                "--user \(user): rootless containers map only your own user (as root, uid 0) into the user namespace, "
                + "so no other user exists inside; run as root to use --user"
        case .hostnameNeedsUTS:
            return "--hostname needs a UTS namespace, which stage 1 does not make: use --stage 2"
        case .hostname(let name):
            return "--hostname \"\(name)\": use letters, digits and hyphens, up to 63 per label and 64 in all"
        case .cwd(let dir):
            return "--cwd \(dir): give an absolute path inside the container, such as /tmp"
        case .env(let entry):
            return "--env \"\(entry)\": write KEY=VALUE"
        }
    }
}
