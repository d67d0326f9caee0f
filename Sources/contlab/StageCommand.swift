import ArgumentParser
import ContlabCore
import Foundation
import History
import Images
import Stage5Images
import Stage6Network
import TextKit
import Walkthrough

struct StageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stage",
        abstract:
            "The guided walk-through of a stage, run for real: what each step does and why, the commands by hand, "
            + "contlab's system calls, the proof.",
        discussion: """
              contlab stage         lists the stages
              contlab stage 0       the baseline: a process with no isolation
              contlab stage 2       namespaces, step by step

            On a terminal it waits before each step (Enter goes on, s skips the prose, \
            q stops); --yes, or output that is not a terminal, runs straight through. \
            Steps are data, in lessons/walkthrough/stageN.yaml, in English and Chinese.
            """)

    @Argument(help: "The stage: 0 to 5.") var number: Int?
    @Flag(name: [.short, .long], help: "Do not pause between steps.") var yes = false
    @Option(help: "Start at this step (1 is the first).") var step: Int = 1
    @Flag(help: "End in an interactive shell inside this stage's container (stages 1 to 3).") var shell = false
    @OptionGroup var languageOption: LanguageOption
    @Option(help: "Colour: auto, always or never.") var color: ColorMode = .auto

    func run() throws {
        let code = try reportingErrors { () -> Int32 in
            let lessons = try ProjectFiles.lessonsDirectory()
            let all = try StageWalkthrough.loadAll(from: lessons.appendingPathComponent("walkthrough"))
            let language = languageOption.language.rawValue
            let style = Style(enabled: color.enabled())
            guard let number else {
                let width = all.map { Terminal.displayWidth($0.title(language)) }.max() ?? 0
                for stage in all {
                    let title = stage.title(language)
                    // The summary wraps under itself, within the terminal's width.
                    let indent = 1 + 2 + width + 2
                    let summary = StageWalkthrough.wrap(
                        stage.summary(language), width: max(30, Terminal.columns() - indent)
                    )
                    .replacingOccurrences(of: "\n", with: "\n" + String(repeating: " ", count: indent))
                    print(
                        style.bold("\(stage.stage)") + "  " + title
                            + String(repeating: " ", count: width - Terminal.displayWidth(title))
                            + "  " + summary)
                }
                return 0
            }
            guard let walkthrough = all.first(where: { $0.stage == number }) else {
                throw WalkthroughError.unknownStage(number, known: all.map(\.stage))
            }
            guard (1...walkthrough.steps.count).contains(step) else {
                throw ValidationError("--step \(step): stage \(number) has steps 1 to \(walkthrough.steps.count)")
            }
            let history = try historyLines(walkthrough.history ?? [], language: language, directory: lessons)
            let runner = WalkthroughRunner(
                walkthrough: walkthrough, language: language, style: style,
                interactive: !yes && isatty(STDIN_FILENO) == 1 && isatty(STDOUT_FILENO) == 1,
                firstStep: step - 1, history: history)
            if walkthrough.cleanup?.joined().contains(where: { $0.contains("{name}") }) == true {
                // A walk-through killed before its clean-up left images, a container or a lab
                // network named after its run; this user's are removed before another run begins.
                let names =
                    ((try? ImageStore.standard().images()) ?? []).map(\.reference.description)
                    + ContainerStore.standard().list().map(\.id) + NetworkStore().names()
                runner.removeStaleRuns(WalkthroughRunner.staleRunNames(in: names))
            }
            let status = runner.run()
            if status == 0 && shell {
                guard (1...3).contains(number) else {
                    throw ValidationError("--shell: stages 1 to 3 have a shell to end in")
                }
                return runner.runContlab(["run", "--stage", "\(number)", "--", "/bin/sh"]).shellCode
            }
            return status
        }
        if code != 0 { throw ExitCode(code) }
    }

    /// "1979: chroot appears in Version 7 Unix" for each event id, from the history data.
    func historyLines(_ ids: [String], language: String, directory: URL) throws -> [String] {
        guard !ids.isEmpty else { return [] }
        let data = try HistoryData.load(from: directory.appendingPathComponent("history"))
        let lang: Language = language == "zh" ? .zh : .en
        return ids.compactMap { id in
            data.events.first { $0.id == id }.map { "\($0.date.year): \($0.title[lang])" }
        }
    }
}
