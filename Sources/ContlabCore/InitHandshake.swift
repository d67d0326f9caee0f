import CLinux
import Foundation

/// How the host hands a container's init its plan, and what every init does with it first.
///
/// The host never runs Swift code in a forked child: `clone` execs `/proc/self/exe` at once (as
/// runc's `nsexec` does), so the init is a fresh process that knows nothing. The plan reaches it
/// in a memfd named by an environment variable; the init reads it, closes the descriptor and
/// unsets the variable (so neither reaches the container's process), and decodes it. An init
/// with no plan, or one it cannot read, exits 125: `docker run`'s code for "could not set up".
public enum InitHandshake {
    /// The init's own failure, before the command runs (as `docker run` uses it).
    public static let setupFailed: Int32 = 125

    /// The plan the host handed over under `key`, decoded. Someone who types the init's
    /// argument by hand gets `usage` and exit code 125.
    public static func receive<Plan>(key: String, usage: String, decode: (String) throws -> Plan) -> Plan {
        guard let text = PlanHandoff.read(key: key), let plan = try? decode(text) else {
            Sys.warn(usage)
            exit(setupFailed)
        }
        return plan
    }

    /// The init's record of system calls, written to the host's `--explain` pipe, which closes.
    public static func sendRecord(to fd: Int32?) {
        guard let fd else { return }
        let text = CallRecord.shared.entries.joined(separator: "\n") + "\n"
        Sys.writeAll(fd, Array(text.utf8))
        close(fd)
    }

    /// Runs the command phase of an init: a `CommandError` (not found, not executable) ends
    /// the init with its own code (127, 126), anything else with 125.
    public static func exitOnError(_ body: () throws -> Never) -> Never {
        do {
            try body()
        } catch let error as CommandError {
            Sys.warn("contlab: \(error)")
            exit(error.exitCode)
        } catch {
            Sys.warn("contlab: \(error)")
            exit(setupFailed)
        }
    }

    /// An empty signal mask, for a command exec'd by the init: the host blocked the signals it
    /// forwards before the clone, and a mask survives exec.
    public static func unblockSignals() {
        var empty = sigset_t()
        sigemptyset(&empty)
        pthread_sigmask(SIG_SETMASK, &empty, nil)
    }
}

/// How a plan reaches the child that re-executes this binary (a container's init, exec's
/// helper): in a memfd the child inherits, its descriptor's number in an environment variable.
/// The environment and the argument list hold at most 128 KiB per string (MAX_ARG_STRLEN), and
/// a config.json with 10,000 annotations is larger; a descriptor holds any size.
public enum PlanHandoff {
    /// A memfd holding `payload`, open across exec; the caller closes it once the child runs.
    public static func write(_ payload: String) throws -> Int32 {
        let fd = cl_memfd("contlab-plan")
        guard fd >= 0 else { throw SystemCallError("memfd_create(\"contlab-plan\")", errno: errno) }
        Sys.writeAll(fd, Array(payload.utf8))
        lseek(fd, 0, SEEK_SET)
        return fd
    }

    /// The plan handed over under `key`: read, its descriptor closed and the variable unset, so
    /// neither reaches the container's process. Nil when there is none.
    public static func read(key: String) -> String? {
        guard let value = getenv(key).map({ String(cString: $0) }), let fd = Int32(value) else { return nil }
        unsetenv(key)
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            bytes += buffer[..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
