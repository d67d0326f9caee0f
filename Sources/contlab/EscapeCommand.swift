import ArgumentParser
import ContlabCore
import Foundation
import Stage1Chroot
import Stage2Namespaces
import TextKit

struct EscapeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "escape",
        abstract:
            "Try the classic chroot escape from inside a container, and report whether it reached the host's root.",
        discussion: """
            As root inside the container: mkdir x; chroot x (the working directory is \
            now outside the root); chdir .. until it stops; chroot . — then look at \
            where we are. The host checks for itself: it leaves a file holding a random \
            secret in its own /tmp and tells the probe only the name; the escape counts \
            when the probe reads the secret back. Expected: escaped at stage 1, \
            contained from stage 2 on (pivot_root detached the host's root, so there is \
            no path back).
            """)

    static let probeArgument = "__escape-probe"

    @OptionGroup var container: ContainerOptions
    @Flag(help: "Print the result as JSON.") var json = false
    @Option(help: "Colour: auto, always or never.") var color: ColorMode = .auto

    func run() throws {
        let result = try reportingErrors(exitCode: InitHandshake.setupFailed) { () -> EscapeExperiment.Result in
            let rootfs = try container.resolveRootfs()
            return try EscapeExperiment.run(stage: container.stage, rootfs: rootfs) { environment in
                var request = RunRequest(stage: container.stage, rootfs: rootfs, args: ["contlab", Self.probeArgument])
                request.env = environment
                request.rootless = container.effectiveRootless
                return try captureStdout { try container.run(request) }
            }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
            return
        }
        let style = Style(enabled: color.enabled())
        let zh = Language.preferred() == .zh
        func t(_ en: String, _ chinese: String) -> String { zh ? chinese : en }
        // The verdict stays in capitals in both languages: it is what the walk-through points at.
        let verdict = result.escaped ? style.red(style.bold("ESCAPED")) : style.green(style.bold("CONTAINED"))
        print(t("Stage \(result.stage) escape attempt: ", "第 \(result.stage) 阶段越狱尝试：") + verdict)
        if let probe = result.probe {
            print(t("  inside the container, as root:", "  在容器里，以 root 身份："))
            for step in probe.steps { print("    " + step) }
            if let root = probe.root, let host = probe.hostRoot {
                print(
                    t(
                        "  \"/\" after the attempt: \(root); the host's root: \(host)",
                        "  尝试之后的 \"/\"：\(root)；宿主机的根：\(host)"))
            }
            if !probe.entries.isEmpty {
                print(t("  it saw in \"/\": ", "  它在 \"/\" 里看到：") + probe.entries.joined(separator: " "))
            }
            if let error = probe.error { print(t("  probe error: ", "  探针出错：") + error) }
        } else {
            print(t("  the probe reported nothing (\(result.exitStatus))", "  探针什么也没报告（\(result.exitStatus)）"))
        }
        print(
            result.proofOnHost
                ? t(
                    "  proof for the host: the probe read back the secret the host left outside the root filesystem",
                    "  给宿主机的证据：探针读回了宿主机放在根文件系统之外的秘密")
                : t(
                    "  proof for the host: the probe could not read the secret the host left outside the root "
                        + "filesystem",
                    "  给宿主机的证据：探针读不到宿主机放在根文件系统之外的秘密"))
    }
}

/// Run `body` with this process's stdout redirected to a pipe, so a container's output can be
/// read; the output must be small (it is read after `body` returns).
func captureStdout<T>(_ body: () throws -> T) throws -> (T, String) {
    let pipe = try Sys.pipe()
    let saved = dup(STDOUT_FILENO)
    fflush(stdout)
    dup2(pipe.write, STDOUT_FILENO)
    close(pipe.write)
    let result: Result<T, Error> = Result { try body() }
    dup2(saved, STDOUT_FILENO)
    close(saved)
    let output = String(decoding: Sys.readAll(pipe.read), as: UTF8.self)
    close(pipe.read)
    return (try result.get(), output)
}
