// Stage 4's grader: a config.json, under contlab-runc and runc.
import Cgroups
import Exercises
import Foundation
import OCI

extension Grader {
    static func ociBundle(_ exercise: Exercise, work: String, context: GradingContext) throws -> [CheckOutcome] {
        if let missing = missing(exercise, work) { return missing }
        let spec: Spec
        do {
            spec = try JSONDecoder().decode(
                Spec.self, from: Data(contentsOf: URL(fileURLWithPath: work + "/config.json")))
        } catch {
            return Evaluation.ociBundle(
                exercise: exercise.id, contlab: .init(probe: ProbeOutput(), status: ""), runc: nil,
                refused: "config.json does not parse as an OCI config: \(error)")
        }
        if let refusal = BundleAmendment.refusal(spec) {
            return Evaluation.ociBundle(
                exercise: exercise.id, contlab: .init(probe: ProbeOutput(), status: ""), runc: nil, refused: refusal)
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
                if base != "contlab" {
                    amended.linux?.cgroupsPath =
                        "/\(base)/contlab-grade-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
                }
                return amended
            }
            var text = String(decoding: result.stdout, as: UTF8.self)
            if result.exitCode != 0 { text += String(decoding: result.stderr, as: UTF8.self) }
            return Evaluation.BundleRun(probe: ProbeOutput.parse(text), status: result.status)
        }
        let contlab = try runUnder(nil)
        let runc = try context.runc.map { try runUnder([$0]) }
        return Evaluation.ociBundle(
            exercise: exercise.id, contlab: contlab, runc: runc, refused: nil, variant: context.variant)
    }
}
