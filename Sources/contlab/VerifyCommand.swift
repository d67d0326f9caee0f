import ArgumentParser
import ContlabCore
import Exercises
import Foundation
import Grading
import Lessons
import TextKit

extension ReportFormat: ExpressibleByArgument {}

/// `contlab verify [ID] [--stage N]`: grade the workspace's exercises by running them for real.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Grade exercises in this workspace by running your work for real.",
        discussion: """
            Student code runs in stage-4 containers in a user namespace of their own (root \
            inside is an unprivileged id range on the host), with their own PID, mount, \
            UTS, IPC, network and cgroup namespaces, a seccomp filter, memory and pids \
            limits and a time limit; exercises about making namespaces and cgroups (stage \
            1's jail, stage 2's unshare scripts, stage 3's cgroups) run nested inside one. \
            Needs root, or a cgroup subtree of your own (sudo contlab lab setup).

            The exit status is 0 when every graded check passed, 1 when one failed, 2 \
            when grading could not start. For autograders: --format \
            json|junit|tap|gradescope, with --output FILE (the text report then goes to \
            stdout).

              contlab verify               every exercise
              contlab verify 3.1           one exercise
              contlab verify --stage 2     one stage
              contlab verify --format gradescope \\
                  --output /autograder/results/results.json
            """)

    @Argument(help: "An exercise id, such as 3.1 (default: all).") var id: String?
    @Option(help: "Grade one stage's exercises.") var stage: Int?
    @Option(help: "Report format: text, json, junit, tap or gradescope.") var format: ReportFormat = .text
    @Option(help: "Write the report to FILE.") var output: String?
    @Option(help: "The workspace (default: the one holding the current directory).") var workspace: String?
    @Option(help: "Seconds each exercise's work may run (default: the exercise's own limit).") var timeout: Int?
    @Flag(help: "Grade again whenever a file of an exercise changes (Ctrl-C stops).") var watch = false
    /// contlab grade's: record nothing in the workspace (a teacher's copy of a submission).
    @Flag(help: .hidden) var noSave = false
    /// contlab grade's, with a class key: grade against this student's variant, whatever the
    /// workspace says (a copy of another student's workspace then fails where values differ).
    @Option(help: .hidden) var student: String?
    @Option(help: .hidden) var classKey: String?
    @OptionGroup var language: LanguageOption
    @Option(help: "When to colour: auto, always or never.") var color: ColorMode = .auto

    func validate() throws {
        if id != nil && stage != nil { throw ValidationError("give an exercise id or --stage, not both") }
        if let timeout, !(1...600).contains(timeout) { throw ValidationError("--timeout must be 1 to 600 seconds") }
    }

    func run() throws {
        let (space, exercises, lang, variant, assignment) = try reportingErrors(exitCode: 2) {
            () -> (Workspace, [Exercise], Language, Variant, Assignment?) in
            let space = try Workspace.find(
                from: URL(fileURLWithPath: workspace ?? FileManager.default.currentDirectoryPath))
            var variant = space.loadVariant()
            if let student {
                guard let key = try Variant.classKey(file: classKey) else {
                    throw ValidationError("--student needs --class-key or CONTLAB_CLASS_KEY")
                }
                variant = Variant.derive(student: student, key: key)
            }
            let catalog = try ExerciseSupport.catalog(for: variant, track: space.loadTrack())
            let assignment = try space.loadAssignment(known: catalog.exercises.map(\.id))
            var exercises = try catalog.select(id: id, stage: stage)
            // With an assignment and no id or stage asked for, the assigned exercises only (a
            // teacher's grade grades everything: a workspace's copy of the assignment is the student's).
            if let assignment, id == nil, stage == nil, !noSave {
                exercises = exercises.filter { assignment.exercises.contains($0.id) }
            }
            return (space, exercises, language.language, variant, assignment)
        }
        var context = GradingContext.standard(language: lang)
        context.timeLimit = timeout
        context.variant = variant
        try reportingErrors(exitCode: 2) { try Grader.preflight(exercises, context: context) }
        GradingInterruption.install()
        if watch { try watchLoop(space, exercises, context) }
        let report = grade(space, exercises, context)
        try stopIfInterrupted()
        try reportingErrors(exitCode: 2) { try emit(report) }
        if let assignment, format == .text || output != nil {
            // From the saved progress: the exercises graded now and before.
            let progress = space.loadProgress()
            let all = try ExerciseSupport.catalog().exercises
            print(
                assignment.summary(
                    points: progress.exercises.mapValues(\.points),
                    maxPoints: Dictionary(uniqueKeysWithValues: all.map { ($0.id, $0.points) }),
                    hintsUsed: progress.exercises.values.reduce(0) { $0 + $1.hintsShown.values.reduce(0, +) }))
        }
        throw ExitCode(report.passed ? 0 : 1)
    }

    func grade(_ space: Workspace, _ exercises: [Exercise], _ context: GradingContext) -> GradeReport {
        var progress = space.loadProgress()
        var graded: [(result: ExerciseResult, time: String)] = []
        for exercise in exercises {
            if format == .text && output == nil && isatty(STDERR_FILENO) == 1 { Sys.warn("grading \(exercise.id)…") }
            let result = Grader.grade(
                exercise, folder: space.folder(for: exercise), context: context,
                hintsShown: progress[exercise.id].hintsShown)
            // A grading cut short by Ctrl-C is no grade: it is not recorded, and none follows.
            if GradingInterruption.signal != nil { break }
            graded.append((result, Timestamp.rfc3339()))
        }
        if !noSave {
            // Recorded into the progress as it is now, not as it was before grading: a hint or
            // another verify may have saved in the meantime.
            do {
                progress = try space.updateProgress { saved in
                    for (result, time) in graded { saved.record(result, at: time) }
                    return saved
                }
            } catch { Sys.warn("contlab: progress not saved: \(error)") }
        }
        let hints = exercises.reduce(0) { $0 + progress[$1.id].hintsShown.values.reduce(0, +) }
        return GradeReport(exercises: graded.map(\.result), hintsUsed: hints)
    }

    /// After a Ctrl-C (or TERM, HUP) during a grading, which has cleaned up by now: say so and
    /// exit as a shell reports a signal.
    func stopIfInterrupted() throws {
        guard let signal = GradingInterruption.signal else { return }
        Sys.warn("contlab: stopped by \(Signals.name(signal)); the grading under way was undone and not recorded")
        throw ExitCode(128 + signal)
    }

    func emit(_ report: GradeReport) throws {
        let style = Style(enabled: color.enabled())
        let labels = ExerciseLabels.of(language.language)
        // People read the text report: it wraps to the terminal (80 columns in a pipe).
        let width = Terminal.columns()
        if let output {
            try Data(ReportRenderer.render(report, format: format).utf8).write(to: URL(fileURLWithPath: output))
        }
        if output != nil || format == .text {
            print(ReportRenderer.text(report, style: style, labels: labels, width: width), terminator: "")
        } else {
            print(ReportRenderer.render(report, format: format, style: style, labels: labels), terminator: "")
        }
        // --watch runs until it is interrupted: each report must be out before the next wait.
        fflush(stdout)
    }

    /// Poll the exercises' files once a second; grade an exercise again when its files change.
    func watchLoop(_ space: Workspace, _ exercises: [Exercise], _ context: GradingContext) throws -> Never {
        var seen: [String: String] = [:]
        for exercise in exercises { seen[exercise.id] = fingerprint(space.folder(for: exercise)) }
        let first = grade(space, exercises, context)
        try emit(first)
        Sys.warn(
            "contlab: watching \(exercises.count) exercise\(exercises.count == 1 ? "" : "s") for changes (Ctrl-C stops)"
        )
        while true {
            sleep(1)
            for exercise in exercises {
                let now = fingerprint(space.folder(for: exercise))
                guard now != seen[exercise.id] else { continue }
                seen[exercise.id] = now
                print("\n— \(exercise.id) changed, grading again —")
                fflush(stdout)
                let report = grade(space, [exercise], context)
                try stopIfInterrupted()
                try emit(report)
            }
        }
    }

    /// Names, sizes and modification times of every file in the folder.
    func fingerprint(_ folder: URL) -> String {
        var parts: [String] = []
        let fm = FileManager.default
        if let walker = fm.enumerator(atPath: folder.path) {
            for case let path as String in walker {
                var info = stat()
                if lstat(folder.path + "/" + path, &info) == 0 {
                    parts.append("\(path):\(info.st_size):\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)")
                }
            }
        }
        return parts.sorted().joined(separator: "|")
    }
}

/// `contlab hint ID`: the next hint for the check that failed first at the last grading.
struct HintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hint",
        abstract: "Show the next hint for an exercise (in a workspace); asking again gives the following one.")

    @Argument(help: "The exercise id, such as 3.1 (default: the first failing one).") var id: String?
    @OptionGroup var language: LanguageOption
    @Option(help: "When to colour: auto, always or never.") var color: ColorMode = .auto

    func run() throws {
        try reportingErrors(exitCode: 2) {
            let space = try Workspace.find(from: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
            let catalog = try ExerciseSupport.catalog(for: space.loadVariant(), track: space.loadTrack())
            let lang = language.language
            let progress = space.loadProgress()
            let exercise: Exercise
            if let id {
                exercise = try catalog.exercise(id)
            } else {
                guard let failing = catalog.exercises.first(where: { progress[$0.id].status == .failing }) else {
                    print(
                        lang == .zh ? "没有未通过的练习：先运行 contlab verify。" : "Nothing is failing: run contlab verify first.")
                    return
                }
                exercise = failing
            }
            let entry = progress[exercise.id]
            guard let hint = Workspace.nextHint(exercise, entry: entry, language: lang) else {
                print("\(exercise.id) " + ExerciseLabels.of(lang).noHint)
                return
            }
            let style = Style(enabled: color.enabled())
            print("\(style.bold(exercise.id)) \(hint.check.title[lang]) — hint \(hint.number)/\(hint.total)")
            if let assignment = try space.loadAssignment(known: catalog.exercises.map(\.id)),
                assignment.hints ?? .free != .free
            {
                let cost = assignment.hints == .cost ? String(format: "%g", assignment.hintCost ?? 0) : nil
                print(
                    style.yellow(
                        lang == .zh
                            ? (cost.map { "本作业里每个提示扣 \($0) 分。" } ?? "本作业会统计你用了几个提示。")
                            : (cost.map { "In this assignment each hint costs \($0) point\($0 == "1" ? "" : "s")." }
                                ?? "This assignment counts the hints you ask for.")))
            }
            print(ExerciseSupport.render(markdown: hint.hint, language: lang, color: color.enabled()))
            if hint.number == hint.total && (entry.hintsShown[hint.check.id] ?? 0) >= hint.total {
                print(
                    style.dim(
                        lang == .zh
                            ? "这是这一项检查的最后一个提示。" : "That is the last hint for this check."))
            }
            try space.updateProgress { saved in
                var updated = saved[exercise.id]
                updated.hintsShown[hint.check.id] = min((updated.hintsShown[hint.check.id] ?? 0) + 1, hint.total)
                saved[exercise.id] = updated
            }
        }
    }
}
