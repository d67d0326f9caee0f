import ContlabCore
import Foundation
import XCTest

@testable import Stage6Network

/// `-p HOSTPORT:CONTAINERPORT`: what is accepted, and what each refusal tells the student to type.
final class PortMappingTests: XCTestCase {
    func message(_ specs: [String]) -> String {
        do {
            return "accepted \(try PortMapping.parseAll(specs))"
        } catch { return "\(error)" }
    }

    func testParsesDockersShortForm() throws {
        XCTAssertEqual(try PortMapping(parsing: "8080:80"), PortMapping(hostPort: 8080, containerPort: 80))
        XCTAssertEqual(try PortMapping(parsing: "1:65535/tcp"), PortMapping(hostPort: 1, containerPort: 65535))
        XCTAssertEqual(try PortMapping.parseAll(["8080:80", "8443:443"]).map(\.description), ["8080:80", "8443:443"])
    }

    func testRefusesMalformedSpecsNamingTheForm() {
        for spec in ["80", "8080:", ":80", "8080:80:90x", "a:80", "80:8o", "+80:80", " 80:80", "8080-8081:80"] {
            let text = message([spec])
            XCTAssertTrue(text.hasPrefix("-p \(spec): "), text)
            XCTAssertTrue(text.contains("HOSTPORT:CONTAINERPORT") || text.contains("leave the address out"), text)
        }
    }

    func testRefusesPortsOutOfRange() {
        for spec in ["0:80", "8080:0", "65536:80", "8080:99999999999999999999"] {
            XCTAssertTrue(message([spec]).contains("out of range: a TCP port is 1 to 65535"), message([spec]))
        }
    }

    func testRefusesAnAddressUDPAndAHostPortTwice() {
        XCTAssertTrue(message(["127.0.0.1:8080:80"]).contains("leave the address out: -p 8080:80"))
        XCTAssertTrue(message(["8080:80/udp"]).contains("only TCP is published"))
        XCTAssertTrue(message(["8080:80", "8080:81"]).contains("-p 8080:80 publishes host port 8080 already"))
    }

    func testALeaseWithoutPortsReadsAsBeforeAndPortsRoundTrip() throws {
        let old = #"{"container":"web","address":"10.88.1.2","hostVeth":"veth01234567","pid":7,"started":9}"#
        XCTAssertNil(try JSONDecoder().decode(Lease.self, from: Data(old.utf8)).ports)
        var lease = try JSONDecoder().decode(Lease.self, from: Data(old.utf8))
        lease.ports = [PortMapping(hostPort: 8080, containerPort: 80)]
        let text = String(decoding: try JSONEncoder().encode(lease), as: UTF8.self)
        XCTAssertTrue(text.contains(#""ports":["8080:80"]"#), text)
        XCTAssertEqual(try JSONDecoder().decode(Lease.self, from: Data(text.utf8)), lease)
    }

    func testPortInUseNamesTheHolderOrTheShellToLookWith() {
        let mapping = PortMapping(hostPort: 8080, containerPort: 80)
        let held = NetworkError.portInUse(mapping, network: "lab", holder: "web").description
        XCTAssertTrue(held.contains("published by container web") && held.contains("choose another HOSTPORT"), held)
        let other = NetworkError.portInUse(mapping, network: "lab", holder: nil).description
        XCTAssertTrue(other.contains("contlab network shell lab -- ss -ltn"), other)
    }
}
