import ArgumentParser
import ContlabCore
import Foundation
import OCI
import Rootfs
import TextKit

struct BundleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bundle",
        abstract: "Lay out OCI bundles (a config.json and a root filesystem) for contlab-runc, runc or crun.",
        subcommands: [Create.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create",
            abstract: "Make DIR/config.json for a root filesystem recipe, ready for `contlab-runc run ID`.",
            discussion: """
                The config is contlab-runc spec's default with root.path set to the \
                recipe's built tree (read-only, shared by every bundle), the command given \
                after -- (default: sh), and the contlab binary bound read-only at \
                /usr/local/bin/contlab so `contlab inspect` runs inside.

                  contlab bundle create --rootfs busybox /tmp/lab -- contlab inspect
                  contlab-runc run --bundle /tmp/lab demo
                  runc run --bundle /tmp/lab demo          (the same, with runc)
                """)

        @Option(help: "A root filesystem recipe (contlab rootfs list) or a directory.") var rootfs = "busybox"
        @Flag(help: "Give the process a terminal (needs --console-socket with create).") var terminal = false
        @Flag(help: "A rootless config: a user namespace mapping you to root.") var rootless = false
        @Argument(help: "The bundle directory to make.") var directory: String
        @Argument(parsing: .captureForPassthrough, help: "The command, after --.") var command: [String] = []

        func validate() throws {
            if ["--help", "-h"].contains(command.first ?? "") { throw CleanExit.helpRequest(self) }
        }

        func run() throws {
            try reportingErrors {
                let tree = try RootfsStore.standard().resolve(rootfs)
                let path = URL(fileURLWithPath: directory).standardizedFileURL.path
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
                guard !FileManager.default.fileExists(atPath: path + "/config.json") else {
                    throw ValidationError("\(path)/config.json exists already: remove it, or give another directory")
                }
                var spec = DefaultSpec.make(rootless: rootless || geteuid() != 0, uid: getuid(), gid: getgid())
                spec.root = Spec.Root(path: tree, readonly: true)
                let args = command.first == "--" ? Array(command.dropFirst()) : command
                spec.process?.args = args.isEmpty ? ["sh"] : args
                spec.process?.terminal = terminal
                // A walk-through's language reaches contlab inside the container.
                if let language = ProcessInfo.processInfo.environment[Language.environmentKey] {
                    let env = spec.process?.env ?? []
                    spec.process?.env = env + ["\(Language.environmentKey)=\(language)"]
                }
                if let binary = Sys.readLink("/proc/self/exe") {
                    spec.mounts?.append(
                        Spec.Mount(
                            destination: "/usr/local/bin/contlab", type: "bind", source: binary, options: ["bind", "ro"]
                        ))
                }
                try DefaultSpec.encode(spec).write(to: URL(fileURLWithPath: path + "/config.json"))
                print(path)
            }
        }
    }
}
