import Foundation

/// A system call that failed: which call, on what, the errno, and what a student can do about it.
public struct SystemCallError: Error, CustomStringConvertible, Equatable {
    public let call: String
    public let errno: Int32
    public let hint: String?

    public init(_ call: String, errno: Int32, hint: String? = nil) {
        self.call = call
        self.errno = errno
        self.hint = hint
    }

    public var errnoName: String { Errno.name(errno) }

    public var description: String {
        var text = "\(call) failed: \(String(cString: strerror(errno))) (\(errnoName))"
        if let hint { text += " — \(hint)" }
        return text
    }
}

public enum Errno {
    /// The symbolic name of an errno value, for messages people can search for.
    public static func name(_ value: Int32) -> String {
        switch value {
        case EPERM: return "EPERM"
        case ENOENT: return "ENOENT"
        case ESRCH: return "ESRCH"
        case EINTR: return "EINTR"
        case EIO: return "EIO"
        case E2BIG: return "E2BIG"
        case ENOEXEC: return "ENOEXEC"
        case EBADF: return "EBADF"
        case ECHILD: return "ECHILD"
        case EAGAIN: return "EAGAIN"
        case ENOMEM: return "ENOMEM"
        case EACCES: return "EACCES"
        case EFAULT: return "EFAULT"
        case EBUSY: return "EBUSY"
        case EEXIST: return "EEXIST"
        case EXDEV: return "EXDEV"
        case ENODEV: return "ENODEV"
        case ENOTDIR: return "ENOTDIR"
        case EISDIR: return "EISDIR"
        case EINVAL: return "EINVAL"
        case ENOSPC: return "ENOSPC"
        case EROFS: return "EROFS"
        case ENOSYS: return "ENOSYS"
        case ELOOP: return "ELOOP"
        case ENAMETOOLONG: return "ENAMETOOLONG"
        case EOPNOTSUPP: return "EOPNOTSUPP"
        case EUSERS: return "EUSERS"
        default: return "errno \(value)"
        }
    }
}
