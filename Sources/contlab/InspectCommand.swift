import ArgumentParser
import ContlabCore
import Foundation
import Inspect
import TextKit

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Report what isolates this process: run it inside a container.",
        discussion: """
            Prints PID and PPID, namespace ids, hostname, the root and the mount count, \
            the five capability sets (libcap), no_new_privs, seccomp, the cgroup and its \
            limits, and the uid and gid maps. Inside contlab's containers, namespaces \
            are compared with the host's.

            In a runc or crun bundle, bind-mount the static contlab binary read-only \
            into the root filesystem (for example at /usr/local/bin/contlab) and run it \
            there.
            """)

    @Flag(help: "Print JSON for machines.") var json = false
    @Flag(help: "With --json: only the namespace ids.") var namespaces = false
    @Flag(help: "Draw the namespaces beside the host's instead of the table.") var diagram = false
    @Option(help: ArgumentHelp("Show a report saved with --json instead of this process.", valueName: "file"))
    var from: String?
    @Option(help: "Colour: auto, always or never.") var color: ColorMode = .auto

    func run() throws {
        let report: IsolationReport
        if let from {
            guard let data = FileManager.default.contents(atPath: from) else {
                throw ValidationError("--from \(from): cannot read it; give a file written by contlab inspect --json")
            }
            do { report = try JSONDecoder().decode(IsolationReport.self, from: data) } catch {
                throw ValidationError(
                    "--from \(from): not a report of contlab inspect --json (\(error.localizedDescription))")
            }
        } else {
            let host =
                ProcessInfo.processInfo.environment["CONTLAB_HOST_NS"].map(IsolationReport.parseHostNamespaces) ?? [:]
            report = IsolationReport.collect(hostNamespaces: host)
        }
        if json {
            print(namespaces ? try report.namespacesJSON() : try report.json())
        } else if diagram {
            print(
                NamespaceDiagram(report: report).text(style: Style(enabled: color.enabled()), language: .preferred()),
                terminator: "")
        } else {
            print(report.table(style: Style(enabled: color.enabled())), terminator: "")
        }
    }
}
