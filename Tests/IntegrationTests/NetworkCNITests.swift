import ContlabCore
import Foundation
import XCTest

/// `contlab network attach/check/detach --cni`: Debian's CNI plugins (/usr/lib/cni) run on a
/// stage-4 container, with their bridge in a lab network's host side. Every address is in
/// namespaces this test makes; the checks read the kernel (ip in the container, ping from the
/// host side) and host-local's own lease files, not contlab's account.
final class NetworkCNITests: XCTestCase {
    var before: NetworkStageTests.Traces?
    var work = ""
    var network = ""
    var ids: [String] = []

    /// host-local's leases where the plugin keeps them by default, on the host: never used.
    var defaultLeases: String { "/var/lib/cni/networks/\(network)" }
    var leaseFolder: String { "/run/contlab-net/\(network)/cni-ipam/\(network)" }

    override func setUpWithError() throws {
        try Harness.requireRoot()
        guard FileManager.default.isExecutableFile(atPath: "/usr/lib/cni/bridge") else {
            throw XCTSkip("needs Debian's CNI plugins: apt install containernetworking-plugins")
        }
        _ = try Harness.busyboxRootfs()
        before = try NetworkStageTests.traces()
        work = NSTemporaryDirectory() + "contlab-cni-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        network = "nt\(getpid() % 100_000)k"
        let made = try Harness.run(["network", "create", network, "--subnet", "172.31.246.0/24"])
        XCTAssertEqual(made.status, 0, made.stderr)
    }

    override func tearDownWithError() throws {
        for id in ids { _ = try Harness.run(["runc", "--root", work + "/state", "delete", "--force", id]) }
        if !network.isEmpty { _ = try Harness.run(["network", "rm", "--force", network]) }
        try? FileManager.default.removeItem(atPath: work)
        XCTAssertFalse(FileManager.default.fileExists(atPath: defaultLeases), "a lease on the host's /var/lib/cni")
        guard let before else { return }
        var after = try NetworkStageTests.traces()
        for _ in 0..<50 where after != before {
            usleep(100_000)
            after = try NetworkStageTests.traces()
        }
        XCTAssertEqual(after, before, "the CNI path left something behind on the host")
    }

    /// A conflist on this test's lab network: a bridge with a gateway, host-local, loopback.
    func writeConfig(subnet: String = "172.31.247.0/24", portmap: Bool = false) throws -> String {
        let path = work + "/net.conflist"
        let text = """
            {"cniVersion": "1.0.0", "name": "\(network)", "plugins": [
              {"type": "bridge", "bridge": "cnit0", "isGateway": true,
               "ipam": {"type": "host-local", "ranges": [[{"subnet": "\(subnet)"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
              \(portmap ? #"{"type": "portmap", "capabilities": {"portMappings": true}},"# : "")
              {"type": "loopback"}]}
            """
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// A created stage-4 container running `sleep` (its namespaces made, its process waiting).
    func createContainer(
        _ suffix: String, command: [String] = ["sleep", "300"], edit: ((inout [String: Any]) -> Void)? = nil
    ) throws -> String {
        let id = "cni\(getpid())\(suffix)"
        let bundle = work + "/bundle-" + suffix
        let made = try Harness.run(["bundle", "create", bundle, "--"] + command)
        XCTAssertEqual(made.status, 0, made.stderr)
        if let edit {
            let url = URL(fileURLWithPath: bundle + "/config.json")
            var config = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] ?? [:]
            edit(&config)
            try JSONSerialization.data(withJSONObject: config).write(to: url)
        }
        ids.append(id)
        let created = try Harness.run(["runc", "--root", work + "/state", "create", "--bundle", bundle, id])
        XCTAssertEqual(created.status, 0, created.stderr)
        return id
    }

    func cni(_ verb: String, _ config: String, _ id: String, _ extra: [String] = []) throws -> Harness.Result {
        try Harness.run(["network", verb, "--cni", config, "--runc-root", work + "/state"] + extra + [id])
    }

    func exec(_ id: String, _ args: [String]) throws -> Harness.Result {
        try Harness.run(["runc", "--root", work + "/state", "exec", id] + args)
    }

    /// The addresses host-local has handed out: the files named after them in its folder.
    func leasedAddresses() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: leaseFolder)) ?? []).filter { IPv4Check.isAddress($0) }
            .sorted()
    }

    func hostSideLinks() throws -> [String] {
        let result = try Harness.run(["network", "shell", network, "--", "/usr/sbin/ip", "-o", "link", "show"])
        XCTAssertEqual(result.status, 0, result.stderr)
        return result.stdout.split(separator: "\n").compactMap { $0.split(separator: ":").dropFirst().first }
            .map { String($0.split(separator: "@")[0]).trimmingCharacters(in: .whitespaces) }.sorted()
    }

    func testCNIGivesAStage4BundleTheAddressHostLocalAssignedAndDELRemovesIt() throws {
        let config = try writeConfig()
        let id = try createContainer("a")
        let attached = try cni("attach", config, id)
        XCTAssertEqual(attached.status, 0, attached.stderr)
        // host-local's own record: one address, held by this container on eth0.
        let leased = leasedAddresses()
        XCTAssertEqual(leased.count, 1, "\(leased)")
        let address = try XCTUnwrap(leased.first)
        XCTAssertTrue(address.hasPrefix("172.31.247."), address)
        let holder = Sys.readText(leaseFolder + "/" + address) ?? ""
        XCTAssertTrue(holder.hasPrefix(id), "host-local's lease names \(holder)")
        // The container, started, has that address on eth0 and the plugin's default route.
        XCTAssertEqual(try Harness.run(["runc", "--root", work + "/state", "start", id]).status, 0)
        let inside = try exec(id, ["sh", "-c", "ip -o -4 addr show eth0; ip route"])
        XCTAssertEqual(inside.status, 0, inside.stderr)
        XCTAssertTrue(inside.stdout.contains("inet \(address)/24"), inside.stdout)
        XCTAssertTrue(inside.stdout.contains("default via 172.31.247.1 dev eth0"), inside.stdout)
        // The plugin's bridge and veth are in the lab network's host side, which reaches it.
        let links = try hostSideLinks()
        XCTAssertTrue(links.contains("cnit0") && links.count == 4, "\(links)")
        let ping = try Harness.run([
            "network", "shell", network, "--", "/usr/bin/busybox", "ping", "-c1", "-W2", address
        ])
        XCTAssertEqual(ping.status, 0, ping.stdout + ping.stderr)
        XCTAssertEqual(try cni("check", config, id).status, 0)
        // rm while attached: refused, naming the attachment; the host side is still there.
        let refused = try Harness.run(["network", "rm", network])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(
            refused.stderr.contains("\(id)@eth0 (CNI)") && refused.stderr.contains("network detach"), refused.stderr)
        XCTAssertEqual(try hostSideLinks().count, 4)
        // DEL: the interface, the veth pair and the lease go; the bridge stays (as CNI's does)
        // until the network is removed.
        let detached = try cni("detach", config, id)
        XCTAssertEqual(detached.status, 0, detached.stderr)
        XCTAssertNotEqual(try exec(id, ["ip", "link", "show", "eth0"]).status, 0, "eth0 is still in the container")
        XCTAssertEqual(leasedAddresses(), [])
        XCTAssertEqual(try hostSideLinks(), ["clab0", "cnit0", "lo"])
        let checked = try cni("check", config, id)
        XCTAssertEqual(checked.status, 1)
        XCTAssertTrue(checked.stderr.contains("attach it first"), checked.stderr)
        let removed = try Harness.run(["network", "rm", network])
        XCTAssertEqual(removed.status, 0, removed.stderr)
        network = ""
    }

    func testDELAfterTheContainerIsGoneStillReleasesTheAddress() throws {
        let config = try writeConfig()
        let id = try createContainer("d")
        XCTAssertEqual(try cni("attach", config, id).status, 0)
        XCTAssertEqual(leasedAddresses().count, 1)
        // The container deleted first: its namespace goes, and the kernel takes the veth pair.
        XCTAssertEqual(try Harness.run(["runc", "--root", work + "/state", "delete", "--force", id]).status, 0)
        ids.removeAll()
        // DEL with CNI_NETNS empty: host-local still gives the address back.
        let detached = try cni("detach", config, id)
        XCTAssertEqual(detached.status, 0, detached.stderr)
        XCTAssertEqual(leasedAddresses(), [])
        XCTAssertEqual(try hostSideLinks(), ["clab0", "cnit0", "lo"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/run/contlab-net/\(network)/cni-results"))
    }

    /// portmap, the DNAT way (contlab's own -p is a forwarder): its rules land in the lab
    /// network's host side, answer there, and go with DEL, which gets the ports kept at ADD.
    func testPortmapsRulesPublishInTheHostSideAndGoWithDEL() throws {
        let config = try writeConfig(portmap: true)
        let id = try createContainer("p", command: ["httpd", "-f", "-p", "80", "-h", "/etc"])
        let attached = try cni("attach", config, id, ["-p", "9090:80"])
        XCTAssertEqual(attached.status, 0, attached.stderr)
        XCTAssertEqual(try Harness.run(["runc", "--root", work + "/state", "start", id]).status, 0)
        func rules() throws -> String {
            try Harness.run(["network", "shell", network, "--", "/usr/sbin/iptables", "-t", "nat", "-S"]).stdout
        }
        let added = try rules()
        XCTAssertTrue(added.contains("--dport 9090 -j DNAT"), added)
        let fetch = [
            "network", "shell", network, "--", "/bin/sh", "-c",
            "for i in $(seq 20); do /usr/bin/wget -t 1 -T 2 -qO- http://127.0.0.1:9090/hostname && exit 0; sleep 0.3; "
                + "done; exit 1"
        ]
        let fetched = try Harness.run(fetch)
        XCTAssertEqual(fetched.stdout, "contlab\n", fetched.stderr)
        let detached = try cni("detach", config, id)
        XCTAssertEqual(detached.status, 0, detached.stderr)
        let left = try rules()
        XCTAssertFalse(left.contains("9090"), left)
        XCTAssertEqual(leasedAddresses(), [])
    }

    func testRefusalsNameTheFixAndWireNothing() throws {
        let config = try writeConfig()
        let id = try createContainer("b")
        // A missing plugin: named, with Debian's package.
        try FileManager.default.createDirectory(atPath: work + "/empty", withIntermediateDirectories: true)
        let missing = try cni("attach", config, id, ["--cni-path", work + "/empty"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(
            missing.stderr.contains("CNI plugin bridge is not in")
                && missing.stderr.contains("apt install containernetworking-plugins"),
            missing.stderr)
        // The lab network's own subnet handed out again: refused before a plugin runs.
        let overlapping = try cni("attach", try writeConfig(subnet: "172.31.246.0/25"), id)
        XCTAssertEqual(overlapping.status, 1)
        XCTAssertTrue(overlapping.stderr.contains("overlaps network \(network)'s own"), overlapping.stderr)
        // A container without a network namespace of its own: the plugins would wire the host.
        let shared = try createContainer("c") { config in
            var linux = config["linux"] as? [String: Any] ?? [:]
            linux["namespaces"] = (linux["namespaces"] as? [[String: Any]] ?? []).filter {
                $0["type"] as? String != "network"
            }
            config["linux"] = linux
        }
        let host = try cni("attach", try writeConfig(), shared)
        XCTAssertEqual(host.status, 1)
        XCTAssertTrue(host.stderr.contains("no network namespace of its own"), host.stderr)
        // A plugin that fails (a subnet host-local cannot parse): its error, and DEL run after.
        let broken = try cni("attach", try writeConfig(subnet: "172.31.247.0/99"), id)
        XCTAssertEqual(broken.status, 1)
        XCTAssertTrue(broken.stderr.contains("CNI plugin bridge failed ADD"), broken.stderr)
        XCTAssertEqual(leasedAddresses(), [])
        XCTAssertEqual(try hostSideLinks().filter { $0.hasPrefix("veth") }, [], "a veth left by the failed ADD")
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/run/contlab-net/\(network)/cni-results"))
    }
}

/// A dotted quad, as host-local names its lease files (beside last_reserved_ip.0 and lock).
enum IPv4Check {
    static func isAddress(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isNumber) }
    }
}
