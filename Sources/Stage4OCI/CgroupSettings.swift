import Cgroups
import ContlabCore
import Foundation
import OCI

/// linux.resources and linux.cgroupsPath turned into a cgroup: its path, its controllers, and
/// the files each backend writes.
public enum CgroupSettings {
    /// The files to write, per controller, for `resources` on a backend of `version`.
    /// `devices`: linux.devices, whose nodes the container is allowed to use as runc allows them.
    public static func writes(_ resources: Spec.Resources?, devices: [Spec.Device] = [],
                              version: (String) -> Int?) -> [(controller: String, write: LimitWrite)] {
        var out: [(String, LimitWrite)] = []
        guard let resources else { return out }
        if let memory = resources.memory, let v = version("memory") {
            if let limit = memory.limit {
                let value = limit < 0 ? (v == 1 ? "-1" : "max") : "\(limit)"
                out.append(("memory", LimitWrite(v == 1 ? "memory.limit_in_bytes" : "memory.max", value, why: "linux.resources.memory.limit")))
            }
            if let swap = memory.swap {
                if v == 1 {
                    out.append(("memory", LimitWrite("memory.memsw.limit_in_bytes", swap < 0 ? "-1" : "\(swap)", optional: true,
                                                     why: "linux.resources.memory.swap (memory+swap)")))
                } else {
                    // v2 limits swap alone; the spec's value is memory+swap.
                    let value = swap < 0 ? "max" : "\(max(0, swap - (memory.limit ?? 0)))"
                    out.append(("memory", LimitWrite("memory.swap.max", value, optional: true, why: "linux.resources.memory.swap")))
                }
            }
        }
        if let pids = resources.pids, version("pids") != nil {
            out.append(("pids", LimitWrite("pids.max", pids.limit > 0 ? "\(pids.limit)" : "max", why: "linux.resources.pids.limit")))
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
            if cpu.quota != nil || cpu.period != nil {
                let period = cpu.period ?? UInt64(CgroupLimits.cpuPeriod)
                if v == 1 {
                    out.append(("cpu", LimitWrite("cpu.cfs_period_us", "\(period)", why: "linux.resources.cpu.period")))
                    if let quota = cpu.quota { out.append(("cpu", LimitWrite("cpu.cfs_quota_us", "\(quota)", why: "linux.resources.cpu.quota"))) }
                } else {
                    let quota = cpu.quota.map { $0 < 0 ? "max" : "\($0)" } ?? "max"
                    out.append(("cpu", LimitWrite("cpu.max", "\(quota) \(period)", why: "linux.resources.cpu")))
                }
            }
        }
        if let rules = resources.devices, !rules.isEmpty, version("devices") == 1 {
            // The spec's rules, then the devices every container gets, allowed after them as runc does.
            let spec = deviceRules(rules, devices: devices)
            for (index, rule) in spec.enumerated() {
                let why = index < rules.count ? "linux.resources.devices"
                    : index < rules.count + DeviceFilter.defaults.count ? "a default device" : "a device of linux.devices"
                out.append(("devices", LimitWrite(rule.allow ? "devices.allow" : "devices.deny", rule.v1Entry, why: why)))
            }
        }
        return out
    }

    /// The spec's device rules, then the devices every container gets, then the nodes
    /// linux.devices makes (the spec asks for them, so the container may use them, and the init
    /// may mknod them): v1's files and v2's program are both made from this list. A FIFO (`p`)
    /// is no device to the kernel's filter; `u` is an unbuffered character device.
    static func deviceRules(_ rules: [Spec.DeviceRule], devices: [Spec.Device] = []) -> [DeviceFilter.Rule] {
        rules.map { rule in
            DeviceFilter.Rule(allow: rule.allow, type: rule.type.flatMap(\.first) ?? "a", major: rule.major, minor: rule.minor,
                              access: rule.access ?? "rwm")
        } + DeviceFilter.defaults + devices.filter { $0.type != "p" }.map { device in
            DeviceFilter.Rule(allow: true, type: device.type == "b" ? "b" : "c", major: device.major, minor: device.minor, access: "rwm")
        }
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
            throw RuntimeError.spec(SpecError("linux.cgroupsPath", "\"\(path)\" is systemd's slice:prefix:name form; contlab drives cgroupfs directly, give a path such as /mygroup/\(id)"))
        }
        return path.split(separator: "/").joined(separator: "/")
    }

    /// Make the cgroup for a container. Without root, and with no resources asked for, there is
    /// none (a user cannot make cgroups without delegation).
    /// The cgroup path `create` will use, or nil when it makes none: known before it makes
    /// anything, so that a create killed half-way leaves a record delete can clean up after.
    static func plannedPath(for spec: Spec, id: String) throws -> String? {
        let resources = spec.linux?.resources
        let limited = resources?.memory != nil || resources?.pids != nil || resources?.cpu != nil
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
        let optional = ["memory", "pids", "devices", "freezer"].filter { !required.contains($0) }
        let cgroup = try ContainerCgroup.create(relativePath: try relativePath(spec.linux?.cgroupsPath, id: id),
                                                required: required, optional: optional, hierarchy: hierarchy)
        do {
            let version = { (controller: String) in cgroup.directory(for: controller)?.version }
            let devices = spec.linux?.devices ?? []
            for item in writes(resources, devices: devices, version: version) { try cgroup.apply(item.write, controller: item.controller) }
            if let rules = resources?.devices, !rules.isEmpty, version("devices") != 1 {
                // cgroup v2 has no devices files: the rules become a BPF program on the cgroup.
                guard let unified = cgroup.directories.first(where: { $0.version == 2 }) else {
                    throw RuntimeError.spec(SpecError("linux.resources.devices", "this host has neither a v1 devices controller nor a cgroup v2 directory for the container, so device rules cannot be enforced"))
                }
                try DeviceFilter.attach(deviceRules(rules, devices: devices), toCgroup: unified.path)
            }
        } catch {
            cgroup.destroy()
            throw error
        }
        return cgroup
    }
}
