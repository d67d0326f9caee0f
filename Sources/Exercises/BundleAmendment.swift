import Foundation
import OCI

/// What the grader changes in a student's config.json before running it, and what it refuses
/// to run. The student's settings under test (root.readonly, hostname, capabilities,
/// noNewPrivileges, resources, namespaces) are kept; the command is the grader's probe. Pure.
public enum BundleAmendment {
    /// File systems that the kernel makes from nothing on the host: the only mount types a
    /// graded config may use.
    public static let kernelMountTypes: Set<String> = [
        "proc", "sysfs", "tmpfs", "devpts", "mqueue", "cgroup", "cgroup2"
    ]
    /// The most memory and processes a graded container may have, whatever its config says.
    public static let memoryCeiling: Int64 = 512 << 20
    // Above 4.3's "1024 or fewer", so that the ceiling never passes for the student's limit.
    public static let pidsCeiling: Int64 = 2048

    /// Settings that would let a config reach the grader's machine: host paths bound in, hooks
    /// (programs run on the host), sysctls, devices and joined namespaces.
    public static func refusal(_ spec: Spec) -> String? {
        for (i, mount) in (spec.mounts ?? []).enumerated() {
            let options = mount.options ?? []
            if mount.type == "bind" || options.contains("bind") || options.contains("rbind") {
                return
                    "mounts[\(i)] binds \(mount.source ?? "?") from the host into the container; graded bundles may not bind host paths (remove it)"
            }
            // An overlay's upperdir, a loop device's file: other types name host paths too.
            guard let type = mount.type, kernelMountTypes.contains(type) else {
                return
                    "mounts[\(i)] (\(mount.destination)) has type \(mount.type ?? "none"); graded bundles may mount only \(kernelMountTypes.sorted().joined(separator: ", ")) (change or remove it)"
            }
        }
        if let hooks = spec.hooks,
            [
                hooks.prestart, hooks.createRuntime, hooks.createContainer, hooks.startContainer, hooks.poststart,
                hooks.poststop
            ].contains(where: { !($0 ?? []).isEmpty })
        {
            return "hooks run programs on the grader's host; graded bundles may not have hooks (remove them)"
        }
        if !(spec.linux?.sysctl ?? [:]).isEmpty { return "linux.sysctl is not allowed in graded bundles (remove it)" }
        if !(spec.linux?.devices ?? []).isEmpty { return "linux.devices is not allowed in graded bundles (remove it)" }
        if let joined = spec.linux?.namespaces?.first(where: { $0.path != nil }) {
            return
                "linux.namespaces: the \(joined.type) namespace joins \(joined.path ?? "?"); graded bundles make their own"
        }
        return nil
    }

    /// The probe: `contlab inspect`, a write to /, and for 4.3 a 100 MiB memory hog.
    public static func probe(contlabPath: String, hog: Bool) -> String {
        var text = "echo; echo inspect-begin; \(contlabPath) inspect --json; echo inspect-end; "
        text += "if touch /contlab-probe-write 2>/dev/null; then echo rootwrite=ok; else echo rootwrite=refused; fi"
        if hog { text += "; \(contlabPath) hog 100M >/dev/null 2>&1; echo hog=$?" }
        return text
    }

    public static func amend(_ spec: Spec, rootfs: String, contlab: String, hog: Bool) -> Spec {
        var spec = spec
        let inside = "/usr/local/bin/contlab"
        spec.root = Spec.Root(path: rootfs, readonly: spec.root?.readonly)
        var process = spec.process ?? DefaultSpec.make(rootless: false).process!
        process.terminal = false
        process.args = ["/bin/sh", "-c", probe(contlabPath: inside, hog: hog)]
        process.env = (process.env ?? []).filter { !$0.hasPrefix("SWIFT_ROOT=") } + ["SWIFT_ROOT=/"]
        spec.process = process
        spec.hooks = nil
        spec.mounts =
            (spec.mounts ?? []) + [
                Spec.Mount(destination: inside, type: "bind", source: contlab, options: ["bind", "ro"])
            ]
        var linux = spec.linux ?? Spec.Linux(namespaces: [])
        var namespaces = linux.namespaces ?? []
        // Whatever the config says, the grader's machine keeps its network and process table.
        for kind in ["network", "pid", "mount", "ipc"] where !namespaces.contains(where: { $0.type == kind }) {
            namespaces.append(Spec.Namespace(type: kind))
        }
        linux.namespaces = namespaces
        linux.cgroupsPath = nil
        var resources = linux.resources ?? Spec.Resources()
        var memory = resources.memory ?? Spec.Memory()
        if (memory.limit ?? -1) < 0 || memory.limit! > memoryCeiling { memory.limit = memoryCeiling }
        if let swap = memory.swap, swap < 0 || swap > memoryCeiling { memory.swap = memoryCeiling }
        resources.memory = memory
        if (resources.pids?.limit ?? -1) <= 0 || resources.pids!.limit > pidsCeiling {
            resources.pids = Spec.Pids(limit: pidsCeiling)
        }
        linux.resources = resources
        spec.linux = linux
        return spec
    }
}
