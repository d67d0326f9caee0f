import CLinux
import CNetlink
import ContlabCore
import Foundation

/// A NETLINK_ROUTE socket in one network namespace, through libnl-route-3: what `ip link`,
/// `ip addr` and `ip route` speak to the kernel. Lesson: stage6-network.
///
/// A netlink socket talks to the namespace it was made in, for its whole life, so the socket is
/// opened while this thread is in the namespace (setns) and the thread goes back at once. Only
/// the calling thread moves (setns(CLONE_NEWNET) is per thread), and only for that moment.
/// Every message is recorded in `CallRecord` in C notation, for --explain.
public final class RouteSocket {
    let socket: OpaquePointer
    /// How the record names this socket's namespace ("lab's host side", "the container").
    public let place: String

    /// A socket in the namespace bound at `path` (or /proc/PID/ns/net), named `place`.
    public init(namespacePath path: String, place: String) throws {
        self.place = place
        guard let socket = nl_socket_alloc() else { throw NetworkError.system("nl_socket_alloc()", errno: ENOMEM) }
        self.socket = socket
        do {
            try InNetworkNamespace.run(path: path) {
                CallRecord.shared.note("socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE) in \(place)")
                let rc = nl_connect(socket, NETLINK_ROUTE)
                if rc < 0 { throw Self.failure("socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE)", rc) }
            }
        } catch {
            nl_socket_free(socket)
            throw error
        }
    }

    deinit { nl_socket_free(socket) }

    static func failure(_ call: String, _ code: Int32, kind: String? = nil) -> NetworkError {
        var hint: String?
        if let kind, code == -NLE_OPNOTSUPP {
            // The kernel answers EOPNOTSUPP for a link kind it has no driver for.
            hint =
                "this kernel has no \(kind) driver loaded: load it with modprobe \(kind) (CONFIG_\(kind.uppercased()))"
        }
        return .netlink(call: call, code: -code, message: String(cString: nl_geterror(code)), hint: hint)
    }

    func note(_ call: String) { CallRecord.shared.note("\(call) in \(place)") }

    /// Carry out one step; `peerNamespaceFD` is the open namespace a veth's peer goes to.
    public func apply(_ step: LinkStep, peerNamespaceFD: Int32?) throws {
        switch step {
        case .addBridge(let name): try addBridge(name)
        case .addVeth(let name, let master, let peer, let namespace):
            guard let peerNamespaceFD else { throw NetworkError.system("open(\"\(namespace)\")", errno: EBADF) }
            try addVeth(
                name, master: master, peerName: peer, peerNamespaceFD: peerNamespaceFD, peerNamespace: namespace)
        case .addAddress(let address, let length, let device): try addAddress(address, prefixLength: length, to: device)
        case .setUp(let device): try setUp(device)
        case .defaultRoute(let gateway, let device): try addDefaultRoute(via: gateway, device: device)
        }
    }

    /// The index of interface `name` (RTM_GETLINK), or nil when there is none.
    public func index(of name: String) throws -> Int32? {
        var link: OpaquePointer?
        let rc = rtnl_link_get_kernel(socket, 0, name, &link)
        if rc == -NLE_OBJ_NOTFOUND || rc == -NLE_NODEV { return nil }
        if rc < 0 { throw Self.failure("RTM_GETLINK \"\(name)\"", rc) }
        defer { rtnl_link_put(link) }
        return rtnl_link_get_ifindex(link)
    }

    func requireIndex(of name: String) throws -> Int32 {
        guard let index = try index(of: name) else {
            throw NetworkError.netlink(
                call: "RTM_GETLINK \"\(name)\"", code: NLE_OBJ_NOTFOUND, message: "no such interface", hint: nil)
        }
        return index
    }

    /// RTM_NEWLINK of kind "bridge": the virtual switch every container's veth plugs into.
    public func addBridge(_ name: String) throws {
        let call =
            "sendmsg(RTM_NEWLINK, NLM_F_CREATE|NLM_F_EXCL, {IFLA_IFNAME \"\(name)\", IFLA_LINKINFO "
            + "{IFLA_INFO_KIND \"bridge\"}})"
        note(call)
        let rc = rtnl_link_bridge_add(socket, name)
        if rc < 0 { throw Self.failure(call, rc, kind: "bridge") }
    }

    /// RTM_NEWLINK of kind "veth": `name` here, plugged into `master` (IFLA_MASTER) and up, and
    /// its peer made directly in the namespace open at `peerNamespaceFD` (IFLA_NET_NS_FD) as
    /// `peerName`, so the peer's name never has to be free in this namespace.
    public func addVeth(_ name: String, master: String, peerName: String, peerNamespaceFD: Int32, peerNamespace: String)
        throws
    {
        let masterIndex = try requireIndex(of: master)
        let call =
            "sendmsg(RTM_NEWLINK, NLM_F_CREATE|NLM_F_EXCL, {IFLA_IFNAME \"\(name)\", IFLA_MASTER \(masterIndex) "
            + "(\(master)), "
            + "ifi_flags IFF_UP, IFLA_LINKINFO {IFLA_INFO_KIND \"veth\", VETH_INFO_PEER {IFLA_IFNAME \"\(peerName)\", "
            + "IFLA_NET_NS_FD open(\"\(peerNamespace)\")}}})"
        note(call)
        guard let link = rtnl_link_veth_alloc() else {
            throw NetworkError.system("rtnl_link_veth_alloc()", errno: ENOMEM)
        }
        defer { rtnl_link_put(link) }
        rtnl_link_set_name(link, name)
        rtnl_link_set_master(link, masterIndex)
        rtnl_link_set_flags(link, UInt32(IFF_UP))
        let peer = rtnl_link_veth_get_peer(link)
        rtnl_link_set_name(peer, peerName)
        rtnl_link_set_ns_fd(peer, peerNamespaceFD)
        rtnl_link_put(peer)
        let rc = rtnl_link_add(socket, link, NLM_F_CREATE | NLM_F_EXCL)
        if rc < 0 { throw Self.failure(call, rc, kind: "veth") }
    }

    /// RTM_NEWLINK on an existing interface with IFF_UP: `ip link set NAME up`.
    public func setUp(_ name: String) throws {
        let index = try requireIndex(of: name)
        let call = "sendmsg(RTM_NEWLINK, 0, {ifi_index \(index) (\(name)), ifi_flags IFF_UP, ifi_change IFF_UP})"
        note(call)
        var current: OpaquePointer?
        var rc = rtnl_link_get_kernel(socket, index, nil, &current)
        if rc < 0 { throw Self.failure(call, rc) }
        defer { rtnl_link_put(current) }
        guard let change = rtnl_link_alloc() else { throw NetworkError.system("rtnl_link_alloc()", errno: ENOMEM) }
        defer { rtnl_link_put(change) }
        rtnl_link_set_flags(change, UInt32(IFF_UP))
        rc = rtnl_link_change(socket, current, change, 0)
        if rc < 0 { throw Self.failure(call, rc) }
    }

    /// RTM_NEWADDR: `ip addr add ADDRESS/PREFIX dev NAME`.
    public func addAddress(_ address: IPv4Address, prefixLength: Int, to name: String) throws {
        let index = try requireIndex(of: name)
        let call =
            "sendmsg(RTM_NEWADDR, NLM_F_CREATE|NLM_F_EXCL, {ifa_family AF_INET, ifa_prefixlen \(prefixLength), "
            + "ifa_index \(index) (\(name)), IFA_LOCAL \(address)})"
        note(call)
        guard let addr = rtnl_addr_alloc() else { throw NetworkError.system("rtnl_addr_alloc()", errno: ENOMEM) }
        defer { rtnl_addr_put(addr) }
        var local: OpaquePointer?
        var rc = nl_addr_parse("\(address)/\(prefixLength)", AF_INET, &local)
        if rc < 0 { throw Self.failure(call, rc) }
        defer { nl_addr_put(local) }
        rtnl_addr_set_ifindex(addr, index)
        rc = rtnl_addr_set_local(addr, local)
        if rc < 0 { throw Self.failure(call, rc) }
        rc = rtnl_addr_add(socket, addr, 0)
        if rc < 0 { throw Self.failure(call, rc) }
    }

    /// RTM_NEWROUTE: `ip route add default via GATEWAY dev NAME`.
    public func addDefaultRoute(via gateway: IPv4Address, device name: String) throws {
        let index = try requireIndex(of: name)
        let call =
            "sendmsg(RTM_NEWROUTE, NLM_F_CREATE|NLM_F_EXCL, {rtm_family AF_INET, rtm_dst_len 0, rtm_table "
            + "RT_TABLE_MAIN, "
            + "RTA_GATEWAY \(gateway), RTA_OIF \(index) (\(name))})"
        note(call)
        guard let route = rtnl_route_alloc(), let hop = rtnl_route_nh_alloc() else {
            throw NetworkError.system("rtnl_route_alloc()", errno: ENOMEM)
        }
        defer { rtnl_route_put(route) }
        var destination: OpaquePointer?
        var via: OpaquePointer?
        var rc = nl_addr_parse("0.0.0.0/0", AF_INET, &destination)
        if rc < 0 { throw Self.failure(call, rc) }
        defer { nl_addr_put(destination) }
        rc = nl_addr_parse("\(gateway)", AF_INET, &via)
        if rc < 0 { throw Self.failure(call, rc) }
        defer { nl_addr_put(via) }
        rtnl_route_set_family(route, UInt8(AF_INET))
        rc = rtnl_route_set_dst(route, destination)
        if rc < 0 { throw Self.failure(call, rc) }
        rtnl_route_set_table(route, UInt32(RT_TABLE_MAIN.rawValue))
        rtnl_route_nh_set_gateway(hop, via)
        rtnl_route_nh_set_ifindex(hop, index)
        rtnl_route_add_nexthop(route, hop)  // the route owns the hop from here
        rc = rtnl_route_add(socket, route, NLM_F_EXCL)
        if rc < 0 { throw Self.failure(call, rc) }
    }

    /// RTM_DELLINK: `ip link del NAME`. Deleting one end of a veth pair deletes both. Returns
    /// false when there was no such interface (the kernel removed the pair with the container's
    /// namespace already).
    @discardableResult
    public func deleteLink(_ name: String) throws -> Bool {
        guard let index = try index(of: name) else { return false }
        let call = "sendmsg(RTM_DELLINK, 0, {ifi_index \(index) (\(name))})"
        note(call)
        guard let link = rtnl_link_alloc() else { throw NetworkError.system("rtnl_link_alloc()", errno: ENOMEM) }
        defer { rtnl_link_put(link) }
        rtnl_link_set_ifindex(link, index)
        let rc = rtnl_link_delete(socket, link)
        if rc == -NLE_NODEV || rc == -NLE_OBJ_NOTFOUND { return false }
        if rc < 0 { throw Self.failure(call, rc) }
        return true
    }
}

/// Running code with this thread in another network namespace, and back.
public enum InNetworkNamespace {
    /// setns(2) into the namespace bound at `path`, run `body`, setns back to where the thread
    /// was. If the way back fails the process must not go on in the wrong namespace: it exits.
    public static func run<T>(path: String, _ body: () throws -> T) throws -> T {
        let home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)
        guard home >= 0 else { throw NetworkError.system("open(\"/proc/thread-self/ns/net\")", errno: errno) }
        defer { close(home) }
        let target = open(path, O_RDONLY | O_CLOEXEC)
        guard target >= 0 else { throw NetworkError.system("open(\"\(path)\")", errno: errno) }
        defer { close(target) }
        CallRecord.shared.note("setns(open(\"\(path)\"), CLONE_NEWNET)")
        let rc = cl_setns(target, Int32(CL_CLONE_NEWNET))
        if rc != 0 { throw NetworkError.system("setns(\"\(path)\", CLONE_NEWNET)", errno: -rc) }
        defer { HostSide.returnTo(home) }
        return try body()
    }
}
