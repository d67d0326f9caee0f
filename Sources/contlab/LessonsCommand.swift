import ArgumentParser
import ContlabCore
import Engines
import Foundation
import Exercises
import History
import Inspect
import Lessons
import Stage3Cgroups
import Stage5Images
import TextKit

/// `contlab lessons [list|show|export|check]`: read the lessons in the terminal, export them as
/// a static site, or check them while writing. The work is done by the Lessons module.
struct LessonsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lessons",
        abstract: "Read the lessons in the terminal or export them as HTML.",
        subcommands: [List.self, Show.self, Export.self, Check.self],
        defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "List the lessons: id, stage or era, title.")

        @OptionGroup var language: LanguageOption
        @Option(help: "When to colour the output: auto, always or never.")
        var color: ColorMode = .auto

        func run() throws {
            Timing.mark("lessons show")
            let lang = language.language
            let directory = try ProjectFiles.lessonsDirectory()
            Timing.mark("lessons directory found")
            let catalog = try LessonCatalog.load(from: directory, languages: [lang])
            let lessons = catalog.lessons(in: lang)
            if lessons.isEmpty {
                FileHandle.standardError.write(
                    Data(
                        "no lessons in \(directory.appendingPathComponent(lang.rawValue).path) yet\n".utf8))
                return
            }
            print(LessonList.render(lessons, style: Style(enabled: color.enabled())), terminator: "")
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show",
            abstract: "Show one lesson in the terminal.",
            discussion: "Long lessons go through $PAGER (else `less -R`) when the output is a terminal.")

        @Argument(help: "The lesson's id, as `contlab lessons` lists it (e.g. stage1-chroot).")
        var id: String
        @OptionGroup var language: LanguageOption
        @Option(help: "When to colour the output: auto, always or never.")
        var color: ColorMode = .auto
        @Flag(name: .long, help: "Write straight to the output, never through a pager.")
        var noPager = false
        @Option(help: "Wrap to this many columns (default: the terminal's width).")
        var width: Int?

        func validate() throws {
            if let width, width < 20 {
                throw ValidationError("--width must be at least 20 columns")
            }
        }

        func run() throws {
            Timing.mark("lessons show")
            let lang = language.language
            let directory = try ProjectFiles.lessonsDirectory()
            Timing.mark("lessons directory found")
            // The lesson's own file when the id names one; the whole catalog (for suggestions)
            // only when it does not: reading every front matter costs more than rendering.
            let file = directory.appendingPathComponent("\(lang.rawValue)/\(id).md")
            let lesson =
                FileManager.default.fileExists(atPath: file.path)
                ? try LessonCatalog.loadLesson(at: file, language: lang)
                : try LessonCatalog.load(from: directory, languages: [lang]).lesson(id: id, language: lang)
            Timing.mark("lesson parsed")
            let renderer = TerminalRenderer(width: width ?? Terminal.columns(), color: color.enabled())
            let text = renderer.render(lesson)
            Timing.mark("lesson rendered")
            Pager.show(text, page: !noPager && Pager.isNeeded(for: text))
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export",
            abstract: "Write every lesson, in both languages, as a static HTML site.",
            discussion: "Open DIR/index.html in a browser; the site needs no server.")

        @Option(name: .customLong("html"), help: ArgumentHelp("Directory to write the site into.", valueName: "DIR"))
        var directory: String

        func run() throws {
            let catalog = try LessonCatalog.load(from: try ProjectFiles.lessonsDirectory())
            let target = URL(fileURLWithPath: directory, isDirectory: true)
            let written = try HTMLSite(catalog: catalog, extras: try LessonsCommand.siteExtras(catalog)).write(
                to: target)
            let count = Language.allCases.map { catalog.lessons(in: $0).count }.reduce(0, +)
            print(
                "wrote \(written.count) files (\(count) lessons) to \(target.path); open \(target.appendingPathComponent("index.html").path)"
            )
        }
    }

    /// The timeline picture (each mark linking to the first lesson that tells it, or to the
    /// timeline page itself), each stage's exercises, and the events to search, per language.
    static func siteExtras(_ catalog: LessonCatalog) throws -> SiteExtras {
        var extras = SiteExtras()
        let history = try ExerciseSupport.history()
        let exercises = try ExerciseSupport.catalog().exercises
        for language in Language.allCases {
            let pages = Set(catalog.lessons(in: language).map(\.id))
            func page(_ event: Event) -> String {
                event.lessons.first(where: pages.contains).map { "\($0).html" } ?? "timeline.html#event-\(event.id)"
            }
            let selection = try history.timeline(TimelineQuery(), currentYear: HistoryData.currentYear())
            extras.timeline[language] = SVGRenderer(data: history, language: language).timeline(selection, link: page)
            extras.events[language] = history.events.map {
                SiteExtras.SearchEntry(
                    title: "\($0.date) — \($0.title[language])", text: $0.description[language], url: page($0))
            }
            var byStage: [Int: [SiteExtras.Exercise]] = [:]
            for exercise in exercises {
                guard let stage = exercise.stage else { continue }
                // A title may name a workspace's own value ({{hostname}}): the site shows which.
                let title = exercise.title[language].replacingOccurrences(
                    of: #"\{\{(\w+)\}\}"#, with: "‹$1›", options: .regularExpression)
                byStage[stage, default: []].append(SiteExtras.Exercise(id: exercise.id, title: title))
            }
            extras.exercises[language] = byStage
            // The diagrams' data: reports of real runs, kept beside the lessons.
            let folder = try ProjectFiles.lessonsDirectory().appendingPathComponent("diagrams")
            for name in (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
            where name.hasSuffix("-inspect.json") {
                guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent(name).path),
                    let report = try? JSONDecoder().decode(IsolationReport.self, from: data)
                else {
                    throw ValidationError("lessons/diagrams/\(name) is not a report of contlab inspect --json")
                }
                extras.diagrams[language, default: [:]][name] = NamespaceDiagram(report: report).svg(language: language)
            }
            for name in (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
            where name.hasSuffix("-overlay.json") {
                guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent(name).path),
                    let report = try? JSONDecoder().decode(OverlayReport.self, from: data)
                else {
                    throw ValidationError("lessons/diagrams/\(name) is not a report of contlab diff --json")
                }
                extras.diagrams[language, default: [:]][name] = OverlayDiagram(report: report).svg(language: language)
            }
            for name in (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
            where name.hasSuffix("-cgroups.json") {
                guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent(name).path),
                    let report = try? Stage3Run.Report.decode(data),
                    let diagram = CgroupDiagram(report: report)
                else {
                    throw ValidationError(
                        "lessons/diagrams/\(name) is not a report of contlab run --stage 3 --report-json with its "
                            + "cgroup tree"
                    )
                }
                extras.diagrams[language, default: [:]][name] = diagram.svg(language: language)
            }
            for name in (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
            where name.hasSuffix("-callchain.json") {
                guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent(name).path),
                    let chain = try? JSONDecoder().decode(RuntimeCallChain.self, from: data)
                else {
                    throw ValidationError(
                        "lessons/diagrams/\(name) is not a call chain of contlab engines chain --json")
                }
                extras.diagrams[language, default: [:]][name] = CallChainDiagram(chain: chain).svg(language: language)
            }
        }
        return extras
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Check every lesson: front matter, sources, and that en and zh match.")

        func run() throws {
            let report = CorpusCheck.run(lessonsDirectory: try ProjectFiles.lessonsDirectory())
            for problem in report.problems { print(problem) }
            print("\(report.checkedFiles.count) lesson files checked, \(report.problems.count) problems")
            if !report.problems.isEmpty { throw ExitCode.failure }
        }
    }
}
