import ArgumentParser
import Cgroups
import ContlabCore
import Foundation
import Stage3Cgroups

struct HogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hog",
        abstract: "Allocate and touch memory: stage 3's workload (run it inside a container).",
        discussion: """
            Allocates SIZE in 1 MiB pieces and writes to every page, so the kernel \
            charges all of it to the cgroup, printing progress every 16 MiB. Above a \
            cgroup's memory limit the OOM killer ends it with SIGKILL (exit 137); below, \
            it exits 0.

              contlab run --stage 3 --memory 64M -- contlab hog 100M
            """)

    @Argument(help: "How much memory: 30M, 100M, 1G, or bytes.") var size: String
    @Option(help: "Seconds to hold the memory before exiting.") var hold: Double = 0.1

    func run() throws {
        let bytes = try reportingErrors { try ByteSize.parse(size) }
        setvbuf(stdout, nil, _IOLBF, 0)
        MemoryHog.run(bytes: bytes, hold: hold) { total in
            print("hog: \(ByteSize.format(total)) touched")
        }
        print("hog: done, \(ByteSize.format(bytes)) held and freed")
    }
}
