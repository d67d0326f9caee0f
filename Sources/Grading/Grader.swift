import Cgroups
import ContlabCore
import Exercises
import Foundation
import History
import Images
import Lessons
import OCI
import Rootfs
import Stage5Images
import TextKit

/// What every grader needs from the machine: the busybox tree containers start from, the
/// history data, runc when it is installed.
public struct GradingContext {
    public var language: Language
    public var busybox: () throws -> String
    /// BusyBox with util-linux's unshare and mount: stage 2's scripts run in it.
    public var hostTools: () throws -> String
    public var history: () throws -> HistoryData
    public var runc: String?
    /// A time limit for every exercise, instead of each one's own (`verify --timeout`).
    public var timeLimit: Int?
    /// The values this workspace's tasks ask for (its `.contlab/variant.json`, or derived from
    /// the class key when a teacher grades).
    public var variant: Variant = .standard

    public init(language: Language, busybox: @escaping () throws -> String, hostTools: @escaping () throws -> String,
                history: @escaping () throws -> HistoryData, runc: String?, timeLimit: Int? = nil) {
        self.language = language
        self.busybox = busybox
        self.hostTools = hostTools
        self.history = history
        self.runc = runc
        self.timeLimit = timeLimit
    }

    /// A built tree of `recipe`. Without root, the user's own (built now if need be, in a
    /// second or two): the machine's shared tree has folders only root may read (/root), and
    /// grading copies trees and packs them into images.
    static func tree(_ recipe: String) throws -> String {
        do {
            let store = try RootfsStore.standard()
            return geteuid() == 0 ? try store.resolve(recipe) : try store.build(recipe).path
        } catch {
            throw GradingError.noRootfs("\(error)")
        }
    }

    /// The checkout's busybox tree and history data, and Debian's runc if present.
    public static func standard(language: Language) -> GradingContext {
        GradingContext(
            language: language,
            busybox: { try tree("busybox") },
            hostTools: { try tree("host-tools") },
            history: { try HistoryData.load(from: try ProjectFiles.lessonsDirectory().appendingPathComponent("history")) },
            // Without root, runc (cgroup v1) would want a cgroup in every hierarchy, where the
            // user holds only the ones contlab uses.
            runc: geteuid() != 0 ? nil : ["/usr/sbin/runc", "/usr/bin/runc", "/usr/local/sbin/runc"].first { FileManager.default.isExecutableFile(atPath: $0) })
    }
}

/// Runs one exercise's work for real and says what it saw. One function per grader named in
/// exercise.yaml; each turns its observations into outcomes through `Evaluation` (pure).
public enum Grader {
    public static func grade(_ exercise: Exercise, folder: URL, context: GradingContext, hintsShown: [String: Int] = [:]) -> ExerciseResult {
        let start = Date()
        var exercise = exercise
        if let limit = context.timeLimit { exercise.timeout = limit }
        let outcomes: [CheckOutcome]
        if !FileManager.default.fileExists(atPath: folder.path) {
            outcomes = CheckOutcome.allFailed(exercise, expected: "the folder \(exercise.folderName)", seen: "it is missing from the workspace")
        } else {
            do {
                outcomes = try run(exercise, folder: folder, context: context)
            } catch {
                outcomes = CheckOutcome.allFailed(exercise, seen: "the grader could not run it: \(error)")
            }
        }
        return Scoring.score(exercise, outcomes: outcomes, hintsShown: hintsShown, language: context.language,
                             seconds: Date().timeIntervalSince(start))
    }

    /// What grading `exercises` needs of this machine, checked before any is graded, so a
    /// grader that cannot grade says so (and exits 2) instead of failing every check.
    public static func preflight(_ exercises: [Exercise], context: GradingContext) throws {
        let real = exercises.filter { HistoryQuiz.Kind(rawValue: $0.grader) == nil }
        guard !real.isEmpty else { return }
        // Without root: containers in the user's own user namespace, cgroups in the subtree
        // `contlab lab setup` gave them.
        guard geteuid() == 0 || UserDelegation(uid: geteuid(), gid: getegid()).isPrepared(in: .current()) else { throw GradingError.needsRoot }
        if real.contains(where: { ["stage1-jail", "cgroup-script", "oci-bundle", "overlay-upper", "whiteout-layer"].contains($0.grader) }) { _ = try context.busybox() }
        if real.contains(where: { $0.grader == "unshare-script" }) { _ = try context.hostTools() }
    }

    static func run(_ exercise: Exercise, folder: URL, context: GradingContext) throws -> [CheckOutcome] {
        if HistoryQuiz.Kind(rawValue: exercise.grader) != nil {
            let text = try? String(contentsOf: folder.appendingPathComponent("answers.yaml"), encoding: .utf8)
            return HistoryQuiz.grade(exercise, answers: text, data: try context.history(), variant: context.variant)
        }
        // The student's files are copied first: their program may delete or change its own.
        let copy = try TemporaryDirectory(prefix: "contlab-grade-work")
        defer { copy.remove() }
        let work = copy.path + "/exercise"
        try FileManager.default.copyItem(atPath: folder.path, toPath: work)
        switch exercise.grader {
        case "rootfs-recipe": return try rootfsRecipe(exercise, work: work)
        case "stage1-jail": return try stage1Jail(exercise, work: work, context: context)
        case "unshare-script": return try unshareScript(exercise, work: work, context: context)
        case "cgroup-script": return try cgroupScript(exercise, work: work, context: context)
        case "oci-bundle": return try ociBundle(exercise, work: work, context: context)
        case "overlay-upper": return try overlayUpper(exercise, work: work, context: context)
        case "whiteout-layer": return try whiteoutLayer(exercise, work: work, context: context)
        default: return CheckOutcome.allFailed(exercise, seen: "this contlab has no grader \"\(exercise.grader)\"")
        }
    }

    static func missing(_ exercise: Exercise, _ work: String) -> [CheckOutcome]? {
        for file in exercise.files where !FileManager.default.fileExists(atPath: work + "/" + file) {
            return CheckOutcome.allFailed(exercise, expected: "the file \(file)", seen: "\(file) is missing")
        }
        return nil
    }

    // MARK: 1.1 a root filesystem recipe

    static func rootfsRecipe(_ exercise: Exercise, work: String) throws -> [CheckOutcome] {
        if let missing = missing(exercise, work) { return missing }
        let data = try TemporaryDirectory(prefix: "contlab-grade-rootfs")
        defer { data.remove() }
        let store = RootfsStore(recipesDirectory: URL(fileURLWithPath: work), dataDirectory: URL(fileURLWithPath: data.path))
        let tree: String
        do {
            // debootstrap downloads a distribution for minutes: not something to grade.
            if try store.loadRecipe("lab").recipe.debootstrap != nil {
                return Evaluation.rootfsRecipe(buildError: "the recipe uses debootstrap, which the grader does not run: use packages and busybox-applets",
                                               hasShell: false, probe: nil, exitStatus: nil)
            }
            tree = try store.build("lab").path
        } catch {
            return Evaluation.rootfsRecipe(buildError: "the build failed: \(error)", hasShell: false, probe: nil, exitStatus: nil)
        }
        var info = stat()
        let hasShell = lstat(tree + "/bin/sh", &info) == 0
        guard hasShell else { return Evaluation.rootfsRecipe(buildError: nil, hasShell: false, probe: nil, exitStatus: nil) }
        // The tree is this grading's own copy: the container may write to it.
        var sandbox = Sandbox(rootfs: tree, args: ["/bin/sh", "-c", """
            echo; echo "uid=$(id -u student 2>/dev/null)"; if [ -d /home/student ]; then echo home=yes; else echo home=no; fi
            echo "tmp=$(stat -c %a /tmp 2>/dev/null)"; exit 7
            """], timeout: exercise.timeout)
        sandbox.readOnlyRoot = false
        sandbox.privateRoot = false
        try Sandbox.handOver(data.path, to: sandbox.idBase)
        sandbox.tmpfsSize = nil
        sandbox.bindContlab = false
        let result = try sandbox.run()
        return Evaluation.rootfsRecipe(buildError: nil, hasShell: true, probe: ProbeOutput.parse(result.stdout),
                                       exitStatus: result.status + (result.exitCode == 125 ? " (the runtime could not start it: \(ProbeOutput.excerpt(String(decoding: result.stderr, as: UTF8.self))))" : ""))
    }

    // MARK: 1.2, 1.3 a stage-1 container, inside a stage-4 one

    static func stage1Jail(_ exercise: Exercise, work: String, context: GradingContext) throws -> [CheckOutcome] {
        if let missing = missing(exercise, work) { return missing }
        guard let script = exercise.files.first else { return CheckOutcome.allFailed(exercise, seen: "the exercise names no script") }
        let grader = try TemporaryDirectory(prefix: "contlab-grade-secret")
        defer { grader.remove() }
        let secret = (0..<2).map { _ in String(UInt64.random(in: 0...UInt64.max), radix: 16) }.joined()
        try Data((secret + "\n").utf8).write(to: URL(fileURLWithPath: grader.path + "/secret"))
        let limit = exercise.timeout
        let marker = "contlab-marker-\(UInt32.random(in: 0...UInt32.max))"
        // The driver runs as PID 1 of the outer container: it copies busybox into a jail on the
        // tmpfs, starts the marker process (1.3), runs the student's script at stage 1 and then
        // at stage 2 (1.2), and reports; the script's output goes back base64-encoded, so nothing
        // it prints can pass for the driver's lines.
        let driver = """
            mkdir -p /tmp/jail /tmp/home/lessons /tmp/home/rootfs-recipes
            for d in bin sbin usr etc home root; do cp -a /$d /tmp/jail/ 2>/dev/null; done
            rm -f /tmp/jail/usr/local/bin/contlab
            mkdir -p /tmp/jail/proc /tmp/jail/sys /tmp/jail/dev /tmp/jail/tmp /tmp/jail/mnt /tmp/jail/usr/local/bin
            touch /tmp/jail/usr/local/bin/contlab
            cp /tmp/exercise/\(script) /tmp/jail/\(script)
            echo "$M" > /tmp/jail/marker
            n=$((RANDOM % 40)); while [ $n -gt 0 ]; do true & n=$((n - 1)); done; wait
            sh -c "sleep 600; : $M" & marker=$!
            echo contlab-probe-wanted=$marker
            echo contlab-probe-before=$(wc -l < /proc/self/mountinfo)
            export CONTLAB_HOME=/tmp/home
            timeout -s KILL \(limit) contlab run --stage 1 --rootfs /tmp/jail -e PROOF=/tmp/grader/secret -- /bin/sh /\(script) > /tmp/out1 2>/tmp/err1
            echo contlab-probe-status1=$?
            echo contlab-probe-after=$(wc -l < /proc/self/mountinfo)
            echo contlab-probe-out1=$(base64 /tmp/out1 | tr -d '\\n')
            echo contlab-probe-err1=$(base64 /tmp/err1 | tr -d '\\n')
            if [ "\(exercise.id)" = 1.2 ]; then
              timeout -s KILL \(limit) contlab run --stage 2 --rootfs /tmp/jail -e PROOF=/tmp/grader/secret -- /bin/sh /\(script) > /tmp/out2 2>/dev/null
              echo contlab-probe-status2=$?
              echo contlab-probe-out2=$(base64 /tmp/out2 | tr -d '\\n')
            fi
            kill $marker 2>/dev/null
            exit 0
            """
        var sandbox = Sandbox(rootfs: try context.busybox(), args: ["/bin/sh", "-c", driver], timeout: 2 * limit + 20)
        sandbox.nested = true
        sandbox.binds = [Sandbox.Bind(source: work, destination: "/tmp/exercise"), Sandbox.Bind(source: grader.path, destination: "/tmp/grader")]
        sandbox.hostname = "outer"
        // The marker reaches the driver through its environment, so that no command line but
        // the marked process's holds it; the PID before it varies from run to run.
        sandbox.env = ["M=\(marker)"]
        let result = try sandbox.run()
        let values = ProbeOutput.parse(result.stdout).values
        if getenv("CONTLAB_GRADE_DEBUG") != nil, let err = values["contlab-probe-err1"].flatMap({ Data(base64Encoded: $0) }) {
            Sys.warn("contlab: the stage-1 run's stderr:\n" + String(decoding: err, as: UTF8.self))
        }
        func decoded(_ key: String) -> ProbeOutput {
            ProbeOutput.parse(values[key].flatMap { Data(base64Encoded: $0) } ?? Data())
        }
        func status(_ key: String) -> String {
            guard let code = values[key].flatMap({ Int32($0) }) else { return "did not run (the grading container \(result.status))" }
            if code == 137 { return "was killed after \(limit) s (its time limit)" }
            return code > 128 ? "was killed by signal \(code - 128)" : "exited with \(code)"
        }
        let wanted = exercise.id == "1.2" ? secret : (values["contlab-probe-wanted"] ?? "?")
        return Evaluation.stage1Jail(
            exercise: exercise.id, wanted: wanted, stage1: decoded("contlab-probe-out1"), stage1Status: status("contlab-probe-status1"),
            mountsBefore: values["contlab-probe-before"].flatMap { Int($0) }, mountsAfter: values["contlab-probe-after"].flatMap { Int($0) },
            stage2: values["contlab-probe-out2"] == nil ? nil : decoded("contlab-probe-out2"),
            stage2Status: values["contlab-probe-status2"] == nil ? nil : status("contlab-probe-status2"))
    }

    // MARK: 2.x a util-linux unshare script, in a container

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
        var sandbox = Sandbox(rootfs: try context.hostTools(), args: ["/bin/sh", "-c", inner], timeout: exercise.timeout)
        sandbox.nested = true
        sandbox.env = ["CONTLAB_GRADER=/usr/local/bin/contlab", "CONTLAB_PROBE=\(probe)"]
        sandbox.binds = [Sandbox.Bind(source: work, destination: "/tmp/exercise", readOnly: false),
                         Sandbox.Bind(source: results.path, destination: "/tmp/after", readOnly: false)]
        let result = try sandbox.run()
        let after = ProbeOutput.parse((try? Data(contentsOf: URL(fileURLWithPath: results.path + "/after"))) ?? Data())
        return Evaluation.unshareScript(exercise: exercise.id, probe: ProbeOutput.parse(result.stdout), status: result.status,
                                        hostnameBefore: sandbox.hostname, after: after, variant: context.variant)
    }

    // MARK: 3.x a cgroup made by hand, in a container, under a cgroup it was handed

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
        var sandbox = Sandbox(rootfs: try context.busybox(), args: ["/bin/sh", "-c", "cd /tmp/exercise && exec /bin/sh ./\(exercise.files[0])"],
                              timeout: exercise.timeout)
        sandbox.env = ["CGROUP=/tmp/cgroup", "CGROUP_VERSION=\(version)"]
        sandbox.binds = [Sandbox.Bind(source: work, destination: "/tmp/exercise", readOnly: false),
                         Sandbox.Bind(source: parent, destination: "/tmp/cgroup", readOnly: false)]
        let setup = try sandbox.run()
        let lab = parent + "/lab"
        let made = Sys.isDirectory(lab)
        let setupStatus = "setup.sh \(setup.status)"
        func inLab(_ argv: [String], timeout: Int = 30) -> Evaluation.CgroupRun? {
            guard made, let result = try? ChildProcess.run(["/bin/sh", "-c", "echo $$ > \"$0/cgroup.procs\" || exit 99; exec \"$@\"", lab] + argv, timeout: timeout) else { return nil }
            return Evaluation.CgroupRun(status: result.status, signaled: result.signal, exitCode: result.exitCode)
        }
        let backend: CgroupBackend = version == 1 ? CgroupV1() : CgroupV2()
        func stats() -> CgroupStats { backend.stats { Sys.readText(lab + "/" + $0) } }
        switch controller {
        case "memory":
            let big = inLab([ChildProcess.contlab, "hog", "100M"])
            let small = inLab([ChildProcess.contlab, "hog", "30M"])
            return Evaluation.memoryCgroup(made: made, setupStatus: setupStatus, big: big, small: small, oomKills: made ? stats().oomKills : nil)
        case "pids":
            let spawn = "i=0; while [ $i -lt $0 ]; do sleep 0.3 & i=$((i+1)); done; wait"
            let ten = inLab(["/bin/sh", "-c", spawn, "\(context.variant.pidsFew)"])
            let forty = inLab(["/bin/sh", "-c", spawn, "\(context.variant.pidsMany)"])
            let limit = made ? Sys.readText(lab + "/pids.max")?.trimmingCharacters(in: .whitespacesAndNewlines) : nil
            return Evaluation.pidsCgroup(made: made, setupStatus: setupStatus, ten: ten, forty: forty, refusals: made ? stats().pidsLimitHits : nil,
                                         variant: context.variant, limit: limit)
        default:
            let wall = 1.5
            var cpu: Double?
            if made, let result = try? ChildProcess.run(["/bin/sh", "-c", "echo $$ > \"$0/cgroup.procs\" || exit 99; timeout \(wall) /bin/sh -c 'while :; do :; done'; times", lab], timeout: 20) {
                cpu = Evaluation.childrenCPUSeconds(fromTimes: String(decoding: result.stdout, as: UTF8.self))
            }
            let throttled = Sys.readText(lab + "/cpu.stat").flatMap { text in
                text.split(separator: "\n").first { $0.hasPrefix("nr_throttled ") }.flatMap { UInt64($0.split(separator: " ")[1]) }
            }
            return Evaluation.cpuCgroup(made: made, setupStatus: setupStatus, throttled: throttled, cpuSeconds: cpu, wallSeconds: wall)
        }
    }

    // MARK: 4.x a config.json, under contlab-runc and runc

    static func ociBundle(_ exercise: Exercise, work: String, context: GradingContext) throws -> [CheckOutcome] {
        if let missing = missing(exercise, work) { return missing }
        let spec: Spec
        do {
            spec = try JSONDecoder().decode(Spec.self, from: Data(contentsOf: URL(fileURLWithPath: work + "/config.json")))
        } catch {
            return Evaluation.ociBundle(exercise: exercise.id, contlab: .init(probe: ProbeOutput(), status: ""), runc: nil,
                                        refused: "config.json does not parse as an OCI config: \(error)")
        }
        if let refusal = BundleAmendment.refusal(spec) {
            return Evaluation.ociBundle(exercise: exercise.id, contlab: .init(probe: ProbeOutput(), status: ""), runc: nil, refused: refusal)
        }
        let busybox = try context.busybox()
        func runUnder(_ runtime: [String]?) throws -> Evaluation.BundleRun {
            // Each run gets its own copy of the tree: the student's root may be writable.
            let root = try TemporaryDirectory(prefix: "contlab-grade-root")
            defer { root.remove() }
            let tree = root.path + "/rootfs"
            let copy = try ChildProcess.run(["/bin/cp", "-a", busybox, tree], timeout: 60)
            guard copy.exitCode == 0 else { throw GradingError.noRootfs("cannot copy \(busybox): \(copy.status)") }
            // The student's settings run in a user namespace of the grader's: root inside is an
            // unprivileged range outside, which owns this copy of the tree.
            let idBase = Sandbox.privateIDBase()
            try Sandbox.handOver(root.path, to: idBase)
            let result = try Sandbox.run(idBase: idBase, timeout: exercise.timeout, runtime: runtime) { contlab in
                var amended = BundleAmendment.amend(spec, rootfs: tree, contlab: contlab, hog: exercise.id == "4.3")
                Sandbox.confine(&amended, idBase: idBase)
                // Without root, runc and contlab-runc may make cgroups only in the user's subtree.
                let base = ContainerCgroup.basePath(hierarchy: .current())
                if base != "contlab" { amended.linux?.cgroupsPath = "/\(base)/contlab-grade-\(getpid())-\(UInt32.random(in: 0...UInt32.max))" }
                return amended
            }
            var text = String(decoding: result.stdout, as: UTF8.self)
            if result.exitCode != 0 { text += String(decoding: result.stderr, as: UTF8.self) }
            return Evaluation.BundleRun(probe: ProbeOutput.parse(text), status: result.status)
        }
        let contlab = try runUnder(nil)
        let runc = try context.runc.map { try runUnder([$0]) }
        return Evaluation.ociBundle(exercise: exercise.id, contlab: contlab, runc: runc, refused: nil, variant: context.variant)
    }
}

// MARK: 5.1, 5.2 images and layers

extension Grader {
    /// A private store (images, layers, containers) under a temporary data directory, holding
    /// the busybox tree as the image lab/base.
    struct ImageLab {
        let data: TemporaryDirectory
        let store: ImageStore
        let containers: ContainerStore
        let base: StoredImage

        init(context: GradingContext) throws {
            data = try TemporaryDirectory(prefix: "contlab-grade-images")
            store = ImageStore(directory: data.path + "/images", layersDirectory: data.path + "/layers")
            containers = ContainerStore(directory: data.path + "/containers", images: store)
            do {
                base = try ImageBuilder(store: store).build(tree: try context.busybox(), base: nil, settings: RunSettings(),
                                                           createdBy: "contlab verify", as: ImageReference(name: "lab/base"))
            } catch {
                data.remove()
                throw error
            }
        }

        /// `contlab run --stage 5` in this store, with a time limit and the sandbox's memory and
        /// pids limits.
        func run(image: String, name: String?, _ args: [String], timeout: Int) throws -> ChildResult {
            try ChildProcess.run([ChildProcess.contlab, "run", "--stage", "5", "--image", image, "--memory", "256M", "--pids", "256"]
                                 + (name.map { ["--name", $0] } ?? ["--rm"]) + ["--"] + args,
                                 environment: ["CONTLAB_DATA": data.path], timeout: timeout)
        }

        func remove() {
            for container in containers.list() { try? containers.remove(container.id) }
            try? removeTree(data.path)
        }
    }

    static func overlayUpper(_ exercise: Exercise, work: String, context: GradingContext) throws -> [CheckOutcome] {
        if let missing = missing(exercise, work) { return missing }
        let lab = try ImageLab(context: context)
        defer { lab.remove() }
        let script = (try? String(contentsOfFile: work + "/changes.sh", encoding: .utf8)) ?? ""
        let result = try lab.run(image: "lab/base", name: "graded", ["/bin/sh", "-c", script], timeout: exercise.timeout)
        var upper: [String: Evaluation.UpperEntry] = [:]
        var diff: [String] = []
        if let container = try? lab.containers.load("graded") {
            for entry in (try? lab.containers.upperEntries(container)) ?? [] {
                switch entry.kind {
                case .whiteout: upper[entry.path] = .whiteout
                case .directory(let opaque): upper[entry.path] = .directory(opaque: opaque)
                case .file: upper[entry.path] = .file(Sys.readInRoot(lab.containers.upper("graded"), entry.path) ?? "")
                case .symlink, .other: upper[entry.path] = .other
                }
            }
            diff = ((try? lab.containers.diff(container)) ?? []).map(\.description)
        }
        let prediction = try? String(contentsOfFile: work + "/prediction.txt", encoding: .utf8)
        return Evaluation.overlayUpper(status: result.status, upper: upper, diff: diff, prediction: prediction)
    }

    static func whiteoutLayer(_ exercise: Exercise, work: String, context: GradingContext) throws -> [CheckOutcome] {
        if let missing = missing(exercise, work) { return missing }
        // layer.sh runs in a container (busybox has tar and gzip), its folder bound writable.
        var sandbox = Sandbox(rootfs: try context.busybox(), args: ["/bin/sh", "-c", "cd /tmp/exercise && /bin/sh ./layer.sh"], timeout: exercise.timeout)
        sandbox.binds = [Sandbox.Bind(source: work, destination: "/tmp/exercise", readOnly: false)]
        sandbox.bindContlab = false
        let result = try sandbox.run()
        guard let bytes = FileManager.default.contents(atPath: work + "/layer.tar") else {
            return Evaluation.whiteoutLayer(status: result.status, tarError: "there is no layer.tar", entries: [], unpackError: nil,
                                            viPresent: nil, shPresent: nil, motd: nil, overlayOutput: nil, variant: context.variant)
        }
        let tar: [UInt8]
        let entries: [TarEntry]
        do {
            // A student's layer is at most what their 64 MiB of /tmp held; a bomb stops at 256 MiB.
            tar = Gzip.isGzip([UInt8](bytes.prefix(2))) ? try Gzip.decompress([UInt8](bytes), limit: 256 << 20) : [UInt8](bytes)
            entries = try TarReader.entries(tar)
        } catch {
            return Evaluation.whiteoutLayer(status: result.status, tarError: "layer.tar is not a tar archive: \(error)", entries: [], unpackError: nil,
                                            viPresent: nil, shPresent: nil, motd: nil, overlayOutput: nil, variant: context.variant)
        }
        let lab = try ImageLab(context: context)
        defer { lab.remove() }
        let image = try ImageBuilder(store: lab.store).stack(layer: tar, on: lab.base, createdBy: "layer.tar", as: ImageReference(name: "lab/layered"))
        let bundle = lab.data.path + "/bundle"
        do {
            try Unpacker(store: lab.store).unpack(image, bundle: bundle)
        } catch {
            return Evaluation.whiteoutLayer(status: result.status, tarError: nil, entries: entries.map(\.path), unpackError: "\(error)",
                                            viPresent: nil, shPresent: nil, motd: nil, overlayOutput: nil, variant: context.variant)
        }
        var info = stat()
        let root = bundle + "/rootfs"
        let deleted = context.variant.deleted
        let overlay = try lab.run(image: "lab/layered", name: nil,
                                  ["/bin/sh", "-c", "cat /etc/motd; if [ -e \"/bin/$0\" ]; then echo vi-present; else echo vi-gone; fi", deleted], timeout: 30)
        return Evaluation.whiteoutLayer(status: result.status, tarError: nil, entries: entries.map(\.path), unpackError: nil,
                                        viPresent: lstat(root + "/bin/" + deleted, &info) == 0, shPresent: lstat(root + "/bin/sh", &info) == 0,
                                        motd: Sys.readInRoot(root, "etc/motd"),
                                        overlayOutput: String(decoding: overlay.stdout, as: UTF8.self), variant: context.variant)
    }
}
