import Cgroups
import ContlabCore
import Foundation
import OCI

/// linux.resources and linux.cgroupsPath turned into a cgroup: its path, its controllers, and
/// the files each backend writes.
public enum CgroupSettings {
    /// The files to write, per controller, for `resources` on a backend of `version` (nil: the
    /// host has no such controller). A setting the host's cgroups cannot take (no controller, or
    /// none of that version has the file) is refused naming the field, the file and the
    /// controller. A zero is "not set", as runc reads Docker's zero-filled resources.
    /// The device rules are not among them: see `deviceWrites`.
    public static func writes(
        _ resources: Spec.Resources?,
        version: (String) -> Int?
    ) throws -> [(controller: String, write: LimitWrite)] {
        var out: [(String, LimitWrite)] = []
        guard let resources else { return out }
        if let memory = resources.memory, let v = version("memory") {
            if let limit = memory.limit {
                let value = limit < 0 ? (v == 1 ? "-1" : "max") : "\(limit)"
                out.append(
                    (
                        "memory",
                        LimitWrite(
                            v == 1 ? "memory.limit_in_bytes" : "memory.max", value, why: "linux.resources.memory.limit")
                    ))
            }
            if let swap = memory.swap {
                if v == 1 {
                    out.append(
                        (
                            "memory",
                            LimitWrite(
                                "memory.memsw.limit_in_bytes", swap < 0 ? "-1" : "\(swap)", optional: true,
                                why: "linux.resources.memory.swap (memory+swap)")
                        ))
                } else {
                    // v2 limits swap alone; the spec's value is memory+swap.
                    let value = swap < 0 ? "max" : "\(max(0, swap - (memory.limit ?? 0)))"
                    out.append(
                        (
                            "memory",
                            LimitWrite("memory.swap.max", value, optional: true, why: "linux.resources.memory.swap")
                        ))
                }
            }
            if let reservation = memory.reservation, reservation != 0 {
                // A soft limit: v1's, or v2's memory.low (protected from reclaim below it), as runc maps it.
                let value = reservation < 0 ? (v == 1 ? "-1" : "max") : "\(reservation)"
                out.append(
                    (
                        "memory",
                        LimitWrite(
                            v == 1 ? "memory.soft_limit_in_bytes" : "memory.low", value,
                            why: "linux.resources.memory.reservation")
                    ))
            }
            if let swappiness = memory.swappiness {
                guard swappiness <= 100 else {
                    throw RuntimeError.spec(
                        SpecError("linux.resources.memory.swappiness", "\(swappiness) is out of range: give 0 to 100"))
                }
                try out.append(
                    (
                        "memory",
                        v1Only(
                            v, "memory.swappiness", "\(swappiness)", "memory",
                            field: "linux.resources.memory.swappiness")
                    ))
            }
            if memory.disableOOMKiller == true {
                try out.append(
                    (
                        "memory",
                        v1Only(v, "memory.oom_control", "1", "memory", field: "linux.resources.memory.disableOOMKiller")
                    ))
            }
            if let kernel = memory.kernel, kernel != 0 {
                try out.append(
                    (
                        "memory",
                        v1Only(
                            v, "memory.kmem.limit_in_bytes", kernel < 0 ? "-1" : "\(kernel)", "memory",
                            field: "linux.resources.memory.kernel")
                    ))
            }
            if let tcp = memory.kernelTCP, tcp != 0 {
                try out.append(
                    (
                        "memory",
                        v1Only(
                            v, "memory.kmem.tcp.limit_in_bytes", tcp < 0 ? "-1" : "\(tcp)", "memory",
                            field: "linux.resources.memory.kernelTCP")
                    ))
            }
        }
        if let pids = resources.pids, version("pids") != nil {
            out.append(
                (
                    "pids",
                    LimitWrite("pids.max", pids.limit > 0 ? "\(pids.limit)" : "max", why: "linux.resources.pids.limit")
                ))
        }
        if let cpu = resources.cpu, let v = version("cpu") {
            if let shares = cpu.shares, shares > 0 {
                if v == 1 {
                    out.append(("cpu", LimitWrite("cpu.shares", "\(shares)", why: "linux.resources.cpu.shares")))
                } else {
                    // The conversion runc and crun use from shares (2…262144) to weight (1…10000).
                    let weight = 1 + ((max(2, min(shares, 262_144)) - 2) * 9999) / 262_142
                    out.append(("cpu", LimitWrite("cpu.weight", "\(weight)", why: "linux.resources.cpu.shares")))
                }
            }
            // A quota without a period keeps the period the cgroup has (the kernel's 100 ms in a
            // new one), as runc's update --cpu-quota does: v1 has a file each; v2's cpu.max
            // takes the quota alone and keeps its period.
            if v == 1 {
                if let period = cpu.period {
                    out.append(("cpu", LimitWrite("cpu.cfs_period_us", "\(period)", why: "linux.resources.cpu.period")))
                }
                if let quota = cpu.quota {
                    out.append(("cpu", LimitWrite("cpu.cfs_quota_us", "\(quota)", why: "linux.resources.cpu.quota")))
                }
            } else if cpu.quota != nil || cpu.period != nil {
                let quota = cpu.quota.map { $0 < 0 ? "max" : "\($0)" } ?? "max"
                out.append(
                    (
                        "cpu",
                        LimitWrite("cpu.max", cpu.period.map { "\(quota) \($0)" } ?? quota, why: "linux.resources.cpu")
                    ))
            }
        }
        if let cpu = resources.cpu, cpu.realtimePeriod != nil || cpu.realtimeRuntime != nil {
            // v1 only: cgroup v2 has no realtime bandwidth files. The period first, as runc
            // writes them (update tries the other order when the kernel refuses this one).
            let field = "linux.resources.cpu.realtime" + (cpu.realtimeRuntime != nil ? "Runtime" : "Period")
            guard let v = version("cpu") else { throw noController("cpu", file: "cpu.rt_runtime_us", field: field) }
            guard v == 1 else {
                throw RuntimeError.spec(
                    SpecError(
                        field,
                        "cgroup v2 has no realtime CPU limits (cpu.rt_runtime_us and cpu.rt_period_us are cgroup "
                            + "v1's): remove it"
                    ))
            }
            if let period = cpu.realtimePeriod {
                out.append(
                    ("cpu", LimitWrite("cpu.rt_period_us", "\(period)", why: "linux.resources.cpu.realtimePeriod")))
            }
            if let runtime = cpu.realtimeRuntime {
                out.append(
                    ("cpu", LimitWrite("cpu.rt_runtime_us", "\(runtime)", why: "linux.resources.cpu.realtimeRuntime")))
            }
        }
        if let cpu = resources.cpu {
            // The same files in both versions; the cpuset controller is its own (not cpu's).
            for (key, value) in [("cpus", cpu.cpus), ("mems", cpu.mems)] {
                guard let value, !value.isEmpty else { continue }
                let field = "linux.resources.cpu.\(key)", file = "cpuset.\(key)"
                guard version("cpuset") != nil else { throw noController("cpuset", file: file, field: field) }
                out.append(("cpuset", LimitWrite(file, value, why: field)))
            }
        }
        if let blockIO = resources.blockIO { out += try blockIOWrites(blockIO, version: version) }
        if let network = resources.network {
            if let classID = network.classID, classID != 0 {
                let field = "linux.resources.network.classID"
                guard version("net_cls") != nil else {
                    throw noController("net_cls", file: "net_cls.classid", field: field)
                }
                out.append(("net_cls", LimitWrite("net_cls.classid", "\(classID)", why: field)))
            }
            for (index, entry) in (network.priorities ?? []).enumerated() {
                let field = "linux.resources.network.priorities[\(index)]"
                guard version("net_prio") != nil else {
                    throw noController("net_prio", file: "net_prio.ifpriomap", field: field)
                }
                // One interface a write: the kernel reads "NAME PRIORITY" and keeps the others.
                out.append(
                    ("net_prio", LimitWrite("net_prio.ifpriomap", "\(entry.name) \(entry.priority)", why: field)))
            }
        }
        out += try unifiedWrites(resources.unified ?? [:], version: version)
        return out
    }

    /// linux.resources.devices as cgroup v1's devices.allow and devices.deny lines: the spec's
    /// rules, then the devices every container gets, allowed after them as runc does.
    public static func deviceWrites(_ resources: Spec.Resources?) -> [LimitWrite] {
        guard let rules = resources?.devices, !rules.isEmpty else { return [] }
        return deviceRules(rules).enumerated().map { index, rule in
            LimitWrite(
                rule.allow ? "devices.allow" : "devices.deny", rule.v1Entry,
                why: index < rules.count ? "linux.resources.devices" : "a default device")
        }
    }

    /// linux.resources.unified: cgroup v2 files by name, each written in the container's v2
    /// directory after the settings above, so that one overrides the field it shares a file with
    /// (runc's order). A file of a controller this host keeps on v1 (a v1 or hybrid host) makes
    /// the configuration invalid, as runc has it: v1 has other files, under other names.
    /// `cgroup.*` files belong to every v2 cgroup; they need the container's cgroup to be v2.
    static func unifiedWrites(_ unified: [String: String], version: (String) -> Int?) throws -> [(String, LimitWrite)] {
        var out: [(String, LimitWrite)] = []
        for (file, value) in unified.sorted(by: { $0.key < $1.key }) {
            let field = "linux.resources.unified[\"\(file)\"]"
            guard let dot = file.firstIndex(of: "."), dot != file.startIndex, !file.contains("/") else {
                throw RuntimeError.spec(
                    SpecError(field, "\"\(file)\" is no cgroup v2 file name: give CONTROLLER.FILE, such as memory.high")
                )
            }
            let controller = String(file[..<dot])
            // devices is placed wherever the cgroup's v2 directory is (v2 has no devices controller).
            let placedWith = controller == "cgroup" ? "devices" : controller
            switch version(placedWith) {
            case 2:
                out.append((placedWith, LimitWrite(file, value, why: field)))
            case 1:
                throw RuntimeError.spec(
                    SpecError(
                        field,
                        "invalid configuration: a cgroup v2 file, and this host keeps the "
                            + "\(controller == "cgroup" ? "container's cgroup" : controller + " controller") on cgroup v1; "
                            + "remove linux.resources.unified, or set the same limit with linux.resources' own fields"))
            default:
                throw noController(controller, file: file, field: field)
            }
        }
        return out
    }

    /// linux.resources.blockIO: v1's blkio files, or v2's io.weight and io.max. Weights are
    /// 10…1000 in the spec and v1; v2's io.weight takes 1…10000, converted as runc does; BFQ's
    /// files, where CFQ's are gone, take the spec's value as it is.
    static func blockIOWrites(_ blockIO: Spec.BlockIO, version: (String) -> Int?) throws -> [(String, LimitWrite)] {
        let base = "linux.resources.blockIO"
        func checked(_ weight: UInt16, _ field: String) throws -> UInt16 {
            guard (10...1000).contains(weight) else {
                throw RuntimeError.spec(SpecError(field, "\(weight) is out of range: give 10 to 1000"))
            }
            return weight
        }
        func v2Weight(_ weight: UInt16) -> Int { 1 + (Int(weight) - 10) * 9999 / 990 }
        let throttles: [(String, [Spec.ThrottleDevice]?, String, String)] = [
            ("throttleReadBpsDevice", blockIO.throttleReadBpsDevice, "blkio.throttle.read_bps_device", "rbps"),
            ("throttleWriteBpsDevice", blockIO.throttleWriteBpsDevice, "blkio.throttle.write_bps_device", "wbps"),
            ("throttleReadIOPSDevice", blockIO.throttleReadIOPSDevice, "blkio.throttle.read_iops_device", "riops"),
            ("throttleWriteIOPSDevice", blockIO.throttleWriteIOPSDevice, "blkio.throttle.write_iops_device", "wiops")
        ]
        let weighted =
            (blockIO.weight ?? 0) != 0 || (blockIO.leafWeight ?? 0) != 0 || !(blockIO.weightDevice ?? []).isEmpty
        guard weighted || throttles.contains(where: { !($0.1 ?? []).isEmpty }) else { return [] }
        // v1 calls the controller blkio, v2 io.
        guard let (controller, v) = version("blkio").map({ ("blkio", $0) }) ?? version("io").map({ ("io", $0) }) else {
            throw noController("blkio", file: "blkio.weight or io.weight", field: base)
        }
        var out: [(String, LimitWrite)] = []
        if let weight = blockIO.weight, weight != 0 {
            let field = base + ".weight", w = try checked(weight, field)
            out.append(
                (
                    controller,
                    v == 1
                        ? LimitWrite("blkio.weight", "\(w)", fallback: .init("blkio.bfq.weight", "\(w)"), why: field)
                        : LimitWrite(
                            "io.weight", "default \(v2Weight(w))", fallback: .init("io.bfq.weight", "default \(w)"),
                            why: field)
                ))
        }
        if let leaf = blockIO.leafWeight, leaf != 0 {
            let field = base + ".leafWeight"
            try out.append(
                (controller, v1Only(v, "blkio.leaf_weight", "\(try checked(leaf, field))", controller, field: field)))
        }
        for (index, device) in (blockIO.weightDevice ?? []).enumerated() {
            let field = base + ".weightDevice[\(index)]", node = "\(device.major):\(device.minor)"
            if let weight = device.weight, weight != 0 {
                let w = try checked(weight, field + ".weight")
                out.append(
                    (
                        controller,
                        v == 1
                            ? LimitWrite(
                                "blkio.weight_device", "\(node) \(w)",
                                fallback: .init("blkio.bfq.weight_device", "\(node) \(w)"), why: field)
                            : LimitWrite(
                                "io.weight", "\(node) \(v2Weight(w))", fallback: .init("io.bfq.weight", "\(node) \(w)"),
                                why: field)
                    ))
            }
            if let leaf = device.leafWeight, leaf != 0 {
                let w = try checked(leaf, field + ".leafWeight")
                try out.append(
                    (
                        controller,
                        v1Only(v, "blkio.leaf_weight_device", "\(node) \(w)", controller, field: field + ".leafWeight")
                    ))
            }
        }
        for (key, list, v1File, v2Key) in throttles {
            for (index, device) in (list ?? []).enumerated() {
                let node = "\(device.major):\(device.minor)", field = "\(base).\(key)[\(index)]"
                // io.max takes "MAJ:MIN rbps=N"; the other limits of the device stay as they are.
                out.append(
                    (
                        controller,
                        v == 1
                            ? LimitWrite(v1File, "\(node) \(device.rate)", why: field)
                            : LimitWrite("io.max", "\(node) \(v2Key)=\(device.rate)", why: field)
                    ))
            }
        }
        return out
    }

    /// A setting only cgroup v1 has a file for: on v2 it is refused, naming the file.
    static func v1Only(_ version: Int, _ file: String, _ value: String, _ controller: String, field: String) throws
        -> LimitWrite
    {
        guard version == 1 else {
            throw RuntimeError.spec(
                SpecError(
                    field,
                    "cgroup v2 has no \(file) (the \(controller) controller's v1 file this sets), and this host "
                        + "keeps \(controller) on v2; remove the setting, or run on a host with the v1 \(controller) "
                        + "controller"
                ))
        }
        return LimitWrite(file, value, why: field)
    }

    static func noController(_ controller: String, file: String, field: String) -> RuntimeError {
        let hint =
            controller.hasPrefix("net_")
            ? "cgroup v2 has none; on v1 it must be mounted under /sys/fs/cgroup"
            : "on v2 it must be listed in cgroup.controllers, on v1 mounted under /sys/fs/cgroup"
        return .spec(
            SpecError(
                field,
                "this host has no \(controller) cgroup controller to write \(file) in (\(hint)); "
                    + "remove the setting, or run where the controller is available"))
    }

    /// The controllers `resources` needs beyond memory, pids and cpu, as the hierarchy names
    /// them (v1's blkio is v2's io): made as optional ones, so that a missing one is refused
    /// by `writes`, naming the setting and its file.
    static func extraControllers(_ resources: Spec.Resources?, hierarchy: CgroupHierarchy) -> [String] {
        guard let resources else { return [] }
        var out: [String] = []
        if !(resources.cpu?.cpus ?? "").isEmpty || !(resources.cpu?.mems ?? "").isEmpty { out.append("cpuset") }
        if let io = resources.blockIO, (try? blockIOWrites(io, version: { _ in 1 }))?.isEmpty == false {
            out.append(hierarchy.placement(of: "blkio") != nil ? "blkio" : "io")
        }
        if let classID = resources.network?.classID, classID != 0 { out.append("net_cls") }
        if !(resources.network?.priorities ?? []).isEmpty { out.append("net_prio") }
        for file in (resources.unified ?? [:]).keys {
            let controller = String(file.prefix { $0 != "." })
            if !controller.isEmpty && controller != "cgroup" && !out.contains(controller) { out.append(controller) }
        }
        return out
    }

    /// The spec's device rules, then the devices every container gets: v1's files and v2's
    /// program are both made from this list. The nodes of linux.devices are not added: a rule
    /// must name them, as under runc (dev.bats' "device cgroup deny" reads /dev/kmsg, made by
    /// linux.devices, and expects EPERM).
    static func deviceRules(_ rules: [Spec.DeviceRule]) -> [DeviceFilter.Rule] {
        rules.map { rule in
            DeviceFilter.Rule(
                allow: rule.allow, type: rule.type.flatMap(\.first) ?? "a", major: rule.major, minor: rule.minor,
                access: rule.access ?? "rwm")
        } + DeviceFilter.defaults
    }

    /// linux.cgroupsPath as a path below each hierarchy's root (`/docker/ID` → `docker/ID`);
    /// contlab-runc/ID when the spec has none. systemd's `slice:prefix:name` form is refused.
    public static func relativePath(_ cgroupsPath: String?, id: String) throws -> String {
        guard let path = cgroupsPath, !path.isEmpty else {
            // Without root, under the subtree `contlab lab setup` gave this user, when it did.
            let base = ContainerCgroup.basePath(hierarchy: .current())
            return (base == "contlab" ? "" : base + "/") + "contlab-runc/" + id
        }
        if path.contains(":") {
            throw RuntimeError.spec(
                SpecError(
                    "linux.cgroupsPath",
                    "\"\(path)\" is systemd's slice:prefix:name form; contlab drives cgroupfs directly, give a path "
                        + "such as /mygroup/\(id)"
                ))
        }
        return path.split(separator: "/").joined(separator: "/")
    }

    /// Make the cgroup for a container. Without root, and with no resources asked for, there is
    /// none (a user cannot make cgroups without delegation).
    /// The cgroup path `create` will use, or nil when it makes none: known before it makes
    /// anything, so that a create killed half-way leaves a record delete can clean up after.
    static func plannedPath(for spec: Spec, id: String) throws -> String? {
        let resources = spec.linux?.resources
        let limited =
            resources?.memory != nil || resources?.pids != nil || resources?.cpu != nil
            || !extraControllers(resources, hierarchy: .current()).isEmpty
        if geteuid() != 0 && !limited { return nil }
        return try relativePath(spec.linux?.cgroupsPath, id: id)
    }

    static func create(for spec: Spec, id: String) throws -> ContainerCgroup? {
        let resources = spec.linux?.resources
        guard try plannedPath(for: spec, id: id) != nil else { return nil }
        let hierarchy = CgroupHierarchy.current()
        var required: [String] = []
        if resources?.memory != nil { required.append("memory") }
        if resources?.pids != nil { required.append("pids") }
        if resources?.cpu != nil { required.append("cpu") }
        // memory and pids for ps, kill --all and the evidence; devices for the device rules;
        // freezer for pause (v1; v2 freezes any cgroup). Each hierarchy more costs a mkdir, a
        // migration and an rmdir on every start.
        var optional: [String] = []
        // A container given a writable cgroup mount manages sub-cgroups of its own (systemd, a
        // nested runtime, exec --cgroup): it gets every hierarchy the host has, as runc gives
        // every container. The others only these, each more costing a mkdir, a migration and an
        // rmdir on every start.
        let writable =
            spec.mounts?.contains { $0.type == "cgroup" && !MountOptions($0.options ?? []).flags.contains(.readOnly) }
            ?? false
        for controller in ["memory", "pids", "devices", "freezer", "unified"]
            + extraControllers(resources, hierarchy: hierarchy)
            + (writable ? hierarchy.v1.keys.sorted() : [])
        where !required.contains(controller) && !optional.contains(controller) {
            optional.append(controller)
        }
        let cgroup = try ContainerCgroup.create(
            relativePath: try relativePath(spec.linux?.cgroupsPath, id: id),
            required: required, optional: optional, hierarchy: hierarchy, sharing: true)
        do {
            let version = { (controller: String) in cgroup.directory(for: controller)?.version }
            for item in try writes(resources, version: version) {
                try cgroup.apply(item.write, controller: item.controller)
            }
            if let rules = resources?.devices, !rules.isEmpty, version("devices") != 1,
                !cgroup.directories.contains(where: { $0.version == 2 })
            {
                throw RuntimeError.spec(
                    SpecError(
                        "linux.resources.devices",
                        "this host has neither a v1 devices controller nor a cgroup v2 directory for the container, "
                            + "so device rules cannot be enforced"
                    ))
            }
        } catch {
            cgroup.destroy()
            throw error
        }
        return cgroup
    }

    /// The device rules, applied once the init has made the container's /dev (runc sets them
    /// when its init reports ready): until then the cgroup allows every device, so the init may
    /// mknod the nodes of linux.devices that the rules then deny or allow.
    static func applyDevices(_ resources: Spec.Resources?, to cgroup: ContainerCgroup) throws {
        guard let rules = resources?.devices, !rules.isEmpty else { return }
        if cgroup.directory(for: "devices")?.version == 1 {
            for write in deviceWrites(resources) { try cgroup.apply(write, controller: "devices") }
        } else if let unified = cgroup.directories.first(where: { $0.version == 2 }) {
            // cgroup v2 has no devices files: the rules become a BPF program on the cgroup.
            try DeviceFilter.attach(deviceRules(rules), toCgroup: unified.path)
        }
    }
}
