// The build track's grader: the student's own runtime (C or Python), built and run inside a
// nested container, on a copy of busybox, with the probes of the stages it re-creates.
import ContlabCore
import Exercises
import Foundation

extension Grader {
    /// The hostname B.2's runtime gives its container.
    static let buildTrackHostname = "container"

    static func buildRuntime(_ exercise: Exercise, work: String, context: GradingContext) throws -> [CheckOutcome] {
        if let missing = missing(exercise, work) { return missing }
        let root = try TemporaryDirectory(prefix: "contlab-grade-buildroot")
        defer { root.remove() }
        let binds = try Self.compilerRoot(at: root.path)
        let marker = "marker-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let secret = "secret-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        // The probe that B.2's command runs inside the student's container.
        let probe = """
            echo; echo inspect-begin; /usr/local/bin/contlab inspect --json; echo inspect-end
            echo shpid=$$; printf shppid=; cut -d" " -f4 /proc/$$/stat; printf procppid=; cut -d" " -f4 /proc/self/stat
            echo "hostname=$(hostname)"
            echo mountinfo-begin; cat /proc/self/mountinfo; echo mountinfo-end
            /usr/local/bin/contlab __escape-probe > /tmp/.escape 2>&1
            echo "escape2=$(grep -o '"proofRead":"[^"]*"' /tmp/.escape)"
            """
        // The driver, as root of the nested container's user namespace: build, copy busybox to
        // a ROOTFS of the grading's own with the marker and contlab for the probes, then run the
        // level's commands through the runtime, each with a time limit. Its own lines come last,
        // so that nothing the runtime prints earlier stands for them.
        let driver = """
            cd /tmp/exercise || exit 90
            echo
            if [ -f runtime.c ]; then
                gcc -Wall -O1 -o /tmp/runtime runtime.c > /tmp/build.log 2>&1; built=$?
                set -- /tmp/runtime
            elif [ -f runtime.py ]; then
                python3 -m py_compile runtime.py > /tmp/build.log 2>&1; built=$?
                set -- python3 /tmp/exercise/runtime.py
            else
                echo built=missing; exit 0
            fi
            if [ $built -ne 0 ]; then echo "built=$built"; echo "buildlog=$(tail -c 300 /tmp/build.log | tr '\\n' ' ')"; exit 0; fi
            # The shared tree's files belong to the host's root, an id this namespace does not map:
            # the copy is the container root's own, and /root (0700, unreadable here) a new one.
            copy() {
                mkdir /tmp/rootfs /tmp/rootfs/root || return 1
                for entry in /tmp/busybox/*; do
                    [ "$entry" = /tmp/busybox/root ] || cp -a --no-preserve=ownership "$entry" /tmp/rootfs/ || return 1
                done
                mount --bind /tmp/contlab /tmp/rootfs/usr/local/bin/contlab
            }
            if ! copy > /tmp/setup.log 2>&1; then
                echo "built=0"; echo "setup=$(tail -c 200 /tmp/setup.log | tr '\n' ' ')"; exit 0
            fi
            echo "\(marker)" > /tmp/rootfs/marker
            echo "\(secret)" > /tmp/proof
            export CONTLAB_ESCAPE_PROOF=/tmp/proof
            ns=""; for n in pid mnt uts ipc net cgroup; do ns="$ns${ns:+,}$n=$(readlink /proc/self/ns/$n)"; done
            export CONTLAB_HOST_NS="$ns"
            if [ "\(exercise.id)" = B.1 ]; then
                timeout -s KILL 10 "$@" run /tmp/rootfs /bin/cat /marker > /tmp/o1 2>&1; s1=$?
                timeout -s KILL 10 "$@" run /tmp/rootfs /bin/sh -c 'exit 7' > /dev/null 2>&1; s2=$?
                # Without /proc in the chroot, contlab reads its arguments from CONTLAB_ARGV.
                CONTLAB_ARGV='["contlab","__escape-probe"]' timeout -s KILL 10 "$@" run /tmp/rootfs /usr/local/bin/contlab __escape-probe > /tmp/o3 2>&1
                echo "built=0"; echo "status1=$s1"; echo "out1=$(head -c 200 /tmp/o1 | tr '\\n' ' ')"; echo "status2=$s2"
                echo "escape=$(grep -o '"proofRead":"[^"]*"' /tmp/o3 | head -1)"
            else
                timeout -s KILL 15 "$@" run /tmp/rootfs /bin/sh -c "$CONTLAB_PROBE" > /tmp/o4 2>&1; s4=$?
                cat /tmp/o4
                echo; echo "built=0"; echo "status4=$s4"; echo "outside=$(hostname)"
            fi
            """
        var sandbox = Sandbox(rootfs: root.path, args: ["/bin/sh", "-c", driver], timeout: exercise.timeout)
        sandbox.nested = true
        sandbox.privateRoot = false
        sandbox.contlabDestination = "/tmp/contlab"
        sandbox.tmpfsSize = "128m"
        sandbox.memoryBytes = 512 << 20
        sandbox.env = ["CONTLAB_PROBE=\(probe)"]
        sandbox.binds = binds + [
            Sandbox.Bind(source: try context.busybox(), destination: "/tmp/busybox", shared: true),
            Sandbox.Bind(source: work, destination: "/tmp/exercise", readOnly: false),
        ]
        try Sandbox.handOver(root.path, to: sandbox.idBase, recursive: false)
        let result = try sandbox.run()
        let output = ProbeOutput.parse(result.stdout)
        if exercise.id == "B.1" { return Evaluation.buildChroot(probe: output, marker: marker, secret: secret) }
        return Evaluation.buildNamespaces(probe: output, secret: secret, hostname: buildTrackHostname,
                                          hostnameOutside: output.values["outside"] ?? "?")
    }

    /// A root for building and running the student's runtime (and for 6.2's CNI plugins): the
    /// host's /usr, read-only (its compilers, Python and /usr/lib/cni; nothing in it is secret),
    /// and the top-level links of a merged-/usr system, with an /etc of two lines, a mount point
    /// for CNI's leases and nothing else of the host's.
    static func compilerRoot(at path: String) throws -> [Sandbox.Bind] {
        let fm = FileManager.default
        var binds = [Sandbox.Bind(source: "/usr", destination: "/usr", shared: true)]
        for directory in ["usr", "etc", "tmp", "proc", "dev", "sys", "root", "var/lib/cni"] {
            try fm.createDirectory(atPath: path + "/" + directory, withIntermediateDirectories: true)
        }
        for name in ["bin", "sbin", "lib", "lib64", "lib32", "libx32"] {
            if let target = Sys.readLink("/" + name) {
                try Sys.symlink(target: target, at: path + "/" + name)
            } else if Sys.isDirectory("/" + name) {
                try fm.createDirectory(atPath: path + "/" + name, withIntermediateDirectories: true)
                binds.append(Sandbox.Bind(source: "/" + name, destination: "/" + name, shared: true))
            }
        }
        try Data("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n".utf8)
            .write(to: URL(fileURLWithPath: path + "/etc/passwd"))
        try Data("root:x:0:\nnogroup:x:65534:\n".utf8).write(to: URL(fileURLWithPath: path + "/etc/group"))
        return binds
    }
}
