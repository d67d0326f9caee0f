import Cgroups
import ContlabCore
import Foundation
import XCTest
@testable import OCI
@testable import Stage4OCI

/// linux.resources turned into cgroup writes, for each version, without a cgroup: the files, the
/// values, and the refusals that name the field, the file and the controller.
final class CgroupSettingsTests: XCTestCase {
    /// Every setting of issue #23's list at once.
    static let resources: Spec.Resources = {
        var memory = Spec.Memory()
        memory.reservation = 32 << 20
        memory.swappiness = 0
        memory.disableOOMKiller = true
        memory.kernel = 64 << 20
        memory.kernelTCP = 16 << 20
        var cpu = Spec.CPU()
        cpu.cpus = "0-1"
        cpu.mems = "0"
        var blockIO = Spec.BlockIO(weight: 500)
        blockIO.weightDevice = [Spec.WeightDevice(major: 8, minor: 0, weight: 1000)]
        blockIO.throttleReadBpsDevice = [Spec.ThrottleDevice(major: 8, minor: 0, rate: 1_048_576)]
        blockIO.throttleWriteIOPSDevice = [Spec.ThrottleDevice(major: 8, minor: 16, rate: 100)]
        var resources = Spec.Resources(memory: memory, cpu: cpu)
        resources.blockIO = blockIO
        resources.network = Spec.Network(
            classID: 0x10_0001, priorities: [Spec.InterfacePriority(name: "eth0", priority: 5)])
        return resources
    }()

    func lines(_ writes: [(controller: String, write: LimitWrite)]) -> [String] {
        writes.map { "\($0.controller) \($0.write.file)=\($0.write.value)" }
    }

    func testV1WritesEachSettingToItsControllersFile() throws {
        let writes = try CgroupSettings.writes(Self.resources, version: { _ in 1 })
        XCTAssertEqual(
            lines(writes),
            [
                "memory memory.soft_limit_in_bytes=33554432", "memory memory.swappiness=0",
                "memory memory.oom_control=1",
                "memory memory.kmem.limit_in_bytes=67108864", "memory memory.kmem.tcp.limit_in_bytes=16777216",
                "cpuset cpuset.cpus=0-1", "cpuset cpuset.mems=0",
                "blkio blkio.weight=500", "blkio blkio.weight_device=8:0 1000",
                "blkio blkio.throttle.read_bps_device=8:0 1048576", "blkio blkio.throttle.write_iops_device=8:16 100",
                "net_cls net_cls.classid=1048577", "net_prio net_prio.ifpriomap=eth0 5"
            ])
        // Each write says which field asked for it, for the report and the errors.
        XCTAssertEqual(
            writes.first { $0.write.file == "blkio.throttle.write_iops_device" }?.write.why,
            "linux.resources.blockIO.throttleWriteIOPSDevice[0]")
        // BFQ's file where CFQ's is gone, with the spec's value.
        XCTAssertEqual(
            writes.first { $0.write.file == "blkio.weight" }?.write.fallback, .init("blkio.bfq.weight", "500"))
    }

    func testV2WritesItsOwnFilesAndConvertsWeights() throws {
        var resources = Self.resources
        resources.memory?.swappiness = nil
        resources.memory?.disableOOMKiller = nil
        resources.memory?.kernel = nil
        resources.memory?.kernelTCP = nil
        resources.network = nil
        // v2 names block I/O's controller io.
        let writes = try CgroupSettings.writes(resources, version: { $0 == "blkio" ? nil : 2 })
        XCTAssertEqual(
            lines(writes),
            [
                "memory memory.low=33554432", "cpuset cpuset.cpus=0-1", "cpuset cpuset.mems=0",
                // 10…1000 onto 1…10000 as runc maps it: 500 → 4950, 1000 → 10000.
                "io io.weight=default 4950", "io io.weight=8:0 10000",
                "io io.max=8:0 rbps=1048576", "io io.max=8:16 wiops=100"
            ])
        XCTAssertEqual(
            writes.first { $0.write.value == "default 4950" }?.write.fallback, .init("io.bfq.weight", "default 500"))
    }

    func testWhatTheHostCannotTakeIsRefusedNamingTheFileAndTheController() {
        func refusal(_ resources: Spec.Resources, version: @escaping (String) -> Int?) -> String {
            do {
                _ = try CgroupSettings.writes(resources, version: version)
                return "no error"
            } catch { return "\(error)" }
        }
        var swappiness = Spec.Resources(memory: Spec.Memory())
        swappiness.memory?.swappiness = 10
        let v2 = refusal(swappiness, version: { _ in 2 })
        XCTAssertTrue(v2.contains("linux.resources.memory.swappiness: cgroup v2 has no memory.swappiness"), v2)
        XCTAssertTrue(v2.contains("memory.swappiness") && v2.contains("memory controller"), v2)
        var oom = Spec.Resources(memory: Spec.Memory())
        oom.memory?.disableOOMKiller = true
        XCTAssertTrue(refusal(oom, version: { _ in 2 }).contains("memory.oom_control"))
        var network = Spec.Resources()
        network.network = Spec.Network(classID: 7)
        let noNetCls = refusal(network, version: { $0 == "net_cls" ? nil : 1 })
        XCTAssertTrue(noNetCls.contains("linux.resources.network.classID: this host"), noNetCls)
        XCTAssertTrue(
            noNetCls.contains("no net_cls cgroup controller") && noNetCls.contains("net_cls.classid"), noNetCls)
        var cpuset = Spec.Resources(cpu: Spec.CPU())
        cpuset.cpu?.mems = "0"
        let noCpuset = refusal(cpuset, version: { $0 == "cpuset" ? nil : 2 })
        XCTAssertTrue(noCpuset.contains("cpuset.mems") && noCpuset.contains("no cpuset cgroup controller"), noCpuset)
        var io = Spec.Resources()
        io.blockIO = Spec.BlockIO(weight: 100)
        XCTAssertTrue(
            refusal(io, version: { ["blkio", "io"].contains($0) ? nil : 1 }).contains("no blkio cgroup controller"))
        io.blockIO?.leafWeight = 100
        XCTAssertTrue(refusal(io, version: { $0 == "blkio" ? nil : 2 }).contains("cgroup v2 has no blkio.leaf_weight"))
        // Out of the spec's ranges, before anything is written.
        io.blockIO = Spec.BlockIO(weight: 5)
        XCTAssertTrue(refusal(io, version: { _ in 1 }).contains("give 10 to 1000"))
        swappiness.memory?.swappiness = 101
        XCTAssertTrue(refusal(swappiness, version: { _ in 1 }).contains("give 0 to 100"))
    }

    /// Docker fills every field it knows with zero for "not set", as runc reads it: no write,
    /// and no controller made for it.
    func testZeroIsNotSet() throws {
        let docker =
            #"{"ociVersion":"1.0.2","root":{"path":"r"},"linux":{"resources":{"memory":{"reservation":0,"kernel":0,"kernelTCP":0,"disableOOMKiller":false},"cpu":{"cpus":"","mems":""},"blockIO":{"weight":0,"weightDevice":[],"throttleReadBpsDevice":[]},"network":{"classID":0,"priorities":[]}}}}"#
        let resources = try SpecCheck.decode(Data(docker.utf8)).linux?.resources
        XCTAssertEqual(lines(try CgroupSettings.writes(resources, version: { _ in 1 })), [])
        let hybrid = CgroupHierarchy(v1: ["cpuset": "/c", "blkio": "/b", "net_cls": "/n"], v2: "/u", v2Controllers: [])
        XCTAssertEqual(CgroupSettings.extraControllers(resources, hierarchy: hybrid), [])
        XCTAssertEqual(
            CgroupSettings.extraControllers(Self.resources, hierarchy: hybrid),
            ["cpuset", "blkio", "net_cls", "net_prio"])
        let pureV2 = CgroupHierarchy(v1: [:], v2: "/u", v2Controllers: ["cpuset", "io", "memory"])
        XCTAssertEqual(
            CgroupSettings.extraControllers(Self.resources, hierarchy: pureV2), ["cpuset", "io", "net_cls", "net_prio"])
    }

    /// A file the kernel does not offer: the fallback when there is one, else an error naming the
    /// file, the controller and the field.
    func testAMissingFileIsRefusedOrItsFallbackWritten() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("contlab-cgset-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        FileManager.default.createFile(atPath: dir + "/blkio.bfq.weight", contents: Data())
        let cgroup = ContainerCgroup(
            relativePath: "x", directories: [.init(path: dir, version: 1, controllers: ["blkio"])],
            hierarchy: CgroupHierarchy(v1: ["blkio": "/b"], v2: nil, v2Controllers: []))
        let weight = LimitWrite(
            "blkio.weight", "300", fallback: .init("blkio.bfq.weight", "300"), why: "linux.resources.blockIO.weight")
        try cgroup.apply(weight, controller: "blkio")
        XCTAssertEqual(try String(contentsOfFile: dir + "/blkio.bfq.weight", encoding: .utf8), "300")
        let leaf = LimitWrite("blkio.leaf_weight", "300", why: "linux.resources.blockIO.leafWeight")
        XCTAssertThrowsError(try cgroup.apply(leaf, controller: "blkio")) { error in
            let text = "\(error)"
            XCTAssertTrue(
                text.hasPrefix(
                    "linux.resources.blockIO.leafWeight: this kernel's blkio controller (cgroup v1) has no "
                        + "blkio.leaf_weight"
                ), text)
            XCTAssertFalse(
                FileManager.default.fileExists(atPath: dir + "/blkio.leaf_weight"), "nothing is made in its place")
        }
    }
}
