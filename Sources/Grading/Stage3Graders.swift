// Stage 3's grader: a cgroup made by hand, in a container, under a cgroup it was handed.
import Cgroups
import ContlabCore
import Exercises
import Foundation

extension Grader {
    static func cgroupScript(_ exercise: Exercise, work: String, context: GradingContext) throws -> [CheckOutcome] {
        if let missing = missing(exercise, work) { return missing }
        let controller = exercise.id == "3.1" ? "memory" : exercise.id == "3.2" ? "pids" : "cpu"
        let cgroup = try GradingCgroup(controllers: controller == "pids" ? ["pids"] : [controller, "pids"])
        defer { cgroup.destroy() }
        guard let parent = cgroup.work(controller), let version = cgroup.version(controller) else {
            return CheckOutcome.allFailed(exercise, seen: "no \(controller) controller on this host")
        }
        // setup.sh runs as root of a container's user namespace; $CGROUP is delegated to that
        // user (v1: the directory is its own; v2: the directory and its cgroup.* files), so it
        // can make cgroups and set limits there and nowhere else.
        var sandbox = Sandbox(
            rootfs: try context.busybox(),
            args: ["/bin/sh", "-c", "cd /tmp/exercise && exec /bin/sh ./\(exercise.files[0])"],
            timeout: exercise.timeout)
        sandbox.env = ["CGROUP=/tmp/cgroup", "CGROUP_VERSION=\(version)"]
        sandbox.binds = [
            Sandbox.Bind(source: work, destination: "/tmp/exercise", readOnly: false),
            Sandbox.Bind(source: parent, destination: "/tmp/cgroup", readOnly: false)
        ]
        let setup = try sandbox.run()
        let lab = parent + "/lab"
        let made = Sys.isDirectory(lab)
        let setupStatus = "setup.sh \(setup.status)"
        func inLab(_ argv: [String], timeout: Int = 30) -> Evaluation.CgroupRun? {
            guard made,
                let result = try? ChildProcess.run(
                    ["/bin/sh", "-c", "echo $$ > \"$0/cgroup.procs\" || exit 99; exec \"$@\"", lab] + argv,
                    timeout: timeout)
            else { return nil }
            return Evaluation.CgroupRun(status: result.status, signaled: result.signal, exitCode: result.exitCode)
        }
        let backend: CgroupBackend = version == 1 ? CgroupV1() : CgroupV2()
        func stats() -> CgroupStats { backend.stats { Sys.readText(lab + "/" + $0) } }
        switch controller {
        case "memory":
            let big = inLab([ChildProcess.contlab, "hog", "100M"])
            let small = inLab([ChildProcess.contlab, "hog", "30M"])
            return Evaluation.memoryCgroup(
                made: made, setupStatus: setupStatus, big: big, small: small, oomKills: made ? stats().oomKills : nil)
        case "pids":
            let spawn = "i=0; while [ $i -lt $0 ]; do sleep 0.3 & i=$((i+1)); done; wait"
            let ten = inLab(["/bin/sh", "-c", spawn, "\(context.variant.pidsFew)"])
            let forty = inLab(["/bin/sh", "-c", spawn, "\(context.variant.pidsMany)"])
            let limit = made ? Sys.readText(lab + "/pids.max")?.trimmingCharacters(in: .whitespacesAndNewlines) : nil
            return Evaluation.pidsCgroup(
                made: made, setupStatus: setupStatus, ten: ten, forty: forty,
                refusals: made ? stats().pidsLimitHits : nil,
                variant: context.variant, limit: limit)
        default:
            let wall = 1.5
            var cpu: Double?
            if made,
                let result = try? ChildProcess.run(
                    [
                        "/bin/sh", "-c",
                        "echo $$ > \"$0/cgroup.procs\" || exit 99; timeout \(wall) /bin/sh -c 'while :; do :; done'; "
                            + "times",
                        lab
                    ], timeout: 20)
            {
                cpu = Evaluation.childrenCPUSeconds(fromTimes: String(decoding: result.stdout, as: UTF8.self))
            }
            let throttled = Sys.readText(lab + "/cpu.stat").flatMap { text in
                text.split(separator: "\n").first { $0.hasPrefix("nr_throttled ") }.flatMap {
                    UInt64($0.split(separator: " ")[1])
                }
            }
            return Evaluation.cpuCgroup(
                made: made, setupStatus: setupStatus, throttled: throttled, cpuSeconds: cpu, wallSeconds: wall)
        }
    }
}
