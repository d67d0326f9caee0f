import ContlabCore
import Foundation
import Lessons
import TextKit
import Yams

/// Every exercise under exercises/, in order (stages 1–4, then history). Loading checks the
/// data so a broken exercise is caught by the tests, not by a student.
public struct ExerciseCatalog: Sendable {
    public let exercises: [Exercise]
    public let directory: URL

    public init(exercises: [Exercise], directory: URL) {
        self.exercises = exercises
        self.directory = directory
    }

    public static func load(from directory: URL) throws -> ExerciseCatalog {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: directory.path) else {
            throw ExerciseError.catalogMissing(directory.path)
        }
        var exercises: [Exercise] = []
        for name in names.sorted() {
            let file = directory.appendingPathComponent(name).appendingPathComponent("exercise.yaml")
            guard fm.fileExists(atPath: file.path) else { continue }
            guard let text = try? String(contentsOf: file, encoding: .utf8) else {
                throw ExerciseError.unreadable(file.path, reason: "not UTF-8 text")
            }
            var exercise = try parse(text, file: "exercises/\(name)/exercise.yaml")
            exercise.directory = directory.appendingPathComponent(name).path
            guard exercise.folderName == name else {
                throw ExerciseError.malformed(
                    file: "exercises/\(name)/exercise.yaml",
                    reason: "the folder must be named \(exercise.folderName) (id-slug)")
            }
            for language in Language.allCases
            where !fm.fileExists(atPath: exercise.directory + "/task.\(language.rawValue).md") {
                throw ExerciseError.malformed(
                    file: "exercises/\(name)", reason: "task.\(language.rawValue).md is missing")
            }
            // A language is offered only with its skeleton: each of its files is under starter/LANGUAGE/.
            for (language, files) in exercise.languages ?? [:] {
                for file in files where !fm.fileExists(atPath: exercise.directory + "/starter/\(language)/\(file)") {
                    throw ExerciseError.malformed(
                        file: "exercises/\(name)/exercise.yaml",
                        reason: "languages.\(language) names \(file), which starter/\(language)/ lacks")
                }
            }
            exercises.append(exercise)
        }
        let ids = exercises.map(\.id)
        if let duplicate = ids.first(where: { id in ids.filter { $0 == id }.count > 1 }) {
            throw ExerciseError.malformed(file: directory.path, reason: "exercise id \(duplicate) is used twice")
        }
        return ExerciseCatalog(exercises: exercises.sorted { Self.order($0.id, $1.id) }, directory: directory)
    }

    /// Parse and check one exercise.yaml. Pure.
    public static func parse(_ text: String, file: String) throws -> Exercise {
        let exercise: Exercise
        do {
            exercise = try YAMLDecoder().decode(Exercise.self, from: text)
        } catch {
            throw ExerciseError.malformed(file: file, reason: "\(error)")
        }
        func fail(_ reason: String) -> ExerciseError { .malformed(file: file, reason: reason) }
        let pattern = exercise.id.split(separator: ".")
        let build = exercise.track == "build"
        guard pattern.count == 2, pattern[0] == (build ? "B" : pattern[0]),
            build || pattern[0] == "H" || Int(pattern[0]) == exercise.stage,
            Int(pattern[1]) != nil
        else {
            throw fail(
                "id \"\(exercise.id)\" must be STAGE.N (matching stage:), H.N for history or B.N for the build track")
        }
        if let track = exercise.track, track != "build" { throw fail("track \"\(track)\": the only track is build") }
        if build && (exercise.languages ?? [:]).isEmpty {
            throw fail("a build-track exercise names its languages and their files")
        }
        guard !exercise.checks.isEmpty else { throw fail("no checks") }
        guard (1...600).contains(exercise.timeout) else { throw fail("timeout must be 1–600 seconds") }
        var seen: Set<String> = []
        for check in exercise.checks {
            guard seen.insert(check.id).inserted else { throw fail("check \(check.id) appears twice") }
            guard check.points > 0 else { throw fail("check \(check.id): points must be positive") }
            guard !check.hints.isEmpty else { throw fail("check \(check.id): give at least one hint") }
            for required in check.requires ?? [] where !seen.contains(required) || required == check.id {
                throw fail("check \(check.id) requires \(required), which must be an earlier check")
            }
        }
        return exercise
    }

    /// The build track (exercises/build/) for a workspace in `language`: each level's files
    /// are that language's.
    public static func loadBuildTrack(from directory: URL, language: String) throws -> ExerciseCatalog {
        let track = try load(from: directory.appendingPathComponent("build", isDirectory: true))
        let offered = Set(track.exercises.flatMap { ($0.languages ?? [:]).keys })
        guard offered.contains(language) else {
            throw ExerciseError.unknownTrackLanguage(language, offered: offered.sorted())
        }
        let exercises = track.exercises.map { exercise -> Exercise in
            var exercise = exercise
            exercise.files = exercise.languages?[language] ?? []
            return exercise
        }
        return ExerciseCatalog(exercises: exercises, directory: track.directory)
    }

    /// "1.2" before "1.10", stages before H.
    static func order(_ a: String, _ b: String) -> Bool {
        func key(_ id: String) -> (Int, Int) {
            let parts = id.split(separator: ".")
            let major = parts.first.flatMap { Int($0) } ?? 99
            return (major, parts.count > 1 ? Int(parts[1]) ?? 0 : 0)
        }
        return key(a) < key(b)
    }

    public func exercise(_ id: String) throws -> Exercise {
        if let found = exercises.first(where: { $0.id == id || $0.folderName == id }) { return found }
        let upper = id.uppercased()
        if let found = exercises.first(where: { $0.id == upper }) { return found }
        throw ExerciseError.unknownExercise(
            id, suggestion: Suggestions.nearest(to: id, among: exercises.map(\.id), limit: 1).first)
    }

    /// The exercises `verify` grades: one id, one stage, or all.
    public func select(id: String?, stage: Int?) throws -> [Exercise] {
        if let id { return [try exercise(id)] }
        if let stage {
            let found = exercises.filter { $0.stage == stage }
            guard !found.isEmpty else { throw ExerciseError.unknownStage(stage) }
            return found
        }
        return exercises
    }
}
