import ContlabCore
import Foundation
import Stage1Chroot

/// Stage 2's init (and stage 3's, whose host has put it in its cgroup by now): what `contlab
/// __init` runs for a plan of stage 2 or later, inside the new namespaces. It builds the root
/// (`NamespaceRoot`: mounts, /proc, /dev, /sys, pivot_root), sends its record of system calls to
/// the host, then starts the command as PID 1's child and stays behind to do PID 1's duties.
public enum NamespaceInit {
    public static func main(plan: ContainerPlan) -> Never {
        // Block the signals we pass on before anything else, so none is lost before the loop.
        Signals.block(Signals.forwarded + [SIGCHLD])
        // Opened before the root changes, so `contlab` inside runs this contlab.
        let selfFD = open("/proc/self/exe", Sys.openPath | O_CLOEXEC)
        do {
            try NamespaceRoot.enter(plan: plan)
        } catch {
            InitHandshake.sendRecord(to: plan.recordFD)
            Sys.warn("contlab: setting up the container failed: \(error)")
            exit(InitHandshake.setupFailed)
        }
        InitHandshake.sendRecord(to: plan.recordFD)
        InitHandshake.exitOnError {
            let command = try ContainerCommand.resolve(
                args: plan.args, env: plan.commandEnvironment,
                searchPath: plan.searchPath, selfFD: selfFD >= 0 ? selfFD : nil)
            let identity = (uid: plan.uid, gid: plan.gid, groups: plan.additionalGids)
            if !plan.namespaces.contains(.pid) {
                // No PID namespace (not a plan `contlab run` makes): nothing for PID 1 to do.
                InitHandshake.unblockSignals()
                try command.exec(cwd: plan.cwd, identity: plan.rootless ? nil : identity)
            }
            let child = try command.spawn(cwd: plan.cwd, identity: identity, setGroups: !plan.rootless)
            exit(PIDOne.supervise(child: child))
        }
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
