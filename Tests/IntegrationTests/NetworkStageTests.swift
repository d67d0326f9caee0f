import ContlabCore
import Foundation
import XCTest

/// Stage 6 for real, as root: lab networks, containers on them, and what is left afterwards.
/// All traffic stays inside the namespaces these tests make: the containers' own and each
/// network's host side. Every test checks from outside contlab (the host's links, the network
/// namespace's links, the state folder), never contlab's own account of itself alone.
final class NetworkStageTests: XCTestCase {
    /// What stage 6 could leave on the host: its interfaces, `ip netns`, the store, mounts.
    struct Traces: Equatable {
        var hostLinks: [String]
        var netns: String
        var store: [String]
        var mounts: [String]
    }

    static func traces() throws -> Traces {
        let links = try Harness.execute(["/usr/sbin/ip", "-o", "link", "show"]).stdout
            .split(separator: "\n").compactMap {
                $0.split(separator: ":").dropFirst().first.map { $0.trimmingCharacters(in: .whitespaces) }
            }
        let netns = try Harness.execute(["/usr/sbin/ip", "netns", "list"]).stdout
        let store = ((try? FileManager.default.subdirectoriesOrFiles(atPath: "/run/contlab-net")) ?? []).filter {
            $0.hasPrefix("nt")
        }
        let mounts = (Sys.readText("/proc/self/mountinfo") ?? "").split(separator: "\n").map(String.init).filter {
            $0.contains("/run/contlab-net/nt")
        }
        return Traces(hostLinks: links.sorted(), netns: netns, store: store.sorted(), mounts: mounts)
    }

    var before: Traces?
    var networks: [String] = []
    var started: [Process] = []

    override func setUpWithError() throws {
        try Harness.requireRoot()
        _ = try Harness.busyboxRootfs()
        before = try Self.traces()
    }

    override func tearDownWithError() throws {
        for process in started where process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        for name in networks { try Harness.run(["network", "rm", "--force", name]) }
        guard let before else { return }
        // The kernel removes a dead container's namespace (and its veth pair) a moment later.
        var after = try Self.traces()
        for _ in 0..<50 where after != before {
            usleep(100_000)
            after = try Self.traces()
        }
        XCTAssertEqual(after, before, "stage 6 left something behind on the host")
    }

    /// A network of this test's own name (removed in tearDown if the test does not).
    func makeNetwork(_ suffix: String, subnet: String? = nil) throws -> String {
        let name = "nt\(getpid() % 100_000)\(suffix)"
        let result = try Harness.run(["network", "create", name] + (subnet.map { ["--subnet", $0] } ?? []))
        XCTAssertEqual(result.status, 0, result.stderr)
        networks.append(name)
        return name
    }

    func inspect(_ network: String) throws -> [String: Any] {
        let result = try Harness.run(["network", "inspect", "--json", network])
        XCTAssertEqual(result.status, 0, result.stderr)
        return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] ?? [:]
    }

    func containers(_ network: String) throws -> [[String: Any]] {
        try inspect(network)["containers"] as? [[String: Any]] ?? []
    }

    /// The interfaces in the network's host side, seen by `ip` there.
    func hostSideLinks(_ network: String) throws -> [String] {
        let result = try Harness.run(["network", "shell", network, "--", "/usr/sbin/ip", "-o", "link", "show"])
        XCTAssertEqual(result.status, 0, result.stderr)
        return result.stdout.split(separator: "\n").compactMap { $0.split(separator: ":").dropFirst().first }
            .map { String($0.split(separator: "@")[0]).trimmingCharacters(in: .whitespaces) }.sorted()
    }

    func waitFor(_ what: String, _ condition: () throws -> Bool) throws {
        for _ in 0..<100 {
            if try condition() { return }
            usleep(100_000)
        }
        XCTFail("timed out waiting for \(what)")
    }

    func startContainer(_ network: String, name: String, options: [String] = [], _ command: [String]) throws -> Process
    {
        let process = try Harness.start(
            ["run", "--stage", "6", "--network", network, "--name", name] + options + ["--"] + command)
        started.append(process)
        try waitFor("\(name) on \(network)") { try containers(network).contains { $0["container"] as? String == name } }
        return process
    }

    func testTwoContainersTalkHTTPByName() throws {
        let network = try makeNetwork("h")
        let web = try startContainer(network, name: "web", ["httpd", "-f", "-p", "8080", "-h", "/etc"])
        // The client reads the server's /etc/hostname, which is its name on the network.
        let client = try Harness.run([
            "run", "--stage", "6", "--network", network, "--name", "client", "--", "sh", "-c",
            "for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- http://web:8080/hostname && exit 0; sleep 0.3; done; exit 1"
        ])
        XCTAssertEqual(client.status, 0, client.stderr)
        XCTAssertEqual(client.stdout, "contlab\n", "the server's /etc/hostname, served by httpd in the other container")
        // From the host side: the bridge, lo, and web's veth end (the client's went with it).
        let links = try hostSideLinks(network)
        XCTAssertEqual(links.count, 3, "\(links)")
        XCTAssertTrue(links.contains("clab0") && links.contains("lo"))
        XCTAssertEqual(try containers(network).compactMap { $0["container"] as? String }, ["web"])
        // Ctrl-C on the server's contlab: passed on, and the container's veth and lease go.
        kill(web.processIdentifier, SIGINT)
        web.waitUntilExit()
        XCTAssertEqual(try containers(network).count, 0)
        XCTAssertEqual(try hostSideLinks(network), ["clab0", "lo"])
    }

    func testTheContainerHasEth0TheAddressTheRouteAndTheHostsFile() throws {
        let network = try makeNetwork("w")
        let subnet = try XCTUnwrap((try inspect(network)["network"] as? [String: Any])?["subnet"] as? String)
        let prefix = String(subnet.split(separator: ".").prefix(3).joined(separator: "."))
        let result = try Harness.run([
            "run", "--stage", "6", "--network", network, "--name", "probe", "--", "sh", "-c",
            "ip -o -4 addr show eth0; ip route; cat /etc/hosts; hostname; ping -c1 -W2 gateway >/dev/null && echo "
                + "pinged"
        ])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(
            result.stdout.contains("eth0    inet \(prefix).2/24") || result.stdout.contains("inet \(prefix).2/24"),
            result.stdout)
        XCTAssertTrue(result.stdout.contains("default via \(prefix).1 dev eth0"), result.stdout)
        XCTAssertTrue(result.stdout.contains("\(prefix).2\tprobe"), result.stdout)
        XCTAssertTrue(result.stdout.contains("\nprobe\n"), result.stdout)
        XCTAssertTrue(result.stdout.hasSuffix("pinged\n"), result.stdout)
    }

    func testWithLimitsTheContainerIsStage3sInItsCgroupAndOnTheNetwork() throws {
        let network = try makeNetwork("l")
        // The limit as the kernel shows it inside (cgroup v2 or v1), and eth0's address.
        let result = try Harness.run([
            "run", "--stage", "6", "--network", network, "--memory", "64M", "--quiet", "--", "sh", "-c",
            "cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes; "
                + "ip -o -4 addr show eth0"
        ])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.hasPrefix("67108864\n"), result.stdout)
        XCTAssertTrue(result.stdout.contains("inet 10.88."), result.stdout)
        XCTAssertEqual(try containers(network).count, 0)
    }

    func testTwentyContainersStartedAtOnceGetDistinctAddresses() throws {
        let network = try makeNetwork("c")
        let count = 20
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("contlab-net-\(getpid())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // Twenty contlab processes at once (not a thread pool, which would run as many as there
        // are cores); each container stays until the test sees all twenty leased together.
        let processes = try (0..<count).map { index -> Process in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Harness.binary)
            process.arguments = [
                "run", "--stage", "6", "--network", network, "--", "sh", "-c",
                "ip -o -4 addr show eth0; exec sleep 60"
            ]
            FileManager.default.createFile(atPath: "\(folder)/\(index)", contents: nil)
            process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: "\(folder)/\(index)"))
            process.standardError = process.standardOutput
            process.standardInput = FileHandle.nullDevice
            try process.run()
            started.append(process)
            return process
        }
        // Each container sees its own address on eth0: the one its lease names.
        func addresses() -> [String] {
            (0..<count).compactMap { index in
                let words = (Sys.readText("\(folder)/\(index)") ?? "").split(separator: " ")
                guard let inet = words.firstIndex(of: "inet"), inet + 1 < words.count else { return nil }
                return String(words[inet + 1].split(separator: "/")[0])
            }
        }
        try waitFor("twenty containers up at once") { addresses().count == count }
        let leased = try containers(network).compactMap { $0["address"] as? String }
        XCTAssertEqual(leased.count, count)
        XCTAssertEqual(Set(leased).count, count, "\(leased.sorted())")
        XCTAssertEqual(addresses().sorted(), leased.sorted())
        // SIGTERM to each contlab: passed on to the sleep, and each releases what it took.
        for process in processes { kill(process.processIdentifier, SIGTERM) }
        for process in processes { process.waitUntilExit() }
        XCTAssertEqual(try containers(network).count, 0)
        XCTAssertEqual(try hostSideLinks(network), ["clab0", "lo"])
    }

    func testAFullSubnetRefusesTheNextContainerAndTakesNothing() throws {
        let network = try makeNetwork("f", subnet: "172.31.241.0/29")  // .2 to .6: five containers
        for index in 0..<5 { _ = try startContainer(network, name: "s\(index)", ["sleep", "60"]) }
        let sixth = try Harness.run(["run", "--stage", "6", "--network", network, "--", "true"])
        XCTAssertEqual(sixth.status, 125)
        XCTAssertTrue(
            sixth.stderr.contains("has no free address left") && sixth.stderr.contains("larger --subnet"), sixth.stderr)
        XCTAssertEqual(try containers(network).count, 5)
        XCTAssertEqual(try hostSideLinks(network).count, 2 + 5)
    }

    func testRefusalsSayWhatToDoAndLeaveNothing() throws {
        let network = try makeNetwork("r", subnet: "172.31.240.0/24")
        // A subnet that overlaps: refused naming the other network; no second network exists.
        let overlapping = try Harness.run([
            "network", "create", "nt\(getpid() % 100_000)o", "--subnet", "172.31.0.0/16"
        ])
        XCTAssertEqual(overlapping.status, 1)
        XCTAssertTrue(overlapping.stderr.contains("overlaps network \(network) (172.31.240.0/24)"), overlapping.stderr)
        let taken = try Harness.run(["network", "create", network])
        XCTAssertEqual(taken.status, 1)
        XCTAssertTrue(taken.stderr.contains("exists already"), taken.stderr)
        // A name in use on the network: the second run fails before it makes anything.
        let sleeper = try startContainer(network, name: "dup", ["sleep", "60"])
        let again = try Harness.run(["run", "--stage", "6", "--network", network, "--name", "dup", "--", "true"])
        XCTAssertEqual(again.status, 125)
        XCTAssertTrue(again.stderr.contains("has that name (172.31.240.2)"), again.stderr)
        // rm with a container attached: refused, and the network and its lease stay.
        let rm = try Harness.run(["network", "rm", network])
        XCTAssertEqual(rm.status, 1)
        XCTAssertTrue(rm.stderr.contains("has containers attached (dup)") && rm.stderr.contains("--force"), rm.stderr)
        XCTAssertEqual(try containers(network).count, 1)
        XCTAssertEqual(try hostSideLinks(network).count, 3)
        let missing = try Harness.run(["run", "--stage", "6", "--network", "nt-none", "--", "true"])
        XCTAssertEqual(missing.status, 125)
        XCTAssertTrue(missing.stderr.contains("contlab network create nt-none"), missing.stderr)
        // contlab killed outright: the kernel removes the veth pair with the container's
        // namespace, and the next look drops the lease whose holder is gone.
        kill(sleeper.processIdentifier, SIGKILL)
        sleeper.waitUntilExit()
        try waitFor("the veth pair to go") { try hostSideLinks(network) == ["clab0", "lo"] }
        XCTAssertEqual(try containers(network).count, 0)
        let removed = try Harness.run(["network", "rm", network])
        XCTAssertEqual(removed.status, 0, removed.stderr)
        networks.removeAll()
    }
}

extension NetworkStageTests {
    /// The TCP ports something listens on, read from /proc/net/tcp in the namespace `shell`
    /// runs in (a network's host side), or in this test's own (the host's) when it is nil.
    func listeningPorts(in network: String?) throws -> Set<UInt16> {
        let table: String
        if let network {
            let result = try Harness.run([
                "network", "shell", network, "--", "/bin/cat", "/proc/net/tcp", "/proc/net/tcp6"
            ])
            XCTAssertEqual(result.status, 0, result.stderr)
            table = result.stdout
        } else {
            table = (Sys.readText("/proc/net/tcp") ?? "") + (Sys.readText("/proc/net/tcp6") ?? "")
        }
        // "  0: 00000000:1F90 00000000:0000 0A ...": local address:port in hex, state 0A is LISTEN.
        return Set(
            table.split(separator: "\n").compactMap { line -> UInt16? in
                let fields = line.split(separator: " ")
                guard fields.count > 3, fields[3] == "0A", let port = fields[1].split(separator: ":").last else {
                    return nil
                }
                return UInt16(port, radix: 16)
            })
    }

    /// `wget` from the network's host side, retried while the server starts: what it printed.
    func fetchFromHostSide(_ network: String, _ url: String, tries: Int = 20) throws -> Harness.Result {
        try Harness.run([
            "network", "shell", network, "--", "/bin/sh", "-c",
            "for i in $(seq \(tries)); do /usr/bin/wget -t 1 -T 2 -qO- \(url) && exit 0; sleep 0.3; done; exit 1"
        ])
    }

    func testAPublishedPortAnswersFromTheHostSideOnlyAndGoesWithTheContainer() throws {
        let network = try makeNetwork("p", subnet: "172.31.242.0/24")
        // A host port nobody uses on the host (so its absence there below means something).
        let hostPort = UInt16(20_000 + getpid() % 20_000)
        XCTAssertFalse(try listeningPorts(in: nil).contains(hostPort), "pick another port: the host uses \(hostPort)")
        let web = try startContainer(
            network, name: "web", options: ["-p", "\(hostPort):80"], ["httpd", "-f", "-p", "80", "-h", "/etc"])
        // From the host side, on lo and on the bridge's address: the container's /etc/hostname.
        for address in ["127.0.0.1", "172.31.242.1"] {
            let fetched = try fetchFromHostSide(network, "http://\(address):\(hostPort)/hostname")
            XCTAssertEqual(fetched.status, 0, "\(address): \(fetched.stderr)")
            XCTAssertEqual(fetched.stdout, "contlab\n", "httpd's answer, through the published port on \(address)")
        }
        // Another container reaches it through the gateway too (the bridge's address).
        let neighbour = try Harness.run([
            "run", "--stage", "6", "--network", network, "--", "wget", "-qO-",
            "http://gateway:\(hostPort)/hostname"
        ])
        XCTAssertEqual(neighbour.stdout, "contlab\n", neighbour.stderr)
        // Published in the lab's namespace, and nowhere on the host's own.
        XCTAssertTrue(try listeningPorts(in: network).contains(hostPort))
        XCTAssertFalse(try listeningPorts(in: nil).contains(hostPort), "the port was published on the host itself")
        // contlab killed outright: the kernel closes the listener; the port answers no more and
        // can be published again at once.
        kill(web.processIdentifier, SIGKILL)
        web.waitUntilExit()
        try waitFor("the listener to go") { try !listeningPorts(in: network).contains(hostPort) }
        XCTAssertNotEqual(try fetchFromHostSide(network, "http://127.0.0.1:\(hostPort)/hostname", tries: 1).status, 0)
        let again = try startContainer(
            network, name: "again", options: ["-p", "\(hostPort):8080"], ["httpd", "-f", "-p", "8080", "-h", "/etc"])
        XCTAssertEqual(try fetchFromHostSide(network, "http://127.0.0.1:\(hostPort)/hostname").stdout, "contlab\n")
        // Stopped the ordinary way (Ctrl-C): the port is closed with the container.
        kill(again.processIdentifier, SIGINT)
        again.waitUntilExit()
        XCTAssertFalse(try listeningPorts(in: network).contains(hostPort))
        XCTAssertEqual(try containers(network).count, 0)
        XCTAssertEqual(try hostSideLinks(network), ["clab0", "lo"])
    }

    func testPublishRefusalsNameTheFixAndLeaveNothing() throws {
        let network = try makeNetwork("q", subnet: "172.31.243.0/24")
        func refused(_ options: [String], status: Int32, _ expected: String) throws {
            let result = try Harness.run(["run", "--stage", "6", "--network", network] + options + ["--", "true"])
            XCTAssertEqual(result.status, status, "\(options): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(expected), "\(options): \(result.stderr)")
        }
        try refused(["-p", "8080"], status: 64, "write it as HOSTPORT:CONTAINERPORT")
        try refused(["-p", "70000:80"], status: 64, "a TCP port is 1 to 65535")
        try refused(["-p", "8080:80", "-p", "8080:81"], status: 64, "give each -p its own HOSTPORT")
        let stage2 = try Harness.run(["run", "--stage", "2", "-p", "8080:80", "--", "true"])
        XCTAssertEqual(stage2.status, 64)
        XCTAssertTrue(stage2.stderr.contains("add --stage 6 --network NAME"), stage2.stderr)
        // A port another container on the network publishes: named, and nothing taken.
        _ = try startContainer(network, name: "holder", options: ["-p", "8080:80"], ["sleep", "60"])
        try refused(["-p", "8080:81"], status: 125, "published by container holder already")
        // A port another program listens on in the host side: bind's EADDRINUSE, explained.
        let other = try Harness.start(["network", "shell", network, "--", "/usr/bin/busybox", "nc", "-l", "-p", "9090"])
        started.append(other)
        try waitFor("nc listening in the host side") { try listeningPorts(in: network).contains(9090) }
        try refused(
            ["-p", "9091:80", "-p", "9090:80"], status: 125,
            "in use in network \(network)'s host side by another program")
        XCTAssertEqual(try containers(network).compactMap { $0["container"] as? String }, ["holder"])
        XCTAssertEqual(try hostSideLinks(network).count, 3, "lo, the bridge and holder's veth only")
        XCTAssertEqual(try listeningPorts(in: network), [8080, 9090], "the refused run's 9091 was closed")
    }
}

extension FileManager {
    fileprivate func subdirectoriesOrFiles(atPath path: String) throws -> [String] {
        try contentsOfDirectory(atPath: path)
    }
}
