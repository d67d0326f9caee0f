import CLinux
import ContlabCore
import Foundation
import Stage1Chroot

/// The container's init: what `contlab __init` runs, inside the new namespaces, with the plan
/// the host wrote. It builds the root (stage 1: chroot; stage 2 on: mounts and pivot_root), sends
/// its record of system calls to the host, then starts the command: by exec at stage 1, and as
/// PID 1's child from stage 2 on, staying behind to reap orphans and pass signals on.
public enum ContainerInit {
    /// Exit codes of the init itself, as `docker run` uses them.
    public static let setupFailed: Int32 = 125

    public static func main() -> Never {
        // Block the signals we pass on before anything else, so none is lost before the loop.
        Signals.block(Signals.forwarded + [SIGCHLD])
        guard let text = PlanHandoff.read(key: ContainerPlan.environmentKey),
              let plan = try? ContainerPlan.decode(text) else {
            Sys.warn("contlab: __init is contlab's internal entry point for a container's first process; use contlab run")
            exit(setupFailed)
        }
        // The binary is opened before the root changes, so `contlab` inside means this contlab.
        let selfFD = open("/proc/self/exe", Sys.openPath | O_CLOEXEC)
        do {
            if plan.stage <= 1 {
                try ChrootRoot.enter(rootfs: plan.rootfs)
            } else {
                try NamespaceRoot.enter(plan: plan)
            }
        } catch {
            sendRecord(plan)
            Sys.warn("contlab: setting up the container failed: \(error)")
            exit(setupFailed)
        }
        sendRecord(plan)
        do {
            var env = plan.env
            if plan.args.first == "contlab" { env += probeEnvironment(plan) }
            let command = try ContainerCommand.resolve(args: plan.args, env: env, searchPath: plan.searchPath,
                                                       selfFD: selfFD >= 0 ? selfFD : nil)
            let identity = (uid: plan.uid, gid: plan.gid, groups: plan.additionalGids)
            if !plan.namespaces.contains(.pid) {
                var empty = sigset_t()
                sigemptyset(&empty)
                pthread_sigmask(SIG_SETMASK, &empty, nil)
                try command.exec(cwd: plan.cwd, identity: plan.rootless ? nil : identity)
            }
            let child = try command.spawn(cwd: plan.cwd, identity: identity, setGroups: !plan.rootless)
            exit(PIDOne.supervise(child: child))
        } catch let error as CommandError {
            Sys.warn("contlab: \(error)")
            exit(error.exitCode)
        } catch {
            Sys.warn("contlab: \(error)")
            exit(setupFailed)
        }
    }

    /// What a contlab probe inside needs to compare with the host.
    static func probeEnvironment(_ plan: ContainerPlan) -> [String] {
        // A static Swift 6 binary looks for its runtime's path through /proc/self/exe at start
        // and aborts when it cannot (stage 1 has no /proc); SWIFT_ROOT names it instead.
        // Its CommandLine.arguments come from /proc/self/cmdline too, so the arguments travel in
        // CONTLAB_ARGV as well (see main.swift).
        var env: [String] = ["SWIFT_ROOT=/"]
        if let data = try? JSONEncoder().encode(plan.args) {
            env.append("\(ContainerPlan.argvKey)=" + String(decoding: data, as: UTF8.self))
        }
        if let root = plan.hostRoot { env.append("\(EscapeProbe.hostRootVariable)=\(EscapeProbe.format(root))") }
        if !plan.hostNamespaces.isEmpty {
            let list = plan.hostNamespaces.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            env.append("CONTLAB_HOST_NS=" + list.joined(separator: ","))
        }
        return env
    }

    static func sendRecord(_ plan: ContainerPlan) {
        guard let fd = plan.recordFD else { return }
        let text = CallRecord.shared.entries.joined(separator: "\n") + "\n"
        Sys.writeAll(fd, Array(text.utf8))
        close(fd)
    }
}

/// PID 1's duties (pid_namespaces(7)): the kernel gives PID 1 no default signal actions and
/// re-parents every orphan in the namespace to it, so it must pass signals on and reap.
public enum PIDOne {
    /// Wait for `child`, reaping every other process that ends meanwhile and forwarding signals;
    /// returns the exit code for the child's end (128+N for signal N). When PID 1 exits the
    /// kernel kills whatever is left in the namespace.
    public static func supervise(child: pid_t) -> Int32 {
        while true {
            var status: Int32 = 0
            while true {
                let r = waitpid(-1, &status, WNOHANG)
                if r == child { return ExitStatus(waitStatus: status).shellCode }
                if r <= 0 { break }
            }
            let (sig, _) = Signals.wait(Signals.forwarded + [SIGCHLD])
            if sig != SIGCHLD && sig != 0 { kill(child, sig) }
        }
    }
}
