// Stage 1's graders: a root filesystem recipe (1.1), and a stage-1 container built by the
// student's script, run inside a stage-4 one (1.2, 1.3).
import ContlabCore
import Exercises
import Foundation
import Rootfs

extension Grader {
    static func rootfsRecipe(_ exercise: Exercise, work: String) throws -> [CheckOutcome] {
        if let missing = missing(exercise, work) { return missing }
        let data = try TemporaryDirectory(prefix: "contlab-grade-rootfs")
        defer { data.remove() }
        let store = RootfsStore(
            recipesDirectory: URL(fileURLWithPath: work), dataDirectory: URL(fileURLWithPath: data.path))
        let tree: String
        do {
            // debootstrap downloads a distribution for minutes: not something to grade.
            if try store.loadRecipe("lab").recipe.debootstrap != nil {
                return Evaluation.rootfsRecipe(
                    buildError:
                        "the recipe uses debootstrap, which the grader does not run: use packages and busybox-applets",
                    hasShell: false, probe: nil, exitStatus: nil)
            }
            tree = try store.build("lab").path
        } catch {
            return Evaluation.rootfsRecipe(
                buildError: "the build failed: \(error)", hasShell: false, probe: nil, exitStatus: nil)
        }
        var info = stat()
        let hasShell = lstat(tree + "/bin/sh", &info) == 0
        guard hasShell else {
            return Evaluation.rootfsRecipe(buildError: nil, hasShell: false, probe: nil, exitStatus: nil)
        }
        // The tree is this grading's own copy: the container may write to it.
        var sandbox = Sandbox(
            rootfs: tree,
            args: [
                "/bin/sh", "-c",
                """
                echo; echo "uid=$(id -u student 2>/dev/null)"; if [ -d /home/student ]; then echo home=yes; else echo home=no; fi
                echo "tmp=$(stat -c %a /tmp 2>/dev/null)"; exit 7
                """
            ], timeout: exercise.timeout)
        sandbox.readOnlyRoot = false
        sandbox.privateRoot = false
        try Sandbox.handOver(data.path, to: sandbox.idBase)
        sandbox.tmpfsSize = nil
        sandbox.bindContlab = false
        let result = try sandbox.run()
        return Evaluation.rootfsRecipe(
            buildError: nil, hasShell: true, probe: ProbeOutput.parse(result.stdout),
            exitStatus: result.status
                + (result.exitCode == 125
                    ? " (the runtime could not start "
                        + "it: \(ProbeOutput.excerpt(String(decoding: result.stderr, as: UTF8.self))))"
                    : ""))
    }

    static func stage1Jail(_ exercise: Exercise, work: String, context: GradingContext) throws -> [CheckOutcome] {
        if let missing = missing(exercise, work) { return missing }
        guard let script = exercise.files.first else {
            return CheckOutcome.allFailed(exercise, seen: "the exercise names no script")
        }
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
        sandbox.binds = [
            Sandbox.Bind(source: work, destination: "/tmp/exercise"),
            Sandbox.Bind(source: grader.path, destination: "/tmp/grader")
        ]
        sandbox.hostname = "outer"
        // The marker reaches the driver through its environment, so that no command line but
        // the marked process's holds it; the PID before it varies from run to run.
        sandbox.env = ["M=\(marker)"]
        let result = try sandbox.run()
        let values = ProbeOutput.parse(result.stdout).values
        if getenv("CONTLAB_GRADE_DEBUG") != nil,
            let err = values["contlab-probe-err1"].flatMap({ Data(base64Encoded: $0) })
        {
            Sys.warn("contlab: the stage-1 run's stderr:\n" + String(decoding: err, as: UTF8.self))
        }
        func decoded(_ key: String) -> ProbeOutput {
            ProbeOutput.parse(values[key].flatMap { Data(base64Encoded: $0) } ?? Data())
        }
        func status(_ key: String) -> String {
            guard let code = values[key].flatMap({ Int32($0) }) else {
                return "did not run (the grading container \(result.status))"
            }
            if code == 137 { return "was killed after \(limit) s (its time limit)" }
            return code > 128 ? "was killed by signal \(code - 128)" : "exited with \(code)"
        }
        let wanted = exercise.id == "1.2" ? secret : (values["contlab-probe-wanted"] ?? "?")
        return Evaluation.stage1Jail(
            exercise: exercise.id, wanted: wanted, stage1: decoded("contlab-probe-out1"),
            stage1Status: status("contlab-probe-status1"),
            mountsBefore: values["contlab-probe-before"].flatMap { Int($0) },
            mountsAfter: values["contlab-probe-after"].flatMap { Int($0) },
            stage2: values["contlab-probe-out2"] == nil ? nil : decoded("contlab-probe-out2"),
            stage2Status: values["contlab-probe-status2"] == nil ? nil : status("contlab-probe-status2"))
    }
}
