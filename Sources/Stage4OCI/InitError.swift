import ContlabCore
import Foundation

/// Why the init of an OCI container, or a process exec'd into one, could not become what
/// config.json describes. The message leads with the field at fault (`process.user.uid 1000`),
/// then what the kernel said and what to change; the host reports it as create's error.
public enum InitError: Error, CustomStringConvertible, Equatable {
    /// A kernel call made for config.json's `field` failed (the call, the errno and a hint).
    case call(field: String, SystemCallError)
    /// config.json's `field` asks for what cannot be done here; `why` says what to do instead.
    case field(String, String)
    /// A kernel call no one field asked for (entering the container's namespaces to exec).
    case system(SystemCallError)
    /// A message that names its field itself (`root.path /x is no directory …`), or none: the
    /// host gone mid-handshake, the exec helper's own state.
    case message(String)

    public var description: String {
        switch self {
        case .call(let field, let error): return "\(field): \(error)"
        case .field(let field, let why): return "\(field): \(why)"
        case .system(let error): return error.description
        case .message(let text): return text
        }
    }

    /// Runs `body`, the kernel calls made for config.json's `field`: a SystemCallError it throws
    /// becomes `.call` naming the field, with `hint` (or `hints[errno]`, which comes first) added.
    static func on<T>(
        _ field: String, hint: String? = nil, hints: [Int32: String] = [:],
        _ body: () throws -> T
    ) throws -> T {
        do {
            return try body()
        } catch let error as SystemCallError {
            let hint = hints[error.errno] ?? hint ?? error.hint
            throw InitError.call(field: field, SystemCallError(error.call, errno: error.errno, hint: hint))
        }
    }
}
