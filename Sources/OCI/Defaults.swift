import Foundation

/// What `contlab spec` writes: a busybox-friendly `sh`, the namespaces, mounts, masked and
/// read-only paths and capabilities runc's default has, so a student can compare the two files.
public enum DefaultSpec {
    public static let ociVersion = "1.2.1"

    public static let capabilities = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]

    public static func make(rootless: Bool, uid: UInt32 = 0, gid: UInt32 = 0) -> Spec {
        var mounts: [Spec.Mount] = [
            .init(destination: "/proc", type: "proc", source: "proc"),
            .init(
                destination: "/dev", type: "tmpfs", source: "tmpfs",
                options: ["nosuid", "strictatime", "mode=755", "size=65536k"]),
            .init(
                destination: "/dev/pts", type: "devpts", source: "devpts",
                options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"] + (rootless ? [] : ["gid=5"])
            ),
            .init(
                destination: "/dev/shm", type: "tmpfs", source: "shm",
                options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
            .init(destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"])
        ]
        if rootless {
            mounts.append(
                .init(
                    destination: "/sys", type: "none", source: "/sys",
                    options: ["rbind", "nosuid", "noexec", "nodev", "ro"]))
        } else {
            mounts.append(
                .init(destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"])
            )
            mounts.append(
                .init(
                    destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup",
                    options: ["nosuid", "noexec", "nodev", "relatime", "ro"]))
        }
        var namespaces: [Spec.Namespace] = ["pid", "network", "ipc", "uts", "mount", "cgroup"].map {
            Spec.Namespace(type: $0)
        }
        var linux = Spec.Linux(namespaces: namespaces)
        if rootless {
            namespaces.append(Spec.Namespace(type: "user"))
            linux.namespaces = namespaces
            linux.uidMappings = [Spec.IDMapping(containerID: 0, hostID: uid, size: 1)]
            linux.gidMappings = [Spec.IDMapping(containerID: 0, hostID: gid, size: 1)]
        } else {
            linux.resources = Spec.Resources(devices: [Spec.DeviceRule(allow: false, access: "rwm")])
        }
        linux.maskedPaths = [
            "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
            "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"
        ]
        linux.readonlyPaths = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
        let process = Spec.Process(
            terminal: true, args: ["sh"],
            env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
            capabilities: Spec.Capabilities(bounding: capabilities, effective: capabilities, permitted: capabilities),
            rlimits: [Spec.Rlimit(type: "RLIMIT_NOFILE", hard: 1024, soft: 1024)],
            noNewPrivileges: true)
        return Spec(
            ociVersion: ociVersion, process: process, root: Spec.Root(path: "rootfs", readonly: true),
            hostname: "contlab", mounts: mounts, linux: linux)
    }

    public static func encode(_ spec: Spec) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(spec)
    }
}

/// The state of a container as runtime-spec's `state` operation reports it.
public struct ContainerState: Codable, Equatable, Sendable {
    public var ociVersion: String
    public var id: String
    public var status: String
    public var pid: Int32?
    public var bundle: String
    public var annotations: [String: String]?

    public init(
        ociVersion: String = DefaultSpec.ociVersion, id: String, status: String, pid: Int32?, bundle: String,
        annotations: [String: String]?
    ) {
        self.ociVersion = ociVersion
        self.id = id
        self.status = status
        self.pid = pid
        self.bundle = bundle
        self.annotations = annotations
    }
}
