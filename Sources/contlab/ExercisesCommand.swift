import ArgumentParser
import ContlabCore
import Exercises
import Foundation
import History
import Lessons
import TextKit

/// `contlab exercises init DIR | list | show ID`: lay out a workspace, see progress, read a task.
struct ExercisesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exercises",
        abstract: "Graded exercises: make a workspace, list progress, read a task.",
        discussion: """
              contlab exercises init lab    a workspace: one folder per exercise, with its
                                            task and starter files
              cd lab && contlab exercises   progress: done, failing, not started, points
              contlab verify [ID]           grade (for real: your scripts and bundles run)
              contlab hint ID               the next hint for the first failing check
              contlab exercises solution B.2
                                            a build-track level's reference runtime,
                                            once yours has passed it
            """,
        subcommands: [Init.self, List.self, Show.self, Solution.self],
        defaultSubcommand: List.self)

    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "init", abstract: "Make an exercise workspace in DIR (new or empty).",
            discussion: """
                A teacher can give each student values of their own (2.2's and 4.1's hostname, \
                3.2's process limit, the file 5.2 deletes), drawn from a class secret, so \
                answers passed between students fail; contlab grade --class-key grades each \
                against their own. An assignment picks the exercises that count.

                  head -c 32 /dev/urandom | base64 > class.key
                  contlab exercises init ws/alice --student alice --class-key class.key
                  contlab exercises init week2 --assignment week2.yaml
                """)
        @Argument(help: "The directory to make.") var directory: String
        @Option(
            help: "The student this workspace is for: their own hostname, limits and files, drawn with the class key.")
        var student: String?
        @Option(help: "The class's secret (a file of 16 or more characters); else $CONTLAB_CLASS_KEY.") var classKey:
            String?
        @Option(
            help:
                ArgumentHelp(
                    "An assignment.yaml: verify then grades its exercises and shows the weighted score, the due date and "
                        + "what hints cost.")
        )
        var assignment: String?
        @Option(
            help: "build: the build track, where you write a container runtime of your own, level by level (B.1, B.2…)."
        )
        var track: String?
        @Option(
            help: ArgumentHelp(
                "With --track build: the runtime's programming language, c, go, python or swift.", valueName: "language"
            ))
        var lang: String?

        func validate() throws {
            if let track, track != "build" { throw ValidationError("--track \(track): the only track is build") }
            if track != nil && lang == nil {
                throw ValidationError(
                    "--track build needs --lang c, --lang go, --lang python or --lang swift: the language you write your "
                        + "runtime in")
            }
            if track == nil && lang != nil {
                throw ValidationError("--lang chooses the build track's language: add --track build")
            }
        }

        func run() throws {
            try reportingErrors(exitCode: 2) {
                let trackChoice = lang.map { Workspace.Track(language: $0) }
                let catalog = try ExerciseSupport.catalog(track: trackChoice)
                let url = URL(fileURLWithPath: directory)
                var variant = Variant.standard
                if let student {
                    guard let key = try Variant.classKey(file: classKey) else {
                        throw ValidationError(
                            "--student needs the class key: --class-key FILE, or CONTLAB_CLASS_KEY (make one: head -c "
                                + "32 /dev/urandom | base64 > class.key)"
                        )
                    }
                    variant = Variant.derive(student: student, key: key)
                } else if classKey != nil {
                    throw ValidationError("--class-key draws a student's values: give --student ID too")
                }
                let assigned = try assignment.map { path -> String in
                    guard let text = Sys.readText(path) else {
                        throw ExerciseError.unreadable(path, reason: "no such file, or not readable")
                    }
                    _ = try Assignment.parse(text, known: catalog.exercises.map(\.id))
                    return text
                }
                var history: HistoryData?
                let workspace = try Workspace.create(at: url, catalog: catalog, variant: variant, track: trackChoice) {
                    exercise, language, text in
                    guard text.contains("{{questions}}") else { return text }
                    if history == nil { history = try ExerciseSupport.history() }
                    return text.replacingOccurrences(
                        of: "{{questions}}",
                        with: HistoryQuiz.questions(exercise, data: history!, language: language, variant: variant))
                }
                if let assigned { try workspace.saveAssignment(assigned) }
                print(workspace.root.path)
                if let student {
                    Sys.warn(
                        "contlab: the variant of \(student): "
                            + variant.values.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(
                                separator: ", "))
                }
                Sys.warn(
                    "contlab: \(catalog.exercises.count) exercises; cd \(directory) and run contlab exercises to begin")
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "List the exercises and your progress (in a workspace).")
        @Option(help: "When to colour: auto, always or never.") var color: ColorMode = .auto
        @OptionGroup var language: LanguageOption

        func run() throws {
            try reportingErrors(exitCode: 2) {
                let workspace = try? Workspace.find(
                    from: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
                let catalog = try ExerciseSupport.catalog(
                    for: workspace?.loadVariant() ?? .standard, track: workspace?.loadTrack())
                let lang = language.language
                let progress = workspace?.loadProgress() ?? Workspace.Progress()
                let style = Style(enabled: color.enabled())
                let labels = ExerciseLabels.of(lang)
                let width =
                    [labels.done, labels.failing, labels.notStarted].map { Terminal.displayWidth($0) }.max() ?? 0
                func padded(_ text: String) -> String {
                    text + String(repeating: " ", count: width - Terminal.displayWidth(text))
                }
                var group = ""
                var earned = 0
                for exercise in catalog.exercises {
                    if labels.group(exercise) != group {
                        group = labels.group(exercise)
                        print(style.bold(group))
                    }
                    let entry = progress[exercise.id]
                    let state: String
                    switch entry.status {
                    case .passed: state = style.green(padded(labels.done))
                    case .failing: state = style.red(padded(labels.failing))
                    case .notStarted: state = style.dim(padded(labels.notStarted))
                    }
                    earned += entry.points
                    let points =
                        entry.status == .notStarted ? "–/\(exercise.points)" : "\(entry.points)/\(exercise.points)"
                    let columns =
                        "  \(exercise.id.padding(toLength: 5, withPad: " ", startingAt: 0)) \(state)  "
                        + points.padding(toLength: 6, withPad: " ", startingAt: 0) + " "
                    print(
                        Terminal.hanging(
                            columns, "\(exercise.title[lang])  (\(exercise.folderName))", width: Terminal.columns()),
                        terminator: "")
                }
                let total = catalog.exercises.reduce(0) { $0 + $1.points }
                let done = catalog.exercises.filter { progress[$0.id].status == .passed }.count
                print(
                    labels.total(points: earned, of: total, complete: done, of: catalog.exercises.count)
                        + (workspace == nil ? " (not in a workspace: contlab exercises init DIR)" : ""))
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show", abstract: "Show an exercise's task, rendered like a lesson.")
        @Argument(help: "The exercise id, such as 3.1.") var id: String
        @OptionGroup var language: LanguageOption
        @Option(help: "When to colour: auto, always or never.") var color: ColorMode = .auto

        func run() throws {
            try reportingErrors(exitCode: 2) {
                // The build track's levels are shown from anywhere, in any workspace.
                let workspace = try? Workspace.find(
                    from: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
                let catalog = try ExerciseSupport.catalog(track: workspace?.loadTrack())
                let exercise: Exercise
                if id.uppercased().hasPrefix("B."), workspace?.loadTrack() == nil {
                    exercise = try ExerciseSupport.catalog(track: Workspace.Track(language: "c")).exercise(id)
                } else {
                    exercise = try catalog.exercise(id)
                }
                let lang = language.language
                // In a workspace, its own values (a teacher's variant for this student).
                let variant =
                    (try? Workspace.find(from: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)))?
                    .loadVariant() ?? .standard
                var text = variant.fill(
                    try String(contentsOfFile: exercise.directory + "/task.\(lang.rawValue).md", encoding: .utf8))
                if text.contains("{{questions}}") {
                    text = text.replacingOccurrences(
                        of: "{{questions}}",
                        with: HistoryQuiz.questions(
                            exercise, data: try ExerciseSupport.history(), language: lang, variant: variant))
                }
                print(ExerciseSupport.render(markdown: text, language: lang, color: color.enabled()))
            }
        }
    }

    /// The build track's reference runtime for a level the workspace's runtime has passed.
    struct Solution: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "solution",
            abstract: "Copy a build-track level's reference runtime into solutions/ID, once yours passes it.",
            discussion: """
                A level's reference opens when your own runtime has passed that level with \
                full marks (contlab verify ID): compare the two, then start the next level \
                from whichever you like. The copy goes to solutions/ID in the workspace, \
                beside your folder, never over it.

                  contlab exercises solution B.2
                  diff -u B.2-namespaces/runtime.c solutions/B.2/runtime.c
                """)
        @Argument(help: "The level, such as B.2.") var id: String

        func run() throws {
            try reportingErrors(exitCode: 2) {
                let workspace = try Workspace.find(from: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
                let track = workspace.loadTrack()
                let levels = track == nil ? [] : try ExerciseSupport.catalog(track: track).exercises.map(\.id)
                guard let home = ProjectFiles.home() else {
                    throw ProjectFilesError.homeNotFound("Tests/ExerciseSolutions")
                }
                let source = try BuildTrackSolution.source(
                    for: id, track: track, levels: levels, progress: workspace.loadProgress(), home: home,
                    exists: { Sys.isDirectory($0) })
                let level = source.deletingLastPathComponent().lastPathComponent
                let target = BuildTrackSolution.destination(for: level, in: workspace)
                let fm = FileManager.default
                try? fm.removeItem(at: target)
                try fm.createDirectory(at: target, withIntermediateDirectories: true)
                var copied: [String] = []
                for item in try fm.contentsOfDirectory(atPath: source.path).sorted() {
                    try fm.copyItem(at: source.appendingPathComponent(item), to: target.appendingPathComponent(item))
                    copied.append(item)
                }
                let zh = Language.preferred() == .zh
                let shown = target.path.replacingOccurrences(of: workspace.root.path + "/", with: "")
                print(zh ? "\(level) 的参考运行时已复制到 \(shown)/：" : "\(level)'s reference runtime, copied to \(shown)/:")
                for item in copied { print("  " + item) }
            }
        }
    }
}

/// Where the exercises and the history data are, and how a task is shown.
enum ExerciseSupport {
    /// The usual exercises, or a track's levels in the track's language.
    static func catalog(track: Workspace.Track? = nil) throws -> ExerciseCatalog {
        guard let home = ProjectFiles.home() else { throw ProjectFilesError.homeNotFound("exercises") }
        let directory = home.appendingPathComponent("exercises", isDirectory: true)
        if let track { return try ExerciseCatalog.loadBuildTrack(from: directory, language: track.language) }
        return try ExerciseCatalog.load(from: directory)
    }

    /// The catalog as a workspace of `variant` reads it: titles and hints with its values.
    static func catalog(for variant: Variant, track: Workspace.Track? = nil) throws -> ExerciseCatalog {
        let catalog = try catalog(track: track)
        return ExerciseCatalog(exercises: catalog.exercises.map(variant.fill), directory: catalog.directory)
    }

    static func history() throws -> HistoryData {
        try HistoryData.load(from: try ProjectFiles.lessonsDirectory().appendingPathComponent("history"))
    }

    static func render(markdown: String, language: Language, color: Bool) -> String {
        TerminalRenderer(width: min(Terminal.columns(), 100), color: color)
            .render(MarkdownDocument(parsing: markdown), language: language).joined(separator: "\n")
    }
}
