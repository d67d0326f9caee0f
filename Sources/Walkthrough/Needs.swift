import Cgroups
import ContlabCore
import Foundation
import TextKit

/// What a walk-through step needs from the machine. A step whose needs are missing is still told
/// (its prose, the commands to type by hand, contlab's command line) but not run, and the
/// walk-through says at the start what is missing, how to get it, and which steps still run.
public enum Need: String, Decodable, CaseIterable, Sendable {
    /// Namespaces, chroot and mounts: root, or a user namespace in which the user is root.
    case rootOrUserNamespaces = "root-or-user-namespaces"
    /// Real root on the host, e.g. to run the lab's dockerd.
    case root
    /// Making cgroups and writing their limits: root, or a subtree `contlab lab setup` gave
    /// this user (a user namespace does not grant it).
    case cgroups
    /// The cgroup memory controller, for stage 3's limits and its OOM evidence.
    case memoryController = "memory-controller"
    /// The runc program, for the by-hand comparison with the reference runtime.
    case runc

    /// Why a missing need matters, and the fix.
    public func missing(language: String) -> String {
        switch (self, language == "zh") {
        case (.rootOrUserNamespaces, false):
            return
                "not root, and this kernel lets no unprivileged user create a user namespace: run with sudo, or "
                + "enable them (sysctl kernel.unprivileged_userns_clone=1, user.max_user_namespaces > 0)"
        case (.rootOrUserNamespaces, true):
            return
                "当前不是 root，而且这个内核不允许普通用户创建用户命名空间：请用 sudo 运行，或者开启它（sysctl "
                + "kernel.unprivileged_userns_clone=1，user.max_user_namespaces 大于 0）"
        case (.root, false):
            return "not root: this needs root on the host; run with sudo"
        case (.root, true):
            return "当前不是 root：这一步需要宿主机上的 root 权限；请用 sudo 运行"
        case (.cgroups, false):
            return
                "not root: making cgroups and writing their limits needs root on the host, or a cgroup subtree of "
                + "your own; run with sudo, or ask the machine's admin for sudo contlab lab setup "
                + "--users \(UserDatabase.currentUserName())"
        case (.cgroups, true):
            return
                "当前不是 root：创建 cgroup、写入限额需要宿主机上的 root 权限，或一棵属于你的 cgroup 子树；请用 sudo 运行，或请管理员执行 sudo contlab lab setup "
                + "--users \(UserDatabase.currentUserName())"
        case (.memoryController, false):
            return
                "no cgroup memory controller: on cgroup v1 it must be mounted under /sys/fs/cgroup, on v2 listed in "
                + "/sys/fs/cgroup/cgroup.controllers (boot without cgroup_disable=memory)"
        case (.memoryController, true):
            return
                "没有 cgroup 内存控制器：在 cgroup v1 上它必须挂载在 /sys/fs/cgroup 下，在 v2 上必须列在 /sys/fs/cgroup/cgroup.controllers "
                + "里（启动参数中不要有 cgroup_disable=memory）"
        case (.runc, false):
            return
                "runc is not installed, so the by-hand comparison with runc cannot be tried here (apt-get install runc)"
        case (.runc, true):
            return "没有安装 runc，所以无法在这里动手与 runc 对比（apt-get install runc）"
        }
    }
}

/// What this machine offers the walk-through. A plain value: `probe()` reads the host, the tests
/// build the machine they want.
public struct HostAbilities: Equatable, Sendable {
    public var isRoot: Bool
    /// A cgroup subtree of this user's own (`contlab lab setup`).
    public var cgroupSubtree: Bool = false
    public var userNamespaces: Bool
    public var memoryController: Bool
    public var runc: Bool

    public init(isRoot: Bool, userNamespaces: Bool, memoryController: Bool, runc: Bool) {
        self.isRoot = isRoot
        self.userNamespaces = userNamespaces
        self.memoryController = memoryController
        self.runc = runc
    }

    public func has(_ need: Need) -> Bool {
        switch need {
        case .rootOrUserNamespaces: return isRoot || userNamespaces
        case .root: return isRoot
        case .cgroups: return isRoot || cgroupSubtree
        case .memoryController: return memoryController
        case .runc: return runc
        }
    }

    /// This machine, as the current user sees it.
    public static func probe(environment: [String: String] = ProcessInfo.processInfo.environment) -> HostAbilities {
        var host = HostAbilities(
            isRoot: geteuid() == 0,
            userNamespaces: userNamespacesAllowed(
                maxUserNamespaces: Sys.readText("/proc/sys/user/max_user_namespaces"),
                unprivilegedClone: Sys.readText("/proc/sys/kernel/unprivileged_userns_clone"),
                appArmorRestricts: Sys.readText("/proc/sys/kernel/apparmor_restrict_unprivileged_userns")),
            memoryController: CgroupHierarchy.current().placement(of: "memory") != nil,
            runc: findProgram(
                "runc", path: environment["PATH"] ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
                != nil)
        host.cgroupSubtree = geteuid() != 0 && UserDelegation(uid: geteuid(), gid: getegid()).isPrepared(in: .current())
        return host
    }

    /// Whether an unprivileged user may create a user namespace, from the sysctls that can forbid
    /// it: a limit of 0, Debian's kernel.unprivileged_userns_clone = 0, or Ubuntu's AppArmor
    /// restriction. A sysctl the kernel lacks (nil) forbids nothing.
    public static func userNamespacesAllowed(
        maxUserNamespaces: String?, unprivilegedClone: String?,
        appArmorRestricts: String?
    ) -> Bool {
        func value(_ text: String?) -> Int? { text.flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } }
        if let max = value(maxUserNamespaces), max <= 0 { return false }
        if let clone = value(unprivilegedClone), clone == 0 { return false }
        if let restricted = value(appArmorRestricts), restricted != 0 { return false }
        return true
    }

    /// The first executable `name` in the colon-separated `path`.
    public static func findProgram(_ name: String, path: String) -> String? {
        for directory in path.split(separator: ":") where !directory.isEmpty {
            let candidate = "\(directory)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }
}

extension StageWalkthrough {
    /// The needs of step `index` this machine lacks; the step is then shown but not run.
    public func unmetNeeds(step index: Int, on host: HostAbilities) -> [Need] {
        (steps[index].needs ?? []).filter { !host.has($0) }
    }

    /// The needs of step `index`'s by-hand commands this machine lacks; the step still runs.
    public func unmetByHandNeeds(step index: Int, on host: HostAbilities) -> [Need] {
        (steps[index].byHandNeeds ?? []).filter { !host.has($0) }
    }

    /// What the walk-through says before its first step when something is missing: each missing
    /// need once, with its fix, then which steps are only shown and which still run. Nil when the
    /// machine has everything.
    public func needsReport(on host: HostAbilities, language: String, style: Style, from firstStep: Int = 0) -> String?
    {
        let indices = Array(steps.indices.filter { $0 >= firstStep })
        var missing: [Need] = []
        for index in indices {
            for need in unmetNeeds(step: index, on: host) + unmetByHandNeeds(step: index, on: host)
            where !missing.contains(need) {
                missing.append(need)
            }
        }
        guard !missing.isEmpty else { return nil }
        let zh = language == "zh"
        var out =
            "\n"
            + style.yellow(zh ? "这台机器缺少第 \(stage) 阶段用到的一些东西：" : "This machine lacks some of what stage \(stage) uses:")
            + "\n"
        for need in missing { out += "  - " + need.missing(language: language) + "\n" }
        let shownOnly = indices.filter { !unmetNeeds(step: $0, on: host).isEmpty }.map { $0 + 1 }
        let running = indices.filter { unmetNeeds(step: $0, on: host).isEmpty }.map { $0 + 1 }
        func list(_ numbers: [Int]) -> String { numbers.map(String.init).joined(separator: zh ? "、" : ", ") }
        if !shownOnly.isEmpty {
            out +=
                zh
                ? "第 \(list(shownOnly)) 步只讲解、列出命令，不实际运行。"
                : "Step\(shownOnly.count == 1 ? "" : "s") \(list(shownOnly)) will be explained, with the commands, but not run."
            out +=
                running.isEmpty
                ? (zh
                    ? "其余讲解、手动命令和要看的结果照常显示。\n"
                    : " The explanations, the commands to type by hand and what to look for are all still shown.\n")
                : (zh
                    ? "第 \(list(running)) 步照常运行。\n"
                    : " Step\(running.count == 1 ? "" : "s") \(list(running)) still run\(running.count == 1 ? "s" : "").\n")
        } else {
            out += zh ? "所有步骤照常运行。\n" : "Every step still runs.\n"
        }
        return out
    }

    /// The line that takes a step's place when it is not run.
    public static func notRun(_ needs: [Need], language: String, style: Style) -> String {
        let names = needs.map(\.rawValue).joined(separator: ", ")
        return style.yellow(
            language == "zh" ? "（未运行：缺少 \(names)，见开头的说明）" : "(not run: needs \(names), see the note at the start)")
    }
}
