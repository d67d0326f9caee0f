import CLinux
import ContlabCore
import Foundation
import OCI

/// Running the spec's hooks: each hook's program gets the container's state as JSON on its
/// standard input. runtime-spec 1.2 splits them by what a failure does: a prestart,
/// createRuntime, createContainer or startContainer hook that fails stops the rest and fails the
/// operation (`run`); a poststart or poststop hook that fails is a warning, and the hooks after
/// it still run (`runAll`). (1.3 makes a failing poststart an error, as runc does; contlab
/// implements 1.2.1.)
public enum HookRunner {
    /// The statuses the state carries at each hook, as runc gives them: the create's hooks run
    /// while the container is being created, startContainer before the user's process exists.
    public static let status: [String: String] = [
        "prestart": "creating", "createRuntime": "creating", "createContainer": "creating",
        "startContainer": "created", "poststart": "running", "poststop": "stopped"
    ]

    /// Run `hooks` in order; the first that fails ends the run and is thrown. `cwd`: the
    /// directory the hooks start in (the container's root for createContainer, as runc does).
    public static func run(_ hooks: [Spec.Hook]?, kind: String, state: ContainerState, cwd: String? = nil) throws {
        guard let hooks, !hooks.isEmpty else { return }
        let json = try encode(state)
        for (index, hook) in hooks.enumerated() {
            try runOne(hook, name: "\(kind)[\(index)] \(hook.path)", json: json, cwd: cwd)
        }
    }

    /// Run every hook of `hooks`, a failing one not stopping the others; returns the failures
    /// for the caller to log as warnings.
    public static func runAll(_ hooks: [Spec.Hook]?, kind: String, state: ContainerState) -> [RuntimeError] {
        guard let hooks, !hooks.isEmpty else { return [] }
        guard let json = try? encode(state) else { return [.hook(kind, "cannot encode the state")] }
        var failures: [RuntimeError] = []
        for (index, hook) in hooks.enumerated() {
            do {
                try runOne(hook, name: "\(kind)[\(index)] \(hook.path)", json: json, cwd: nil)
            } catch let error as RuntimeError {
                failures.append(error)
            } catch {
                failures.append(.hook("\(kind)[\(index)] \(hook.path)", "\(error)"))
            }
        }
        return failures
    }

    static func encode(_ state: ContainerState) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array(try encoder.encode(state))
    }

    /// One hook: spawned with the state on its stdin, waited for, and killed with the processes
    /// it started when it outlives its `timeout`. Without one it may take as long as it needs:
    /// the spec sets no default, and runc and crun wait for it too.
    static func runOne(_ hook: Spec.Hook, name: String, json: [UInt8], cwd: String?) throws {
        let input = try Sys.pipe()
        // The state is written whole before the hook starts: the pipe must hold it (large
        // annotations can pass the default 64 KiB). 1031 is F_SETPIPE_SZ, which Glibc hides.
        if json.count > 65_536 && fcntl(input.write, 1031, Int32(clamping: json.count)) < 0 {
            close(input.read)
            close(input.write)
            throw RuntimeError.hook(
                name,
                "the container's state is \(json.count) bytes, more than a pipe here holds "
                    + "(/proc/sys/fs/pipe-max-size); shorten the annotations")
        }
        Sys.writeAll(input.write, json)
        close(input.write)
        let args = hook.args ?? [hook.path]
        let pid: pid_t = withCStrings(args) { argv in
            withCStrings(hook.env ?? []) { envp in
                (cwd ?? "").withCString { directory in
                    var attr = cl_spawn_attr()
                    attr.cwd = cwd == nil ? nil : directory
                    attr.set_ids = 0
                    attr.ngroups = -1
                    attr.exec_fd = -1
                    // A group of its own, so that a timeout kills what the hook started too
                    // (a shell's sleep would otherwise outlive it).
                    attr.new_session = 1
                    attr.stdin_fd = input.read
                    return cl_spawn(hook.path, argv, envp, &attr, -1)
                }
            }
        }
        close(input.read)
        if pid < 0 { throw RuntimeError.hook(name, String(cString: strerror(-pid))) }
        let deadline = hook.timeout.map { Date().addingTimeInterval(TimeInterval($0)) }
        var status: Int32 = 0
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { break }
            if r < 0 && errno != EINTR { throw RuntimeError.hook(name, "lost the hook process") }
            if let deadline, Date() > deadline {
                kill(-pid, SIGKILL)
                waitpid(pid, &status, 0)
                throw RuntimeError.hook(name, "ran past its timeout of \(hook.timeout ?? 0) s and was killed")
            }
            usleep(2_000)
        }
        let end = ExitStatus(waitStatus: status)
        if end != .exited(0) { throw RuntimeError.hook(name, Self.describe(end)) }
    }

    /// How a hook ended, with the signal's own words (strsignal, "bad system call" for a call its
    /// seccomp filter kills), as runc reports it: a hook under the container's filter may die so.
    static func describe(_ end: ExitStatus) -> String {
        guard case .signaled(let signal) = end, let words = strsignal(signal).map({ String(cString: $0) }),
            !words.isEmpty
        else {
            return end.description
        }
        return end.description + ": " + words.prefix(1).lowercased() + words.dropFirst()
    }
}
