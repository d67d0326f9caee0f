import Cgroups
import ContlabCore
import Foundation
import OCI

/// The cgroup freezer, which pause and resume use: v1's freezer controller (`freezer.state`,
/// FROZEN or THAWED) or, on v2, the `cgroup.freeze` file every non-root cgroup has.
public struct Freezer: Equatable, Sendable {
    public var directory: String
    public var version: Int

    /// Where a container's freezer is, from its cgroup directories: the v1 freezer hierarchy, or
    /// any v2 directory (v2 freezing needs no controller).
    public static func of(_ directories: [StateStore.Record.CgroupDirectory]) -> Freezer? {
        if let v1 = directories.first(where: { $0.version == 1 && $0.controllers.contains("freezer") }) {
            return Freezer(directory: v1.path, version: 1)
        }
        return directories.first { $0.version == 2 }.map { Freezer(directory: $0.path, version: 2) }
    }

    var controlFile: String { directory + (version == 1 ? "/freezer.state" : "/cgroup.freeze") }

    /// The value to write for frozen or thawed.
    func value(frozen: Bool) -> String {
        version == 1 ? (frozen ? "FROZEN" : "THAWED") : (frozen ? "1" : "0")
    }

    /// Whether the kernel reports the freeze complete: v1 says FROZEN (FREEZING while tasks
    /// are still being stopped); v2 says `frozen 1` in cgroup.events.
    public static func isFrozen(version: Int, state: String?, events: String?) -> Bool {
        if version == 1 { return state?.trimmingCharacters(in: .whitespacesAndNewlines) == "FROZEN" }
        return (events ?? "").split(separator: "\n").contains("frozen 1")
    }

    public var isFrozen: Bool {
        Self.isFrozen(
            version: version, state: Sys.readText(directory + "/freezer.state"),
            events: Sys.readText(directory + "/cgroup.events"))
    }

    /// Freeze and wait until every task is stopped; a freeze that does not complete in 5 s is
    /// undone and reported.
    public func freeze() throws {
        try write(frozen: true)
        let deadline = Date().addingTimeInterval(5)
        while !isFrozen {
            if Date() > deadline {
                try? write(frozen: false)
                throw RuntimeError.usage(
                    "pause: the processes in \(directory) did not all stop within 5 s (one may be in an "
                        + "uninterruptible sleep); try again"
                )
            }
            usleep(1_000)
        }
    }

    public func thaw() throws { try write(frozen: false) }

    func write(frozen: Bool) throws {
        do { try Sys.writeFile(controlFile, value(frozen: frozen)) } catch let error as SystemCallError {
            throw RuntimeError.system(error)
        }
    }
}

/// `update`'s resources: what to change in a running container's cgroups.
public enum ResourceUpdate {
    /// runc's reading of an update: a zero means "leave as it is" (Docker sends every field it
    /// knows, zero where the user gave nothing); devices are not updated.
    public static func changes(_ resources: Spec.Resources) -> Spec.Resources {
        var out = resources
        out.devices = nil
        // Zero-filled by Docker when unchanged; set, they are refused by createOnly.
        out.blockIO = nil
        out.network = nil
        // Only what update changes is kept: the zero fields of what contlab does not implement
        // (reservation, kernel) were accepted by decode as "not set".
        if let memory = out.memory {
            let limit = memory.limit == 0 ? nil : memory.limit
            var swap = memory.swap == 0 ? nil : memory.swap
            // Lifting the memory limit lifts memory+swap with it, as runc's update does: on v1
            // the limit may not exceed memsw, so -1 alone would be refused by the kernel.
            if limit == -1 && swap == nil { swap = -1 }
            var changed = Spec.Memory(limit: limit, swap: swap)
            // The memory controller's other files: the container's cgroup has its directory.
            changed.reservation = memory.reservation == 0 ? nil : memory.reservation
            changed.kernel = memory.kernel == 0 ? nil : memory.kernel
            changed.kernelTCP = memory.kernelTCP == 0 ? nil : memory.kernelTCP
            changed.swappiness = memory.swappiness
            changed.disableOOMKiller = memory.disableOOMKiller == true ? true : nil
            out.memory = changed == Spec.Memory() ? nil : changed
        }
        if let pids = out.pids, pids.limit == 0 { out.pids = nil }
        if let cpu = out.cpu {
            let shares = cpu.shares == 0 ? nil : cpu.shares, quota = cpu.quota == 0 ? nil : cpu.quota,
                period = cpu.period == 0 ? nil : cpu.period
            var changed = Spec.CPU(shares: shares, quota: quota, period: period)
            changed.cpus = (cpu.cpus ?? "").isEmpty ? nil : cpu.cpus
            changed.mems = (cpu.mems ?? "").isEmpty ? nil : cpu.mems
            changed.realtimePeriod = cpu.realtimePeriod == 0 ? nil : cpu.realtimePeriod
            changed.realtimeRuntime = cpu.realtimeRuntime == 0 ? nil : cpu.realtimeRuntime
            out.cpu = changed == Spec.CPU() ? nil : changed
        }
        return out
    }

    /// The fields set (non-zero) in `resources` that update does not change (blkio, net_cls,
    /// net_prio: Docker sends their zeros with every update, and runc leaves them too).
    public static func createOnly(_ resources: Spec.Resources) -> [String] {
        var out: [String] = []
        let none = CgroupHierarchy(v1: [:], v2: nil, v2Controllers: [])
        let extra = Set(CgroupSettings.extraControllers(resources, hierarchy: none))
        if extra.contains("io") || extra.contains("blkio") { out.append("linux.resources.blockIO") }
        if extra.contains("net_cls") || extra.contains("net_prio") { out.append("linux.resources.network") }
        return out
    }

    /// The resources JSON (`--resources FILE` or `-`), checked like config.json's
    /// linux.resources: a field contlab does not implement is refused by name.
    public static func decode(_ data: Data) throws -> Spec.Resources {
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data) } catch {
            throw RuntimeError.usage("update --resources: not valid JSON")
        }
        guard object is [String: Any] else { throw RuntimeError.usage("update --resources: must be a JSON object") }
        let wrapped = try JSONSerialization.data(withJSONObject: [
            "ociVersion": "1.0.2", "root": ["path": "/"], "linux": ["resources": object]
        ])
        do {
            return try SpecCheck.decode(wrapped).linux?.resources ?? Spec.Resources()
        } catch let error as SpecError {
            throw RuntimeError.usage("update --resources: \(error.path): \(error.message)")
        }
    }

    /// runc's flags as a resources value.
    public static func resources(_ flags: RuncCommandLine.UpdateFlags) -> Spec.Resources {
        var out = Spec.Resources()
        var memory = Spec.Memory(limit: flags.memory, swap: flags.memorySwap)
        memory.reservation = flags.memoryReservation
        if memory != Spec.Memory() { out.memory = memory }
        if let pidsLimit = flags.pidsLimit { out.pids = Spec.Pids(limit: pidsLimit) }
        var cpu = Spec.CPU(shares: flags.cpuShares, quota: flags.cpuQuota, period: flags.cpuPeriod)
        cpu.cpus = flags.cpusetCpus
        cpu.mems = flags.cpusetMems
        cpu.realtimePeriod = flags.cpuRealtimePeriod
        cpu.realtimeRuntime = flags.cpuRealtimeRuntime
        if cpu != Spec.CPU() { out.cpu = cpu }
        return out
    }

    /// The controllers the writes for `changes` need, in the order they are written.
    public static func controllers(_ writes: [(controller: String, write: LimitWrite)]) -> [String] {
        var out: [String] = []
        for item in writes where !out.contains(item.controller) { out.append(item.controller) }
        return out
    }

    /// v2's cpu.max holds quota and period together: a period given alone keeps the quota the
    /// cgroup has (`current`, the file's text), as runc reads it back.
    public static func keepingQuota(_ cpu: Spec.CPU?, currentCPUMax current: String?) -> Spec.CPU? {
        guard var cpu, cpu.quota == nil, cpu.period != nil, let word = current?.split(separator: " ").first else {
            return cpu
        }
        cpu.quota = word == "max" ? -1 : Int64(word)
        return cpu
    }
}

extension OCIRuntime {
    /// pause: freeze every process of the container (status becomes "paused").
    public func pause(id: String) throws {
        let record = try store.load(id)
        let status = store.status(of: record)
        guard status == "running" else { throw RuntimeError.wrongStatus(id: id, status: status, operation: "pause") }
        guard let freezer = Freezer.of(record.cgroupDirectories) else {
            throw RuntimeError.usage("pause: container \"\(id)\" has no freezer cgroup (was it created without root?)")
        }
        try freezer.freeze()
    }

    /// resume: thaw a paused container.
    public func resume(id: String) throws {
        let record = try store.load(id)
        let status = store.status(of: record)
        guard status == "paused", let freezer = Freezer.of(record.cgroupDirectories) else {
            throw RuntimeError.wrongStatus(id: id, status: status, operation: "resume")
        }
        try freezer.thaw()
    }

    /// update: change the memory, pids, cpu and cpuset limits of a created, running or paused container.
    public func update(id: String, resources: Spec.Resources) throws {
        let record = try store.load(id)
        let status = store.status(of: record)
        guard ["created", "running", "paused"].contains(status) else {
            throw RuntimeError.wrongStatus(id: id, status: status, operation: "update")
        }
        guard let cgroup = store.cgroup(of: record) else {
            throw RuntimeError.usage(
                "update: container \"\(id)\" has no cgroup to change (was it created without root?)")
        }
        if let field = ResourceUpdate.createOnly(resources).first {
            throw RuntimeError.usage(
                "update: \(field) is set when the container is created; update changes "
                    + "linux.resources.memory, pids.limit and cpu")
        }
        var changes = ResourceUpdate.changes(resources)
        // Every setting must land: one whose controller the container's cgroup was made without
        // (no cpu limits at create, say) is not skipped but gets it, the container's processes
        // moved into the new directory, and the record keeps it for delete.
        let hierarchy = CgroupHierarchy.current()
        let wanted = ResourceUpdate.controllers(
            try CgroupSettings.writes(changes, version: { hierarchy.placement(of: $0)?.version }))
        let missing = wanted.filter { cgroup.directory(for: $0) == nil }
        if !missing.isEmpty {
            do {
                try cgroup.join(controllers: missing, hierarchy: hierarchy)
            } catch {
                throw RuntimeError.usage(
                    "update: container \"\(id)\" has no \(missing.joined(separator: ", ")) cgroup and one "
                        + "could not be made for it: \(error)")
            }
            var updated = record
            updated.cgroupDirectories = cgroup.directories.map {
                .init(path: $0.path, version: $0.version, controllers: $0.controllers)
            }
            try store.save(updated)
        }
        if let cpuDirectory = cgroup.directory(for: "cpu"), cpuDirectory.version == 2 {
            changes.cpu = ResourceUpdate.keepingQuota(
                changes.cpu, currentCPUMax: Sys.readText(cpuDirectory.path + "/cpu.max"))
        }
        let version = { (controller: String) in cgroup.directory(for: controller)?.version }
        let writes = try CgroupSettings.writes(changes, version: version)
        if let unwritten = wanted.first(where: { controller in !writes.contains { $0.controller == controller } }) {
            throw RuntimeError.usage("update: container \"\(id)\" has no \(unwritten) cgroup to change")
        }
        // Pairs the kernel checks against each other at every write go in either order: v1 keeps
        // memory.limit_in_bytes <= memory.memsw.limit_in_bytes (raising both needs memsw first,
        // lowering both the limit first), and a cpu period and quota must fit the parent's
        // bandwidth after each write (under a pod's 50%, a shorter period needs its quota first).
        let ordered: Set<String> = ["memory", "cpu"]
        for item in writes where !ordered.contains(item.controller) {
            try cgroup.apply(item.write, controller: item.controller)
        }
        for controller in ["memory", "cpu"] {
            let group = writes.filter { $0.controller == controller }
            do {
                for item in group { try cgroup.apply(item.write, controller: controller) }
            } catch {
                guard group.count > 1 else { throw error }
                for item in group.reversed() { try cgroup.apply(item.write, controller: controller) }
            }
        }
    }
}
