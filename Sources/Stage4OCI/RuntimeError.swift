import ContlabCore
import OCI

/// Errors of the runc-compatible runtime, worded so a student (or containerd's log) says what
/// to do next.
public enum RuntimeError: Error, CustomStringConvertible {
    case invalidID(String)
    case exists(String)
    case notFound(String)
    case wrongStatus(id: String, status: String, operation: String)
    case bundle(String)
    case rootfs(String)
    case spec(SpecError)
    case initFailed(String)
    case initDied(ExitStatus)
    case system(SystemCallError)
    case usage(String)
    case noProcess(String)
    case hook(String, String)
    case consoleSocket(String, String)
    /// linux.seccomp.listenerPath, and what went wrong handing the agent its descriptor.
    case seccompAgent(String, String)

    public var description: String {
        switch self {
        case .invalidID(let id):
            return "invalid container id \"\(id)\": use letters, digits and _ + - . only"
        case .exists(let id):
            return "container \"\(id)\" already exists: pick another id, or remove it with delete --force \(id)"
        case .notFound(let id):
            return "container \"\(id)\" does not exist (see list for the ones that do; a different --root?)"
        case .wrongStatus(let id, let status, let operation):
            let fix = operation == "delete" ? " (kill it first, or use delete --force)" : ""
            // "container not running" is the phrase engines' shims look for to treat a kill as
            // done (runc's own error text).
            // runc's words again, which its tests and callers match.
            if operation == "exec in" && status == "paused" {
                return
                    "cannot exec in a paused container \"\(id)\": resume it first (resume \(id)), or pass "
                    + "--ignore-paused to exec now and have the process start on resume"
            }
            if operation == "kill" && status == "stopped" {
                return "cannot kill container \"\(id)\": container not running (it is stopped)"
            }
            return "cannot \(operation) container \"\(id)\": it is \(status)\(fix)"
        case .bundle(let path):
            return "cannot read \(path)/config.json: make a bundle with spec, or give --bundle DIR"
        case .rootfs(let path):
            return
                "the root filesystem \(path) does not exist: set root.path in config.json to a directory (relative "
                + "paths are relative to the bundle)"
        case .spec(let error):
            return error.description
        case .initFailed(let message):
            return message
        case .initDied(let status):
            return "the container's init ended before it was ready (\(status))"
        case .system(let error):
            return error.description
        case .usage(let message):
            return message
        case .noProcess(let id):
            return "container \"\(id)\" has no running process"
        case .hook(let name, let why):
            // runc's words ("error running hook"), which its tests and engines' logs look for.
            return "error running hook \(name): \(why)"
        case .consoleSocket(let path, let why):
            return "--console-socket \(path): \(why)"
        case .seccompAgent(let path, let why):
            return "linux.seccomp.listenerPath \(path): \(why)"
        }
    }
}
