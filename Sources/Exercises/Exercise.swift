// The exercise catalog's data model: what exercises/*/exercise.yaml describe, as plain values.
// Nothing here runs student work; Sources/Grading does that and reports what it saw.
import ContlabCore
import Foundation
import Lessons
import TextKit
import Yams

/// One thing a grader verifies about an exercise, worth `points` when it passes.
public struct Check: Codable, Equatable, Sendable {
    public var id: String
    public var points: Int
    public var title: Localized
    /// Hints in the order a student gets them (`contlab hint`).
    public var hints: [Localized]
    /// Checks that must pass first: this one fails with "needs X first" otherwise.
    public var requires: [String]?
    /// History exercises: the events in lessons/history/events.yaml the question is about.
    public var events: [String]?
}

public struct Exercise: Codable, Equatable, Sendable {
    /// "3.1", "H.2": stage (or H for history) and position.
    public var id: String
    /// A short folder name, such as memory-cgroup; the workspace folder is "3.1-memory-cgroup".
    public var slug: String
    /// 1–4, or nil for the history set.
    public var stage: Int?
    public var title: Localized
    /// Which grader in Sources/Grading runs it (one grader may serve several exercises).
    public var grader: String
    /// Seconds the student's work may run before it is killed and graded as failed.
    public var timeout: Int
    public var checks: [Check]
    /// Files the student edits or writes (relative to the exercise folder); `--watch` looks at them.
    /// For the build track, the files of the workspace's programming language (`languages`).
    public var files: [String]
    /// "build" for the build track (exercises/build/), where students write the runtime itself;
    /// nil for the exercises every workspace has.
    public var track: String?
    /// The build track's starter and files per programming language ("c": runtime.c, …): the
    /// starter files are under starter/LANGUAGE/.
    public var languages: [String: [String]]?

    /// Set by the catalog: the exercise's directory under exercises/.
    public var directory: String = ""

    enum CodingKeys: String, CodingKey {
        case id, slug, stage, title, grader, timeout, checks, files, track, languages
    }

    public var folderName: String { "\(id)-\(slug)" }
    public var points: Int { checks.reduce(0) { $0 + $1.points } }
    /// "stage 3", "history" or "build track", for lists.
    public var group: String { track == "build" ? "build track" : stage.map { "stage \($0)" } ?? "history" }

    public func check(_ id: String) -> Check? { checks.first { $0.id == id } }
}

public enum ExerciseError: Error, CustomStringConvertible, Equatable {
    case catalogMissing(String)
    case malformed(file: String, reason: String)
    case unknownExercise(String, suggestion: String?)
    case notAWorkspace(String)
    case workspaceExists(String)
    case unknownStage(Int)
    case unreadable(String, reason: String)
    case roster(String)
    case unknownTrackLanguage(String, offered: [String])

    public var description: String {
        switch self {
        case .catalogMissing(let path):
            return
                "no exercises at \(path): run contlab from its checkout, or set CONTLAB_HOME to the directory holding "
                + "exercises/"
        case .malformed(let file, let reason):
            return "\(file): \(reason)"
        case .unknownExercise(let id, let suggestion):
            return "no exercise \"\(id)\"" + (suggestion.map { ": did you mean \($0)?" } ?? "")
                + " (contlab exercises list shows them)"
        case .notAWorkspace(let path):
            return
                "\(path) is not an exercise workspace (no .contlab/workspace.json above it): run contlab exercises "
                + "init DIR, then cd DIR"
        case .workspaceExists(let path):
            return "\(path) already holds files: give an empty or new directory to contlab exercises init"
        case .unknownStage(let stage):
            return
                "--stage \(stage): exercises exist for stages 1 to 5 (the history set has no stage: give its ids, H.1…)"
        case .unreadable(let path, let reason):
            return "cannot read \(path): \(reason)"
        case .roster(let why):
            return "--roster: \(why)"
        case .unknownTrackLanguage(let language, let offered):
            let choices =
                offered.count > 1
                ? offered.dropLast().joined(separator: ", ") + " or " + offered[offered.count - 1]
                : offered.joined()
            return "the build track has no starter in \"\(language)\": choose --lang \(choices)"
        }
    }
}
