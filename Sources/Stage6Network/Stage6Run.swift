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
/// When the container ends the host end is deleted (which deletes the pair) and the lease given
/// back. If contlab itself is killed, the init dies with it (PR_SET_PDEATHSIG), its namespace
/// with it, and the kernel deletes the veth pair with the namespace; the next lease, ls or
/// inspect drops the lease, whose holder is gone.
public struct Stage6Attachment {
    public var store: NetworkStore
    public var network: String
    public var container: String
    public let hostVeth: String

    public init(store: NetworkStore = NetworkStore(), network: String, container: String) {
        self.store = store
        self.network = network
        self.container = container
        self.hostVeth = Self.newVethName()
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
        [PlannedMount(source: hostsPath, target: "/etc/hosts", fstype: nil, flags: [.bind]),
         PlannedMount(source: nil, target: "/etc/hosts", fstype: nil, flags: [.remount, .bind, .readOnly, .noSUID, .noDev, .noExec])]
    }

    /// Take the lease; the caller must `release` it whatever happens next.
    public func lease() throws -> (NetworkRecord, Lease) {
        try store.lease(network: network, container: container, hostVeth: hostVeth)
    }

    /// Wire the container whose init is `pid` (still waiting): the `beforeRelease` step.
    public func wire(pid: pid_t, record: NetworkRecord, lease: Lease) throws {
        let hostSide = try RouteSocket(namespacePath: store.namespacePath(network), place: "\(network)'s host side")
        let containerNS = "/proc/\(pid)/ns/net"
        let fd = open(containerNS, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw NetworkError.system("open(\"\(containerNS)\")", errno: errno) }
        defer { close(fd) }
        try hostSide.addVeth(hostVeth, master: record.bridge, peerName: "eth0", peerNamespaceFD: fd, peerNamespace: containerNS)
        let inside = try RouteSocket(namespacePath: containerNS, place: "the container")
        try inside.addAddress(lease.address, prefixLength: record.subnet.prefixLength, to: "eth0")
        try inside.setUp("eth0")
        try inside.addDefaultRoute(via: record.gateway, device: "eth0")
    }

    /// Delete the host end (and so the pair) if it is still there, and give the lease back.
    public func release(_ lease: Lease) {
        if let hostSide = try? RouteSocket(namespacePath: store.namespacePath(network), place: "\(network)'s host side") {
            _ = try? hostSide.deleteLink(hostVeth)
        }
        store.release(network: network, lease: lease)
    }
}
