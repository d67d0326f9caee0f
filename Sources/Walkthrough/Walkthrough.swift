import ContlabCore
import Foundation
import Lessons
import TextKit
import Yams

/// `contlab stage N`: a stage told and run for real, one step at a time, from the data in
/// lessons/walkthrough/stageN.yaml. Each step says what and why, the commands a student could
/// type by hand, then runs contlab's own arguments — so the system calls shown are the runtime's
/// record (`--explain`), and the proof is what the container reports.
public struct StageWalkthrough: Decodable, Equatable, Sendable {
    public struct Step: Decodable, Equatable, Sendable {
        public var title: Localized
        public var text: Localized
        public var byHand: [String]?
        /// contlab's arguments, run as a child process.
        public var run: [String]?
        public var lookFor: Localized?
        /// What running the step needs from the machine; without it the step is only told.
        public var needs: [Need]?
        /// What the by-hand commands need beyond the step's own needs (runc for a comparison).
        public var byHandNeeds: [Need]?
        /// The exit status the step's command ends with when all is well (a step that shows a
        /// refusal); 0 when not given. Any other status fails the walk-through.
        public var exit: Int32?
        /// Later steps use what this one makes (a bundle, an image, a container): `--step` past
        /// it runs it first, quietly.
        public var prepares: Bool?
        /// The step's command is a server the next steps talk to: it is started and left
        /// running (its output kept in the run's scratch folder) until the walk-through ends.
        public var background: Bool?
        /// For a background step: contlab's arguments, run quietly until they succeed, that
        /// tell the server is ready (a request to it), so the next step does not race it.
        public var ready: [String]?

        public init(
            title: Localized, text: Localized, byHand: [String]?, run: [String]?, lookFor: Localized?,
            needs: [Need]? = nil, byHandNeeds: [Need]? = nil
        ) {
            self.title = title
            self.text = text
            self.byHand = byHand
            self.run = run
            self.lookFor = lookFor
            self.needs = needs
            self.byHandNeeds = byHandNeeds
        }

        enum CodingKeys: String, CodingKey {
            case title, text, run, needs, exit, prepares, background, ready
            case byHand = "by-hand"
            case lookFor = "look-for"
            case byHandNeeds = "by-hand-needs"
        }
    }

    public var stage: Int
    public var title: Localized
    public var summary: Localized
    public var lesson: String?
    public var history: [String]?
    public var steps: [Step]
    public var exercises: Localized?
    /// contlab commands that remove what the steps keep between them (stage 5's images and
    /// containers), run before the first step and on every way out; their failures are quiet.
    public var cleanup: [[String]]?

    public init(
        stage: Int, title: Localized, summary: Localized, lesson: String?, history: [String]?, steps: [Step],
        exercises: Localized?,
        cleanup: [[String]]? = nil
    ) {
        self.cleanup = cleanup
        self.stage = stage
        self.title = title
        self.summary = summary
        self.lesson = lesson
        self.history = history
        self.steps = steps
        self.exercises = exercises
    }

    /// The names a run makes are its own: `{scratch}` in a step's or clean-up's arguments, its
    /// by-hand lines and what to look for becomes this run's scratch folder, `{name}` a name no
    /// other run (another student's, another terminal's) uses at the same time. Pure.
    public func instantiated(scratch: String, name: String) -> StageWalkthrough {
        func fill(_ text: String) -> String {
            text.replacingOccurrences(of: "{scratch}", with: scratch).replacingOccurrences(of: "{name}", with: name)
        }
        func fill(_ text: Localized) -> Localized { Localized(en: fill(text.en), zh: fill(text.zh)) }
        var copy = self
        copy.cleanup = cleanup?.map { $0.map(fill) }
        copy.steps = steps.map { step in
            var step = step
            step.run = step.run?.map(fill)
            step.ready = step.ready?.map(fill)
            step.byHand = step.byHand?.map(fill)
            step.lookFor = step.lookFor.map(fill)
            step.text = fill(step.text)
            return step
        }
        return copy
    }

    public static func load(_ file: URL) throws -> StageWalkthrough {
        let text: String
        do { text = try String(contentsOf: file, encoding: .utf8) } catch {
            throw WalkthroughError.unreadable(file.path)
        }
        do {
            let walkthrough = try YAMLDecoder().decode(StageWalkthrough.self, from: text)
            guard !walkthrough.steps.isEmpty else {
                throw WalkthroughError.invalid(file.lastPathComponent, "has no steps")
            }
            for (index, step) in walkthrough.steps.enumerated() where step.ready != nil && step.background != true {
                throw WalkthroughError.invalid(
                    file.lastPathComponent, "step \(index + 1) has ready: but is not a background step")
            }
            return walkthrough
        } catch let error as WalkthroughError {
            throw error
        } catch let DecodingError.keyNotFound(key, context) {
            let path = (context.codingPath + [key]).map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(
                separator: ".")
            throw WalkthroughError.invalid(file.lastPathComponent, "missing \(path)")
        } catch {
            throw WalkthroughError.invalid(file.lastPathComponent, "\(error)")
        }
    }

    /// Every stageN.yaml under `directory`, in stage order.
    public static func loadAll(from directory: URL) throws -> [StageWalkthrough] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
            .filter { $0.hasPrefix("stage") && $0.hasSuffix(".yaml") }
        return try names.map { try load(directory.appendingPathComponent($0)) }.sorted { $0.stage < $1.stage }
    }

    /// How the steps read on screen: pure, so the tests check the text without a terminal.
    public func header(language: String, style: Style, history: [String], width: Int = 80) -> String {
        var out =
            style.bold(language == "zh" ? "第 \(stage) 阶段：\(title(language))" : "Stage \(stage): \(title(language))")
            + "\n"
        out += Self.wrap(summary(language), width: width) + "\n"
        if !history.isEmpty {
            out += "\n" + style.dim(language == "zh" ? "它重演的历史：" : "The history it repeats:") + "\n"
            for line in history { out += "  " + line + "\n" }
        }
        if let lesson {
            out +=
                "\n"
                + style.dim(
                    language == "zh"
                        ? "课文：contlab lessons show \(lesson) --lang zh" : "Lesson: contlab lessons show \(lesson)")
                + "\n"
        }
        return out
    }

    /// Prose is wrapped to `width` columns at word boundaries (Chinese between characters, as
    /// the lessons are); commands are never wrapped, so they stay whole to copy.
    public func describe(step index: Int, language: String, style: Style, prose: Bool, width: Int = 80) -> String {
        let step = steps[index]
        let label = language == "zh" ? "第 \(index + 1)/\(steps.count) 步" : "Step \(index + 1)/\(steps.count)"
        let colon = language == "zh" ? "：" : ": "
        var out = "\n" + style.cyan(style.bold("── \(label)\(colon)\(step.title(language))")) + "\n"
        if prose { out += Self.wrap(step.text(language), width: width) + "\n" }
        if let byHand = step.byHand, !byHand.isEmpty, prose {
            out += style.dim(language == "zh" ? "用标准工具手动完成：" : "By hand, with standard tools:") + "\n"
            for command in byHand { out += "  $ " + command + "\n" }
        }
        if let run = step.run {
            out += style.bold("contlab " + run.map(Self.quote).joined(separator: " ")) + "\n"
        }
        return out
    }

    /// `text` in lines of at most `width` columns.
    public static func wrap(_ text: String, width: Int) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false)
            .flatMap { TextWrapper.wrap(String($0), width: width) }.joined(separator: "\n")
    }

    static func quote(_ word: String) -> String {
        word.contains(where: { " '\"$;&|".contains($0) })
            ? "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'" : word
    }
}

public enum WalkthroughError: Error, CustomStringConvertible, Equatable {
    case unreadable(String)
    case invalid(String, String)
    case unknownStage(Int, known: [Int])

    public var description: String {
        switch self {
        case .unreadable(let path): return "cannot read \(path)"
        case .invalid(let file, let why): return "lessons/walkthrough/\(file): \(why)"
        case .unknownStage(let n, let known):
            return
                "there is no stage \(n): the stages are \(known.map(String.init).joined(separator: ", ")) (contlab stage lists them)"
        }
    }
}
