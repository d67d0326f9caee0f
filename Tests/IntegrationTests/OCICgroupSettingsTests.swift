import Cgroups
import ContlabCore
import Foundation
import XCTest

/// linux.resources settings beyond memory.limit, pids and cpu (issue #23, item 4), read back
/// from the host's cgroup files under contlab-runc and runc.
extension OCIRuntimeTests {
    /// The host's block device for the throttles: the first virtual or SCSI disk.
    func blockDevice() -> String? {
        for name in ["vda", "sda", "nvme0n1", "xvda"] {
            if let dev = Sys.readText("/sys/block/\(name)/dev") {
                return dev.trimmingCharacters(in: .whitespacesAndNewlines)
            }
        }
        return nil
    }

    /// Remove the test's cgroupsPath parents, which neither runtime removes, from every cgroup
    /// mount (runc makes one in the named systemd hierarchy too).
    func removeCgroupParents(_ parent: String) {
        for line in (Sys.readText("/proc/self/mountinfo") ?? "").split(separator: "\n") where line.contains(" - cgroup")
        {
            let fields = line.split(separator: " ")
            if fields.count > 4 { rmdir(String(fields[4]) + "/" + parent) }
        }
    }

    func testCpusetsMemoryFilesAndThrottlesReachTheHostsCgroupFiles() throws {
        let runc = try requireRunc()
        let hierarchy = CgroupHierarchy.current()
        let parent = "contlab-cgtest\(Self.tag)"
        defer { removeCgroupParents(parent) }
        let device = try XCTUnwrap(blockDevice(), "no block device to throttle")
        // The files, relative to each controller's directory, and what each must read.
        var expected: [(controller: String, file: String, value: String)] = [
            ("cpuset", "cpuset.cpus", "0"), ("cpuset", "cpuset.mems", "0")
        ]
        var memory: [String: Any] = [:]
        if hierarchy.placement(of: "memory")?.version == 1 {
            memory = ["reservation": 32 << 20, "swappiness": 10, "disableOOMKiller": true, "kernelTCP": 16 << 20]
            expected += [
                ("memory", "memory.soft_limit_in_bytes", "33554432"), ("memory", "memory.swappiness", "10"),
                ("memory", "memory.oom_control", "oom_kill_disable 1")
            ]
        } else {
            memory = ["reservation": 32 << 20]
            expected += [("memory", "memory.low", "33554432")]
        }
        let blockV1 = hierarchy.placement(of: "blkio") != nil
        expected +=
            blockV1
            ? [
                ("blkio", "blkio.throttle.read_bps_device", "\(device) 1048576"),
                ("blkio", "blkio.throttle.write_iops_device", "\(device) 100")
            ]
            : [("io", "io.max", "\(device) rbps=1048576 wbps=max riops=max wiops=100")]
        let (major, minor) = (Int(device.split(separator: ":")[0])!, Int(device.split(separator: ":")[1])!)
        var seen: [String: [String]] = [:]
        for (name, call) in [("contlab", { try self.runtime($0) }), ("runc", { try self.runRunc(runc, $0) })]
            as [(String, ([String]) throws -> Harness.Result)]
        {
            let id = "cg-\(name)\(Self.tag)"
            // contlab-runc takes a relative path, as an absolute one, below each hierarchy's
            // root; runc below its own cgroup of each (the spec leaves that to the runtime), so
            // runc's turn is given the absolute path.
            let path = (name == "contlab" ? "" : "/") + parent + "/" + id
            let dir = try bundle("cgset-\(name)", args: ["sleep", "30"]) { config in
                var linux = config["linux"] as! [String: Any]
                linux["cgroupsPath"] = path
                linux["resources"] = [
                    "memory": memory,
                    "cpu": ["cpus": "0", "mems": "0"],
                    "blockIO": [
                        "throttleReadBpsDevice": [["major": major, "minor": minor, "rate": 1_048_576]],
                        "throttleWriteIOPSDevice": [["major": major, "minor": minor, "rate": 100]]
                    ]
                ]
                config["linux"] = linux
            }
            defer { _ = try? call(["delete", "--force", id]) }
            let created = try call(["run", "-d", "--bundle", dir, id])
            XCTAssertEqual(created.status, 0, "\(name): \(created.stderr)")
            let pid = inspectJSON(try call(["state", id]).stdout)["pid"] as? Int ?? -1
            var values: [String] = []
            for item in expected {
                guard let mount = hierarchy.placement(of: item.controller)?.mountPoint else {
                    XCTFail("no \(item.controller)"); continue
                }
                let text = Sys.readText(mount + "/" + parent + "/" + id + "/" + item.file) ?? "(missing)"
                XCTAssertTrue(text.contains(item.value), "\(name): \(item.file) reads \(text), not \(item.value)")
                values.append(text.split(separator: "\n").first { $0.contains(item.value) }.map(String.init) ?? text)
            }
            // The container's process is in the cpuset it was given.
            let cpuset =
                (hierarchy.placement(of: "cpuset")?.mountPoint ?? "") + "/" + parent + "/" + id + "/cgroup.procs"
            XCTAssertTrue(
                (Sys.readText(cpuset) ?? "").split(separator: "\n").contains(Substring("\(pid)")),
                "\(name): pid \(pid) in \(cpuset)")
            // runc 1.1 ignores kernel memory settings, kernelTCP among them; contlab writes it.
            if name == "contlab" && hierarchy.placement(of: "memory")?.version == 1 {
                let tcp =
                    (hierarchy.placement(of: "memory")?.mountPoint ?? "") + "/" + parent + "/" + id
                    + "/memory.kmem.tcp.limit_in_bytes"
                XCTAssertEqual(Sys.readText(tcp)?.trimmingCharacters(in: .whitespacesAndNewlines), "16777216")
            }
            seen[name] = values
            XCTAssertEqual(try call(["delete", "--force", id]).status, 0)
            XCTAssertFalse(
                FileManager.default.fileExists(
                    atPath: (hierarchy.placement(of: "cpuset")?.mountPoint ?? "") + "/" + parent + "/" + id))
        }
        XCTAssertEqual(seen["contlab"], seen["runc"])
    }

    /// A setting the host's cgroups cannot take fails create naming the field, the file and the
    /// controller, and leaves nothing; runc 1.1.5 skips an unmounted controller's settings.
    func testSettingsTheHostCannotTakeAreRefusedByName() throws {
        let hierarchy = CgroupHierarchy.current()
        var cases: [(resources: [String: Any], words: [String])] = []
        if hierarchy.placement(of: "net_cls") == nil {
            cases.append(
                (
                    ["network": ["classID": 0x10_0001]],
                    ["linux.resources.network.classID", "net_cls.classid", "no net_cls cgroup controller"]
                ))
        }
        if hierarchy.placement(of: "net_prio") == nil {
            cases.append(
                (
                    ["network": ["priorities": [["name": "lo", "priority": 1]]]],
                    ["network.priorities[0]", "net_prio.ifpriomap", "net_prio"]
                ))
        }
        if let blkio = hierarchy.placement(of: "blkio"), blkio.version == 1,
            !Sys.exists(blkio.mountPoint + "/blkio.weight"), !Sys.exists(blkio.mountPoint + "/blkio.bfq.weight")
        {
            // Neither CFQ nor BFQ schedules this host's disks: no weight file.
            cases.append(
                (
                    ["blockIO": ["weight": 500]],
                    ["linux.resources.blockIO.weight", "blkio.weight", "nor blkio.bfq.weight", "blkio controller"]
                ))
        }
        if hierarchy.placement(of: "memory")?.version == 2 {
            cases.append(
                (
                    ["memory": ["swappiness": 10]],
                    ["linux.resources.memory.swappiness", "memory.swappiness", "memory controller"]
                ))
        }
        XCTAssertFalse(cases.isEmpty, "this host offers every setting; nothing to refuse")
        for (index, item) in cases.enumerated() {
            let id = "cgno\(index)\(Self.tag)"
            let dir = try bundle("cgno\(index)", args: ["true"]) { config in
                var linux = config["linux"] as! [String: Any]
                linux["resources"] = item.resources
                config["linux"] = linux
            }
            let result = try runtime(["create", "--bundle", dir, id])
            XCTAssertNotEqual(result.status, 0, "\(item.resources)")
            for word in item.words { XCTAssertTrue(result.stderr.contains(word), "\(word) in \(result.stderr)") }
            XCTAssertFalse(result.stderr.contains("not implemented"), result.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/" + id))
            for mount in Set(hierarchy.v1.values) {
                XCTAssertFalse(
                    FileManager.default.fileExists(atPath: mount + "/contlab-runc/" + id), "\(mount): cgroup left")
            }
        }
    }
}
