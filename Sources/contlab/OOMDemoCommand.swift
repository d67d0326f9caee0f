import ArgumentParser
import Cgroups
import ContlabCore
import Foundation
import Rootfs
import Stage2Namespaces
import Stage3Cgroups
import TextKit

struct OOMDemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "oom-demo",
        abstract: "Stage 3's proof: the same memory hog above and below a cgroup's limit, side by side.",
        discussion: """
            Runs two stage-3 containers with the same --memory limit: one whose hog asks \
            for more (--over, OOM-killed, and the kernel's oom_kill counter says so) and \
            one that asks for less (--under, exits 0). The hog is `contlab hog`, or \
            stress-ng from the host-tools recipe with --stress-ng.
            """)

    @Option(name: [.customShort("m"), .long], help: "The memory limit of both containers.") var memory = "64M"
    @Option(help: "What the first hog asks for.") var over = "100M"
    @Option(help: "What the second hog asks for.") var under = "30M"
    @Flag(help: "Use stress-ng (rootfs host-tools) as the hog instead of contlab hog.") var stressNg = false
    @Flag(help: "Print both reports as JSON.") var json = false
    @Option(help: "Colour: auto, always or never.") var color: ColorMode = .auto

    func run() throws {
        let runs = try reportingErrors(exitCode: InitHandshake.setupFailed) { () -> [(String, Stage3Run.Report)] in
            let limits = try CgroupLimits.parse(memory: memory, pids: nil, cpus: nil)
            let store = try RootfsStore.standard()
            let rootfs = try store.resolve(stressNg ? "host-tools" : "busybox")
            return try [over, under].map { size in
                let bytes = try ByteSize.parse(size)
                let args =
                    stressNg
                    ? [
                        "stress-ng", "--vm", "1", "--vm-bytes", "\(bytes)", "--vm-keep", "--vm-hang", "0", "--oomable",
                        "--timeout", "3s", "--quiet"
                    ]
                    : ["contlab", "hog", size]
                var request = RunRequest(stage: 3, rootfs: rootfs, args: args)
                request.rootless = geteuid() != 0
                let plan = try request.planOnThisHost()
                let (report, _) = try captureStdout { try Stage3Run.run(plan: plan, limits: limits, explain: false) }
                return ("hog \(size)", report)
            }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(runs.map { $0.1 }), as: UTF8.self))
            return
        }
        let style = Style(enabled: color.enabled())
        print("Two containers, each with --memory \(memory), on cgroups \(runs.first?.1.hierarchy ?? "?"):\n")
        print(Stage3Run.sideBySide(runs.map { (title: $0.0, report: $0.1) }, style: style), terminator: "")
        if let first = runs.first?.1 {
            print("\nThe kernel's evidence comes from \(first.evidenceFiles.joined(separator: ", ")).")
            for note in first.notes { print("Note: \(note)") }
        }
    }
}
