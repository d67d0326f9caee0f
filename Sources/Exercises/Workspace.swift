import ContlabCore
import Foundation
import Lessons
import TextKit

/// A student's exercise workspace: one folder per exercise and `.contlab/`, where contlab keeps
/// what it knows (which exercises, the progress, hints shown) apart from the student's files.
public struct Workspace: Sendable {
    public let root: URL

    public init(root: URL) { self.root = root }

    public var stateDirectory: URL { root.appendingPathComponent(".contlab", isDirectory: true) }
    var markerFile: URL { stateDirectory.appendingPathComponent("workspace.json") }
    var progressFile: URL { stateDirectory.appendingPathComponent("progress.json") }

    public func folder(for exercise: Exercise) -> URL {
        root.appendingPathComponent(exercise.folderName, isDirectory: true)
    }

    struct Marker: Codable {
        var format: Int
        var created: String
    }

    /// The workspace holding `directory`: it or the nearest ancestor with .contlab/workspace.json.
    public static func find(from directory: URL) throws -> Workspace {
        var dir = directory.standardizedFileURL
        while true {
            let candidate = Workspace(root: dir)
            if FileManager.default.fileExists(atPath: candidate.markerFile.path) { return candidate }
            let parent = dir.deletingLastPathComponent()
            if parent.path == dir.path { break }
            dir = parent
        }
        throw ExerciseError.notAWorkspace(directory.path)
    }

    /// Lay out a new workspace at `directory` (new or empty): every exercise's folder with its task
    /// statement in both languages and its starter files. `taskText` turns an exercise's task
    /// markdown into what the student reads (the history set fills in its questions there).
    /// What a build-track workspace is written in: its levels come from exercises/build/, with
    /// the starter files of `language`.
    public struct Track: Codable, Equatable, Sendable {
        public var track: String
        public var language: String
        public init(track: String = "build", language: String) {
            self.track = track
            self.language = language
        }
    }

    var trackFile: URL { stateDirectory.appendingPathComponent("track.json") }

    /// nil for a workspace of the usual exercises.
    public func loadTrack() -> Track? {
        guard let data = try? Data(contentsOf: trackFile) else { return nil }
        return try? JSONDecoder().decode(Track.self, from: data)
    }

    @discardableResult
    public static func create(
        at directory: URL, catalog: ExerciseCatalog, variant: Variant = .standard, track: Track? = nil,
        taskText: (Exercise, Language, String) throws -> String = { $2 }
    ) throws -> Workspace {
        let fm = FileManager.default
        if let existing = try? fm.contentsOfDirectory(atPath: directory.path), !existing.isEmpty {
            throw ExerciseError.workspaceExists(directory.path)
        }
        let workspace = Workspace(root: directory.standardizedFileURL)
        try fm.createDirectory(at: workspace.stateDirectory, withIntermediateDirectories: true)
        for exercise in catalog.exercises {
            let folder = workspace.folder(for: exercise)
            try fm.createDirectory(at: folder, withIntermediateDirectories: true)
            var starter = URL(fileURLWithPath: exercise.directory).appendingPathComponent("starter")
            if let track { starter = starter.appendingPathComponent(track.language) }
            if let items = try? fm.contentsOfDirectory(atPath: starter.path) {
                for item in items.sorted() {
                    // Starter files mention the variant's values too (a file's comment names what to delete).
                    let source = starter.appendingPathComponent(item), target = folder.appendingPathComponent(item)
                    try fm.copyItem(at: source, to: target)
                    if let text = try? String(contentsOf: source, encoding: .utf8), text.contains("{{") {
                        try Data(variant.fill(text).utf8).write(to: target)
                    }
                }
            }
            for language in Language.allCases {
                let source = URL(fileURLWithPath: exercise.directory).appendingPathComponent(
                    "task.\(language.rawValue).md")
                let raw = try String(contentsOf: source, encoding: .utf8)
                let name = language == .en ? "TASK.md" : "TASK.zh.md"
                try Data(variant.fill(try taskText(exercise, language, raw)).utf8).write(
                    to: folder.appendingPathComponent(name))
            }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        if variant != .standard { try workspace.saveVariant(variant) }
        if let track { try encoder.encode(track).write(to: workspace.trackFile) }
        try encoder.encode(Marker(format: 1, created: Timestamp.rfc3339())).write(to: workspace.markerFile)
        return workspace
    }

    // MARK: progress

    public struct Entry: Codable, Equatable, Sendable {
        public var status: ExerciseStatus
        public var points: Int
        public var maxPoints: Int
        public var graded: String?
        /// Hints asked for, per check.
        public var hintsShown: [String: Int]
        /// The checks that failed at the last grading, in the exercise's order.
        public var failing: [String]

        public init(
            status: ExerciseStatus = .notStarted, points: Int = 0, maxPoints: Int = 0,
            graded: String? = nil, hintsShown: [String: Int] = [:], failing: [String] = []
        ) {
            self.status = status
            self.points = points
            self.maxPoints = maxPoints
            self.graded = graded
            self.hintsShown = hintsShown
            self.failing = failing
        }
    }

    public struct Progress: Codable, Equatable, Sendable {
        public var exercises: [String: Entry]
        public init(exercises: [String: Entry] = [:]) { self.exercises = exercises }

        public subscript(id: String) -> Entry {
            get { exercises[id] ?? Entry() }
            set { exercises[id] = newValue }
        }

        /// Record a grading; hints shown are kept.
        public mutating func record(_ result: ExerciseResult, at time: String) {
            var entry = self[result.id]
            entry.status = result.passed ? .passed : .failing
            entry.points = result.points
            entry.maxPoints = result.maxPoints
            entry.graded = time
            entry.failing = result.checks.filter { !$0.passed }.map(\.id)
            self[result.id] = entry
        }
    }

    /// The saved progress; a missing or damaged file reads as no progress (it is only a record).
    public func loadProgress() -> Progress {
        guard let data = Self.readOwnFile(progressFile.path),
            let progress = try? JSONDecoder().decode(Progress.self, from: data)
        else { return Progress() }
        return progress
    }

    /// .contlab made if missing, and refused unless it is a folder itself: a link there would
    /// send root's writes wherever it points.
    func checkStateDirectory() throws {
        try FileManager.default.createDirectory(at: stateDirectory, withIntermediateDirectories: true)
        var info = stat()
        guard lstat(stateDirectory.path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            throw ExerciseError.unreadable(
                stateDirectory.path, reason: "it is not a folder of its own (a link?): remove it, and verify again")
        }
    }

    /// A small file of the workspace's own, or nil: not through a link, not a FIFO or a device
    /// (whose read could block or never end), at most a MiB.
    public static func readOwnFile(_ path: String) -> Data? {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_size <= 1 << 20 else { return nil }
        var data = Data(count: Int(info.st_size))
        let count = data.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count >= 0 else { return nil }
        return data.prefix(count)
    }

    /// Load the progress, change it and save it, holding a lock on the state folder: two
    /// commands at once (`verify --watch` in one terminal, `hint` or another `verify` in a second)
    /// each keep their change, where a load and a save apart would let the later save drop the
    /// other's. The lock is flock(2) on the folder itself, which any user who may read the
    /// workspace can take, so that a root's `sudo contlab verify` leaves no file its owner cannot open.
    @discardableResult
    public func updateProgress<T>(_ change: (inout Progress) throws -> T) throws -> T {
        try checkStateDirectory()
        let fd = open(stateDirectory.path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            throw ExerciseError.unreadable(stateDirectory.path, reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 && errno == EINTR {}
        var progress = loadProgress()
        let result = try change(&progress)
        try saveProgress(progress)
        return result
    }

    /// Written through a temporary name and renamed, so an interrupted write leaves the old file.
    /// Through Sys.replaceFile (a new temporary of an unguessable name, O_EXCL and O_NOFOLLOW,
    /// renamed over): a teacher's `sudo contlab verify` writes in a folder the student owns,
    /// where a link planted at a predictable name would have root write through it.
    public func saveProgress(_ progress: Progress) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try checkStateDirectory()
        try Sys.replaceFile(progressFile.path, Array(try encoder.encode(progress)))
    }

    /// The next hint for `exercise`: for the first check that failed at the last grading (or the
    /// first check when never graded); asking again moves on to the following hint.
    public static func nextHint(
        _ exercise: Exercise, entry: Entry,
        language: Language
    ) -> (check: Check, hint: String, number: Int, total: Int)? {
        let failing = entry.failing.first.flatMap { exercise.check($0) }
        guard let check = failing ?? (entry.status == .notStarted ? exercise.checks.first : nil) else { return nil }
        let shown = entry.hintsShown[check.id] ?? 0
        let index = min(shown, check.hints.count - 1)
        return (check, check.hints[index][language], index + 1, check.hints.count)
    }
}
