import CLinux
import ContlabCore
import Foundation
import OCI

/// Running the spec's hooks: each hook's program gets the container's state as JSON on its
/// standard input, and must finish within its timeout.
public enum HookRunner {
    public static func run(_ hooks: [Spec.Hook]?, kind: String, state: ContainerState) throws {
        guard let hooks, !hooks.isEmpty else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = Array((try encoder.encode(state)))
        for (index, hook) in hooks.enumerated() {
            let name = "\(kind)[\(index)] \(hook.path)"
            let input = try Sys.pipe()
            Sys.writeAll(input.write, json)
            close(input.write)
            let args = hook.args ?? [hook.path]
            let pid: pid_t = withCStrings(args) { argv in
                withCStrings(hook.env ?? []) { envp in
                    var attr = cl_spawn_attr()
                    attr.cwd = nil
                    attr.set_ids = 0
                    attr.ngroups = -1
                    attr.exec_fd = -1
                    attr.new_session = 0
                    attr.stdin_fd = input.read
                    return cl_spawn(hook.path, argv, envp, &attr, -1)
                }
            }
            close(input.read)
            if pid < 0 { throw RuntimeError.hook(name, String(cString: strerror(-pid))) }
            let deadline = Date().addingTimeInterval(TimeInterval(hook.timeout ?? 30))
            var status: Int32 = 0
            while true {
                let r = waitpid(pid, &status, WNOHANG)
                if r == pid { break }
                if r < 0 && errno != EINTR { throw RuntimeError.hook(name, "lost the hook process") }
                if Date() > deadline {
                    kill(pid, SIGKILL)
                    waitpid(pid, &status, 0)
                    throw RuntimeError.hook(name, "timed out after \(hook.timeout ?? 30) s")
                }
                usleep(2_000)
            }
            let end = ExitStatus(waitStatus: status)
            if end != .exited(0) { throw RuntimeError.hook(name, end.description) }
        }
    }
}
