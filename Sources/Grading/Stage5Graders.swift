// Stage 5's graders: an overlay's upper directory (5.1) and a whiteout layer (5.2), in a
// private image store.
import ContlabCore
import Exercises
import Foundation
import Images
import Stage5Images

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
                base = try ImageBuilder(store: store).build(
                    tree: try context.busybox(), base: nil, settings: RunSettings(),
                    createdBy: "contlab verify", as: ImageReference(name: "lab/base"))
            } catch {
                data.remove()
                throw error
            }
        }

        /// `contlab run --stage 5` in this store, with a time limit and the sandbox's memory and
        /// pids limits.
        func run(image: String, name: String?, _ args: [String], timeout: Int) throws -> ChildResult {
            try ChildProcess.run(
                [ChildProcess.contlab, "run", "--stage", "5", "--image", image, "--memory", "256M", "--pids", "256"]
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
        let result = try lab.run(
            image: "lab/base", name: "graded", ["/bin/sh", "-c", script], timeout: exercise.timeout)
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
        var sandbox = Sandbox(
            rootfs: try context.busybox(), args: ["/bin/sh", "-c", "cd /tmp/exercise && /bin/sh ./layer.sh"],
            timeout: exercise.timeout)
        sandbox.binds = [Sandbox.Bind(source: work, destination: "/tmp/exercise", readOnly: false)]
        sandbox.bindContlab = false
        let result = try sandbox.run()
        guard let bytes = FileManager.default.contents(atPath: work + "/layer.tar") else {
            return Evaluation.whiteoutLayer(
                status: result.status, tarError: "there is no layer.tar", entries: [], unpackError: nil,
                viPresent: nil, shPresent: nil, motd: nil, overlayOutput: nil, variant: context.variant)
        }
        let tar: [UInt8]
        let entries: [TarEntry]
        do {
            // A student's layer is at most what their 64 MiB of /tmp held; a bomb stops at 256 MiB.
            tar =
                Gzip.isGzip([UInt8](bytes.prefix(2)))
                ? try Gzip.decompress([UInt8](bytes), limit: 256 << 20) : [UInt8](bytes)
            entries = try TarReader.entries(tar)
        } catch {
            return Evaluation.whiteoutLayer(
                status: result.status, tarError: "layer.tar is not a tar archive: \(error)", entries: [],
                unpackError: nil,
                viPresent: nil, shPresent: nil, motd: nil, overlayOutput: nil, variant: context.variant)
        }
        let lab = try ImageLab(context: context)
        defer { lab.remove() }
        let image = try ImageBuilder(store: lab.store).stack(
            layer: tar, on: lab.base, createdBy: "layer.tar", as: ImageReference(name: "lab/layered"))
        let bundle = lab.data.path + "/bundle"
        do {
            try Unpacker(store: lab.store).unpack(image, bundle: bundle)
        } catch {
            return Evaluation.whiteoutLayer(
                status: result.status, tarError: nil, entries: entries.map(\.path), unpackError: "\(error)",
                viPresent: nil, shPresent: nil, motd: nil, overlayOutput: nil, variant: context.variant)
        }
        var info = stat()
        let root = bundle + "/rootfs"
        let deleted = context.variant.deleted
        let overlay = try lab.run(
            image: "lab/layered", name: nil,
            [
                "/bin/sh", "-c", "cat /etc/motd; if [ -e \"/bin/$0\" ]; then echo vi-present; else echo vi-gone; fi",
                deleted
            ], timeout: 30)
        return Evaluation.whiteoutLayer(
            status: result.status, tarError: nil, entries: entries.map(\.path), unpackError: nil,
            viPresent: lstat(root + "/bin/" + deleted, &info) == 0, shPresent: lstat(root + "/bin/sh", &info) == 0,
            motd: Sys.readInRoot(root, "etc/motd"),
            overlayOutput: String(decoding: overlay.stdout, as: UTF8.self), variant: context.variant)
    }
}
