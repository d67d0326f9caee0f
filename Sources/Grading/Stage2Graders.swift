// Stage 2's grader: a util-linux unshare script, run in a container.
import Exercises
import Foundation

extension Grader {
    static func unshareScript(_ exercise: Exercise, work: String, context: GradingContext) throws -> [CheckOutcome] {
        if let missing = missing(exercise, work) { return missing }
        let results = try TemporaryDirectory(prefix: "contlab-grade-after")
        defer { results.remove() }
        let probe = """
            echo; echo inspect-begin; "$CONTLAB_GRADER" inspect --json; echo inspect-end; echo shpid=$$
            printf procppid=; cut -d" " -f4 /proc/self/stat
            echo mountinfo-begin; cat /proc/self/mountinfo; echo mountinfo-end
            """
        // PID 1 of a nested container (host-tools: busybox with util-linux's unshare and mount):
        // its namespaces are "the host" the script's must differ from, and what the script
        // does without namespaces of its own lands there, never on the grader's machine.
        let inner = """
            cd /tmp/exercise || exit 90
            ns=""; for n in pid mnt uts ipc net cgroup; do ns="$ns${ns:+,}$n=$(readlink /proc/self/ns/$n)"; done
            export CONTLAB_HOST_NS="$ns"
            /bin/sh ./\(exercise.files[0]) /bin/sh -c "$CONTLAB_PROBE"
            status=$?
            { echo "hostname=$(hostname)"; echo mountinfo-begin; cat /proc/self/mountinfo; echo mountinfo-end; } > /tmp/after/after
            exit $status
            """
        var sandbox = Sandbox(
            rootfs: try context.hostTools(), args: ["/bin/sh", "-c", inner], timeout: exercise.timeout)
        sandbox.nested = true
        sandbox.env = ["CONTLAB_GRADER=/usr/local/bin/contlab", "CONTLAB_PROBE=\(probe)"]
        sandbox.binds = [
            Sandbox.Bind(source: work, destination: "/tmp/exercise", readOnly: false),
            Sandbox.Bind(source: results.path, destination: "/tmp/after", readOnly: false)
        ]
        let result = try sandbox.run()
        let after = ProbeOutput.parse((try? Data(contentsOf: URL(fileURLWithPath: results.path + "/after"))) ?? Data())
        return Evaluation.unshareScript(
            exercise: exercise.id, probe: ProbeOutput.parse(result.stdout), status: result.status,
            hostnameBefore: sandbox.hostname, after: after, variant: context.variant)
    }
}
