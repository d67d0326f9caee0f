import CLinux
import ContlabCore
import Foundation
import OCI

/// The host's side of SCMP_ACT_NOTIFY (runtime-spec config-linux.md "seccomp"): the process that
/// loaded the filter sends the notification descriptor here over its unix socket to the host;
/// the runtime connects to the agent at linux.seccomp.listenerPath and sends it the container
/// process state with the descriptor attached, then closes its own copy, so that the agent holds
/// the only one (when the agent ends, notified calls fail with ENOSYS instead of hanging).
enum SeccompAgent {
    /// The line that announces the descriptor sent with it.
    static let line = "seccomp"

    /// The process side: the announcement and the descriptor in one message.
    static func sendListener(_ fd: Int32, over socket: Int32) throws {
        let bytes = Array((line + "\n").utf8)
        let rc = bytes.withUnsafeBytes { cl_send_bytes_with_fd(socket, $0.baseAddress, $0.count, fd) }
        if rc != 0 { throw SystemCallError("sendmsg(the seccomp notification descriptor to the runtime)", errno: -rc) }
    }

    /// The host side: hand `fd` and `message` to the agent; `fd` is closed whatever happens.
    static func handOver(_ fd: Int32, listenerPath: String, message: ContainerProcessState) throws {
        defer { close(fd) }
        let json = try message.json()
        let socket = try connect(listenerPath)
        defer { close(socket) }
        let rc = json.withUnsafeBytes { cl_send_bytes_with_fd(socket, $0.baseAddress, $0.count, fd) }
        if rc != 0 {
            let why = "\(String(cString: strerror(-rc))) (\(Errno.name(-rc)))"
            throw RuntimeError.seccompAgent(
                listenerPath,
                "cannot send the seccomp descriptor to the agent: \(why);"
                    + " did it close the connection?")
        }
    }

    /// A connection to the agent's socket. Only a path: an abstract name (`@…`) is no file, and
    /// the spec calls listenerPath a path; it is refused where connect finds nothing.
    static func connect(_ path: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        if fd < 0 { throw SystemCallError("socket(AF_UNIX) for the seccomp agent", errno: errno) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(fd)
            throw RuntimeError.seccompAgent(
                path,
                "too long for a unix socket address (108 bytes): give the agent a"
                    + " shorter path")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        if rc != 0 {
            let why = errno
            close(fd)
            let hint =
                why == ENOENT
                ? "no socket there: start the seccomp agent first, or correct the path"
                : why == ECONNREFUSED
                    ? "nothing listens there: is the seccomp agent running?"
                    : "check that the seccomp agent listens there"
            throw RuntimeError.seccompAgent(
                path,
                "failed to connect with seccomp agent:"
                    + " \(String(cString: strerror(why))) (\(Errno.name(why))); \(hint)")
        }
        return fd
    }
}

/// Lines from a process at the other end of a unix socket, and the descriptors that came with
/// them (SCM_RIGHTS), in order. A plain read(2) would drop such descriptors.
struct ProcessReport {
    let fd: Int32
    private var buffer: [UInt8] = []
    private(set) var descriptors: [Int32] = []

    init(fd: Int32) { self.fd = fd }

    /// The next line, or nil at the end (the last copy of the other end closed: an exec or an exit).
    mutating func nextLine() -> String? {
        var chunk = [UInt8](repeating: 0, count: 4096)
        var received = [Int32](repeating: -1, count: 8)
        while true {
            if let newline = buffer.firstIndex(of: 10) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                return line
            }
            var count: Int32 = 0
            let n = chunk.withUnsafeMutableBytes { bytes in
                received.withUnsafeMutableBufferPointer {
                    cl_recv_bytes_and_fds(fd, bytes.baseAddress, bytes.count, $0.baseAddress, Int32($0.count), &count)
                }
            }
            descriptors += received[0..<Int(count)]
            if n <= 0 { return nil }
            buffer += chunk[0..<n]
        }
    }

    /// The oldest descriptor received and not yet taken.
    mutating func takeDescriptor() -> Int32? { descriptors.isEmpty ? nil : descriptors.removeFirst() }

    /// Close what was received and not taken.
    mutating func closeDescriptors() {
        descriptors.forEach { close($0) }
        descriptors = []
    }
}
