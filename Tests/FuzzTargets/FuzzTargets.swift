import ContlabCore
import Exercises
import Foundation
import History
import Images
import Lessons
import OCI
import Rootfs

/// What contlab reads from people it should not trust — a student's config.json and answer
/// files, an image's layers and documents, a recipe or a lesson someone sends — each as a
/// function of one input. `make fuzz` runs them under libFuzzer with AddressSanitizer; the
/// FuzzReplayTests run every saved input in Tests/FuzzCorpus on each `make test`, so a crash
/// found once stays fixed. A target may throw: a refusal is an answer. Only a trap, a hang or a
/// memory error is a finding.
public enum FuzzTargets {
    public static let all: [(name: String, run: ([UInt8]) -> Void)] = [
        ("runtime-config", runtimeConfig),
        ("tar", tar),
        ("gzip", gzip),
        ("image-documents", imageDocuments),
        ("recipe", recipe),
        ("lesson", lesson),
        ("history", history),
        ("exercise-files", exerciseFiles)
    ]

    public static func named(_ name: String) -> (([UInt8]) -> Void)? { all.first { $0.name == name }?.run }

    /// A config.json as contlab-runc reads it: the JSON tree, the spec, the checks.
    static func runtimeConfig(_ bytes: [UInt8]) {
        _ = try? JSONValue.parse(bytes)
        _ = try? SpecCheck.decode(Data(bytes))
        _ = try? SpecCheck.decodeProcess(Data(bytes))
    }

    /// A layer's tar, as the unpacker reads it.
    static func tar(_ bytes: [UInt8]) {
        _ = try? TarReader.entries(bytes)
    }

    /// A gzip'd layer: inflated with a small limit (a bomb stops there), then read as tar.
    static func gzip(_ bytes: [UInt8]) {
        guard let inflated = try? Gzip.decompress(bytes, limit: 1 << 20) else { return }
        _ = try? TarReader.entries(inflated)
    }

    /// index.json, a manifest and an image config, as the image store reads them.
    static func imageDocuments(_ bytes: [UInt8]) {
        _ = try? ImageDocuments.decode(ImageIndex.self, bytes, what: "index.json")
        _ = try? ImageDocuments.decode(Manifest.self, bytes, what: "manifest")
        _ = try? ImageDocuments.decode(ImageConfig.self, bytes, what: "config")
    }

    static func recipe(_ bytes: [UInt8]) {
        _ = try? Recipe.parse(String(decoding: bytes, as: UTF8.self), file: "fuzz.yaml")
    }

    /// A lesson: its front matter (YAML) and its Markdown through cmark, rendered for a terminal.
    static func lesson(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        _ = try? FrontMatter.parseLesson(text: text, file: "lessons/en/fuzz.md", language: .en)
        _ = TerminalRenderer(width: 60, color: false).render(MarkdownDocument(parsing: text), language: .en)
    }

    /// events.yaml (with empty technologies and labels), parsed and checked.
    static func history(_ bytes: [UInt8]) {
        _ = HistoryData.check(
            events: String(decoding: bytes, as: UTF8.self), technologies: "technologies: []\n", labels: "labels: {}\n")
    }

    /// What students and teachers hand in: answers.yaml, what a probe printed inside a
    /// container, a roster and an assignment.
    static func exerciseFiles(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        if let quiz = historyQuiz { _ = HistoryQuiz.grade(quiz.exercise, answers: text, data: quiz.data) }
        _ = ProbeOutput.parse(Data(bytes))
        _ = try? Roster.parse(text)
        _ = try? Assignment.parse(text, known: ["2.1", "2.2", "H.1"])
    }

    /// H.1 and the checkout's history data, read once.
    static let historyQuiz: (exercise: Exercise, data: HistoryData)? = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..")
            .standardizedFileURL
        guard let catalog = try? ExerciseCatalog.load(from: root.appendingPathComponent("exercises")),
            let exercise = try? catalog.exercise("H.1"),
            let data = try? HistoryData.load(from: root.appendingPathComponent("lessons/history"))
        else { return nil }
        return (exercise, data)
    }()
}
