import ArgumentParser
import ContlabCore
import Foundation
import Images
import Rootfs
import Stage5Images

struct ImageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image",
        abstract: "Stage 5: OCI images made of layers, in a local store that umoci and skopeo read too.",
        discussion: """
            The store is one OCI image layout (oci-layout, index.json, blobs/sha256/…) \
            under contlab's data directory; every layer is a gzip'd tar named by its \
            sha256 digest.

              contlab image build --rootfs busybox busybox
              contlab image build --rootfs host-tools --from busybox tools
              contlab image history tools
              contlab run --stage 5 --image tools --name c1 -- sh -c 'rm /bin/vi'
              contlab diff c1; contlab commit c1 mine:v1
              contlab image export busybox /tmp/bb.tar
              skopeo inspect oci-archive:/tmp/bb.tar
            """,
        subcommands: [
            Build.self, List.self, Inspect.self, History.self, Remove.self, Import.self, Export.self, Unpack.self
        ])

    struct Build: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "build",
            abstract: "Make an image of a root filesystem: one layer, or one more on top of --from.",
            discussion: """
                With --from, the new layer holds only the files the tree adds or changes \
                against the base image, so both images share the base's layers (stored \
                once).
                """)
        @Option(help: "A root filesystem recipe (contlab rootfs list), built if needed.") var rootfs: String?
        @Option(help: "A directory to make the layer of, instead of a recipe.") var dir: String?
        @Option(help: "The image to stack the new layer on.") var from: String?
        @Option(help: "The command the image runs (repeat for each word), replacing the base's.") var cmd: [String] = []
        @Option(help: "The entrypoint (repeat for each word).") var entrypoint: [String] = []
        @Option(name: [.short, .long], help: "An environment variable KEY=VALUE (repeatable).") var env: [String] = []
        @Option(name: [.customShort("w"), .long], help: "The working directory.") var workdir: String?
        @Option(help: "The user, as NAME, UID or UID:GID.") var user: String?
        @Option(help: "A label KEY=VALUE (repeatable).") var label: [String] = []
        @Argument(help: "NAME[:TAG] for the new image.") var name: String

        func validate() throws {
            guard (rootfs == nil) != (dir == nil) else {
                throw ValidationError("give exactly one of --rootfs RECIPE or --dir DIRECTORY")
            }
        }

        func run() throws {
            try reportingErrors {
                let reference = try ImageReference(parsing: name)
                let store = ImageStore.standard()
                let base = try from.map { try store.image(try ImageReference(parsing: $0)) }
                let tree: String
                if let rootfs { tree = try RootfsStore.standard().build(rootfs).path } else { tree = dir! }
                guard Sys.isDirectory(tree) else { throw ValidationError("\(tree) is not a directory") }
                var settings = RunSettings()
                if !cmd.isEmpty { settings.cmd = cmd }
                if !entrypoint.isEmpty { settings.entrypoint = entrypoint }
                settings.env = env
                settings.workingDir = workdir
                settings.user = user
                for item in label {
                    let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
                    guard parts.count == 2 else { throw ValidationError("--label \(item): write KEY=VALUE") }
                    settings.labels[parts[0]] = parts[1]
                }
                let createdBy =
                    "contlab image build " + (rootfs.map { "--rootfs \($0)" } ?? "--dir \(dir!)")
                    + (from.map { " --from \($0)" } ?? "")
                let image = try ImageBuilder(store: store).build(
                    tree: tree, base: base, settings: settings, createdBy: createdBy, as: reference)
                let top = image.manifest.layers.last!
                print("\(reference) \(image.descriptor.digest)")
                print(
                    "  \(image.manifest.layers.count) layer(s); new "
                        + "layer \(top.digest.short), \(Format.bytes(top.size)) compressed"
                )
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "The images in the store.", aliases: ["ls"])
        @Flag(name: .shortAndLong, help: "Only the names.") var quiet = false
        func run() throws {
            try reportingErrors {
                let images = try ImageStore.standard().images()
                if quiet { images.forEach { print($0.reference) }; return }
                print(
                    Format.table(
                        [["NAME", "MANIFEST", "LAYERS", "SIZE", "CREATED"]]
                            + images.map {
                                [
                                    $0.reference.description, $0.descriptor.digest.short,
                                    String($0.manifest.layers.count), Format.bytes($0.size), $0.config.created ?? "-"
                                ]
                            }))
            }
        }
    }

    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "inspect", abstract: "Print an image's manifest and config as JSON.")
        @Argument(help: "NAME[:TAG]") var name: String
        func run() throws {
            try reportingErrors {
                let image = try ImageStore.standard().image(try ImageReference(parsing: name))
                struct Output: Encodable {
                    var name: String; var digest: Digest; var manifest: Manifest; var config: ImageConfig
                }
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(
                    String(
                        decoding: try encoder.encode(
                            Output(
                                name: image.reference.description, digest: image.descriptor.digest,
                                manifest: image.manifest, config: image.config)), as: UTF8.self))
            }
        }
    }

    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "history", abstract: "Each layer of an image, bottom first, with what made it.")
        @Argument(help: "NAME[:TAG]") var name: String
        func run() throws {
            try reportingErrors {
                let image = try ImageStore.standard().image(try ImageReference(parsing: name))
                var rows = [["LAYER", "DIFF_ID", "SIZE", "CREATED", "CREATED BY"]]
                var layers = Array(zip(image.manifest.layers, image.config.rootfs.diff_ids)).makeIterator()
                for entry in image.config.history ?? [] {
                    let layer = entry.empty_layer == true ? nil : layers.next()
                    rows.append([
                        layer?.0.digest.short ?? "-", layer?.1.short ?? "-",
                        layer.map { Format.bytes($0.0.size) } ?? "0",
                        entry.created ?? "-", entry.created_by ?? ""
                    ])
                }
                print(Format.table(rows))
            }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rm", abstract: "Remove an image's name, and the blobs nothing else uses.")
        @Argument(help: "NAME[:TAG] (repeatable)") var names: [String]
        func run() throws {
            try reportingErrors {
                let containers = ContainerStore.standard()
                for name in names {
                    let reference = try ImageReference(parsing: name)
                    let users = containers.list().filter { $0.image == reference.description }.map(\.id)
                    guard users.isEmpty else { throw ImageError.inUse("image \(reference)", by: users) }
                    try containers.images.remove(reference, keepingLayers: containers.layersInUse())
                    print("removed \(reference)")
                }
            }
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import",
            abstract: "Add the images of an OCI archive (.tar) or OCI layout directory to the store.",
            discussion: "Every blob is checked against its digest first; a tampered archive adds nothing.")
        @Option(help: "The name to give an image (when the archive has one image, or names none).") var tag: String?
        @Argument(help: "An OCI archive or layout directory.") var path: String
        func run() throws {
            try reportingErrors {
                let names = try ImageArchive(store: .standard()).importImages(
                    from: path, rename: try tag.map { try ImageReference(parsing: $0) })
                names.forEach { print("imported \($0)") }
            }
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export",
            abstract: "Write one image as an OCI archive (PATH.tar) or an OCI layout directory.",
            discussion: """
                An archive, then skopeo reads it:
                  contlab image export busybox:latest /tmp/bb.tar
                  skopeo inspect oci-archive:/tmp/bb.tar

                A layout directory, then umoci unpacks it:
                  contlab image export busybox:latest /tmp/bb
                  umoci unpack --image /tmp/bb:busybox:latest /tmp/bundle
                """)
        @Argument(help: "NAME[:TAG]") var name: String
        @Argument(help: "Where to write it.") var path: String
        func run() throws {
            try reportingErrors {
                let store = ImageStore.standard()
                try ImageArchive(store: store).export(try store.image(try ImageReference(parsing: name)), to: path)
                print(path)
            }
        }
    }

    struct Unpack: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "unpack",
            abstract:
                "Make a runtime bundle of an image: the layers applied in order, and a config.json from the image "
                + "config.",
            discussion: """
                As umoci unpack does: whiteouts delete, the image's Entrypoint, Cmd, Env, \
                WorkingDir and User become process.*, its facts annotations. Then: contlab \
                runc run --bundle BUNDLE ID.
                """)
        @Argument(help: "NAME[:TAG]") var name: String
        @Argument(help: "The bundle directory to make.") var bundle: String
        func run() throws {
            try reportingErrors {
                let store = ImageStore.standard()
                let image = try store.image(try ImageReference(parsing: name))
                let path = URL(fileURLWithPath: bundle).standardizedFileURL.path
                try Unpacker(store: store).unpack(image, bundle: path)
                print(path)
            }
        }
    }
}

enum Format {
    static func bytes(_ count: Int) -> String {
        if count < 1024 { return "\(count) B" }
        if count < 1 << 20 { return String(format: "%.1f KiB", Double(count) / 1024) }
        return String(format: "%.1f MiB", Double(count) / 1048576)
    }

    /// Columns padded to their widest cell, two spaces apart.
    static func table(_ rows: [[String]]) -> String {
        guard let columns = rows.map(\.count).max() else { return "" }
        let widths = (0..<columns).map { column in rows.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
