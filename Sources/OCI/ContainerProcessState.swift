import Foundation

/// runtime-spec's "container process state" (runtime.md): what the runtime sends a seccomp agent
/// at linux.seccomp.listenerPath, with the descriptors that `fds` names attached to the same
/// message (SCM_RIGHTS), in the same order.
public struct ContainerProcessState: Codable, Equatable, Sendable {
    /// The name runtime-spec gives the filter's notification descriptor in `fds`.
    public static let seccompFdName = "seccompFd"

    public var ociVersion: String
    public var fds: [String]
    /// The process the filter was loaded for, as the host numbers it (the init, or an exec'd one).
    public var pid: Int32
    public var metadata: String?
    public var state: ContainerState

    /// The message for one notification descriptor: the filter of process `pid`, in the
    /// container whose state is `state` ("creating" for the init, "running" for an exec).
    public init(pid: Int32, seccomp: Spec.Seccomp, state: ContainerState) {
        ociVersion = DefaultSpec.ociVersion
        fds = [Self.seccompFdName]
        self.pid = pid
        metadata = seccomp.listenerMetadata
        self.state = state
    }

    /// The JSON sent, keys sorted so the bytes are the same each time.
    public func json() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self))
    }
}
