// `contlab history`: argument parsing only. Loading, filtering and rendering are the History
// module's pure functions; this file finds the data, reads the terminal, and prints.
import ArgumentParser
import ContlabCore
import Foundation
import History
import TextKit

struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Explore the history of containers, from chroot (1979) to today.",
        discussion: """
            The events and technologies come from lessons/history/*.yaml; every event cites \
            its sources. Text is in English or Chinese (--lang en|zh, default from LANG).
            """,
        subcommands: [Timeline.self, Show.self, Compare.self, Search.self],
        defaultSubcommand: Timeline.self)

    struct OutputOptions: ParsableArguments {
        @OptionGroup var languageOption: LanguageOption

        @Flag(help: "Print JSON instead of text.")
        var json = false

        @Option(help: "Colour: auto (only on a terminal, not with NO_COLOR), always or never.")
        var color: ColorMode = .auto

        var language: Language { languageOption.language }

        var renderOptions: RenderOptions {
            RenderOptions(language: language, width: Terminal.columns(), color: color.enabled())
        }
    }

    /// The checked data from the checkout's lessons/history.
    static func loadData() throws -> HistoryData {
        let directory = try ProjectFiles.lessonsDirectory().appendingPathComponent("history", isDirectory: true)
        return try HistoryData.load(from: directory)
    }
}

extension HistoryCommand {
    struct Timeline: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "timeline",
            abstract: "Show the timeline, grouped into eras and coloured by kind.")

        @Option(help: "First year to show.")
        var from: Int?

        @Option(help: "Last year to show (default: this year).")
        var to: Int?

        @Option(help: "Only events about this technology id (see `contlab history show`).")
        var tech: String?

        @Option(help: "Only events with this tag, e.g. kernel, security, bsd.")
        var tag: String?

        @Option(help: ArgumentHelp("Also draw the timeline as an SVG image into this file.", valueName: "file"))
        var svg: String?

        @OptionGroup var output: HistoryCommand.OutputOptions

        func run() throws {
            let data = try HistoryCommand.loadData()
            let selection = try data.timeline(
                TimelineQuery(from: from, to: to, technology: tech, tag: tag),
                currentYear: HistoryData.currentYear())
            let language = output.language
            if let svg {
                let picture = SVGRenderer(data: data, language: language).timeline(selection)
                do {
                    try picture.write(to: URL(fileURLWithPath: svg), atomically: true, encoding: .utf8)
                } catch {
                    throw HistoryError.cannotWrite(path: svg, reason: (error as NSError).localizedDescription)
                }
            }
            if output.json {
                print(try JSONRenderer(data: data, language: language).timeline(selection))
            } else if let svg {
                print(data.labels.text(.svgWritten, language, ["count": String(selection.events.count), "path": svg]))
            } else {
                print(TerminalRenderer(data: data, options: output.renderOptions).timeline(selection))
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show",
            abstract:
                "Describe one technology: what it is, its events, its ancestors and heirs, and where this lab "
                + "rebuilds it."
        )

        @Argument(help: "A technology id, e.g. chroot, jail, docker, runc, cri-o.")
        var technology: String

        @OptionGroup var output: HistoryCommand.OutputOptions

        func run() throws {
            let data = try HistoryCommand.loadData()
            let found = try data.resolveTechnology(technology)
            if output.json {
                print(try JSONRenderer(data: data, language: output.language).technology(found))
            } else {
                print(TerminalRenderer(data: data, options: output.renderOptions).technology(found))
            }
        }
    }

    struct Compare: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "compare",
            abstract: "Compare technologies side by side: what each isolates, its kernel, year and licence.")

        @Argument(help: "Two or more technology ids, e.g. chroot jail docker.")
        var technologies: [String] = []

        @OptionGroup var output: HistoryCommand.OutputOptions

        func validate() throws {
            var seen: Set<String> = []
            let distinct = technologies.filter { seen.insert($0.lowercased()).inserted }
            if distinct.count < 2 { throw HistoryError.compareNeedsTwo(given: technologies) }
        }

        func run() throws {
            let data = try HistoryCommand.loadData()
            var chosen: [Technology] = []
            for text in technologies {
                let found = try data.resolveTechnology(text)
                if !chosen.contains(where: { $0.id == found.id }) { chosen.append(found) }
            }
            if chosen.count < 2 { throw HistoryError.compareNeedsTwo(given: technologies) }
            if output.json {
                print(try JSONRenderer(data: data, language: output.language).comparison(chosen))
            } else {
                print(TerminalRenderer(data: data, options: output.renderOptions).comparison(chosen))
            }
        }
    }

    struct Search: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "search",
            abstract: "Search event titles and descriptions, and technology summaries, in both languages.")

        @Argument(help: "Words to look for; every word must appear (e.g. user namespace, 容器).")
        var words: [String] = []

        @OptionGroup var output: HistoryCommand.OutputOptions

        func run() throws {
            let data = try HistoryCommand.loadData()
            let result = try data.search(words.joined(separator: " "))
            if output.json {
                print(try JSONRenderer(data: data, language: output.language).search(result))
            } else {
                print(TerminalRenderer(data: data, options: output.renderOptions).search(result))
            }
        }
    }
}
