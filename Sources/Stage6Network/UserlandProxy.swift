import CLinux
import ContlabCore
import Foundation

/// `-p HOSTPORT:CONTAINERPORT`: a TCP forwarder in the `contlab run` process, listening in the
/// network's host side and copying each connection to the container's address. It is what
/// Docker's `docker-proxy` (its "userland proxy") does for every published port. Lesson:
/// stage6-network.
///
/// Why a forwarder and not a DNAT rule (what Docker adds beside it, and CNI's portmap plugin
/// instead): a rule outlives the process that wrote it, so a `contlab run` killed with SIGKILL
/// would leave it behind, and a rule needs iptables or nft on the machine. The forwarder's
/// listening socket belongs to this process: bind(2) itself refuses a port in use (EADDRINUSE),
/// and however contlab ends, the kernel closes the socket and the port is free again. Packets to
/// 127.0.0.1 are also never routed out of `lo`, so DNAT from there needs `route_localnet` and
/// a masquerade rule as well.
///
/// Listening on 0.0.0.0 in the host side means 127.0.0.1 and the bridge's address there, the only
/// addresses that namespace has: the host's own interfaces are in another namespace and never
/// see the port. The container sees connections come from the bridge's address (the gateway).
public final class UserlandProxy: @unchecked Sendable {
    public let network: String
    let namespacePath: String
    let listeners: [(mapping: PortMapping, fd: Int32)]
    /// Written once by `stop` and never read: from then on every `poll` in every thread of the
    /// proxy sees it readable, so one byte tells them all to end.
    let stopPipe: (read: Int32, write: Int32)
    let acceptLoop = DispatchGroup()
    let connections = DispatchGroup()

    init(network: String, namespacePath: String, listeners: [(PortMapping, Int32)], stopPipe: (Int32, Int32)) {
        self.network = network
        self.namespacePath = namespacePath
        self.listeners = listeners.map { (mapping: $0.0, fd: $0.1) }
        self.stopPipe = (read: stopPipe.0, write: stopPipe.1)
    }

    /// Bind and listen on each host port in the host side bound at `namespacePath` (the sockets
    /// are made while this thread is there, and stay in that namespace for their life). Nothing
    /// is left open if one port cannot be had.
    public static func listen(_ ports: [PortMapping], network: String, namespacePath: String) throws -> UserlandProxy {
        var made: [(PortMapping, Int32)] = []
        var pipe: [Int32] = [-1, -1]
        do {
            try InNetworkNamespace.run(path: namespacePath) {
                for mapping in ports {
                    made.append((mapping, try listener(mapping, network: network)))
                }
            }
            let rc = cl_pipe2(&pipe, O_CLOEXEC)
            guard rc == 0 else { throw NetworkError.system("pipe2(O_CLOEXEC)", errno: -rc) }
        } catch {
            for (_, fd) in made { close(fd) }
            throw error
        }
        return UserlandProxy(
            network: network, namespacePath: namespacePath, listeners: made, stopPipe: (pipe[0], pipe[1]))
    }

    static func listener(_ mapping: PortMapping, network: String) throws -> Int32 {
        let socketCall = "socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, 0)"
        CallRecord.shared.note(socketCall + " in \(network)'s host side")
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw NetworkError.system(socketCall, errno: errno) }
        // SO_REUSEADDR: a port a container just stopped publishing is free at once, even while
        // its last connections wait in TIME_WAIT (a listener on the port is still refused).
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = mapping.hostPort.bigEndian
        address.sin_addr.s_addr = 0  // INADDR_ANY: lo and the bridge, in this namespace
        let bindCall = "bind(\(fd), {AF_INET, 0.0.0.0:\(mapping.hostPort)})"
        CallRecord.shared.note(bindCall)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if bound != 0 {
            let code = errno
            close(fd)
            if code == EADDRINUSE { throw NetworkError.portInUse(mapping, network: network, holder: nil) }
            throw NetworkError.system(bindCall, errno: code)
        }
        CallRecord.shared.note("listen(\(fd), 128)")
        guard Glibc.listen(fd, 128) == 0 else {
            let code = errno
            close(fd)
            throw NetworkError.system("listen(\(fd), 128)", errno: code)
        }
        return fd
    }

    /// Start forwarding to the container at `address`: one thread accepts, one per connection
    /// copies. The accepting thread enters the host side for good (setns is per thread, and a
    /// new thread starts in the namespaces of the thread that made it), so the sockets that
    /// reach the container are made where the bridge is.
    public func start(forwardingTo address: IPv4Address) {
        CallRecord.shared.note(
            "a forwarding thread: setns(open(\"\(namespacePath)\"), CLONE_NEWNET), then accept() and connect() to "
                + listeners.map { "\(address):\($0.mapping.containerPort)" }.joined(separator: ", "))
        acceptLoop.enter()
        let thread = Thread { [self] in
            defer { acceptLoop.leave() }
            let target = open(namespacePath, O_RDONLY | O_CLOEXEC)
            guard target >= 0, cl_setns(target, Int32(CL_CLONE_NEWNET)) == 0 else {
                Sys.warn("contlab: -p: cannot enter \(network)'s host side (\(namespacePath)); no port is forwarded")
                if target >= 0 { close(target) }
                return
            }
            close(target)
            acceptConnections(forwardingTo: address)
        }
        thread.start()
    }

    func acceptConnections(forwardingTo address: IPv4Address) {
        var fds = listeners.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
        fds.append(pollfd(fd: stopPipe.read, events: Int16(POLLIN), revents: 0))
        while true {
            if poll(&fds, nfds_t(fds.count), -1) < 0 {
                if errno == EINTR { continue }
                return
            }
            if fds[fds.count - 1].revents != 0 { return }
            for (index, listener) in listeners.enumerated() where fds[index].revents & Int16(POLLIN) != 0 {
                let client = accept(listener.fd, nil, nil)
                if client < 0 {
                    // Out of descriptors: wait a moment rather than spin on a listener poll keeps
                    // calling ready.
                    if errno == EMFILE || errno == ENFILE { usleep(100_000) }
                    continue
                }
                // No exec follows in this process, but no descriptor of ours should reach one.
                _ = fcntl(client, F_SETFD, FD_CLOEXEC)
                let port = listener.mapping.containerPort
                connections.enter()
                Thread { [self] in
                    defer { connections.leave() }
                    forward(client, to: address, port: port)
                }.start()
            }
        }
    }

    /// One connection: a socket to the container's port, then bytes both ways until both sides
    /// have finished sending (each end's EOF passed on as shutdown(SHUT_WR), so a client that
    /// half-closes still gets its answer). A container that does not listen gets the client's
    /// connection closed, as docker-proxy does.
    func forward(_ client: Int32, to address: IPv4Address, port: UInt16) {
        defer { close(client) }
        let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard upstream >= 0 else { return }
        defer { close(upstream) }
        var target = sockaddr_in()
        target.sin_family = sa_family_t(AF_INET)
        target.sin_port = port.bigEndian
        target.sin_addr.s_addr = address.value.bigEndian
        let connected = withUnsafePointer(to: &target) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { return }
        let ends = [client, upstream]
        var reading = [true, true]
        var fds = [
            pollfd(fd: client, events: Int16(POLLIN), revents: 0),
            pollfd(fd: upstream, events: Int16(POLLIN), revents: 0),
            pollfd(fd: stopPipe.read, events: Int16(POLLIN), revents: 0)
        ]
        var buffer = [UInt8](repeating: 0, count: 65536)
        while reading[0] || reading[1] {
            if poll(&fds, nfds_t(fds.count), -1) < 0 {
                if errno == EINTR { continue }
                return
            }
            if fds[2].revents != 0 { return }
            for side in 0..<2 where reading[side] && fds[side].revents != 0 {
                let count = read(ends[side], &buffer, buffer.count)
                if count > 0 {
                    guard Self.sendAll(ends[1 - side], buffer, count) else { return }
                } else if count == 0 {
                    reading[side] = false
                    fds[side].fd = -1  // poll skips it, rather than report its hang-up again and again
                    _ = shutdown(ends[1 - side], Int32(SHUT_WR))
                } else if errno != EINTR && errno != EAGAIN {
                    return  // reset: closing both ends passes it on
                }
            }
        }
    }

    /// send(2) with MSG_NOSIGNAL: a peer gone away is an error here, not a SIGPIPE that would end
    /// contlab (and with it the container).
    static func sendAll(_ fd: Int32, _ buffer: [UInt8], _ count: Int) -> Bool {
        var sent = 0
        while sent < count {
            let n = buffer.withUnsafeBytes { send(fd, $0.baseAddress! + sent, count - sent, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            sent += n
        }
        return true
    }

    /// Stop: every thread told to end, the listeners closed, so the ports are free when the
    /// container has gone. (If contlab is killed instead, the kernel closes them all.)
    public func stop() {
        var byte: UInt8 = 1
        _ = write(stopPipe.write, &byte, 1)
        _ = acceptLoop.wait(timeout: .now() + 2)
        _ = connections.wait(timeout: .now() + 2)
        for listener in listeners { close(listener.fd) }
        // The pipe stays open: a connection thread stuck in a send may still poll it, and the
        // process ends right after the container.
    }
}
