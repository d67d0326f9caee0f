// The build track's grader: the student's own runtime (C, Python, Go or Swift), built and run
// inside a nested container, on a copy of busybox, with the probes of the stages it re-creates.
import Cgroups
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
        var binds = try Self.compilerRoot(at: root.path)
        // Swift: the host's toolchain, where it is not under /usr already, at its own path.
        let swift = Sys.exists(work + "/runtime.swift") ? Self.swiftToolchain() : nil
        if let tree = swift?.tree {
            try FileManager.default.createDirectory(atPath: root.path + tree, withIntermediateDirectories: true)
            binds.append(Sandbox.Bind(source: tree, destination: tree, shared: true))
        }
        let marker = "marker-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let secret = "secret-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let bundle = Self.bundleRequest()
        let layers = Self.layersRequest()
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
            elif [ -f runtime.go ]; then
                \(Self.goBuild) > /tmp/build.log 2>&1; built=$?
                set -- /tmp/runtime
            elif [ -f runtime.swift ]; then
                \(Self.swiftBuild) > /tmp/build.log 2>&1; built=$?
                set -- /tmp/runtime
            else
                echo built=missing; exit 0
            fi
            if [ $built -ne 0 ]; then echo "built=$built"; echo "buildlog=$(tail -c 300 /tmp/build.log | tr '\\n' ' ')"; exit 0; fi
            # The shared tree's files belong to the host's root, an id this namespace does not map:
            # the copy is the container root's own, and /root (0700, unreadable here) a new one.
            # B.4's ROOTFS is its bundle's rootfs folder, B.5's base layer /tmp/layers/base (where
            # a bind would not show: overlayfs does not see the mounts on a layer; B.5's command
            # needs no contlab); the others' /tmp/rootfs.
            rootfs=/tmp/rootfs; [ "\(exercise.id)" = B.4 ] && rootfs=/tmp/bundle/rootfs
            [ "\(exercise.id)" = B.5 ] && rootfs=/tmp/layers/base
            copy() {
                mkdir -p "$rootfs" && mkdir "$rootfs/root" || return 1
                for entry in /busybox/*; do
                    [ "$entry" = /busybox/root ] || cp -a --no-preserve=ownership "$entry" "$rootfs/" || return 1
                done
                [ "\(exercise.id)" = B.5 ] || mount --bind /tmp/contlab "$rootfs/usr/local/bin/contlab"
            }
            if ! copy > /tmp/setup.log 2>&1; then
                echo "built=0"; echo "setup=$(tail -c 200 /tmp/setup.log | tr '\n' ' ')"; exit 0
            fi
            echo "\(marker)" > "$rootfs/marker"
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
            elif [ "\(exercise.id)" = B.2 ]; then
                timeout -s KILL 15 "$@" run /tmp/rootfs /bin/sh -c "$CONTLAB_PROBE" > /tmp/o4 2>&1; s4=$?
                cat /tmp/o4
                echo; echo "built=0"; echo "status4=$s4"; echo "outside=$(hostname)"
            elif [ "\(exercise.id)" = B.4 ]; then
            \(Self.bundleRuns(bundle))
            elif [ "\(exercise.id)" = B.5 ]; then
            \(Self.layerRuns(layers))
            else
            \(Self.cgroupRuns(buildTrackLimits))
            fi
            """
        var sandbox = Sandbox(rootfs: root.path, args: ["/bin/sh", "-c", driver], timeout: exercise.timeout)
        sandbox.nested = true
        sandbox.privateRoot = false
        sandbox.contlabDestination = "/tmp/contlab"
        sandbox.tmpfsSize = "128m"
        sandbox.memoryBytes = 512 << 20
        sandbox.env = [
            "CONTLAB_PROBE=\(probe)", "CONTLAB_HOG=\(Self.hogCommand)", "CONTLAB_SPAWN=\(Self.spawnCommand)",
            "CONTLAB_SPAWNER=\(Self.spawnerCommand)", "CONTLAB_BUNDLE_PROBE=\(Self.bundleProbe)",
            "CONTLAB_LAYERS_PROBE=\(Self.layersProbe)", "CONTLAB_SWIFT=\(swift?.bin ?? "")"
        ]
        // busybox is copied into the grading's root, not bound: the nested root may remount a
        // bind read-write, and the stored tree has folders anyone may write (tmp), which every
        // later grading would copy. The copy stays the host's (not handed over): readable only.
        try FileManager.default.copyItem(atPath: try context.busybox(), toPath: root.path + "/busybox")
        sandbox.binds = binds + [Sandbox.Bind(source: work, destination: "/tmp/exercise", readOnly: false)]
        // B.3: the container lives in a grading cgroup's runner, which it may write (its
        // runtime makes its cgroups there); the parent above holds the limits and is not lent.
        var cgroup: GradingCgroup?
        defer { cgroup?.destroy() }
        if exercise.id == "B.3" {
            // Optional: every other hierarchy, since contlab-runc places a container with a
            // writable cgroup mount in all of them (as runc does); made here, they go with the parent.
            let others = ["devices", "freezer", "unified"] + CgroupHierarchy.current().v1.keys.sorted()
            let made = try GradingCgroup(
                controllers: ["memory", "pids"],
                optional: others.filter { $0 != "memory" && $0 != "pids" })
            cgroup = made
            sandbox.cgroupsPath = made.runnerPath
            sandbox.writableCgroups = true
            for runner in made.runners(["memory", "pids"]) { try Sandbox.handOver(runner, to: sandbox.idBase) }
        }
        try Sandbox.handOver(root.path, to: sandbox.idBase, recursive: false)
        let result = try sandbox.run()
        let output = ProbeOutput.parse(result.stdout)
        switch exercise.id {
        case "B.1": return Evaluation.buildChroot(probe: output, marker: marker, secret: secret)
        case "B.2":
            return Evaluation.buildNamespaces(
                probe: output, secret: secret, hostname: buildTrackHostname,
                hostnameOutside: output.values["outside"] ?? "?")
        case "B.4": return Evaluation.buildBundle(probe: output, request: bundle)
        case "B.5": return Evaluation.buildLayers(probe: output, request: layers)
        default: return Evaluation.buildCgroups(probe: output, limits: buildTrackLimits)
        }
    }

    /// The Go build, as the driver runs it in the module the workspace holds (runtime.go and
    /// its go.mod): the host's Go under the read-only /usr, its cache, module path and home in
    /// the container's /tmp (its /root is unreadable), offline (no proxy, no checksum database,
    /// no toolchain download: GOTOOLCHAIN is read by Go 1.21 and later), no VCS stamp (git may
    /// refuse a folder it does not own) and no cgo, so the runtime is one static binary. A
    /// machine without Go says so in the build log, which the student is shown.
    static let goBuild =
        "if command -v go > /dev/null; then mkdir -p /tmp/go && env HOME=/tmp/go GOCACHE=/tmp/go/cache "
        + "GOPATH=/tmp/go/path GOFLAGS=-buildvcs=false GOPROXY=off GOSUMDB=off GOTOOLCHAIN=local CGO_ENABLED=0 "
        + "go build -o /tmp/runtime .; else echo 'this machine has no go command (Debian: golang-go), which "
        + "builds your runtime: tell your teacher'; false; fi"

    /// The Swift build, with the host's toolchain (`swiftToolchain`, whose bin folder the driver
    /// gets as CONTLAB_SWIFT): its home, temporary files and module cache (the C library's
    /// module, built on a first run) in the container's /tmp, since / is read-only and /root
    /// unreadable. A machine without swiftc says so in the build log, which the student is shown.
    static let swiftBuild =
        "if [ -x \"$CONTLAB_SWIFT/swiftc\" ]; then mkdir -p /tmp/swift/tmp && env PATH=\"$CONTLAB_SWIFT:$PATH\" "
        + "HOME=/tmp/swift TMPDIR=/tmp/swift/tmp swiftc -O -module-cache-path /tmp/swift/cache -o /tmp/runtime "
        + "runtime.swift; else echo 'this machine has no swiftc (the Swift toolchain, from swift.org), which builds "
        + "your runtime: tell your teacher'; false; fi"

    /// Where the build finds swiftc: its folder, and the host tree to bind read-only at the same
    /// path for it, or nil where the toolchain is under /usr (bound already).
    struct SwiftToolchain: Equatable {
        var bin: String
        var tree: String?
    }

    /// The host's Swift toolchain: the first swiftc on PATH, then in /opt/swift/usr/bin (where
    /// swift.org's tarball is often unpacked, and which sudo's PATH leaves out), followed
    /// through its links to the folder that holds swift-frontend (a swiftly proxy does not).
    /// The driver finds the frontend, the clang it links with and the runtime's libraries
    /// relative to itself, so the tree bound is that folder's parent, `usr`, or above it
    /// (/opt/swift). Outside it, the programs use only the host's /usr: the C and C++ libraries
    /// (libstdc++, libz, libuuid, libsqlite3, libncurses, libxml2), and for the link
    /// /usr/bin/ld.gold with gcc's start files. Pure: `resolve` is realpath(3), `isFile` whether
    /// a file is there.
    static func swiftToolchain(
        searchPath: String = ProcessInfo.processInfo.environment["PATH"] ?? "",
        resolve: (String) -> String? = { path in
            guard let real = realpath(path, nil) else { return nil }
            defer { free(real) }
            return String(cString: real)
        },
        isFile: (String) -> Bool = { Sys.exists($0) }
    ) -> SwiftToolchain? {
        for folder in searchPath.split(separator: ":").map(String.init) + ["/opt/swift/usr/bin"]
        where folder.hasPrefix("/") {
            guard let driver = resolve(folder + "/swiftc") else { continue }
            let bin = (driver as NSString).deletingLastPathComponent
            guard isFile(bin + "/swiftc"), isFile(bin + "/swift-frontend") else { continue }
            let usr = (bin as NSString).deletingLastPathComponent
            let tree = (usr as NSString).lastPathComponent == "usr" ? (usr as NSString).deletingLastPathComponent : usr
            let underUsr = tree == "/" || tree == "/usr" || tree.hasPrefix("/usr/")
            return SwiftToolchain(bin: bin, tree: underUsr ? nil : tree)
        }
        return nil
    }

    /// What B.3's runs ask of the runtime: the limits, and what runs under them.
    static let buildTrackLimits = Evaluation.BuildLimits(
        memoryBytes: 64 << 20, bigHog: "100M", smallHog: "30M", pids: 20, spawned: 40)

    /// B.3's commands, run in the student's container by `/bin/sh -c COMMAND ARG`. Each says it
    /// is done in /ready, then waits on the FIFO /go, reading no file and forking nothing (the
    /// pids limit may be reached), while the driver reads the cgroup it is in.
    static let hogCommand = #"/usr/local/bin/contlab hog "$0" > /hog.out 2>&1; echo $? > /ready; read go < /go"#
    /// The spawner stops at its first refused fork (ash exits then): the count it left is how
    /// many sleepers started. The shell above it waits without forking.
    static let spawnerCommand = #"i=0; while [ $i -lt "$0" ]; do sleep 5 & i=$((i+1)); echo $i > /forks; done"#
    static let spawnCommand = #"/bin/sh -c "$0" "$1"; read n < /forks; echo $n > /ready; read go < /go"#

    /// B.3's part of the driver: three runs of the runtime, each in the background in a session
    /// of its own (so that a hung one is killed with everything it started). While the command
    /// waits, the cgroup it is in is found from /proc/PID/cgroup (any process not in the
    /// driver's own) and its limits and counters read; after the run, whether it is gone.
    static func cgroupRuns(_ limits: Evaluation.BuildLimits) -> String {
        #"""
        # ash opens /dev/null for a background job, and the runtime makes no /dev: an empty file.
        : > /tmp/rootfs/dev/null
        if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
            # v2 lets only leaves hold processes when controllers are handed down: the driver
            # steps into a leaf of its own, beside which the runtime's cgroup gets both.
            if ! { mkdir /sys/fs/cgroup/driver && echo $$ > /sys/fs/cgroup/driver/cgroup.procs \
                    && echo "+memory +pids" > /sys/fs/cgroup/cgroup.subtree_control; } > /tmp/setup.log 2>&1; then
                echo "built=0"; echo "setup=cgroup v2: $(tail -c 200 /tmp/setup.log | tr '\n' ' ')"; exit 0
            fi
        fi
        # The cgroup of process $1 in controller $2's hierarchy, as the driver's /sys/fs/cgroup
        # shows it (v1: ID:CONTROLLERS:PATH; v2: 0::PATH); sh alone, as /etc/alternatives
        # (where awk points) is not in this root.
        cgpath() {
            [ -r "/proc/$1/cgroup" ] || return 0
            v1=""; v2=""
            while IFS=: read -r id list path; do
                case ",$list," in *",$2,"*) v1="/sys/fs/cgroup/$list$path" ;; esac
                if [ "$id" = 0 ] && [ -z "$list" ]; then v2="/sys/fs/cgroup$path"; fi
            done < "/proc/$1/cgroup"
            out=${v1:-$v2}
            echo "${out%/}"
        }
        mine=$(cgpath $$ memory)
        minepids=$(cgpath $$ pids)
        echo "driver_memdir=${mine#/sys/fs/cgroup}"; echo "driver_pidsdir=${minepids#/sys/fs/cgroup}"
        alive() { read -r _ _ state _ 2> /dev/null < "/proc/$1/stat" && [ "$state" != Z ]; }
        first() {
            [ -r "$2" ] || return 0
            while read -r key value _; do if [ "$key" = "$1" ]; then echo "$value"; return 0; fi; done < "$2"
        }
        measure() {
            label=$1; shift
            rm -f /tmp/rootfs/ready /tmp/rootfs/forks /tmp/rootfs/go; mkfifo /tmp/rootfs/go
            setsid -w $RUNTIME run "$@" > /tmp/out.$label 2>&1 &
            rpid=$!
            t=0
            while [ ! -s /tmp/rootfs/ready ] && alive $rpid && [ $t -lt 150 ]; do sleep 0.1; t=$((t+1)); done
            m=""; p=""
            for proc in /proc/[0-9]*; do
                c=$(cgpath ${proc#/proc/} memory)
                if [ -n "$c" ] && [ "$c" != "$mine" ]; then m=$c; p=$(cgpath ${proc#/proc/} pids); break; fi
            done
            echo "${label}_ready=$(cat /tmp/rootfs/ready 2>/dev/null)"
            if [ -n "$m" ]; then
                echo "${label}_memdir=${m#/sys/fs/cgroup}"; echo "${label}_pidsdir=${p#/sys/fs/cgroup}"
                echo "${label}_memlimit=$(cat $m/memory.max 2>/dev/null || cat $m/memory.limit_in_bytes 2>/dev/null)"
                if [ -f $m/memory.events ]; then events=$m/memory.events; else events=$m/memory.oom_control; fi
                echo "${label}_oomkill=$(first oom_kill $events)"
                echo "${label}_pidsmax=$(cat $p/pids.max 2>/dev/null)"
                echo "${label}_pidsrefused=$(first max $p/pids.events)"
            fi
            alive $rpid && timeout 2 sh -c 'echo go > /tmp/rootfs/go' 2> /dev/null
            # Let go, the command ends at once: the runtime has 5 s to clean up and exit.
            t=0
            while alive $rpid && [ $t -lt 50 ]; do sleep 0.1; t=$((t+1)); done
            if alive $rpid; then echo "${label}_hung=5"; kill -KILL -$rpid 2> /dev/null; kill -KILL $rpid 2> /dev/null; fi
            wait $rpid; echo "${label}_status=$?"
            left=""
            for d in $m $p; do [ -d "$d" ] && case "$left " in *" ${d#/sys/fs/cgroup} "*) ;; *) left="$left ${d#/sys/fs/cgroup}";; esac; done
            echo "${label}_left=$left"
            echo "${label}_said=$(tail -c 160 /tmp/out.$label | tr '\n' ' ')"
            # Whatever the run left must not weigh on the next: its cgroups' processes go.
            for d in $m $p; do [ -f "$d/cgroup.procs" ] && xargs -r kill -KILL < "$d/cgroup.procs" 2> /dev/null; done
        }
        RUNTIME="$*"
        measure big --memory \#(limits.memoryBytes) --pids 64 /tmp/rootfs /bin/sh -c "$CONTLAB_HOG" \#(limits.bigHog)
        measure small --memory \#(limits.memoryBytes) --pids 64 /tmp/rootfs /bin/sh -c "$CONTLAB_HOG" \#(limits.smallHog)
        measure spawn --memory \#(4 * limits.memoryBytes) --pids \#(limits.pids) /tmp/rootfs /bin/sh -c "$CONTLAB_SPAWN" "$CONTLAB_SPAWNER" \#(limits.spawned)
        echo "built=0"
        """#
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
