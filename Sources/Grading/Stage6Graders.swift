// Stage 6's graders: a veth pair wired by hand between two network namespaces, checked with a
// real ping between them (6.1), and a CNI network configuration run through the plugins (6.2).
import ContlabCore
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
        var sandbox = Sandbox(
            rootfs: try context.hostTools(), args: ["/bin/sh", "-c", inner], timeout: exercise.timeout)
        sandbox.nested = true
        sandbox.networking = true
        sandbox.binds = [Sandbox.Bind(source: work, destination: "/tmp/exercise", readOnly: false)]
        let result = try sandbox.run()
        return Evaluation.wireScript(probe: ProbeOutput.parse(result.stdout), variant: context.variant)
    }

    /// 6.2: the plugin the student's configuration names, run with ADD and then DEL on a
    /// network namespace of the grader's, inside a nested container whose root lends the host's
    /// /usr (and so Debian's plugins in /usr/lib/cni) read-only. The bridge lands in the nested
    /// container's own network namespace.
    static func cniConfig(_ exercise: Exercise, work: String, context: GradingContext) throws -> [CheckOutcome] {
        if let missing = missing(exercise, work) { return missing }
        let text = (try? String(contentsOfFile: work + "/" + exercise.files[0], encoding: .utf8)) ?? ""
        let plugin: String
        switch Evaluation.cniPlugin(configuration: text) {
        case .failure(let problem):
            return Evaluation.cniConfig(probe: ProbeOutput(), problem: "\(problem)", variant: context.variant)
        case .success(let found):
            guard Sys.exists("/usr/lib/cni/" + found.plugin) else {
                return Evaluation.cniConfig(
                    probe: ProbeOutput(),
                    problem: "there is no plugin \"\(found.plugin)\" in /usr/lib/cni (bridge is the one to use)",
                    variant: context.variant)
            }
            plugin = found.plugin
        }
        let root = try TemporaryDirectory(prefix: "contlab-grade-cniroot")
        defer { root.remove() }
        let binds = try compilerRoot(at: root.path)
        let gateway = Evaluation.gateway(of: context.variant["cni-subnet"])
        let driver = """
            cd /tmp/exercise || exit 90
            echo
            # BusyBox's awk: the host's is a link through /etc/alternatives, which this root lacks.
            mount -t tmpfs tmpfs /var/lib/cni || exit 91
            own=$(readlink /proc/self/ns/net)
            unshare --net sleep 600 & c=$!
            i=0
            while [ "$(readlink /proc/$c/ns/net)" = "$own" ]; do i=$((i+1)); [ $i -gt 200 ] && break; sleep 0.05; done
            export CNI_PATH=/usr/lib/cni CNI_CONTAINERID=grade-6-2 CNI_NETNS=/proc/$c/ns/net CNI_IFNAME=eth0
            CNI_COMMAND=ADD timeout 15 /usr/lib/cni/\(plugin) < \(exercise.files[0]) > /tmp/add.out 2>&1; add=$?
            addresses=$(nsenter --net=/proc/$c/ns/net ip -4 -o addr show dev eth0 2>/dev/null | busybox awk '{print $4}' | tr '\\n' ' ')
            nsenter --net=/proc/$c/ns/net busybox ping -c 1 -W 2 \(gateway) > /dev/null 2>&1; ping=$?
            CNI_COMMAND=DEL timeout 15 /usr/lib/cni/\(plugin) < \(exercise.files[0]) > /tmp/del.out 2>&1; del=$?
            after=$(nsenter --net=/proc/$c/ns/net ip -o link show | busybox awk -F': ' '{print $2}' | tr '\\n' ' ')
            leases=$(find /var/lib/cni /tmp -path /tmp/exercise -prune -o -type f -path '*/networks/*' ! -name lock ! -name 'last_reserved_ip*' -print 2>/dev/null | wc -l)
            kill $c
            echo "add=$add"; echo "result=$(tr -d '\\n' < /tmp/add.out | head -c 4000)"; echo "addresses=$addresses"
            echo "ping=$ping"; echo "del=$del"; echo "after=$after"; echo "leases=$leases"
            """
        var sandbox = Sandbox(rootfs: root.path, args: ["/bin/sh", "-c", driver], timeout: exercise.timeout)
        sandbox.nested = true
        sandbox.networking = true
        sandbox.privateRoot = false
        sandbox.bindContlab = false
        sandbox.binds = binds + [Sandbox.Bind(source: work, destination: "/tmp/exercise", readOnly: false)]
        try Sandbox.handOver(root.path, to: sandbox.idBase, recursive: false)
        let result = try sandbox.run()
        return Evaluation.cniConfig(probe: ProbeOutput.parse(result.stdout), problem: nil, variant: context.variant)
    }
}
