import ArgumentParser
import ContlabCore
import Foundation
import Images
import Stage5Images
import TextKit

/// Stage 5's containers keep their upper directory after they exit, for diff and commit.
struct ContainersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "container",
        abstract: "Stage 5's containers: each an image's layers with a directory of its own on top.",
        subcommands: [List.self, Remove.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "The containers kept for diff and commit.", aliases: ["ls"])
        func run() throws {
            let store = ContainerStore.standard()
            let rows =
                store.list().map { [$0.id, $0.image, String($0.layers.count), $0.created] }
                + store.broken().map { [$0, "(broken: no container.json; contlab container rm \($0))", "", ""] }
            print(Format.table([["ID", "IMAGE", "LAYERS", "CREATED"]] + rows))
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rm", abstract: "Remove containers and what they wrote.")
        @Flag(name: .shortAndLong, help: "Kill a container that is still running first.") var force = false
        @Argument(help: "Container ids.") var ids: [String]
        func run() throws {
            try reportingErrors {
                for id in ids {
                    try Stage5Run.remove(id: id, force: force)
                    print("removed \(id)")
                }
            }
        }
    }
}

struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract:
            "What a stage-5 container added (A), changed (C) and deleted (D), read from its overlay upper directory.",
        discussion: "A deletion is a whiteout: a 0:0 character device overlayfs left in the upper directory.")
    @Flag(help: "Show the upper directory itself: each entry's kind and mode, whiteouts and opaque directories.")
    var upper = false
    @Flag(
        help: "Draw the overlay as a stack: the layers, the upper directory and what the container sees, path by path.")
    var diagram = false
    @Flag(help: "Print the data --diagram draws, as JSON (for --from, or the lessons' diagrams).") var json = false
    @Option(
        help: ArgumentHelp(
            "With --diagram: draw a report saved with --json instead of a container's.", valueName: "file")) var from:
        String?
    @Option(help: "Colour: auto, always or never.") var color: ColorMode = .auto
    @Argument(help: "The container id.") var id: String?

    func validate() throws {
        if from != nil && !diagram { throw ValidationError("--from draws a saved report: add --diagram") }
        if from == nil && id == nil { throw ValidationError("name a container (contlab container ls lists them)") }
        if [upper, diagram, json].filter({ $0 }).count > 1 {
            throw ValidationError("--upper, --diagram and --json each show the container their own way: pick one")
        }
    }

    func run() throws {
        try reportingErrors {
            let store = ContainerStore.standard()
            if diagram, let from {
                guard let data = FileManager.default.contents(atPath: from) else {
                    throw ValidationError("cannot read \(from)")
                }
                guard let report = try? JSONDecoder().decode(OverlayReport.self, from: data) else {
                    throw ValidationError("\(from) is not a report of contlab diff --json")
                }
                print(
                    OverlayDiagram(report: report).text(style: Style(enabled: color.enabled()), language: .preferred()),
                    terminator: "")
                return
            }
            guard let id else { return }
            let container = try store.load(id)
            if diagram || json {
                let report = try OverlayReport.of(container, in: store)
                if json {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                    print(String(decoding: try encoder.encode(report), as: UTF8.self))
                } else {
                    print(
                        OverlayDiagram(report: report).text(
                            style: Style(enabled: color.enabled()), language: .preferred()), terminator: "")
                }
                return
            }
            if upper {
                print("upper directory \(store.upper(id)):")
                for line in try store.upperListing(container) { print("  " + line) }
                return
            }
            for change in try store.diff(container) { print(change) }
        }
    }
}

struct CommitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "commit",
        abstract: "Make a new image: the container's image plus one layer of what the container changed.",
        discussion: "Whiteouts become .wh.NAME entries and opaque directories .wh..wh..opq, as image-spec says.")
    @Option(help: "The command the new image runs (repeat for each word).") var cmd: [String] = []
    @Argument(help: "The container id.") var id: String
    @Argument(help: "NAME[:TAG] for the new image.") var name: String
    func run() throws {
        try reportingErrors {
            let containers = ContainerStore.standard()
            let container = try containers.load(id)
            let base = try containers.images.image(try ImageReference(parsing: container.image))
            guard base.descriptor.digest == container.manifest else {
                throw ImageError.container(
                    "image \(container.image) was replaced since container \(id) started from it; its layers are not "
                        + "the container's any more"
                )
            }
            var settings = RunSettings()
            if !cmd.isEmpty { settings.cmd = cmd }
            let image = try ImageBuilder(store: containers.images).commit(
                upper: containers.upper(id), rootless: container.rootless, base: base, settings: settings,
                createdBy: "contlab commit \(id)", as: try ImageReference(parsing: name))
            print("\(image.reference) \(image.descriptor.digest)")
        }
    }
}
