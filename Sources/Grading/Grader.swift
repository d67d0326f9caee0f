// Grading one exercise: what every grader needs from the machine, the checks run before any
// is graded, and the dispatch to each stage's grader (Stage1Graders.swift … Stage6Graders.swift).
import Cgroups
import ContlabCore
import Exercises
import Foundation
import History
import Rootfs
import TextKit

/// What every grader needs from the machine: the busybox tree containers start from, the
/// history data, runc when it is installed.
public struct GradingContext {
    public var language: Language
    public var busybox: () throws -> String
    /// BusyBox with util-linux's unshare and mount: stage 2's scripts run in it.
    public var hostTools: () throws -> String
    public var history: () throws -> HistoryData
    public var runc: String?
    /// A time limit for every exercise, instead of each one's own (`verify --timeout`).
    public var timeLimit: Int?
    /// The values this workspace's tasks ask for (its `.contlab/variant.json`, or derived from
    /// the class key when a teacher grades).
    public var variant: Variant = .standard

    public init(
        language: Language, busybox: @escaping () throws -> String, hostTools: @escaping () throws -> String,
        history: @escaping () throws -> HistoryData, runc: String?, timeLimit: Int? = nil
    ) {
        self.language = language
        self.busybox = busybox
        self.hostTools = hostTools
        self.history = history
        self.runc = runc
        self.timeLimit = timeLimit
    }

    /// A built tree of `recipe`. Without root, the user's own (built now if need be, in a
    /// second or two): the machine's shared tree has folders only root may read (/root), and
    /// grading copies trees and packs them into images.
    static func tree(_ recipe: String) throws -> String {
        do {
            let store = try RootfsStore.standard()
            return geteuid() == 0 ? try store.resolve(recipe) : try store.build(recipe).path
        } catch {
            throw GradingError.noRootfs("\(error)")
        }
    }

    /// The checkout's busybox tree and history data, and Debian's runc if present.
    public static func standard(language: Language) -> GradingContext {
        GradingContext(
            language: language,
            busybox: { try tree("busybox") },
            hostTools: { try tree("host-tools") },
            history: {
                try HistoryData.load(from: try ProjectFiles.lessonsDirectory().appendingPathComponent("history"))
            },
            // Without root, runc (cgroup v1) would want a cgroup in every hierarchy, where the
            // user holds only the ones contlab uses.
            runc: geteuid() != 0
                ? nil
                : ["/usr/sbin/runc", "/usr/bin/runc", "/usr/local/sbin/runc"].first {
                    FileManager.default.isExecutableFile(atPath: $0)
                })
    }
}

/// Runs one exercise's work for real and says what it saw. One function per grader named in
/// exercise.yaml; each turns its observations into outcomes through `Evaluation` (pure).
public enum Grader {
    public static func grade(
        _ exercise: Exercise, folder: URL, context: GradingContext, hintsShown: [String: Int] = [:]
    ) -> ExerciseResult {
        let start = Date()
        var exercise = exercise
        if let limit = context.timeLimit { exercise.timeout = limit }
        let outcomes: [CheckOutcome]
        if !FileManager.default.fileExists(atPath: folder.path) {
            outcomes = CheckOutcome.allFailed(
                exercise, expected: "the folder \(exercise.folderName)", seen: "it is missing from the workspace")
        } else {
            do {
                outcomes = try GradingInterruption.during { try run(exercise, folder: folder, context: context) }
            } catch {
                outcomes = CheckOutcome.allFailed(exercise, seen: "the grader could not run it: \(error)")
            }
        }
        return Scoring.score(
            exercise, outcomes: outcomes, hintsShown: hintsShown, language: context.language,
            seconds: Date().timeIntervalSince(start))
    }

    /// What grading `exercises` needs of this machine, checked before any is graded, so a
    /// grader that cannot grade says so (and exits 2) instead of failing every check.
    public static func preflight(_ exercises: [Exercise], context: GradingContext) throws {
        let real = exercises.filter { HistoryQuiz.Kind(rawValue: $0.grader) == nil }
        guard !real.isEmpty else { return }
        // Without root: containers in the user's own user namespace, cgroups in the subtree
        // `contlab lab setup` gave them.
        guard geteuid() == 0 || UserDelegation(uid: geteuid(), gid: getegid()).isPrepared(in: .current()) else {
            throw GradingError.needsRoot
        }
        if real.contains(where: {
            ["stage1-jail", "cgroup-script", "oci-bundle", "overlay-upper", "whiteout-layer", "build-runtime"].contains(
                $0.grader)
        }) {
            _ = try context.busybox()
        }
        if real.contains(where: { ["unshare-script", "wire-script"].contains($0.grader) }) {
            _ = try context.hostTools()
        }
    }

    static func run(_ exercise: Exercise, folder: URL, context: GradingContext) throws -> [CheckOutcome] {
        if HistoryQuiz.Kind(rawValue: exercise.grader) != nil {
            // Read as the grader may be root: not through a link, never a FIFO.
            let text = Workspace.readOwnFile(folder.appendingPathComponent("answers.yaml").path).map {
                String(decoding: $0, as: UTF8.self)
            }
            return HistoryQuiz.grade(exercise, answers: text, data: try context.history(), variant: context.variant)
        }
        // The student's files are copied first: their program may delete or change its own.
        let copy = try TemporaryDirectory(prefix: "contlab-grade-work")
        defer { copy.remove() }
        let work = copy.path + "/exercise"
        try WorkspaceCopy.copy(from: folder.path, to: work)
        switch exercise.grader {
        case "rootfs-recipe": return try rootfsRecipe(exercise, work: work)
        case "stage1-jail": return try stage1Jail(exercise, work: work, context: context)
        case "unshare-script": return try unshareScript(exercise, work: work, context: context)
        case "cgroup-script": return try cgroupScript(exercise, work: work, context: context)
        case "oci-bundle": return try ociBundle(exercise, work: work, context: context)
        case "overlay-upper": return try overlayUpper(exercise, work: work, context: context)
        case "whiteout-layer": return try whiteoutLayer(exercise, work: work, context: context)
        case "wire-script": return try wireScript(exercise, work: work, context: context)
        case "build-runtime": return try buildRuntime(exercise, work: work, context: context)
        case "cni-config": return try cniConfig(exercise, work: work, context: context)
        default: return CheckOutcome.allFailed(exercise, seen: "this contlab has no grader \"\(exercise.grader)\"")
        }
    }

    static func missing(_ exercise: Exercise, _ work: String) -> [CheckOutcome]? {
        for file in exercise.files where !FileManager.default.fileExists(atPath: work + "/" + file) {
            return CheckOutcome.allFailed(exercise, expected: "the file \(file)", seen: "\(file) is missing")
        }
        return nil
    }
}
