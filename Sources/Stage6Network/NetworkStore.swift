import CLinux
import ContlabCore
import Foundation

/// A lab network as stored in `network.json`.
public struct NetworkRecord: Codable, Equatable, Sendable {
    public var name: String
    public var subnet: Subnet
    public var bridge: String
    public var gateway: IPv4Address
    public var created: String
}

/// One container's address on a network, held while the `contlab run` that took it lives.
public struct Lease: Codable, Equatable, Sendable {
    public var container: String
    public var address: IPv4Address
    /// The host end of the container's veth pair, in the network's host side.
    public var hostVeth: String
    /// The `contlab run` holding the lease, and when it started (field 22 of /proc/PID/stat), so
    /// a reused pid is not taken for it.
    public var pid: Int32
    public var started: UInt64
    /// The ports the container publishes (`-p`) on the host side; absent when none.
    public var ports: [PortMapping]?

    /// Whether the process that took the lease still runs.
    public var holderAlive: Bool { ProcessStart.of(pid) == started }
}

public enum ProcessStart {
    /// A process's start time in clock ticks since boot, from /proc/PID/stat; nil when it is gone.
    public static func of(_ pid: Int32) -> UInt64? {
        guard let text = Sys.readText("/proc/\(pid)/stat"), let close = text.lastIndex(of: ")") else { return nil }
        // Fields after the command name (which may hold spaces): state is field 3, starttime 22.
        let fields = text[text.index(after: close)...].split(separator: " ")
        return fields.count > 19 ? UInt64(fields[19]) : nil
    }
}

/// Where lab networks live: `/run/contlab-net` (root only, 0700; /run is a tmpfs, so a reboot
/// forgets them, as it forgets the namespaces). One folder per network:
///
///     NAME/network.json   the subnet, the bridge, the gateway
///     NAME/ns             the host side's network namespace, bind-mounted so it outlives us
///     NAME/leases.json    which running container holds which address
///     NAME/hosts          the /etc/hosts every container on it sees
///
/// Every change happens holding `lock` (flock), so two runs never take the same address and two
/// creates never the same subnet. The folder is a shared mount of its own, as `ip netns` makes
/// /run/netns: unmounting a namespace there then also unmounts the copies that mount namespaces
/// made since hold as peers or slaves, so `network rm` really ends it (a copy made private, as
/// `unshare -m` does, keeps it until that mount namespace ends; containers detach theirs).
public struct NetworkStore: Sendable {
    public var root: String

    public static let defaultRoot = "/run/contlab-net"

    public init(root: String = ProcessInfo.processInfo.environment["CONTLAB_NET_ROOT"] ?? NetworkStore.defaultRoot) {
        self.root = root
    }

    public static let bridgeName = "clab0"

    func folder(_ name: String) -> String { root + "/" + name }
    public func namespacePath(_ name: String) -> String { folder(name) + "/ns" }
    public func hostsPath(_ name: String) -> String { folder(name) + "/hosts" }
    var lockPath: String { root + "/lock" }

    // MARK: the lock

    /// Run `body` holding the store's lock. The lock file is re-checked after flock returns: the
    /// last `network rm` removes the whole folder while holding it, and a waiter must then start
    /// over on the new folder rather than believe it holds a lock on a deleted file.
    public func locked<T>(_ body: () throws -> T) throws -> T {
        guard geteuid() == 0 else { throw NetworkError.needsRoot("stage 6 (contlab network, run --stage 6)") }
        while true {
            if Glibc.mkdir(root, 0o700) != 0 && errno != EEXIST {
                throw NetworkError.system("mkdir(\"\(root)\", 0700)", errno: errno)
            }
            let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            if fd < 0 {
                if errno == ENOENT { continue }
                throw NetworkError.system("open(\"\(lockPath)\")", errno: errno)
            }
            defer { close(fd) }
            while flock(fd, LOCK_EX) != 0 && errno == EINTR {}
            var held = stat()
            var named = stat()
            guard fstat(fd, &held) == 0, stat(lockPath, &named) == 0, held.st_ino == named.st_ino,
                held.st_dev == named.st_dev
            else { continue }
            try ensureSharedMount()
            return try body()
        }
    }

    /// The store folder bound onto itself and made MS_SHARED (once; under the lock).
    func ensureSharedMount() throws {
        guard !Self.isMountPoint(root) else { return }
        try Sys.mount(source: root, target: root, fstype: nil, flags: [.bind])
        try Sys.mount(source: nil, target: root, fstype: nil, flags: [.shared])
    }

    static func isMountPoint(_ path: String) -> Bool {
        guard let text = Sys.readText("/proc/self/mountinfo") else { return false }
        return text.split(separator: "\n").contains {
            $0.split(separator: " ").dropFirst(4).first.map(String.init) == path
        }
    }

    // MARK: reading

    public func record(_ name: String) throws -> NetworkRecord {
        // Before anything is read: the store is root's alone, and "no such network" would mislead.
        guard geteuid() == 0 else { throw NetworkError.needsRoot("stage 6 (contlab network, run --stage 6)") }
        try ContainerName.validateNetwork(name)
        guard let text = Sys.readText(folder(name) + "/network.json") else { throw NetworkError.missing(name) }
        do { return try JSONDecoder().decode(NetworkRecord.self, from: Data(text.utf8)) } catch {
            throw NetworkError.state(
                path: folder(name) + "/network.json",
                why: "unreadable (\(error)); remove the network with contlab network rm --force \(name)")
        }
    }

    public func names() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [])
            .filter { Sys.exists(folder($0) + "/network.json") }.sorted()
    }

    public func leases(_ name: String) -> [Lease] {
        guard let text = Sys.readText(folder(name) + "/leases.json"),
            let leases = try? JSONDecoder().decode([Lease].self, from: Data(text.utf8))
        else { return [] }
        return leases
    }

    /// The leases whose holders still run; the others are dropped (a `contlab run` killed with
    /// SIGKILL cannot release its own: its container died with it, taking the veth pair along,
    /// and only the lease is left). Call under the lock.
    func liveLeases(_ name: String) throws -> [Lease] {
        let all = leases(name)
        let live = all.filter(\.holderAlive)
        if live.count != all.count { try writeLeases(name, live) }
        return live
    }

    func writeLeases(_ name: String, _ leases: [Lease]) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try atomicWrite(folder(name) + "/leases.json", String(decoding: try encoder.encode(leases), as: UTF8.self))
        try rewriteHosts(name, leases: leases)
    }

    /// The hosts file is bind-mounted into running containers, so it is rewritten in place (a
    /// rename would leave them the old file).
    func rewriteHosts(_ name: String, leases: [Lease]) throws {
        let record = try self.record(name)
        let text = HostsFile.render(
            network: name, gateway: record.gateway, entries: leases.map { ($0.container, $0.address) })
        let path = hostsPath(name)
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw NetworkError.system("open(\"\(path)\")", errno: errno) }
        defer { close(fd) }
        Sys.writeAll(fd, Array(text.utf8))
    }

    func atomicWrite(_ path: String, _ text: String) throws {
        let temporary = path + ".new"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw NetworkError.system("open(\"\(temporary)\")", errno: errno) }
        Sys.writeAll(fd, Array(text.utf8))
        close(fd)
        if rename(temporary, path) != 0 {
            throw NetworkError.system("rename(\"\(temporary)\", \"\(path)\")", errno: errno)
        }
    }

    // MARK: networks

    /// Make network `name`: its folder, its host side (a network namespace with a bridge holding
    /// the gateway address), its hosts file; refuses a name in use or a subnet that overlaps.
    public func create(name: String, subnet requested: Subnet?) throws -> NetworkRecord {
        try ContainerName.validateNetwork(name)
        return try locked {
            if Sys.exists(folder(name)) {
                if Sys.exists(folder(name) + "/network.json") { throw NetworkError.exists(name) }
                try removeFolder(name)  // a create that was killed half-way
            }
            let others = try names().map { try self.record($0) }
            let subnet: Subnet
            if let requested {
                if let other = others.first(where: { $0.subnet.overlaps(requested) }) {
                    throw NetworkError.overlap(subnet: requested, network: other.name, theirs: other.subnet)
                }
                subnet = requested
            } else {
                guard let free = AddressPlan.freeSubnet(avoiding: others.map(\.subnet)) else {
                    throw NetworkError.poolExhausted
                }
                subnet = free
            }
            let record = NetworkRecord(
                name: name, subnet: subnet, bridge: Self.bridgeName, gateway: subnet.gateway,
                created: ISO8601DateFormatter().string(from: Date()))
            do {
                try Sys.mkdir(folder(name), mode: 0o700, existOK: false)
                try HostSide.create(at: namespacePath(name))
                let socket = try RouteSocket(namespacePath: namespacePath(name), place: "\(name)'s host side")
                for step in Wiring.hostSide(record) { try socket.apply(step, peerNamespaceFD: nil) }
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                // network.json last: a network exists once it is there.
                try atomicWrite(
                    folder(name) + "/network.json", String(decoding: try encoder.encode(record), as: UTF8.self))
                try writeLeases(name, [])
            } catch {
                try? removeFolder(name)
                throw error
            }
            return record
        }
    }

    /// Remove network `name`: refused while a running container holds an address, unless
    /// `force` (their eth0 then goes with the host side). Removes the store folder with the last.
    public func remove(name: String, force: Bool) throws -> [Lease] {
        _ = try record(name)
        return try locked {
            let live = try liveLeases(name)
            // CNI attachments count as well.
            let cni = cniAttachments(name).map { "\($0) (CNI)" }
            if !(live.isEmpty && cni.isEmpty) && !force {
                throw NetworkError.attached(network: name, containers: live.map(\.container) + cni)
            }
            try removeFolder(name)
            if names().isEmpty { removeRoot() }
            return live
        }
    }

    /// The CNI attachments on network `name`, "ID@IFNAME", from the ADD results kept for CHECK
    /// and DEL (`CNIRuntime`).
    public func cniAttachments(_ name: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder(name) + "/cni-results")) ?? [])
            .filter { $0.hasSuffix(".json") }.sorted().map { String($0.dropLast(5)) }
    }

    /// The host side unmounted (the namespace, its bridge and veth ends go when nothing else
    /// holds it) and the folder deleted.
    func removeFolder(_ name: String) throws {
        let ns = namespacePath(name)
        CallRecord.shared.note("umount2(\"\(ns)\", MNT_DETACH)")
        if umount2(ns, Int32(MNT_DETACH)) != 0 && errno != EINVAL && errno != ENOENT {
            throw NetworkError.system("umount2(\"\(ns)\", MNT_DETACH)", errno: errno)
        }
        for file in (try? FileManager.default.contentsOfDirectory(atPath: folder(name))) ?? [] {
            // cni-ipam/ and cni-results/ are folders (CNI's leases and results); the rest files.
            if Sys.isDirectory(folder(name) + "/" + file) {
                try? FileManager.default.removeItem(atPath: folder(name) + "/" + file)
            } else {
                unlink(folder(name) + "/" + file)
            }
        }
        if rmdir(folder(name)) != 0 && errno != ENOENT {
            throw NetworkError.system("rmdir(\"\(folder(name))\")", errno: errno)
        }
    }

    /// With no network left, nothing of the store stays: its mount, lock and folder go.
    func removeRoot() {
        _ = umount2(root, Int32(MNT_DETACH))
        unlink(lockPath)
        rmdir(root)
    }

    // MARK: leases

    /// Take an address on `network` for container `name`, held by this process, with the host
    /// ports it publishes (refused when a running container on the network publishes one).
    public func lease(network: String, container name: String, hostVeth: String, ports: [PortMapping] = [])
        throws -> (NetworkRecord, Lease)
    {
        try ContainerName.validate(name)
        let record = try self.record(network)
        return try locked {
            _ = try self.record(network)  // still there now that we hold the lock
            var live = try liveLeases(network)
            if let holder = live.first(where: { $0.container == name }) {
                throw NetworkError.nameInUse(name: name, network: network, address: holder.address)
            }
            for mapping in ports {
                if let holder = live.first(where: { ($0.ports ?? []).contains { $0.hostPort == mapping.hostPort } }) {
                    throw NetworkError.portInUse(mapping, network: network, holder: holder.container)
                }
            }
            guard let address = AddressPlan.nextAddress(in: record.subnet, leased: live.map(\.address)) else {
                throw NetworkError.addressesExhausted(network: network, subnet: record.subnet)
            }
            let pid = getpid()
            let lease = Lease(
                container: name, address: address, hostVeth: hostVeth, pid: pid, started: ProcessStart.of(pid) ?? 0,
                ports: ports.isEmpty ? nil : ports)
            live.append(lease)
            try writeLeases(network, live)
            return (record, lease)
        }
    }

    /// Give the lease back (a network removed meanwhile has nothing to give back to).
    public func release(network: String, lease: Lease) {
        _ = try? locked {
            guard Sys.exists(folder(network) + "/network.json") else { return }
            let kept = try liveLeases(network).filter { !($0.container == lease.container && $0.pid == lease.pid) }
            try writeLeases(network, kept)
        }
    }

    /// Every network with its live leases (dropping stale ones), for ls and inspect.
    public func inventory(_ only: String? = nil) throws -> [(NetworkRecord, [Lease])] {
        if let only { _ = try record(only) }
        return try locked {
            try (only.map { [$0] } ?? names()).map { (try record($0), try liveLeases($0)) }
        }
    }
}

/// A lab network's host side: a network namespace that no process needs to stay in, kept alive
/// by a bind mount of its nsfs file (what `ip netns add` does).
public enum HostSide {
    /// Back into the thread's own network namespace, open at `home`; a thread that cannot go
    /// back stops the process rather than carry on in the wrong one.
    static func returnTo(_ home: Int32) {
        CallRecord.shared.note("setns(open(\"/proc/thread-self/ns/net\") as it was, CLONE_NEWNET)")
        if cl_setns(home, Int32(CL_CLONE_NEWNET)) != 0 {
            Sys.warn(
                "contlab: cannot return to this thread's network namespace; stopping rather than go on in the wrong one"
            )
            exit(125)
        }
    }

    /// unshare(CLONE_NEWNET) on this thread, bind its namespace at `path`, setns back.
    public static func create(at path: String) throws {
        let home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)
        guard home >= 0 else { throw NetworkError.system("open(\"/proc/thread-self/ns/net\")", errno: errno) }
        defer { close(home) }
        try Sys.touch(path, mode: 0o600)
        CallRecord.shared.note("unshare(CLONE_NEWNET)")
        let rc = cl_unshare(Int32(CL_CLONE_NEWNET))
        if rc != 0 { throw NetworkError.system("unshare(CLONE_NEWNET)", errno: -rc) }
        defer { HostSide.returnTo(home) }
        try Sys.mount(source: "/proc/thread-self/ns/net", target: path, fstype: nil, flags: [.bind])
    }
}
