import ContlabCore
import Foundation

/// Stage 1's init: what `contlab __init` runs for a stage-1 plan, in the order the lesson
/// (stage1-chroot) tells it. There is no new namespace to set up: the init shares the host's
/// PIDs, mounts, hostname and network, so it only changes its root and becomes the command.
///
/// 1. chroot to the tree, 2. chdir to the new "/" (`ChrootRoot.enter`), 3. take the user's
/// identity, 4. exec the command, which keeps the init's PID: no process stays behind.
public enum ChrootInit {
    public static func main(plan: ContainerPlan) -> Never {
        // Opened before the root changes, so `contlab` inside runs this contlab.
        let selfFD = open("/proc/self/exe", Sys.openPath | O_CLOEXEC)
        do {
            try ChrootRoot.enter(rootfs: plan.rootfs)
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
            InitHandshake.unblockSignals()
            // Rootless, the user namespace maps only the caller: there is no one else to become.
            try command.exec(
                cwd: plan.cwd,
                identity: plan.rootless ? nil : (uid: plan.uid, gid: plan.gid, groups: plan.additionalGids))
        }
    }
}
