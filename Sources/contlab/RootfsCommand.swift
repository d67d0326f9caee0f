import ArgumentParser
import ContlabCore
import Foundation
import Rootfs

struct RootfsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rootfs",
        abstract: "Build and list the root filesystems containers run in (recipes in rootfs-recipes/).",
        subcommands: [List.self, Build.self, Show.self, Clean.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "List the recipes and whether each is built.")
        func run() throws {
            try reportingErrors {
                let store = try RootfsStore.standard()
                for name in store.recipeNames() {
                    let (recipe, _) = try store.loadRecipe(name)
                    let state = (try? store.builtTree(name)).flatMap { $0 }.map { "built: \($0)" } ?? "not built"
                    print(
                        "\(name.padding(toLength: 12, withPad: " ", startingAt: 0)) \(recipe.summary)\n             \(state)"
                    )
                }
            }
        }
    }

    struct Build: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "build",
            abstract: "Build a root filesystem from its recipe (cached until the recipe changes); prints its path.")
        @Argument(help: "The recipe name.") var name: String = "busybox"
        @Flag(help: "Rebuild even if the current tree exists.") var force = false
        func run() throws {
            try reportingErrors {
                let store = try RootfsStore.standard()
                let result = try store.build(name, force: force) { Sys.warn("rootfs \(name): \($0)") }
                if result.built { Sys.warn("rootfs \(name): built") }
                print(result.path)
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show", abstract: "Show a recipe and where its tree is.")
        @Argument(help: "The recipe name.") var name: String
        func run() throws {
            try reportingErrors {
                let store = try RootfsStore.standard()
                let (_, text) = try store.loadRecipe(name)
                print("# \(store.recipeFile(name).path)")
                print(text, terminator: text.hasSuffix("\n") ? "" : "\n")
                print("# tree: \((try store.builtTree(name)) ?? "not built (contlab rootfs build \(name))")")
            }
        }
    }

    struct Clean: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "clean", abstract: "Remove built trees (one recipe's, or all).")
        @Argument(help: "The recipe name; all when omitted.") var name: String?
        func run() throws {
            try reportingErrors { try RootfsStore.standard().clean(name) }
        }
    }
}
