import ContlabCore
import XCTest

@testable import Stage6Network

/// Stage 6's pure parts: CIDR, overlap, allocation, the hosts file, names, the mounts a plan gets.
final class SubnetTests: XCTestCase {
    func testParsesACIDRAndItsAddresses() throws {
        let subnet = try Subnet(parsing: "10.88.7.0/24")
        XCTAssertEqual(subnet.description, "10.88.7.0/24")
        XCTAssertEqual(subnet.gateway.description, "10.88.7.1")
        XCTAssertEqual(subnet.broadcast.description, "10.88.7.255")
        XCTAssertEqual(IPv4Address(subnet.containerAddresses.lowerBound).description, "10.88.7.2")
        XCTAssertEqual(IPv4Address(subnet.containerAddresses.upperBound).description, "10.88.7.254")
        XCTAssertEqual(try Subnet(parsing: "192.168.4.0/22").broadcast.description, "192.168.7.255")
    }

    func testRefusesBadSubnetsSayingWhatToWrite() {
        func message(_ text: String) -> String {
            do {
                _ = try Subnet(parsing: text)
                return "accepted"
            } catch { return "\(error)" }
        }
        XCTAssertTrue(message("10.88.1.7/24").contains("the network is 10.88.1.0/24"))
        XCTAssertTrue(message("10.88.1.0").contains("such as 10.88.7.0/24"))
        XCTAssertTrue(message("10.88.1.0/31").contains("/16 to /29"))
        XCTAssertTrue(message("10.88.1.0/8").contains("/16 to /29"))
        XCTAssertTrue(message("8.8.8.0/24").contains("private range"))
        XCTAssertTrue(message("10.088.1.0/24").contains("such as"))
        XCTAssertTrue(message("10.256.1.0/24").contains("such as"))
        XCTAssertTrue(message("10.88.1.0/-1").contains("such as"))
        XCTAssertTrue(message("10.88.1.0/24/1").contains("such as"))
    }

    func testOverlap() throws {
        let a = try Subnet(parsing: "10.88.0.0/16")
        let b = try Subnet(parsing: "10.88.5.0/24")
        let c = try Subnet(parsing: "10.89.0.0/24")
        XCTAssertTrue(a.overlaps(b))
        XCTAssertTrue(b.overlaps(a))
        XCTAssertTrue(b.overlaps(b))
        XCTAssertFalse(a.overlaps(c))
        XCTAssertFalse(b.overlaps(try Subnet(parsing: "10.88.6.0/24")))
    }

    func testAFreeSubnetAvoidsEveryTakenOne() throws {
        XCTAssertEqual(AddressPlan.freeSubnet(avoiding: [])?.description, "10.88.1.0/24")
        let taken = [try Subnet(parsing: "10.88.1.0/24"), try Subnet(parsing: "10.88.2.0/23")]
        XCTAssertEqual(AddressPlan.freeSubnet(avoiding: taken)?.description, "10.88.4.0/24")
        XCTAssertNil(AddressPlan.freeSubnet(avoiding: [try Subnet(parsing: "10.88.0.0/16")]))
    }

    func testAddressesGoLowestFirstAndRunOut() throws {
        let subnet = try Subnet(parsing: "10.88.9.0/29")  // .2 to .6
        XCTAssertEqual(AddressPlan.nextAddress(in: subnet, leased: [])?.description, "10.88.9.2")
        let some = ["10.88.9.2", "10.88.9.4"].compactMap(IPv4Address.init)
        XCTAssertEqual(AddressPlan.nextAddress(in: subnet, leased: some)?.description, "10.88.9.3")
        let all = (2...6).compactMap { IPv4Address("10.88.9.\($0)") }
        XCTAssertNil(AddressPlan.nextAddress(in: subnet, leased: all))
        // Twenty containers one after another: twenty distinct addresses.
        var leased: [IPv4Address] = []
        for _ in 0..<20 {
            leased.append(
                try XCTUnwrap(AddressPlan.nextAddress(in: try Subnet(parsing: "10.88.1.0/24"), leased: leased)))
        }
        XCTAssertEqual(Set(leased).count, 20)
    }

    func testHostsFileNamesEveryContainerInAddressOrder() throws {
        let text = HostsFile.render(
            network: "lab", gateway: try XCTUnwrap(IPv4Address("10.88.1.1")),
            entries: [
                ("db", try XCTUnwrap(IPv4Address("10.88.1.10"))), ("web", try XCTUnwrap(IPv4Address("10.88.1.2")))
            ])
        let lines = text.split(separator: "\n").map(String.init)
        XCTAssertEqual(
            Array(lines.dropFirst()),
            [
                "127.0.0.1\tlocalhost", "::1\tlocalhost", "10.88.1.1\tgateway",
                "10.88.1.2\tweb", "10.88.1.10\tdb"
            ])
        XCTAssertTrue(lines[0].hasPrefix("#"))
    }

    func testNames() {
        XCTAssertNoThrow(try ContainerName.validate("web-1"))
        XCTAssertThrowsError(try ContainerName.validate("web_1"))
        XCTAssertThrowsError(try ContainerName.validate("-web"))
        XCTAssertThrowsError(try ContainerName.validate(String(repeating: "a", count: 64)))
        XCTAssertNoThrow(try ContainerName.validateNetwork("lab_2"))
        XCTAssertThrowsError(try ContainerName.validateNetwork("../etc"))
        XCTAssertThrowsError(try ContainerName.validateNetwork(""))
        XCTAssertTrue(Stage6Attachment.newVethName().utf8.count <= 15)
        XCTAssertNotEqual(Stage6Attachment.newVethName(), Stage6Attachment.newVethName())
        XCTAssertNoThrow(try ContainerName.validate(Stage6Attachment.newContainerName()))
    }

    func testTheHostsFileIsBoundReadOnly() {
        let mounts = Stage6Attachment.hostsMounts(hostsPath: "/run/contlab-net/lab/hosts")
        XCTAssertEqual(mounts.map(\.target), ["/etc/hosts", "/etc/hosts"])
        XCTAssertEqual(MountFlags(rawValue: mounts[0].flags), [.bind])
        XCTAssertTrue(MountFlags(rawValue: mounts[1].flags).contains([.remount, .bind, .readOnly]))
    }

    func testRecordsRoundTripAsJSON() throws {
        let record = NetworkRecord(
            name: "lab", subnet: try Subnet(parsing: "10.88.3.0/24"), bridge: "clab0",
            gateway: try XCTUnwrap(IPv4Address("10.88.3.1")), created: "now")
        let data = try JSONEncoder().encode(record)
        XCTAssertTrue(String(decoding: data, as: UTF8.self).contains("\"10.88.3.0\\/24\""))
        XCTAssertEqual(try JSONDecoder().decode(NetworkRecord.self, from: data), record)
    }

    func testALeaseOfAGoneProcessIsStale() {
        let mine = Lease(
            container: "a", address: IPv4Address(1), hostVeth: "v", pid: getpid(),
            started: ProcessStart.of(getpid()) ?? 0)
        XCTAssertTrue(mine.holderAlive)
        var reused = mine
        reused.started += 1  // the same pid, another process
        XCTAssertFalse(reused.holderAlive)
    }
}

/// The wiring as data: what is made on which side, in which order.
final class WiringTests: XCTestCase {
    func testAContainerIsWiredFromTheHostSideThenFromInside() throws {
        let record = NetworkRecord(
            name: "lab", subnet: try Subnet(parsing: "10.88.4.0/24"), bridge: "clab0",
            gateway: try XCTUnwrap(IPv4Address("10.88.4.1")), created: "")
        let lease = Lease(
            container: "web", address: try XCTUnwrap(IPv4Address("10.88.4.2")), hostVeth: "veth0000abcd", pid: 1,
            started: 0)
        let wiring = Wiring.container(record: record, lease: lease, hostVeth: "veth0000abcd", pid: 4242)
        XCTAssertEqual(
            wiring.hostSide.map(\.ipCommand),
            ["ip link add veth0000abcd master clab0 up type veth peer name eth0 netns /proc/4242/ns/net"])
        XCTAssertEqual(
            wiring.container.map(\.ipCommand),
            [
                "ip addr add 10.88.4.2/24 dev eth0", "ip link set eth0 up",
                "ip route add default via 10.88.4.1 dev eth0"
            ])
        XCTAssertEqual(
            Wiring.hostSide(record).map(\.ipCommand),
            [
                "ip link set lo up", "ip link add clab0 type bridge",
                "ip addr add 10.88.4.1/24 dev clab0", "ip link set clab0 up"
            ])
    }
}
