// Stage 6's grader: a veth pair wired by hand between two network namespaces, checked with a
// real ping between them.
import Exercises
import Foundation

extension Grader {
    static func wireScript(_ exercise: Exercise, work: String, context: GradingContext) throws -> [CheckOutcome] {
        if let missing = missing(exercise, work) { return missing }
        let target = context.variant["address-b"]
        // Inside a nested container (its own user and network namespaces, so nothing the script
        // does reaches the grader's machine): two processes, A and B, each in a new network
        // namespace with only lo, are what the script wires. Its output goes to a file, so no
        // line it (or anything it leaves running) prints can pose as the probe's.
        let inner = """
            cd /tmp/exercise || exit 90
            own=$(readlink /proc/self/ns/net)
            unshare --net sleep 600 & a=$!
            unshare --net sleep 600 & b=$!
            i=0
            while [ "$(readlink /proc/$a/ns/net)" = "$own" ] || [ "$(readlink /proc/$b/ns/net)" = "$own" ]; do
                i=$((i+1)); [ $i -gt 200 ] && break; sleep 0.05
            done
            timeout 15 /bin/sh ./\(exercise.files[0]) "$a" "$b" > /tmp/wire.log 2>&1
            status=$?
            echo
            echo "status=$status"
            echo "log=$(tail -c 200 /tmp/wire.log | tr '\\n' ' ')"
            for side in a b; do
                eval pid=\\$$side
                echo "$side-addresses=$(nsenter --net=/proc/$pid/ns/net ip -4 -o addr show up | awk '{print $4}' | tr '\\n' ' ')"
            done
            nsenter --net=/proc/$a/ns/net ping -c 1 -W 2 \(target) > /dev/null 2>&1
            echo "ping=$?"
            echo "host-links=$(ip -o link show | awk -F': ' '{print $2}' | tr '\\n' ' ')"
            kill $a $b
            """
        var sandbox = Sandbox(rootfs: try context.hostTools(), args: ["/bin/sh", "-c", inner], timeout: exercise.timeout)
        sandbox.nested = true
        sandbox.networking = true
        sandbox.binds = [Sandbox.Bind(source: work, destination: "/tmp/exercise", readOnly: false)]
        let result = try sandbox.run()
        return Evaluation.wireScript(probe: ProbeOutput.parse(result.stdout), variant: context.variant)
    }
}
