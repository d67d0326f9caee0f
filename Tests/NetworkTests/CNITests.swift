import ContlabCore
import Foundation
import XCTest

@testable import Stage6Network

/// The runtime's half of CNI without running a plugin: reading configurations, what each
/// plugin gets on stdin and in its environment, reading results back.
final class CNITests: XCTestCase {
    static let list = """
        {"cniVersion": "1.0.0", "name": "cnilab", "plugins": [
          {"type": "bridge", "bridge": "cni0", "isGateway": true,
           "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.22.0.0/24"}]]}},
          {"type": "portmap", "capabilities": {"portMappings": true}},
          {"type": "loopback"}]}
        """

    func config(_ text: String) throws -> CNINetworkConfig { try CNINetworkConfig(parsing: text, path: "c.json") }

    func message(_ text: String) -> String {
        do {
            _ = try config(text)
            return "accepted"
        } catch { return "\(error)" }
    }

    func record(_ subnet: String) throws -> NetworkRecord {
        let parsed = try Subnet(parsing: subnet)
        return NetworkRecord(name: "cnilab", subnet: parsed, bridge: "clab0", gateway: parsed.gateway, created: "")
    }

    func testReadsAListAndASinglePluginsConfiguration() throws {
        let parsed = try config(Self.list)
        XCTAssertEqual(parsed.name, "cnilab")
        XCTAssertEqual(parsed.cniVersion, "1.0.0")
        XCTAssertEqual(parsed.plugins.count, 3)
        XCTAssertEqual(parsed.programs, ["bridge", "host-local", "portmap", "loopback"])
        XCTAssertEqual(parsed.bridges, ["cni0"])
        XCTAssertEqual(parsed.ipamSubnets.map(\.text), ["10.22.0.0/24"])
        let single = try config(
            #"{"cniVersion": "0.4.0", "name": "n1", "type": "bridge", "ipam": {"type": "host-local", "subnet": "10.23.0.0/16"}}"#
        )
        XCTAssertEqual(single.plugins.count, 1)
        XCTAssertEqual(single.programs, ["bridge", "host-local"])
        XCTAssertEqual(single.bridges, ["cni0"], "the bridge plugin's default")
        XCTAssertEqual(single.ipamSubnets.map(\.subnet.description), ["10.23.0.0/16"])
    }

    func testRefusesWhatARuntimeCannotRunSayingWhatToWrite() {
        XCTAssertTrue(message("{").contains("not JSON"))
        XCTAssertTrue(message("[]").contains("a JSON object"))
        XCTAssertTrue(message(#"{"name": "n", "type": "bridge"}"#).contains(#"write "cniVersion": "1.0.0""#))
        XCTAssertTrue(
            message(#"{"cniVersion": "0.2.0", "name": "n", "type": "bridge"}"#).contains("cniVersion \"0.2.0\""))
        XCTAssertTrue(message(#"{"cniVersion": "1.0.0", "type": "bridge"}"#).contains("contlab network create NAME"))
        XCTAssertTrue(message(#"{"cniVersion": "1.0.0", "name": "a b", "type": "bridge"}"#).contains("name \"a b\""))
        XCTAssertTrue(message(#"{"cniVersion": "1.0.0", "name": "n", "plugins": []}"#).contains("at least one"))
        XCTAssertTrue(message(#"{"cniVersion": "1.0.0", "name": "n", "plugins": [1]}"#).contains("plugins[0] is not"))
        // A type is a program's name in CNI_PATH, never a path to run.
        XCTAssertTrue(
            message(#"{"cniVersion": "1.0.0", "name": "n", "type": "../../bin/sh"}"#).contains("type \"../../bin/sh\""))
        XCTAssertTrue(
            message(#"{"cniVersion": "1.0.0", "name": "n", "plugins": [{"ipam": {}}]}"#).contains(
                "plugins[0].type (missing)"))
        XCTAssertTrue(
            message(#"{"cniVersion": "1.0.0", "name": "n", "type": "bridge", "ipam": {"type": "/x"}}"#).contains(
                "ipam.type \"/x\""))
    }

    func testEachPluginGetsItsObjectWithTheListsNameVersionAndPrevResult() throws {
        let parsed = try config(Self.list)
        let previous = try JSONValue.parse(#"{"cniVersion":"1.0.0","ips":[]}"#)
        let bridge = try JSONValue.parse(parsed.stdin(plugin: 0, prevResult: nil, ipamDataDir: "/run/x/cni-ipam"))
        XCTAssertEqual(bridge["name"], .string("cnilab"))
        XCTAssertEqual(bridge["cniVersion"], .string("1.0.0"))
        XCTAssertEqual(bridge["isGateway"], .bool(true))
        XCTAssertNil(bridge["prevResult"])
        XCTAssertEqual(bridge["ipam"]?["dataDir"], .string("/run/x/cni-ipam"), "host-local's leases in the lab folder")
        let portmap = try JSONValue.parse(parsed.stdin(plugin: 1, prevResult: previous, ipamDataDir: "/run/x/cni-ipam"))
        XCTAssertEqual(portmap["prevResult"], previous)
        XCTAssertEqual(portmap["type"], .string("portmap"))
        XCTAssertNil(portmap["ipam"])
        // A dataDir of the configuration's own is kept.
        let own = try config(
            #"{"cniVersion": "1.0.0", "name": "n", "type": "bridge", "ipam": {"type": "host-local", "dataDir": "/d"}}"#)
        XCTAssertEqual(
            try JSONValue.parse(own.stdin(plugin: 0, prevResult: nil, ipamDataDir: "/x"))["ipam"]?["dataDir"],
            .string("/d"))
    }

    func testPortMappingsGoOnlyToPluginsWithTheCapability() throws {
        let parsed = try config(Self.list)
        let ports = [PortMapping(hostPort: 9090, containerPort: 80)]
        let portmap = try JSONValue.parse(
            parsed.stdin(plugin: 1, prevResult: nil, ipamDataDir: nil, portMappings: ports))
        XCTAssertEqual(
            portmap["runtimeConfig"]?.serialized,
            #"{"portMappings":[{"hostPort":9090,"containerPort":80,"protocol":"tcp"}]}"#)
        let bridge = try JSONValue.parse(
            parsed.stdin(plugin: 0, prevResult: nil, ipamDataDir: nil, portMappings: ports))
        XCTAssertNil(bridge["runtimeConfig"])
        XCTAssertNil(try JSONValue.parse(parsed.stdin(plugin: 1, prevResult: nil, ipamDataDir: nil))["runtimeConfig"])
    }

    func testRefusesTheLabNetworksBridgeOrSubnet() throws {
        let parsed = try config(Self.list)
        XCTAssertNoThrow(try parsed.check(against: try record("10.88.1.0/24")))
        XCTAssertThrowsError(try parsed.check(against: try record("10.22.0.0/16"))) {
            XCTAssertTrue("\($0)".contains("overlaps network cnilab's own (10.22.0.0/16)"), "\($0)")
        }
        let clab = try config(#"{"cniVersion": "1.0.0", "name": "n", "type": "bridge", "bridge": "clab0"}"#)
        XCTAssertThrowsError(try clab.check(against: try record("10.88.1.0/24"))) {
            XCTAssertTrue("\($0)".contains("contlab's own bridge"), "\($0)")
        }
    }

    func testTheEnvironmentIsTheProtocolsVariablesAndAPath() throws {
        XCTAssertEqual(
            CNIEnvironment.variables(
                command: "ADD", containerID: "web", netns: "/proc/7/ns/net", ifname: "eth0", cniPath: "/usr/lib/cni"),
            [
                "CNI_COMMAND=ADD", "CNI_CONTAINERID=web", "CNI_NETNS=/proc/7/ns/net", "CNI_IFNAME=eth0",
                "CNI_PATH=/usr/lib/cni", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"
            ])
        XCTAssertNoThrow(try CNIEnvironment.validate(containerID: "web-1.a_b", ifname: "eth1"))
        XCTAssertThrowsError(try CNIEnvironment.validate(containerID: "-web", ifname: "eth0"))
        XCTAssertThrowsError(try CNIEnvironment.validate(containerID: "a+b", ifname: "eth0"))
        XCTAssertThrowsError(try CNIEnvironment.validate(containerID: "web", ifname: "a-name-of-16-chr"))
        XCTAssertThrowsError(try CNIEnvironment.validate(containerID: "web", ifname: "et/h0"))
        XCTAssertThrowsError(try CNIEnvironment.validate(containerID: "web", ifname: ".."))
    }

    func testReadsAResultAndPrintsItForPeople() throws {
        let text = """
            {"cniVersion":"1.0.0","interfaces":[{"name":"cni0","mac":"aa:bb:cc:dd:ee:01"},
             {"name":"veth1","mac":"aa:bb:cc:dd:ee:02"},{"name":"eth0","mac":"aa:bb:cc:dd:ee:03","sandbox":"/proc/7/ns/net"}],
             "ips":[{"interface":2,"address":"10.22.0.2/24","gateway":"10.22.0.1"}],
             "routes":[{"dst":"0.0.0.0/0"},{"dst":"10.9.0.0/16","gw":"10.22.0.9"}],"dns":{"nameservers":["10.22.0.1"]}}
            """
        let result = try CNIResult(parsing: text, plugin: "bridge")
        XCTAssertEqual(result.ips?.first?.address, "10.22.0.2/24")
        XCTAssertEqual(
            result.lines(hostSide: "cnilab's host side"),
            [
                "interfaces:",
                "  [0] cni0             aa:bb:cc:dd:ee:01  in cnilab's host side",
                "  [1] veth1            aa:bb:cc:dd:ee:02  in cnilab's host side",
                "  [2] eth0             aa:bb:cc:dd:ee:03  in /proc/7/ns/net",
                "addresses:",
                "  10.22.0.2/24 on eth0, gateway 10.22.0.1",
                "routes:",
                "  0.0.0.0/0 via the address's gateway",
                "  10.9.0.0/16 via 10.22.0.9",
                "dns: 10.22.0.1"
            ])
        // A 0.4.0 result (ips with "version") reads the same way; a non-result is an error.
        XCTAssertEqual(
            try CNIResult(parsing: #"{"ips":[{"version":"4","address":"10.1.0.2/24","interface":5}]}"#, plugin: "p")
                .lines(hostSide: "h")[2],
            "  10.1.0.2/24")
        XCTAssertThrowsError(try CNIResult(parsing: #"{"ips": 1}"#, plugin: "bridge")) {
            XCTAssertTrue("\($0)".contains("CNI plugin bridge failed ADD: its result is not CNI result JSON"), "\($0)")
        }
        let failure = try JSONDecoder().decode(
            CNIErrorResult.self, from: Data(#"{"cniVersion":"1.0.0","code":7,"msg":"bad","details":"why"}"#.utf8))
        XCTAssertEqual(failure, CNIErrorResult(code: 7, msg: "bad", details: "why"))
    }

    func testAMissingPluginNamesItAndTheDebianPackage() throws {
        let runtime = CNIRuntime(
            store: NetworkStore(root: "/nonexistent"), config: try config(Self.list), cniPath: "/nonexistent/cni",
            containerID: "web", ifname: "eth0", netns: "")
        XCTAssertThrowsError(try runtime.program("bridge")) {
            XCTAssertEqual(
                "\($0)",
                "CNI plugin bridge is not in /nonexistent/cni: install Debian's plugins with apt install "
                    + "containernetworking-plugins (they go to /usr/lib/cni), or give --cni-path DIR"
            )
        }
        XCTAssertEqual(runtime.resultPath, "/nonexistent/cnilab/cni-results/web@eth0.json")
        XCTAssertEqual(runtime.ipamDataDir, "/nonexistent/cnilab/cni-ipam")
    }
}
