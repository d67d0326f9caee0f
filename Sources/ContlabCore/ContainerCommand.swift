import CLinux
import Foundation

/// The container's command, found and started from inside the new root by the init.
public struct ContainerCommand {
    public enum Executable: Equatable {
        case path(String)
        /// contlab itself, through a descriptor opened before the root changed: the word
        /// `contlab` as a command always means the running contlab, even where its file is not
        /// inside the root filesystem (stage 1 can mount nothing there).
        case selfDescriptor(Int32)
    }

    public let executable: Executable
    public let args: [String]
    public let env: [String]

    /// Find `args[0]` the way execvp does, in `searchPath`, relative to the current root.
    public static func resolve(
        args: [String], env: [String], searchPath: String,
        selfFD: Int32?
    ) throws -> ContainerCommand {
        guard let name = args.first, !name.isEmpty else { throw CommandError.empty }
        if name == "contlab", let selfFD {
            return ContainerCommand(executable: .selfDescriptor(selfFD), args: args, env: env)
        }
        if name.contains("/") {
            guard Sys.exists(name) else { throw CommandError.notFound(name, searchPath: nil) }
            return ContainerCommand(executable: .path(name), args: args, env: env)
        }
        var sawNonExecutable: String?
        for dir in searchPath.split(separator: ":") {
            let candidate = (dir.isEmpty ? "." : String(dir)) + "/" + name
            var st = stat()
            guard stat(candidate, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { continue }
            if access(candidate, X_OK) == 0 {
                return ContainerCommand(executable: .path(candidate), args: args, env: env)
            }
            sawNonExecutable = sawNonExecutable ?? candidate
        }
        if let sawNonExecutable { throw CommandError.notExecutable(sawNonExecutable, errno: EACCES) }
        throw CommandError.notFound(name, searchPath: searchPath)
    }

    /// Replace this process with the command, as `uid`:`gid` in `cwd` (stage 1: no PID 1 to keep).
    /// `keepingDescriptors` N: 3 … 3+N-1 stay open across the exec (OCI's --preserve-fds). A nil
    /// `cwd`: the caller has entered it already (stage 4, before giving up its rights).
    public func exec(
        cwd: String?, identity: (uid: UInt32, gid: UInt32, groups: [UInt32])?, keepingDescriptors: Int32 = 0
    ) throws -> Never {
        if let cwd, Glibc.chdir(cwd) != 0 { throw CommandError.cwd(cwd, errno: errno) }
        if let identity {
            var deathSignal: Int32 = 0
            _ = withUnsafeMutablePointer(to: &deathSignal) {
                cl_prctl(2 /* PR_GET_PDEATHSIG */, UInt(bitPattern: $0), 0, 0, 0)
            }
            if setgroups(identity.groups.count, identity.groups) != 0 {
                // A user namespace made without root denies setgroups (user_namespaces(7)); with
                // no groups asked for, the groups it came with (unmapped ones) stay.
                let code = errno
                if !(code == EPERM && identity.groups.isEmpty) { throw CommandError.identity("setgroups", errno: code) }
            }
            if setgid(identity.gid) != 0 { throw CommandError.identity("setgid(\(identity.gid))", errno: errno) }
            if setuid(identity.uid) != 0 { throw CommandError.identity("setuid(\(identity.uid))", errno: errno) }
            // setuid cleared the parent-death signal; the command must still die with contlab.
            if deathSignal > 0 { _ = cl_prctl(Int32(CL_PR_SET_PDEATHSIG), UInt(deathSignal), 0, 0, 0) }
        }
        for fd in 3..<(3 + max(0, keepingDescriptors)) { Sys.setCloexec(fd, false) }
        _ = cl_cloexec_from(UInt32(3 + max(0, keepingDescriptors)))
        let err: Int32 = withCStrings(args) { argv in
            withCStrings(env) { envp in
                switch executable {
                case .path(let path):
                    execve(path, argv, envp)
                    return errno
                case .selfDescriptor(let fd):
                    return -cl_execveat_fd(fd, argv, envp)
                }
            }
        }
        throw CommandError.exec(displayPath, errno: err)
    }

    var displayPath: String {
        switch executable {
        case .path(let p): return p
        case .selfDescriptor: return "contlab"
        }
    }

    /// Fork and exec the command (stage 2 on: the init stays as PID 1). Returns its pid once the
    /// exec has happened, or throws what went wrong in the child.
    public func spawn(
        cwd: String, identity: (uid: UInt32, gid: UInt32, groups: [UInt32])?,
        setGroups: Bool = true
    ) throws -> pid_t {
        _ = cl_cloexec_from(3)
        let report = try Sys.pipe()
        defer { close(report.read) }
        let groups = identity?.groups ?? []
        let pid: pid_t = withCStrings(args) { argv in
            withCStrings(env) { envp in
                cwd.withCString { cwdPtr in
                    groups.withUnsafeBufferPointer { groupsPtr in
                        var attr = cl_spawn_attr()
                        attr.cwd = cwdPtr
                        attr.set_ids = identity == nil ? 0 : 1
                        attr.uid = identity?.uid ?? 0
                        attr.gid = identity?.gid ?? 0
                        attr.ngroups = setGroups ? Int32(groups.count) : -1
                        attr.groups = groupsPtr.baseAddress
                        if case .selfDescriptor(let fd) = executable { attr.exec_fd = fd } else { attr.exec_fd = -1 }
                        attr.new_session = 0
                        attr.stdin_fd = -1
                        let path: String
                        if case .path(let p) = executable { path = p } else { path = "" }
                        return cl_spawn(path, argv, envp, &attr, report.write)
                    }
                }
            }
        }
        close(report.write)
        if pid < 0 { throw CommandError.exec(displayPath, errno: -pid) }
        let bytes = Sys.readAll(report.read)
        guard bytes.count >= 8 else { return pid }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        let step = bytes.withUnsafeBytes { $0.load(fromByteOffset: 0, as: Int32.self) }
        let err = bytes.withUnsafeBytes { $0.load(fromByteOffset: 4, as: Int32.self) }
        switch step {
        case 1: throw CommandError.cwd(cwd, errno: err)
        case 2: throw CommandError.identity("setgroups", errno: err)
        case 3: throw CommandError.identity("setgid(\(identity?.gid ?? 0))", errno: err)
        case 4: throw CommandError.identity("setuid(\(identity?.uid ?? 0))", errno: err)
        default: throw CommandError.exec(displayPath, errno: err)
        }
    }
}

public enum CommandError: Error, CustomStringConvertible, Equatable {
    case empty
    case notFound(String, searchPath: String?)
    case notExecutable(String, errno: Int32)
    case exec(String, errno: Int32)
    case cwd(String, errno: Int32)
    case identity(String, errno: Int32)

    /// The exit code a shell gives these failures: 127 not found, 126 found but not runnable.
    public var exitCode: Int32 {
        switch self {
        case .notFound: return 127
        case .exec(_, let err) where err == ENOENT: return 127
        default: return 126
        }
    }

    public var description: String {
        switch self {
        case .empty:
            return "no command given: put the command after --, for example: contlab run -- /bin/sh"
        case .notFound(let name, let path?):
            return
                "\(name): command not found in the container's root filesystem (searched PATH=\(path)); check the "
                + "name, or build a rootfs that has it (contlab rootfs list)"
        case .notFound(let name, nil):
            return "\(name): no such file in the container's root filesystem"
        case .notExecutable(let path, let err):
            return "\(path): cannot execute: \(String(cString: strerror(err))) — is it executable (chmod +x)?"
        case .exec(let path, let err):
            var text = "\(path): exec failed: \(String(cString: strerror(err))) (\(Errno.name(err)))"
            if err == ENOENT {
                text +=
                    " — a dynamically linked program whose loader or libraries are missing from the root filesystem "
                    + "fails like this; use a static binary or the host-tools recipe"
            }
            if err == ENOEXEC { text += " — not a binary for this machine, or a script without a #! line" }
            return text
        case .cwd(let dir, let err):
            return
                "cannot change to the working directory \(dir) inside the "
                + "container: \(String(cString: strerror(err))); check --cwd"
        case .identity(let call, let err):
            return "\(call) failed inside the container: \(String(cString: strerror(err))) (\(Errno.name(err)))"
        }
    }
}
