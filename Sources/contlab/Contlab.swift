import ArgumentParser
import ContlabCore
import Foundation
import TextKit

struct Contlab: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "contlab",
        abstract: "A lab that builds Linux containers stage by stage, for real, and tells their history.",
        discussion: """
            Stages: 1 chroot, 2 namespaces, 3 cgroups, 4 an OCI runtime, 5 images and \
            layers, 6 networks. `contlab stage N` walks a class through one. Or by hand:
              contlab rootfs build busybox
              contlab run --stage 1 -- /bin/sh
              contlab escape --stage 1            then --stage 2
              contlab run --stage 2 -- contlab inspect
              contlab oom-demo
              contlab bundle create /tmp/lab -- contlab inspect
              contlab runc run --bundle /tmp/lab demo   (runc's command line)
              contlab engines setup docker      (Docker with contlab as runtime)
              contlab image build --rootfs busybox busybox
              contlab run --stage 5 --image busybox -- sh
              sudo contlab network create lab   (then run --stage 6 --network lab)
              contlab lessons; contlab history timeline
              contlab exercises init lab; cd lab; contlab verify
              sudo contlab lab setup --group students   (a shared server)
            """,
        version: "contlab version \(ContlabVersion.current)",
        subcommands: [
            RunCommand.self, EscapeCommand.self, InspectCommand.self, HogCommand.self, OOMDemoCommand.self,
            RootfsCommand.self, BundleCommand.self, ImageCommand.self, ContainersCommand.self, DiffCommand.self,
            CommitCommand.self, StageCommand.self,
            LessonsCommand.self, HistoryCommand.self, ExercisesCommand.self, VerifyCommand.self, HintCommand.self,
            GradeCommand.self, EnginesCommand.self, LabCommand.self, NetworkCommand.self
        ])
}

/// Print a failure as one line on stderr and exit with `code`: every command reports errors the
/// same way, without swift-argument-parser's usage text for errors that are not about usage.
func reportingErrors<T>(exitCode code: Int32 = 1, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let exit as ExitCode {
        throw exit
    } catch {
        Sys.warn("contlab: \(error)")
        throw ExitCode(code)
    }
}

/// `--color auto|always|never`, shared by every command that colours its output.
extension ColorMode: ExpressibleByArgument {}
