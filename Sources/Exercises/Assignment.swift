import Foundation
import Yams

/// What a teacher sets: which exercises count, how much each weighs, when it is due and what
/// a hint costs. Read from `assignment.yaml` by `contlab grade --assignment`. Pure.
///
///     title: Week 3, namespaces and cgroups
///     exercises: ["2.1", "2.2", "3.1"]
///     weights: {"3.1": 2}          # each exercise's points count this many times (default 1)
///     due: 2026-12-20T23:59:00Z
///     hints: cost                  # free (the default), counted, or cost
///     hint-cost: 1                 # points taken per hint asked for, with hints: cost
public struct Assignment: Codable, Equatable, Sendable {
    public enum HintPolicy: String, Codable, Sendable { case free, counted, cost }

    public var title: String
    public var exercises: [String]
    public var weights: [String: Double]?
    public var due: String?
    public var hints: HintPolicy?
    public var hintCost: Double?

    enum CodingKeys: String, CodingKey {
        case title, exercises, weights, due, hints
        case hintCost = "hint-cost"
    }

    /// Parse and check against the exercises there are: every id known, every weight positive,
    /// the due date an RFC 3339 time.
    public static func parse(_ text: String, known: [String]) throws -> Assignment {
        let assignment: Assignment
        do { assignment = try YAMLDecoder().decode(Assignment.self, from: text) } catch {
            throw ExerciseError.malformed(file: "assignment.yaml", reason: "\(error)")
        }
        guard !assignment.exercises.isEmpty else {
            throw ExerciseError.malformed(file: "assignment.yaml", reason: "exercises: list at least one exercise id")
        }
        for id in assignment.exercises + Array((assignment.weights ?? [:]).keys) where !known.contains(id) {
            throw ExerciseError.malformed(
                file: "assignment.yaml", reason: "no exercise \"\(id)\" (contlab exercises list shows them)")
        }
        if let bad = assignment.weights?.first(where: { !($0.value > 0) }) {
            throw ExerciseError.malformed(file: "assignment.yaml", reason: "weights: \(bad.key) must weigh more than 0")
        }
        if let due = assignment.due, assignment.dueDate == nil {
            throw ExerciseError.malformed(
                file: "assignment.yaml", reason: "due: \"\(due)\" is not a time like 2026-12-20T23:59:00Z")
        }
        if assignment.hints == .cost && !((assignment.hintCost ?? 0) > 0) {
            throw ExerciseError.malformed(
                file: "assignment.yaml", reason: "hints: cost needs hint-cost, the points a hint takes")
        }
        return assignment
    }

    public var dueDate: Date? {
        due.flatMap { ISO8601DateFormatter().date(from: $0) }
    }

    public func weight(_ exercise: String) -> Double { weights?[exercise] ?? 1 }

    /// The weighted score: each exercise's points times its weight, less what hints cost, never
    /// below zero; and the most there is.
    public func score(points: [String: Int], maxPoints: [String: Int], hintsUsed: Int) -> (score: Double, max: Double) {
        let earned = exercises.reduce(0.0) { $0 + Double(points[$1] ?? 0) * weight($1) }
        let most = exercises.reduce(0.0) { $0 + Double(maxPoints[$1] ?? 0) * weight($1) }
        let taken = hints == .cost ? Double(hintsUsed) * (hintCost ?? 0) : 0
        return (max(0, earned - taken), most)
    }

    /// Whether work handed in at `submitted` is late.
    public func isLate(_ submitted: Date?) -> Bool {
        guard let dueDate, let submitted else { return false }
        return submitted > dueDate
    }
}

extension Assignment {
    /// One line for a student: the weighted score, the due date and what hints cost.
    public func summary(points: [String: Int], maxPoints: [String: Int], hintsUsed: Int, now: Date = Date()) -> String {
        let (score, most) = score(points: points, maxPoints: maxPoints, hintsUsed: hintsUsed)
        func number(_ value: Double) -> String {
            value == value.rounded() ? String(Int(value)) : String(format: "%.1f", value)
        }
        var parts = ["\(title): \(number(score))/\(number(most)) weighted"]
        if let dueDate {
            let hours = dueDate.timeIntervalSince(now) / 3600
            parts.append(
                hours < 0
                    ? "due \(due!), past: work handed in now is late"
                    : hours < 48
                        ? "due \(due!), in \(Int(hours.rounded(.down))) h"
                        : "due \(due!), in \(Int((hours / 24).rounded(.down))) days")
        }
        switch hints ?? .free {
        case .free: break
        case .counted: parts.append("hints asked for: \(hintsUsed) (the teacher sees the count)")
        case .cost:
            parts.append(
                "hints asked for: \(hintsUsed), each costs \(number(hintCost ?? 0)) point\(hintCost == 1 ? "" : "s")")
        }
        return parts.joined(separator: "; ")
    }
}

extension Workspace {
    var assignmentFile: URL { stateDirectory.appendingPathComponent("assignment.yaml") }

    /// The assignment the workspace was made for (`exercises init --assignment`), if any.
    public func loadAssignment(known: [String]) throws -> Assignment? {
        guard let text = try? String(contentsOf: assignmentFile, encoding: .utf8) else { return nil }
        return try Assignment.parse(text, known: known)
    }

    public func saveAssignment(_ text: String) throws {
        try FileManager.default.createDirectory(at: stateDirectory, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: assignmentFile)
    }
}
