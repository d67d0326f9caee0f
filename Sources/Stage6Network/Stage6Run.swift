import ContlabCore
import Foundation

/// Stage 6: stage 2's container on a lab network. Lesson: stage6-network.
///
/// Before the container's init may go on, the host (this process) takes an address under the
/// store's lock, makes a veth pair in the network's host side with one end plugged into the
/// bridge and the other made directly in the container's new network namespace as eth0, then,
/// in that namespace, gives eth0 the address and a default route through the bridge's address.
/// The init itself then brings lo up as at stage 2. The container's /etc/hosts is the network's
/// hosts file, bind-mounted read-only and rewritten as containers come and go.
///
/// With `-p`, the host ports are bound in the host side right after the lease (a port in use
/// fails the run before anything else is made), and a `UserlandProxy` forwards them to the
/// container's address once it is wired.
///
/// When the container ends the host end is deleted (which deletes the pair) and the lease given
/// back. If contlab itself is killed, the init dies with it (PR_SET_PDEATHSIG), its namespace
/// with it, and the kernel deletes the veth pair with the namespace; the next lease, ls or
/// inspect drops the lease, whose holder is gone.
public struct Stage6Attachment {
    public var store: NetworkStore
    public var network: String
    public var container: String
    public let hostVeth: String
    /// The `-p` ports.
    public var ports: [PortMapping]

    public init(store: NetworkStore = NetworkStore(), network: String, container: String, ports: [PortMapping] = []) {
        self.store = store
        self.network = network
        self.container = container
        self.hostVeth = Self.newVethName()
        self.ports = ports
    }

    /// "veth" and 8 random hex digits: 12 of the 15 characters an interface name may have
    /// (IFNAMSIZ), private to this run.
    public static func newVethName() -> String {
        "veth" + String(format: "%08x", UInt32.random(in: 0...UInt32.max))
    }

    /// A container name when --name is not given: "c-" and 6 hex digits.
    public static func newContainerName() -> String {
        "c-" + String(format: "%06x", UInt32.random(in: 0...0xffffff))
    }

    /// The hosts file mount the plan gets: bound, then made read-only (a bind mount takes
    /// MS_RDONLY only on a remount).
    public static func hostsMounts(hostsPath: String) -> [PlannedMount] {
        [
            PlannedMount(source: hostsPath, target: "/etc/hosts", fstype: nil, flags: [.bind]),
            PlannedMount(
                source: nil, target: "/etc/hosts", fstype: nil,
                flags: [.remount, .bind, .readOnly, .noSUID, .noDev, .noExec])
        ]
    }

    /// Take the lease; the caller must `release` it whatever happens next.
    public func lease() throws -> (NetworkRecord, Lease) {
        try store.lease(network: network, container: container, hostVeth: hostVeth, ports: ports)
    }

    /// The `-p` ports bound in the host side (nil without -p); the caller must `stop` the proxy
    /// when the container has ended, and `start` it once the container is wired.
    public func publish() throws -> UserlandProxy? {
        guard !ports.isEmpty else { return nil }
        return try UserlandProxy.listen(ports, network: network, namespacePath: store.namespacePath(network))
    }

    /// Wire the container whose init is `pid` (still waiting): the `beforeRelease` step.
    public func wire(pid: pid_t, record: NetworkRecord, lease: Lease) throws {
        let wiring = Wiring.container(record: record, lease: lease, hostVeth: hostVeth, pid: pid)
        let containerNS = "/proc/\(pid)/ns/net"
        let fd = open(containerNS, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw NetworkError.system("open(\"\(containerNS)\")", errno: errno) }
        defer { close(fd) }
        let hostSide = try RouteSocket(namespacePath: store.namespacePath(network), place: "\(network)'s host side")
        for step in wiring.hostSide { try hostSide.apply(step, peerNamespaceFD: fd) }
        let inside = try RouteSocket(namespacePath: containerNS, place: "the container")
        for step in wiring.container { try inside.apply(step, peerNamespaceFD: nil) }
    }

    /// Delete the host end (and so the pair) if it is still there, and give the lease back.
    public func release(_ lease: Lease) {
        if let hostSide = try? RouteSocket(namespacePath: store.namespacePath(network), place: "\(network)'s host side")
        {
            _ = try? hostSide.deleteLink(hostVeth)
        }
        store.release(network: network, lease: lease)
    }
}

/// What is made where, as data: the steps `network create` and a stage-6 run take, in order, on
/// each side. Pure; `RouteSocket.apply` carries them out. Lesson: stage6-network.
public enum LinkStep: Equatable, Sendable {
    /// `ip link add NAME type bridge`
    case addBridge(String)
    /// `ip link add NAME master MASTER up type veth peer name PEER netns NS`
    case addVeth(name: String, master: String, peer: String, peerNamespace: String)
    /// `ip addr add ADDRESS/PREFIX dev DEVICE`
    case addAddress(IPv4Address, prefixLength: Int, device: String)
    /// `ip link set DEVICE up`
    case setUp(String)
    /// `ip route add default via GATEWAY dev DEVICE`
    case defaultRoute(via: IPv4Address, device: String)

    /// The `ip` command that does the same, for the walk-through and the lesson.
    public var ipCommand: String {
        switch self {
        case .addBridge(let name): return "ip link add \(name) type bridge"
        case .addVeth(let name, let master, let peer, let ns):
            return "ip link add \(name) master \(master) up type veth peer name \(peer) netns \(ns)"
        case .addAddress(let address, let length, let device): return "ip addr add \(address)/\(length) dev \(device)"
        case .setUp(let device): return "ip link set \(device) up"
        case .defaultRoute(let gateway, let device): return "ip route add default via \(gateway) dev \(device)"
        }
    }
}

public enum Wiring {
    /// A network's host side: lo up, the bridge, its gateway address, the bridge up.
    public static func hostSide(_ record: NetworkRecord) -> [LinkStep] {
        [
            .setUp("lo"), .addBridge(record.bridge),
            .addAddress(record.gateway, prefixLength: record.subnet.prefixLength, device: record.bridge),
            .setUp(record.bridge)
        ]
    }

    /// A container: the veth pair from the host side (its peer made in the container's
    /// namespace as eth0), then, inside, the address, eth0 up and the default route. The init
    /// brings lo up itself, as at stage 2.
    public static func container(record: NetworkRecord, lease: Lease, hostVeth: String, pid: pid_t)
        -> (hostSide: [LinkStep], container: [LinkStep])
    {
        (
            [.addVeth(name: hostVeth, master: record.bridge, peer: "eth0", peerNamespace: "/proc/\(pid)/ns/net")],
            [
                .addAddress(lease.address, prefixLength: record.subnet.prefixLength, device: "eth0"), .setUp("eth0"),
                .defaultRoute(via: record.gateway, device: "eth0")
            ]
        )
    }
}
